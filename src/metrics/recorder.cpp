#include "metrics/recorder.hpp"

#include <stdexcept>
#include <utility>

namespace chaperon::detail {

metrics_recorder::metrics_recorder(metric_filter filter) : filter_(std::move(filter)) {}

metric_id metrics_recorder::intern(const metric_key& key) {
  if (const auto it = ids_.find(key); it != ids_.end()) return it->second;
  if (!filter_.passes(key)) {
    ids_.emplace(key, no_metric);
    return no_metric;
  }
  if (histograms_.size() >= no_metric) throw std::length_error("too many distinct metrics");
  const auto id = static_cast<metric_id>(histograms_.size());
  ids_.emplace(key, id);
  keys_.push_back(key);
  histograms_.emplace_back();
  return id;
}

void metrics_recorder::drain_into(run_results& out) { drain_into(out.metrics, out.corrected); }

void metrics_recorder::drain_into(std::map<metric_key, histogram>& metrics,
                                  std::map<metric_key, histogram>& corrected) {
  for (std::size_t id = 0; id < histograms_.size(); ++id) {
    auto& h = histograms_[id];
    if (h.empty()) continue;
    metrics[keys_[id]].merge(h);
    h.reset();
  }
  for (std::size_t id = 0; id < corrected_.size(); ++id) {
    auto& h = corrected_[id];
    if (h.empty()) continue;
    corrected[keys_[id]].merge(h);
    h.reset();
  }
}

void metrics_recorder::merge_into(run_results& out) const {
  for (std::size_t id = 0; id < histograms_.size(); ++id)
    if (!histograms_[id].empty()) out.metrics[keys_[id]].merge(histograms_[id]);
  for (std::size_t id = 0; id < corrected_.size(); ++id)
    if (!corrected_[id].empty()) out.corrected[keys_[id]].merge(corrected_[id]);
}

}  // namespace chaperon::detail
