#pragma once
// gRPC's callback streams allow one outstanding write, and a server stream may only be finished
// once no write is in flight: messages sent meanwhile wait here, in order, and the queue says
// when the stream may be finished (exactly once).

#include <deque>
#include <mutex>
#include <utility>

namespace chaperon::cluster {

template <class Message>
class write_queue {
 public:
  struct step {
    const Message* write = nullptr;  // start this write now
    bool finish = false;             // finish the stream now
  };

  // Queues `m`; returns the message to write now when no write is in flight (the caller starts
  // it), else nullptr. The pointer stays valid until that write completes (a deque keeps its
  // elements in place when others are added or removed at its ends).
  const Message* push(Message m) {
    std::lock_guard lock(mutex_);
    if (closed_) return nullptr;
    pending_.push_back(std::move(m));
    if (writing_) return nullptr;
    writing_ = true;
    return &pending_.front();
  }
  // The write in flight has completed.
  step done() {
    std::lock_guard lock(mutex_);
    pending_.pop_front();
    if (!closed_ && !pending_.empty()) return {&pending_.front(), false};
    writing_ = false;
    return {nullptr, take_finish()};
  }
  // No more writes: waiting messages are dropped. True when the stream may be finished now;
  // otherwise done() says so once the write in flight completes.
  bool close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    return !writing_ && take_finish();
  }

 private:
  bool take_finish() {
    if (!closed_ || finished_) return false;
    finished_ = true;
    return true;
  }

  std::mutex mutex_;
  std::deque<Message> pending_;
  bool writing_ = false;
  bool closed_ = false;
  bool finished_ = false;
};

}  // namespace chaperon::cluster
