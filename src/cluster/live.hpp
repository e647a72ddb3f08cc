#pragma once
// The master's live view of a running test. Every node reports everything its share has measured
// so far (cumulative) once per interval; the latest report of each node still running, merged
// with the final results of the shares that ended, is the cluster-wide figure so far: exact,
// since each session and arrival runs on exactly one node. Thresholds with abort_on_fail are
// judged on it, as a single-process run judges its own figures.
//
// The master cuts the run's interval series from the same figures: each look adds what was
// measured since the one before.
//
// Used from one thread (the one waiting for the test's end).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chaperon/metrics.hpp"
#include "chaperon/run.hpp"
#include "chaperon/series.hpp"
#include "chaperon/thresholds.hpp"

namespace chaperon::cluster {

// A node's live session figures, from its latest report.
struct node_figures {
  std::uint64_t active = 0;
  std::uint64_t done = 0;
  std::uint64_t total = 0;
};

class live_view {
 public:
  // `interval`: the run's interval, the length of the series' points.
  live_view(std::vector<threshold> thresholds, std::chrono::system_clock::time_point start_at,
            std::chrono::microseconds interval);

  // A node's latest report, as lossless JSON (run_results); replaces the one before. Malformed
  // reports are ignored (the node's final results still count).
  void report(const std::string& node, const std::string& results_json);

  struct outcome {
    progress_snapshot progress;
    std::optional<std::string> abort;  // "threshold <text>" when one with abort_on_fail failed
    run_results merged;                       // the figures so far
    std::vector<threshold_verdict> verdicts;  // every threshold, judged on them
    std::optional<interval> next;             // what this look added to the series
  };
  // The figures now: `ended` merged over the shares that ended, plus the latest report of each
  // node in `running`; `figures` summed over the nodes.
  outcome evaluate(run_results ended, const std::vector<std::string>& running,
                   const node_figures& figures);
  // The end: the interval from the last look to the merged final results, appended to the
  // series, which is then handed out.
  interval_series finish(const run_results& final_results);
  // What a running node's latest report counted: requests and errors.
  std::pair<std::uint64_t, std::uint64_t> node_counts(const std::string& node) const;

  // The final verdicts on the merged results; the threshold that aborted the run (if one did)
  // failed, whatever the whole run says afterwards.
  std::vector<threshold_verdict> verdicts(const run_results& results) const;

  // The master's CPU time spent reading and merging reports, and how many it read.
  std::chrono::nanoseconds cpu() const noexcept { return cpu_; }
  std::size_t reports() const noexcept { return reports_; }

 private:
  // Appends what `merged` holds beyond the last look, as the interval ending at `at_us`.
  std::optional<interval> cut(const run_results& merged, std::int64_t at_us,
                              std::uint64_t active);

  std::vector<threshold> thresholds_;
  std::chrono::system_clock::time_point start_at_;
  std::map<std::string, run_results> latest_;
  run_results looked_;              // the merged figures of the last look
  std::int64_t looked_at_us_ = 0;   // its time from the start
  interval_series series_;
  std::optional<std::size_t> aborted_by_;
  std::uint64_t last_requests_ = 0;
  std::chrono::steady_clock::time_point last_tick_ = std::chrono::steady_clock::now();
  std::chrono::nanoseconds cpu_{0};
  std::size_t reports_ = 0;
};

}  // namespace chaperon::cluster
