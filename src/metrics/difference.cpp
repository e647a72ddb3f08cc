#include "metrics/difference.hpp"

#include <vector>

#include "metrics/hdr_layout.hpp"

namespace chaperon::detail {

namespace {

std::uint64_t minus(std::uint64_t now, std::uint64_t before) {
  return now > before ? now - before : 0;
}

void histograms_since(const std::map<metric_key, histogram>& now,
                      const std::map<metric_key, histogram>& before,
                      std::map<metric_key, histogram>& out) {
  static const histogram none;
  for (const auto& [key, h] : now) {
    const auto it = before.find(key);
    auto diff = histogram_since(h, it == before.end() ? none : it->second);
    if (!diff.empty()) out.emplace(key, std::move(diff));
  }
}

}  // namespace

histogram histogram_since(const histogram& now, const histogram& before) {
  histogram out;
  if (before.empty()) return now;
  if (now.count() == before.count()) return out;
  std::vector<std::uint64_t> earlier;
  before.for_each_counter([&](std::size_t i, std::uint64_t n) {
    if (i >= earlier.size()) earlier.resize(i + 1, 0);
    earlier[i] = n;
  });
  now.for_each_counter([&](std::size_t i, std::uint64_t n) {
    const auto added = minus(n, i < earlier.size() ? earlier[i] : 0);
    if (added == 0) return;
    const auto range = range_of(i);
    out.record(range.lowest + range.size - 1, added);
  });
  return out;
}

interval interval_since(const run_results& now, const run_results& before) {
  interval out;
  histograms_since(now.metrics, before.metrics, out.metrics);
  histograms_since(now.corrected, before.corrected, out.corrected);
  for (const auto& [reason, n] : now.session_errors) {
    const auto it = before.session_errors.find(reason);
    if (const auto added = minus(n, it == before.session_errors.end() ? 0 : it->second))
      out.session_errors[reason] = added;
  }
  const auto& s = now.sessions;
  const auto& b = before.sessions;
  out.sessions = {minus(s.started, b.started), minus(s.completed, b.completed),
                  minus(s.failed, b.failed), minus(s.aborted, b.aborted),
                  minus(s.timed_out, b.timed_out)};
  out.arrivals = {minus(now.arrivals.started, before.arrivals.started),
                  minus(now.arrivals.dropped, before.arrivals.dropped)};
  return out;
}

}  // namespace chaperon::detail
