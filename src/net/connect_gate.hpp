#pragma once
// Bounds how many connects of one shard are in flight at once. Thousands of sessions that connect
// at the same moment would otherwise each hold their connect state (upgrade request, response
// parser, handlers, socket operations) at the same time: the peak of memory, and what stays
// resident after it, would be set by the connect burst rather than by the connections. Engine
// thread only.

#include <coroutine>
#include <cstddef>

namespace chaperon::net {

class connect_gate {
 public:
  // One connect's place: in flight, waiting in line, or neither. Lives in the connecting
  // coroutine's frame, so that waiting costs no allocation.
  struct ticket {
    std::coroutine_handle<> waiter;  // resumed once admitted from the line
    std::size_t limit = 0;           // the bound this connect was asked under; 0: none
    ticket* prev = nullptr;
    ticket* next = nullptr;
    bool queued = false;
    bool admitted = false;  // holds a place in flight
  };

  // Admits t at once when fewer than `limit` connects are in flight (0: no bound) and nobody
  // waits before it; otherwise false, and the caller queues t.
  bool try_enter(ticket& t, std::size_t limit) noexcept;
  // Puts t at the end of the line; `waiter` is to be resumed once leave() admits it.
  void enqueue(ticket& t, std::coroutine_handle<> waiter) noexcept;
  // Gives back t's place (or takes t out of the line) and admits the next in line if the freed
  // place lets it in. Returns the admitted ticket, whose waiter the caller resumes, or null.
  ticket* leave(ticket& t) noexcept;

  std::size_t in_flight() const noexcept { return in_flight_; }
  bool anyone_waiting() const noexcept { return head_ != nullptr; }

 private:
  void unlink(ticket& t) noexcept;

  std::size_t in_flight_ = 0;
  ticket* head_ = nullptr;
  ticket* tail_ = nullptr;
};

}  // namespace chaperon::net
