#pragma once
// The master's queue of scheduled load tests: one runs at a time, the rest wait in order, and the
// next starts when one ends, fails or is cancelled (a test that fails never stalls the queue).
// Every operation is safe from any thread; the tests run on the queue's own thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "cluster/run_spec.hpp"

namespace chaperon::cluster {

enum class test_state { scheduled, running, finished, failed, cancelled };
std::string_view to_string(test_state s) noexcept;

struct test_status {
  std::string id;
  std::string load_test;
  test_state state = test_state::scheduled;
  std::string error;  // why it failed
  std::string tag;    // the run spec's
};

class test_queue {
 public:
  // Runs one test; a stop request means it was cancelled (stop gracefully, keep what was
  // measured). An exception fails the test with its message; the queue goes on.
  using runner = std::function<void(const std::string& id, const run_spec&, std::stop_token)>;

  explicit test_queue(runner run);
  // Cancels everything and waits for the running test to end.
  ~test_queue();
  test_queue(const test_queue&) = delete;
  test_queue& operator=(const test_queue&) = delete;

  // Queues a test; returns its id.
  std::string schedule(run_spec spec);
  // Cancels a running or waiting test; false for an unknown or ended id.
  bool cancel(const std::string& id);
  // Cancels the running test and every waiting one; returns how many.
  std::size_t cancel_all();
  // Drops every waiting test (the running one goes on); returns how many.
  std::size_t clear_scheduled();

  std::vector<test_status> running() const;
  std::vector<test_status> scheduled() const;  // in the order they will run
  std::vector<test_status> ended() const;      // the last 100 that ended, the latest first
  // Every test known: running, waiting, and the most recent ended ones (the last 100).
  std::optional<test_status> status(const std::string& id) const;
  // True when nothing runs or waits, within `timeout`.
  bool wait_idle(std::chrono::milliseconds timeout) const;

 private:
  struct entry {
    test_status status;
    run_spec spec;
  };
  void loop(std::stop_token stop);
  void record_end(test_status status);

  runner run_;
  mutable std::mutex mutex_;
  mutable std::condition_variable_any changed_;
  std::deque<entry> waiting_;
  std::optional<test_status> current_;
  std::stop_source current_stop_;
  std::deque<test_status> ended_;
  std::uint64_t next_id_ = 1;
  std::jthread thread_;  // last: started once the rest exists
};

}  // namespace chaperon::cluster
