#include "cluster/figure_store.hpp"

namespace chaperon::cluster {

void figure_store::test_started(const std::string& id, std::chrono::microseconds interval) {
  std::lock_guard lock(mutex_);
  live_ = live_state{};
  live_.test_id = id;
  live_.running = true;
  live_.series = std::make_shared<interval_series>(interval);
}

void figure_store::test_ended(const std::string& id, std::shared_ptr<const cluster_results> out) {
  std::lock_guard lock(mutex_);
  live_ = live_state{};
  if (!out) return;
  kept_.emplace_back(id, std::move(out));
  if (kept_.size() > ended_results_kept) kept_.pop_front();
}

void figure_store::keep(look_figures look) {
  std::lock_guard lock(mutex_);
  if (!live_.running) return;
  look.figures.test_id = live_.test_id;
  if (look.next) {
    if (live_.series.use_count() > 1) live_.series = std::make_shared<interval_series>(*live_.series);
    live_.series->append(*look.next);
    look.next.reset();
  }
  live_.last = std::move(look);
}

std::optional<live_figures> figure_store::live() const {
  std::lock_guard lock(mutex_);
  if (!live_.running || !live_.last) return std::nullopt;
  return live_.last->figures;
}

std::optional<live_run> figure_store::live_results() const {
  std::lock_guard lock(mutex_);
  if (!live_.running) return std::nullopt;
  if (!live_.last) return live_run{{}, {live_.test_id, {}, {}}, live_.series};
  return live_run{live_.last->merged, live_.last->figures, live_.series};
}

std::shared_ptr<const cluster_results> figure_store::results(const std::string& id) const {
  std::lock_guard lock(mutex_);
  for (const auto& [kept_id, r] : kept_) {
    if (kept_id == id) return r;
  }
  return nullptr;
}

std::pair<std::string, std::shared_ptr<const cluster_results>> figure_store::last_results()
    const {
  std::lock_guard lock(mutex_);
  if (kept_.empty()) return {};
  return kept_.back();
}

}  // namespace chaperon::cluster
