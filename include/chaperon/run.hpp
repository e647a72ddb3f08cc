#pragma once
// Running load tests from code, and the command-line entry point.
//
//   int main(int argc, char** argv) { return chaperon::main(argc, argv); }
//
// gives a binary the full CLI (`run`, `quick`, `list`) over every load test registered in it.

#include <chrono>
#include <cstddef>
#include <functional>
#include <stop_token>
#include <optional>
#include <string>

#include "chaperon/config.hpp"
#include "chaperon/load_test.hpp"
#include "chaperon/metrics.hpp"
#include "chaperon/session.hpp"

namespace chaperon {

struct progress_snapshot {
  std::chrono::steady_clock::duration elapsed{};
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::uint64_t sessions_active = 0;
  std::uint64_t sessions_done = 0;
  std::uint64_t sessions_total = 0;
};

struct run_options {
  std::size_t threads = 0;          // 0: one per core
  json config = json::object();     // run-time config, merged over each entry's
  metric_filter metrics;            // what to record
  bool per_session = false;         // keep one row per session name instead of aggregating
  bool print_results = false;       // print every action's result (debugging)
  log_level level = log_level::warn;
  // Called about once a second from the thread that called run_load_test.
  std::function<void(const progress_snapshot&)> on_progress;
  std::chrono::milliseconds progress_interval{1000};
  // A stop request (e.g. from SIGINT) ends the run as load_test_timeout does: sessions are
  // stopped, in-flight requests cancelled, and what was measured comes back marked partial.
  // Checked every 100 ms.
  std::stop_token stop;
  // Replaces the load model of every entry (the CLI's --rate / --stages).
  std::optional<load_model> model;
};

// Runs the load test to completion (or until `load_test_timeout`) and returns its merged results.
// Throws for setup errors (no entries, bad config values, more concurrent sessions than the
// open-file limit allows); never for network failures.
//
// The results carry the generator's own figures (results.generator): schedule lag of rate-driven
// starts, event-loop delay and engine-thread CPU. When they show that the generator could not keep up
// (config `saturation_lag`, default 5 ms, for lag and loop-delay p99; CPU above 95% of a second)
// results.generator.saturation says why.
run_results run_load_test(const load_test& test, const run_options& options = {});

// The CLI. Returns the process exit status.
int main(int argc, char** argv);

}  // namespace chaperon
