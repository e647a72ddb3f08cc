#pragma once
// One node's share of a scheduled load test, run on threads of its own: it starts at an agreed
// instant (every node of the cluster starts together), can be stopped from any thread, and hands
// its final results (or the setup error that kept it from running) to a callback once. While it
// runs it hands everything measured so far to a second callback once per report period, for the
// master's live figures.
//
// The share runs without thresholds: verdicts on one share say nothing about the whole test, so
// the master evaluates them on the merged figures (and stops every share when one aborts).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "chaperon/metrics.hpp"
#include "chaperon/run.hpp"
#include "cluster/run_spec.hpp"

namespace chaperon::cluster {

class share_run {
 public:
  // Exactly one of results / error is set.
  using on_finished = std::function<void(const run_results* results, const std::string& error)>;
  // The cumulative results so far (load_test_run::snapshot) and the live figures.
  using on_report = std::function<void(const run_results& so_far, const progress_snapshot& live)>;

  share_run(run_spec spec, share part, std::chrono::system_clock::time_point start_at,
            on_finished done, on_report report = {});
  // Stops the share (if it still runs) and waits for its end.
  ~share_run();
  share_run(const share_run&) = delete;
  share_run& operator=(const share_run&) = delete;

  // Stops the share gracefully: what it measured is still reported (partial).
  void stop(std::string reason);
  bool finished() const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

// How often a share reports: the run's interval (spec.interval), 1 s without one.
std::chrono::milliseconds report_period(const run_spec& spec);

}  // namespace chaperon::cluster
