#pragma once
// Running load tests from code: start one, watch it, stop it, wait for its results.

#include <chrono>
#include <cstddef>
#include <functional>
#include <stop_token>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chaperon/config.hpp"
#include "chaperon/load_test.hpp"
#include "chaperon/metrics.hpp"
#include "chaperon/series.hpp"
#include "chaperon/session.hpp"
#include "chaperon/thresholds.hpp"

namespace chaperon {

// Live figures of a running load test, for a progress line. Requests and errors are counted as
// the summary counts them (run_results::total_requests / error_count) from the intervals cut so
// far, so a progress line lags by at most one interval; the session counts are live.
struct progress_snapshot {
  std::chrono::steady_clock::duration elapsed{};
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  // Requests per second of the last complete interval (0 before the first one).
  double requests_per_second = 0;
  std::uint64_t sessions_active = 0;
  std::uint64_t sessions_done = 0;
  std::uint64_t sessions_total = 0;
};

// One share of a load test, for running a test over several processes or machines without a
// master (`chaperon run NAME --share 3/8`, then `chaperon merge`): share `index` of `count`,
// 0-based. Every at-once session and every arrival of a rate model belongs to exactly one share,
// decided by its number alone, so the shares of a test together run exactly the whole test;
// ramping session targets are split the same way at every moment.
//
// A share may cover `width` consecutive parts, index .. index + width - 1 of count (a cluster's
// master gives a node of twice the capacity twice the width); it runs exactly what those parts
// would run one by one.
struct share {
  std::size_t index = 0;
  std::size_t count = 1;
  std::size_t width = 1;
  bool operator==(const share&) const = default;
};
// "3/8" -> {3, 8}; nullopt when malformed or index >= count.
std::optional<share> parse_share(std::string_view text);

struct run_options {
  std::size_t threads = 0;          // 0: one per core
  json config = json::object();     // run-time config, merged over each entry's
  metric_filter metrics;            // what to record
  // Keep one row per session name instead of aggregating; config merge_scenario_sessions: false
  // (the original's key) turns it on too.
  bool per_session = false;
  bool print_results = false;       // print every action's result (debugging)
  log_level level = log_level::warn;
  // Called about once a second, from a thread of the run's own (not an engine thread).
  std::function<void(const progress_snapshot&)> on_progress;
  std::chrono::milliseconds progress_interval{1000};
  // A stop request (e.g. from SIGINT) ends the run as load_test_timeout does: sessions are
  // stopped, in-flight requests cancelled, and what was measured comes back marked partial.
  // Checked every 100 ms. load_test_run::stop() does the same.
  std::stop_token stop;
  // Replaces the load model of every entry (the CLI's --rate / --stages).
  std::optional<load_model> model;
  // Run-time session counts of the at-once entries (the CLI's --sessions / --scale). `sessions`
  // sets the count of a test with a single entry; `scale` multiplies every at-once entry's
  // count (rounded, at least 1). Entries with a load model keep it. Setup errors
  // (std::invalid_argument): `sessions` on a test with several entries (the message names them)
  // or on an entry with a load model, either with `model`, a count of 0, a scale that is not > 0.
  std::optional<std::size_t> sessions;
  std::optional<double> scale;
  // Run only this share of the test.
  share part;
  // The length of the intervals of the run's series; nullopt: config `interval` when it is a
  // duration, else 1 s.
  std::optional<std::chrono::microseconds> interval;
  // The most points the series keeps before it merges neighbours (see interval_series).
  std::size_t max_series_points = 1024;
  // Thresholds besides the test's own (the CLI's --threshold). All are evaluated at the end
  // (results.thresholds); those with abort_on_fail also after every interval, on everything
  // measured so far, and stop the run gracefully once they fail (after their grace period).
  std::vector<threshold> thresholds;
  // After the run, warn on stderr (once per run) about every config key that neither the engine
  // nor any session read: a typo such as `timout` does not pass silently.
  bool warn_unread_config = true;
};

// The test as start_load_test runs it with `options`: session counts after `sessions` / `scale`,
// and the session name of entries without one taken from config `name` (the original's key).
// Throws std::invalid_argument or config_error as start_load_test does for these.
load_test prepared_load_test(const load_test& test, const run_options& options);

namespace detail {
class run_control;
}

// A running (or finished) load test: watch it, stop it, wait for it. Thread-safe: any thread may
// call any member. Destroying a handle whose run has not finished stops the run and waits.
class load_test_run {
 public:
  load_test_run(load_test_run&&) noexcept;
  load_test_run& operator=(load_test_run&&) noexcept;
  ~load_test_run();

  // Everything measured so far, merged exactly: the intervals that every engine thread has cut
  // (at most one interval behind). Marked partial until the run has ended; after wait() it equals
  // the final results.
  run_results snapshot() const;
  // The live figures for a progress line.
  progress_snapshot progress() const;
  // The run's series: complete intervals, oldest first.
  interval_series series() const;
  // Points of the series from `from` on (for a live view that polls for new ones).
  std::vector<interval> intervals(std::size_t from = 0) const;

  // Stops the run gracefully: no new sessions or arrivals, sessions stopped (their teardown
  // runs), in-flight requests cancelled; what was measured is kept and the results are partial.
  void stop(std::string reason = "stopped");
  bool finished() const;
  // True when the run finished within `timeout`.
  bool wait_for(std::chrono::milliseconds timeout) const;
  // Waits for the end and returns the final results (every call returns the same results).
  run_results wait();

 private:
  friend load_test_run start_load_test(load_test test, run_options options);
  explicit load_test_run(std::unique_ptr<detail::run_control> control);
  std::unique_ptr<detail::run_control> control_;
};

// Starts the load test on threads of its own and returns at once. Throws for setup errors (no
// entries, bad config values, more concurrent sessions than the open-file limit allows, a bad
// share, bad sessions / scale); never for network failures. Config errors of the original's keys:
// `interval` as an object (its {period, fn} heartbeat is session::set_interval here), entries
// that disagree on `merge_scenario_sessions`, a `name` that is not a string.
//
// The results carry the generator's own figures (results.generator): schedule lag of rate-driven
// starts, event-loop delay and engine-thread CPU. When they show that the generator could not
// keep up (config `saturation_lag`, default 5 ms, for lag and loop-delay p99)
// results.generator.saturation says why; the CPU figure is information only.
load_test_run start_load_test(load_test test, run_options options = {});

// start_load_test(test, options).wait(): runs the load test to completion (or until
// `load_test_timeout`) and returns its merged results.
run_results run_load_test(const load_test& test, const run_options& options = {});


}  // namespace chaperon
