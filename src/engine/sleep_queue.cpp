#include "engine/sleep_queue.hpp"

#include <boost/asio/post.hpp>

namespace chaperon::detail {

sleep_queue::sleep_queue(boost::asio::io_context& io) : io_(io), timer_(io) {}

void sleep_queue::add(sleeper& s) {
  s.order = next_order_++;
  heap_.push_back({});
  sift_up(heap_.size() - 1, entry{s.deadline, &s});
  if (!waking_) arm();
}

bool sleep_queue::remove(sleeper& s) noexcept {
  if (s.slot == sleeper::not_queued) return false;
  take(s.slot);
  // An empty queue must not hold the event loop; an earlier deadline left armed only costs a
  // wake-up that finds nothing due.
  if (heap_.empty() && !waking_) arm();
  return true;
}

void sleep_queue::wake_soon(sleeper& s) {
  if (!remove(s)) return;
  boost::asio::post(io_, [&s] { s.wake(s); });
}

void sleep_queue::shutdown() noexcept {
  armed_ = clock::time_point::max();
  timer_.cancel();
}

void sleep_queue::sift_up(std::size_t i, entry e) noexcept {
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (!before(e, heap_[parent])) break;
    put(i, heap_[parent]);
    i = parent;
  }
  put(i, e);
}

void sleep_queue::sift_down(std::size_t i, entry e) noexcept {
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
    if (!before(heap_[child], e)) break;
    put(i, heap_[child]);
    i = child;
  }
  put(i, e);
}

void sleep_queue::take(std::size_t i) noexcept {
  heap_[i].s->slot = sleeper::not_queued;
  entry last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;  // it was the last one
  // The last entry fills the hole and moves whichever way its deadline says.
  if (i > 0 && before(last, heap_[(i - 1) / 2])) {
    sift_up(i, last);
  } else {
    sift_down(i, last);
  }
}

void sleep_queue::arm() {
  if (heap_.empty()) {
    if (armed_ != clock::time_point::max()) shutdown();
    return;
  }
  // A later deadline than the one armed waits for the wake-up that finds nothing due yet.
  const auto first = heap_.front().deadline;
  if (first >= armed_) return;
  armed_ = first;
  timer_.expires_at(first);  // cancels the wait armed for a later deadline
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_timer();
  });
}

void sleep_queue::on_timer() {
  armed_ = clock::time_point::max();
  // Only what was due when the timer fired: a sleeper woken here that sleeps again is due later.
  const auto now = clock::now();
  waking_ = true;
  while (!heap_.empty() && heap_.front().deadline <= now) {
    sleeper& s = *heap_.front().s;
    take(0);
    s.wake(s);  // may add and remove sleepers, also this one again
  }
  waking_ = false;
  arm();
}

}  // namespace chaperon::detail
