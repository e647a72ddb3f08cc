// Fuzzes the decoding of run results and histograms sent by cluster peers. The input is parsed as
// JSON first (invalid JSON is skipped); the value is then read as run results and as a histogram.
// Whatever is accepted must be internally consistent and survive to_json() unchanged.

#include "chaperon/metrics.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

namespace {

using chaperon::histogram;
using chaperon::run_results;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

// count() must be the sum of the counters; the sum is taken without wrapping around.
void check_count(const histogram& h) {
  std::uint64_t sum = 0;
  bool wrapped = false;
  const nlohmann::json j = h.to_json();
  for (const auto& pair : j["counts"]) {
    const auto c = pair[1].get<std::uint64_t>();
    wrapped = wrapped || sum + c < sum;
    sum += c;
  }
  check(!wrapped && sum == h.count(), "count() is the sum of the counters");
}

void check_histogram(const histogram& h) {
  check_count(h);
  const auto again = histogram::try_from_json(h.to_json());
  check(again.has_value(), "to_json() of an accepted histogram is accepted");
  check(*again == h, "a histogram survives to_json()");
  if (h.empty()) {
    check(h.min() == 0 && h.max() == 0 && h.mean() == 0.0, "an empty histogram is all zero");
    return;
  }
  check(h.min() >= 0 && h.min() <= h.max() && h.max() <= histogram::highest_trackable_value,
        "0 <= min <= max <= highest trackable");
  check(h.mean() >= static_cast<double>(h.min()) && h.mean() <= static_cast<double>(h.max()),
        "mean within [min, max]");
  check(h.value_at_percentile(0) == h.min(), "percentile 0 is the minimum");
  std::int64_t previous = h.min();
  for (const double p : chaperon::reported_percentiles) {
    const std::int64_t v = h.value_at_percentile(p);
    check(v >= previous && v <= h.max(), "percentiles rise within [min, max]");
    previous = v;
  }
  check(h.value_at_percentile(100) <= h.max(), "percentile 100 within max");

  // Merging with itself doubles the count and keeps the extremes.
  histogram twice = h;
  twice.merge(h);
  if (twice.count() / 2 == h.count() && twice.count() >= h.count()) {
    check(twice.min() == h.min() && twice.max() == h.max(), "merge keeps the extremes");
  }
}

void check_results(const run_results& r) {
  const auto again = run_results::try_from_json(r.to_json());
  check(again.has_value(), "to_json() of accepted results is accepted");
  check(*again == r, "run results survive to_json()");
  for (const auto& [key, h] : r.metrics) check_histogram(h);
  (void)r.total_requests();
  (void)r.error_count();
  // Merging keeps the longest duration, so a negative one (which try_from_json accepts) is lost.
  if (r.duration_us >= 0) {
    run_results merged;
    merged.merge(r);
    check(merged == r, "merging into empty results copies them");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return 0;
  if (const auto r = run_results::try_from_json(j)) check_results(*r);
  if (const auto h = histogram::try_from_json(j)) check_histogram(*h);
  return 0;
}
