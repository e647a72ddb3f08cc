#pragma once
// The interval series of a run: what was measured in each interval (1 s by default), per metric,
// merged exactly over engine threads (and, in a cluster, over nodes).
//
// Live views read it while the run goes on (progress line, reports, Prometheus, thresholds); the
// sum of a finished run's intervals equals its final results exactly: every measurement goes
// into exactly one interval.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chaperon/metrics.hpp"

namespace chaperon {

// What happened in one interval of a run.
struct interval {
  std::int64_t start_us = 0;   // from the run's start
  std::int64_t length_us = 0;  // a run's last interval may be shorter; a point of a compacted
                               // series spans several intervals
  std::map<metric_key, histogram> metrics;    // recorded in this interval only
  std::map<metric_key, histogram> corrected;  // see run_results::corrected
  std::map<std::string, std::uint64_t> session_errors;
  session_counts sessions;  // sessions that started, and sessions that ended, in this interval
  arrival_counts arrivals;
  // Sessions running at the interval's end (for a point spanning several intervals: at its end).
  std::uint64_t sessions_active = 0;

  // Adds another part of the same interval (another thread's or node's): histograms and counts
  // are added, sessions_active too (each part counts its own sessions).
  void merge(const interval& other);
  // Responses to HTTP requests and error metrics, counted as run_results counts them.
  std::uint64_t requests() const;
  std::uint64_t errors() const;

  bool operator==(const interval&) const = default;
};

// A run's intervals in order, in bounded memory: past intervals keep only their non-zero
// histogram counters, and once the series holds max_points points, neighbouring points merge
// pairwise (exactly), so each point then spans twice as many intervals. A 24-hour run at 1 s
// with the default 1,024 points ends with 675 points of 128 s each.
class interval_series {
 public:
  explicit interval_series(std::chrono::microseconds interval = std::chrono::seconds(1),
                           std::size_t max_points = 1024);
  interval_series(const interval_series& other);
  interval_series(interval_series&& other) noexcept;
  interval_series& operator=(const interval_series& other);
  interval_series& operator=(interval_series&& other) noexcept;
  ~interval_series();

  // Appends the run's next interval; it must start where the previous one ended.
  void append(const interval& next);

  // The points held, oldest first (each one interval, or several once compacted).
  std::size_t size() const noexcept;
  interval point(std::size_t index) const;
  std::vector<interval> points(std::size_t from = 0) const;
  // Intervals appended in all, and how many make one point now (a power of two).
  std::size_t intervals() const noexcept;
  std::size_t intervals_per_point() const noexcept;
  std::chrono::microseconds interval_length() const noexcept;
  // Everything appended, merged: equals the run's results (metrics, sessions, arrivals). Kept
  // as intervals are appended, so reading it costs a copy of the totals, however long the run.
  interval total() const;
  // Heap bytes held by the points' counters (what grows with the run).
  std::size_t heap_bytes() const noexcept;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace chaperon
