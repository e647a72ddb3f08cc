#pragma once
// One node's share of a scheduled load test, run on threads of its own: it starts at an agreed
// instant (every node of the cluster starts together), can be stopped from any thread, and hands
// its final results (or the setup error that kept it from running) to a callback once.

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

  share_run(run_spec spec, share part, std::chrono::system_clock::time_point start_at,
            on_finished done);
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

}  // namespace chaperon::cluster
