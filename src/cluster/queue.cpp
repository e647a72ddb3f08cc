#include "cluster/queue.hpp"

#include <exception>

namespace chaperon::cluster {

namespace {
constexpr std::size_t ended_kept = 100;
}

std::string_view to_string(test_state s) noexcept {
  switch (s) {
    case test_state::scheduled: return "scheduled";
    case test_state::running: return "running";
    case test_state::finished: return "finished";
    case test_state::failed: return "failed";
    case test_state::cancelled: return "cancelled";
  }
  return "failed";
}

test_queue::test_queue(runner run)
    : run_(std::move(run)), thread_([this](std::stop_token stop) { loop(stop); }) {}

test_queue::~test_queue() {
  cancel_all();
  thread_.request_stop();
  changed_.notify_all();
}

std::string test_queue::schedule(run_spec spec) {
  std::lock_guard lock(mutex_);
  entry e;
  e.status.id = "test-" + std::to_string(next_id_++);
  e.status.load_test = spec.load_test;
  e.status.tag = spec.tag;
  e.spec = std::move(spec);
  auto id = e.status.id;
  waiting_.push_back(std::move(e));
  changed_.notify_all();
  return id;
}

bool test_queue::cancel(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (current_ && current_->id == id) {
    current_stop_.request_stop();
    return true;
  }
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (it->status.id != id) continue;
    auto status = std::move(it->status);
    waiting_.erase(it);
    status.state = test_state::cancelled;
    record_end(std::move(status));
    return true;
  }
  return false;
}

std::size_t test_queue::cancel_all() {
  std::size_t n = clear_scheduled();
  std::lock_guard lock(mutex_);
  if (current_ && !current_stop_.stop_requested()) {
    current_stop_.request_stop();
    ++n;
  }
  return n;
}

std::size_t test_queue::clear_scheduled() {
  std::lock_guard lock(mutex_);
  const auto n = waiting_.size();
  for (auto& e : waiting_) {
    e.status.state = test_state::cancelled;
    record_end(std::move(e.status));
  }
  waiting_.clear();
  changed_.notify_all();
  return n;
}

std::vector<test_status> test_queue::running() const {
  std::lock_guard lock(mutex_);
  if (!current_) return {};
  return {*current_};
}

std::vector<test_status> test_queue::scheduled() const {
  std::lock_guard lock(mutex_);
  std::vector<test_status> out;
  for (const auto& e : waiting_) out.push_back(e.status);
  return out;
}

std::vector<test_status> test_queue::ended() const {
  std::lock_guard lock(mutex_);
  return {ended_.rbegin(), ended_.rend()};
}

std::optional<test_status> test_queue::status(const std::string& id) const {
  std::lock_guard lock(mutex_);
  if (current_ && current_->id == id) return current_;
  for (const auto& e : waiting_) {
    if (e.status.id == id) return e.status;
  }
  for (const auto& s : ended_) {
    if (s.id == id) return s;
  }
  return std::nullopt;
}

bool test_queue::wait_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return !current_ && waiting_.empty(); });
}

// Under the mutex.
void test_queue::record_end(test_status status) {
  ended_.push_back(std::move(status));
  if (ended_.size() > ended_kept) ended_.pop_front();
  changed_.notify_all();
}

void test_queue::loop(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, stop, [&] { return !waiting_.empty(); });
    if (stop.stop_requested()) return;
    auto next = std::move(waiting_.front());
    waiting_.pop_front();
    next.status.state = test_state::running;
    current_ = next.status;
    current_stop_ = std::stop_source();
    auto token = current_stop_.get_token();
    lock.unlock();
    auto status = next.status;
    try {
      run_(status.id, next.spec, token);
      status.state = token.stop_requested() ? test_state::cancelled : test_state::finished;
    } catch (const std::exception& e) {
      status.state = test_state::failed;
      status.error = e.what();
    }
    lock.lock();
    current_.reset();
    record_end(std::move(status));
  }
}

}  // namespace chaperon::cluster
