#pragma once
// A shard: one thread, one io_context, and everything its sessions touch (connections, metrics
// recorder, random generator). Nothing here is shared with other shards; the runner only reads
// the live counters (relaxed atomics written by the owner thread) and, after join, the results.

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string_view>
#include <vector>

#include "chaperon/load_test.hpp"
#include "chaperon/metrics.hpp"
#include "chaperon/series.hpp"
#include "chaperon/session.hpp"
#include "metrics/recorder.hpp"

namespace boost::asio {
class io_context;
}
namespace chaperon::net {
class io_services;
}

namespace chaperon::detail {

class session_state;
class sleep_queue;

// A version 4 UUID from `rng`.
std::string make_uuid(std::mt19937_64& rng);
struct http_settings;
struct wait_slot;
struct child_task;

// The stop reason of sessions stopped because a ramp lowered its target.
inline constexpr std::string_view ramp_down_reason = "ramp down";

// Written only by the owning engine thread; read by the runner for the progress line.
struct alignas(64) live_counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> sessions_active{0};
  std::atomic<std::uint64_t> sessions_done{0};

  // Single writer: a plain load/store pair avoids a locked read-modify-write.
  static void add(std::atomic<std::uint64_t>& c, std::int64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(n),
            std::memory_order_relaxed);
  }
};

struct shard_settings {
  bool per_session = false;
  bool print_results = false;
  log_level level = log_level::warn;
  metric_filter filter;
};

// What one session of the load test runs.
struct session_plan {
  const load_test_entry* entry = nullptr;
  std::shared_ptr<const json> config;  // merged config, shared by the sessions of one entry
};

// This shard's part of an entry run under a ramping or rate model. Every shard gets the same
// model and start time and takes its share: share_index of share_count.
struct model_plan {
  const load_test_entry* entry = nullptr;
  std::shared_ptr<const json> config;
  load_model model;
  std::size_t share_index = 0;
  std::size_t share_count = 1;
  std::chrono::steady_clock::time_point t0;  // when the model's schedule starts, on all shards
};

// Hears about the sessions it had the shard start (engine thread only).
class session_observer {
 public:
  virtual void session_started(session_state& s) = 0;
  virtual void session_ended(session_state& s) = 0;

 protected:
  ~session_observer() = default;
};

// A load model running on one shard (engine/arrivals.hpp).
class load_driver {
 public:
  virtual ~load_driver() = default;
  virtual void start() = 0;
  // The load test is being stopped: start nothing more.
  virtual void stop() = 0;
};

// Where a shard hands the intervals it cuts: called on the engine thread, so it must be quick.
using interval_sink =
    std::function<void(std::size_t shard_index, std::size_t interval_index, interval&& part)>;

class shard {
 public:
  shard(std::size_t index, shard_settings settings, std::uint64_t seed);
  ~shard();
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;

  std::size_t index() const noexcept { return index_; }
  const shard_settings& settings() const noexcept { return settings_; }
  boost::asio::io_context& io() noexcept;
  net::io_services& net() noexcept;
  metrics_recorder& recorder() noexcept { return recorder_; }
  std::mt19937_64& rng() noexcept { return rng_; }
  live_counters& counters() noexcept { return counters_; }

  // Runs the plans and models on the calling thread until every session has finished.
  void run(std::vector<session_plan> plans, std::vector<model_plan> models = {});
  // Runs fn later on this shard's thread (from this thread or any other).
  void post(std::function<void()> fn);
  // Thread-safe: asks the shard to stop all its sessions (load test timeout, abort).
  void request_stop(std::string reason);

  // Session bookkeeping (engine thread only).
  void attach(session_state& s, bool counted);
  void detach(session_state& s);
  void record_session_end(const session_state& s);
  void record_task_failure(const session_state& s);

  // Intervals (set before run()): every `length` from t0 the shard moves what it has measured
  // since the last cut (metrics, session and arrival counts, session errors) into an interval
  // and hands it to `sink`, so that a run's intervals add up to exactly what was measured.
  void deliver_intervals(interval_sink sink, std::chrono::steady_clock::time_point t0,
                         std::chrono::microseconds length);
  // After run(), on the thread that ran it: what was measured since the last cut, as interval
  // number final_interval_index(); then the generator's figures of the whole run.
  std::size_t final_interval_index() const noexcept { return cut_index_; }
  interval take_final_interval();
  generator_report take_generator();

  // Load models (engine thread only).
  // Starts a session that runs its entry's lifecycle once (on the next turn of the event loop);
  // `observer` (may be null) hears when it has started and ended.
  void start_session(const session_plan& plan, session_observer* observer);
  // Starts a session of its own (counted, with a fresh id and the name "<Scenario> <id>") that runs
  // `ref` once with `config` (session::schedule_scenario), on the next turn of the event loop.
  void start_scheduled(scenario_ref ref, std::shared_ptr<const json> config);
  // A driver that may still start work keeps the shard running until it releases.
  void hold() noexcept { ++remaining_; }
  void release();
  // The state of a new session of `entry`: a fresh id, and a name made from the entry when first
  // asked for. A function of its own so that the id string stays out of the coroutine frames that
  // drive sessions (idle sessions are counted in thousands).
  std::unique_ptr<session_state> new_session(const load_test_entry& entry,
                                             std::shared_ptr<const json> config);
  // The HTTP settings of `config`, built once for all sessions that share it (engine thread only).
  std::shared_ptr<const http_settings> settings_for(const std::shared_ptr<const json>& config);
  void record_schedule_lag(std::chrono::steady_clock::duration lag);
  arrival_counts& arrivals() noexcept { return results_.arrivals; }
  void count_session_error(const std::string& reason) { results_.session_errors[reason]++; }

  // The sleeping coroutines of this shard's sessions (session::delay).
  sleep_queue& sleeps() noexcept;
  // Suspends `h` until wake(slot), the timeout (slot.timed_out), or the session's stop.
  void wait(session_state& s, wait_slot& slot, std::chrono::microseconds timeout,
            std::coroutine_handle<> h);
  // Resumes the coroutine waiting on slot, if any (later, from the event loop).
  void wake(wait_slot& slot);
  // Starts a child session running fn; the returned task tracks it.
  std::shared_ptr<child_task> spawn_child(session_state& parent, std::string name,
                                          std::function<task<void>(session&)> fn);

 private:
  void stop_all(const std::string& reason);
  void start_probe();
  void on_probe();
  interval cut();
  void schedule_cut();

  std::size_t index_;
  shard_settings settings_;
  std::mt19937_64 rng_;
  metrics_recorder recorder_;
  live_counters counters_;
  struct io_parts;
  std::unique_ptr<io_parts> io_;
  std::vector<std::unique_ptr<load_driver>> drivers_;
  std::vector<session_state*> active_;
  // Settings by shared config: a handful of entries (one per load test entry, at most 8).
  std::vector<std::pair<std::shared_ptr<const json>, std::shared_ptr<const http_settings>>>
      settings_cache_;
  std::size_t remaining_ = 0;
  std::size_t failures_printed_ = 0;  // session failures told on stderr (the first few)
  run_results results_;  // what was measured since the last cut, and the generator's figures
  interval_sink sink_;
  std::chrono::steady_clock::time_point intervals_t0_;
  std::chrono::microseconds interval_length_{0};
  std::size_t cut_index_ = 0;
};

}  // namespace chaperon::detail
