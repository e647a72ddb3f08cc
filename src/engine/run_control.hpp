#pragma once
// The state behind a load_test_run: the engine threads (shards), a supervisor thread that
// collects the intervals they cut, sends the load test timeout and stop requests, and reports
// progress, and the merged results so far.
//
// Shards hand over intervals through a small inbox under one mutex, once per interval each; the
// supervisor merges them outside the engine threads, so collecting costs the hot path nothing.

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chaperon/run.hpp"
#include "engine/config_reads.hpp"
#include "engine/shard.hpp"

namespace chaperon::detail {

// What the runner planned for each shard: its sessions and its parts of the load models.
struct shard_plan {
  std::vector<session_plan> sessions;
  std::vector<model_plan> models;
};

// Fixed at start: what the supervisor needs to know about the run.
struct run_setup {
  std::optional<std::chrono::steady_clock::duration> timeout;  // load_test_timeout
  saturation_thresholds limits;
  std::chrono::microseconds interval{std::chrono::seconds(1)};
  std::uint64_t sessions_total = 0;  // the bound on concurrent sessions, for progress
};

class run_control {
 public:
  // The test is kept here: plans point into its entries.
  run_control(load_test test, run_options options, run_setup setup);
  ~run_control();
  run_control(const run_control&) = delete;
  run_control& operator=(const run_control&) = delete;

  const load_test& test() const noexcept { return test_; }
  const run_options& options() const noexcept { return options_; }
  // Starts one thread per plan and the supervisor.
  void start(std::vector<std::unique_ptr<shard>> shards, std::vector<shard_plan> plans,
             std::chrono::steady_clock::time_point start);

  run_results snapshot() const;
  progress_snapshot progress() const;
  interval_series series() const;
  std::vector<interval> intervals(std::size_t from) const;
  void stop(std::string reason);
  bool finished() const;
  bool wait_for(std::chrono::milliseconds timeout) const;
  run_results wait();

 private:
  struct delivery {
    std::size_t shard = 0;
    std::size_t index = 0;
    interval part;
    bool last = false;
  };

  void deliver(delivery d);
  void run_shard(std::size_t i, shard_plan plan);
  void supervise();
  void absorb_locked();
  void append_complete_locked();
  bool interval_complete_locked(std::size_t index) const;
  void send_stop_locked(const std::string& reason);
  void finish_locked();
  void warn_unread_config_locked() const;
  void check_thresholds_locked(const interval& latest);
  std::vector<threshold_verdict> verdicts(const run_results& results) const;
  progress_snapshot progress_locked() const;
  std::int64_t elapsed_us() const;

  load_test test_;
  run_options options_;
  run_setup setup_;
  std::vector<std::unique_ptr<shard>> shards_;
  std::vector<std::thread> threads_;
  std::thread supervisor_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::system_clock::time_point start_wall_;

  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::vector<delivery> inbox_;
  std::vector<std::size_t> next_index_;  // per shard: the intervals below it were delivered
  std::vector<bool> shard_finished_;
  std::size_t shards_done_ = 0;
  std::int64_t end_us_ = -1;  // when the last shard finished
  std::map<std::size_t, interval> pending_;  // intervals still missing a shard's part
  std::size_t next_append_ = 0;
  interval_series series_;
  run_results total_;  // every part merged as it arrives
  generator_report generator_;
  config_reads config_reads_;  // what the shards' sessions read, merged as each shard ends
  std::vector<threshold> thresholds_;  // the test's, then the options'
  interval so_far_;                     // every complete interval merged, for abort_on_fail
  std::optional<std::size_t> aborted_by_;
  std::optional<std::string> stop_request_;
  bool stop_sent_ = false;
  bool finished_ = false;
  run_results final_;
  std::mutex join_mutex_;
  bool joined_ = false;
};

}  // namespace chaperon::detail
