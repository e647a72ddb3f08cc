#pragma once
// What the master keeps for the HTTP API (figure_source): the queue's running test's latest
// merged figures and interval series, and the results of its last ended tests. Under a lock of
// its own, so that the API's threads never wait on the test's.

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/master.hpp"

namespace chaperon::cluster {

// What one look at the nodes' reports gave (master_state::look).
struct look_figures {
  live_figures figures;  // its test_id is the store's own
  run_results merged;    // thresholds judged on it
  std::optional<interval> next;  // the series' new interval, if the look cut one
};

class figure_store final : public figure_source {
 public:
  // Brackets a queued test's run: live figures while it runs, its results (if any) after.
  void test_started(const std::string& id, std::chrono::microseconds interval);
  void test_ended(const std::string& id, std::shared_ptr<const cluster_results> out);
  // Keeps a look's figures. Ignored when no queued test runs.
  void keep(look_figures look);

  std::optional<live_figures> live() const override;
  std::optional<live_run> live_results() const override;
  std::shared_ptr<const cluster_results> results(const std::string& id) const override;
  std::pair<std::string, std::shared_ptr<const cluster_results>> last_results() const override;

 private:
  struct live_state {
    std::string test_id;
    bool running = false;
    std::optional<look_figures> last;
    // Shared with readers; copied before an append while one still holds it.
    std::shared_ptr<interval_series> series;
  };
  mutable std::mutex mutex_;
  live_state live_;
  std::deque<std::pair<std::string, std::shared_ptr<const cluster_results>>> kept_;
};

}  // namespace chaperon::cluster
