#pragma once
// A shard's sleeping coroutines: one timer for all of them, armed for the earliest deadline, and
// a binary heap of their sleeper records. A record lives in the sleeper's own frame (see
// chaperon::detail::sleeper), so a sleep costs no allocation beyond the heap's amortised growth,
// no timer of its own and no pending Asio operation. Engine thread only.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "chaperon/session.hpp"

namespace chaperon::detail {

class sleep_queue {
 public:
  using clock = std::chrono::steady_clock;

  explicit sleep_queue(boost::asio::io_context& io);
  sleep_queue(const sleep_queue&) = delete;
  sleep_queue& operator=(const sleep_queue&) = delete;

  // Queues s until s.deadline; then s.wake(s) runs once, from the event loop. Due sleepers wake
  // in deadline order, those of equal deadlines in the order they were added.
  void add(sleeper& s);
  // Takes s out of the queue: true when it was queued (its wake will not run).
  bool remove(sleeper& s) noexcept;
  // Wakes s on a later turn of the event loop instead of at its deadline (a stop); nothing
  // when s is not queued (its wake is running or has run).
  void wake_soon(sleeper& s);
  std::size_t size() const noexcept { return heap_.size(); }
  // The shard is done: the timer must not keep the event loop running.
  void shutdown() noexcept;

 private:
  // The deadline is copied into the heap so that comparisons stay in the heap's own memory.
  struct entry {
    clock::time_point deadline;
    sleeper* s;
  };
  using timer = boost::asio::basic_waitable_timer<clock, boost::asio::wait_traits<clock>,
                                                  boost::asio::io_context::executor_type>;

  static bool before(const entry& a, const entry& b) noexcept {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    // Serial-number order: right while equal deadlines are fewer than 2^31 additions apart.
    return static_cast<std::int32_t>(a.s->order - b.s->order) < 0;
  }
  void put(std::size_t i, entry e) noexcept {
    heap_[i] = e;
    e.s->slot = static_cast<std::uint32_t>(i);
  }
  void sift_up(std::size_t i, entry e) noexcept;
  void sift_down(std::size_t i, entry e) noexcept;
  void take(std::size_t i) noexcept;  // removes the entry at i
  void arm();
  void on_timer();

  boost::asio::io_context& io_;
  timer timer_;
  std::vector<entry> heap_;
  // The deadline the timer waits for; max() when it waits for nothing.
  clock::time_point armed_ = clock::time_point::max();
  std::uint32_t next_order_ = 0;
  bool waking_ = false;  // inside on_timer: the timer is armed once, after the due sleepers
};

}  // namespace chaperon::detail
