#include "net/connect_gate.hpp"

namespace chaperon::net {

namespace {
bool fits(std::size_t in_flight, std::size_t limit) noexcept {
  return limit == 0 || in_flight < limit;
}
}  // namespace

bool connect_gate::try_enter(ticket& t, std::size_t limit) noexcept {
  t.limit = limit;
  // Nobody overtakes the line: a connect asked under no bound still waits its turn behind one.
  if (head_ || !fits(in_flight_, limit)) return false;
  ++in_flight_;
  t.admitted = true;
  return true;
}

void connect_gate::enqueue(ticket& t, std::coroutine_handle<> waiter) noexcept {
  t.waiter = waiter;
  t.prev = tail_;
  t.next = nullptr;
  if (tail_) {
    tail_->next = &t;
  } else {
    head_ = &t;
  }
  tail_ = &t;
  t.queued = true;
}

void connect_gate::unlink(ticket& t) noexcept {
  (t.prev ? t.prev->next : head_) = t.next;
  (t.next ? t.next->prev : tail_) = t.prev;
  t.prev = t.next = nullptr;
  t.queued = false;
}

connect_gate::ticket* connect_gate::leave(ticket& t) noexcept {
  if (t.queued) {
    unlink(t);
    return nullptr;
  }
  if (!t.admitted) return nullptr;
  t.admitted = false;
  --in_flight_;
  if (!head_ || !fits(in_flight_, head_->limit)) return nullptr;
  ticket* next = head_;
  unlink(*next);
  next->admitted = true;
  ++in_flight_;
  return next;
}

}  // namespace chaperon::net
