#pragma once
// What the master keeps for the HTTP API (figure_source): the queue's running test's latest
// figures and node reports, and the results of its last ended tests. Under a lock of its own,
// so that the API's threads never wait on the test's.

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/master.hpp"

namespace chaperon::cluster {

class figure_store final : public figure_source {
 public:
  // Brackets a queued test's run: live figures while it runs, its results (if any) after.
  void test_started(const std::string& id);
  void test_ended(const std::string& id, std::shared_ptr<const cluster_results> out);
  // Keeps a look's figures: the merged progress, the results of the shares that ended, the
  // reports that came since the last look, and which nodes still run (older reports of nodes
  // not in it are dropped). Ignored when no queued test runs.
  void keep(const progress_snapshot& progress, run_results ended,
            std::vector<std::pair<std::string, std::string>> fresh,
            const std::vector<std::string>& running);

  std::optional<live_figures> live() const override;
  std::optional<std::pair<run_results, live_figures>> live_results() const override;
  std::shared_ptr<const cluster_results> results(const std::string& id) const override;
  std::pair<std::string, std::shared_ptr<const cluster_results>> last_results() const override;

 private:
  struct live_state {
    std::string test_id;
    bool running = false;
    std::optional<progress_snapshot> progress;
    run_results ended;                           // of the shares that ended
    std::map<std::string, std::string> reports;  // node id -> latest report, running shares
  };
  mutable std::mutex mutex_;
  live_state live_;
  std::deque<std::pair<std::string, std::shared_ptr<const cluster_results>>> kept_;
};

}  // namespace chaperon::cluster
