// Per-thread metric recording. Each engine thread owns one recorder, so nothing here is locked;
// the engine merges the recorders into a run_results (periodically with drain_into()).
#pragma once

#include <cassert>
#include <cstdint>
#include <map>
#include <vector>

#include "chaperon/metrics.hpp"

namespace chaperon::detail {

using metric_id = std::uint32_t;
// The id of a metric that the filter rejected: recording it does nothing.
inline constexpr metric_id no_metric = ~metric_id{0};

class metrics_recorder {
 public:
  explicit metrics_recorder(metric_filter filter = {});

  // The id to record `key` under: the same key always gets the same id, and a key the filter
  // rejects gets no_metric. The filter runs once per distinct key.
  metric_id intern(const metric_key& key);

  // The hot path: one vector index and a histogram update; no hashing, no allocation once the
  // histogram has grown to the values it sees.
  void record(metric_id id, std::int64_t value_us) {
    if (id == no_metric) return;
    assert(id < histograms_.size());
    histograms_[id].record(value_us);
  }
  void record(const metric_key& key, std::int64_t value_us) { record(intern(key), value_us); }
  // Records `value_us` as measured and `corrected_us` (measured from the intended start) into
  // the corrected set under the same id.
  void record_corrected(metric_id id, std::int64_t value_us, std::int64_t corrected_us) {
    if (id == no_metric) return;
    assert(id < histograms_.size());
    histograms_[id].record(value_us);
    if (id >= corrected_.size()) [[unlikely]]
      corrected_.resize(histograms_.size());
    corrected_[id].record(corrected_us);
  }

  // Merges everything recorded so far into `out` and starts over empty. Ids stay valid.
  void drain_into(run_results& out);
  void drain_into(std::map<metric_key, histogram>& metrics,
                  std::map<metric_key, histogram>& corrected);
  // Merges everything recorded so far into `out` and keeps it.
  void merge_into(run_results& out) const;

  // Number of distinct keys that passed the filter.
  std::size_t size() const { return histograms_.size(); }
  // The key of an id returned by intern() (not no_metric).
  const metric_key& key(metric_id id) const { return keys_[id]; }

 private:
  metric_filter filter_;
  std::map<metric_key, metric_id> ids_;  // rejected keys map to no_metric
  std::vector<metric_key> keys_;         // by id
  std::vector<histogram> histograms_;    // by id
  std::vector<histogram> corrected_;     // by id; only as long as the highest corrected id
};

}  // namespace chaperon::detail
