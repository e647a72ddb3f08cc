#include "cluster/figure_store.hpp"

#include <algorithm>
#include <chrono>

namespace chaperon::cluster {

void figure_store::test_started(const std::string& id) {
  std::lock_guard lock(mutex_);
  live_ = live_state{};
  live_.test_id = id;
  live_.running = true;
}

void figure_store::test_ended(const std::string& id, std::shared_ptr<const cluster_results> out) {
  std::lock_guard lock(mutex_);
  live_ = live_state{};
  if (!out) return;
  kept_.emplace_back(id, std::move(out));
  if (kept_.size() > ended_results_kept) kept_.pop_front();
}

void figure_store::keep(const progress_snapshot& progress, run_results ended,
                        std::vector<std::pair<std::string, std::string>> fresh,
                        const std::vector<std::string>& running) {
  std::lock_guard lock(mutex_);
  if (!live_.running) return;
  live_.progress = progress;
  live_.ended = std::move(ended);
  for (auto& [id, json] : fresh) live_.reports[id] = std::move(json);
  std::erase_if(live_.reports, [&](const auto& r) {
    return std::find(running.begin(), running.end(), r.first) == running.end();
  });
}

std::optional<live_figures> figure_store::live() const {
  std::lock_guard lock(mutex_);
  if (!live_.running || !live_.progress) return std::nullopt;
  return live_figures{live_.test_id, *live_.progress};
}

std::optional<std::pair<run_results, live_figures>> figure_store::live_results() const {
  std::unique_lock lock(mutex_);
  if (!live_.running) return std::nullopt;
  auto out = std::make_pair(
      live_.ended, live_figures{live_.test_id, live_.progress.value_or(progress_snapshot{})});
  auto reports = live_.reports;
  lock.unlock();
  for (const auto& [id, text] : reports) {
    const auto parsed = json::parse(text, nullptr, false);
    if (parsed.is_discarded()) continue;
    if (auto r = run_results::try_from_json(parsed)) out.first.merge(*r);
  }
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::microseconds>(out.second.progress.elapsed);
  out.first.duration_us = std::max<std::int64_t>(1, elapsed.count());
  return out;
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
