// Writes the HTML report of a made-up 10-minute run with 20 metrics (600 intervals of 1 s, every
// metric measured in every interval) to argv[1], so that the browser test can measure how large
// such a report is and how long it takes to load. With --totals-only, the same run's report
// without its interval series; with --value-metric, one more metric "bytes" of plain values
// (session::add_value) 1000 and 2000 in every interval.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include "chaperon/export.hpp"
#include "chaperon/series.hpp"

namespace {

constexpr int intervals = 600;
constexpr int metrics = 20;

// A deterministic spread of latencies: a body around base_us and a tail up to 20 times it.
void fill(chaperon::histogram& h, std::int64_t base_us, std::uint64_t seed) {
  std::uint64_t x = seed * 6364136223846793005u + 1442695040888963407u;
  for (int n = 0; n < 200; ++n) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    const auto r = static_cast<std::int64_t>((x >> 33) % 1000);
    h.record(r < 990 ? base_us + r * base_us / 1000 : base_us * (1 + (r - 989) * 2));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string option = argc == 3 ? argv[2] : "";
  const bool totals_only = option == "--totals-only";
  const bool value_metric = option == "--value-metric";
  if (argc != 2 && !totals_only && !value_metric) {
    std::fprintf(stderr, "usage: %s OUTPUT.html [--totals-only | --value-metric]\n", argv[0]);
    return 2;
  }
  using namespace chaperon;
  interval_series series(std::chrono::seconds(1));
  for (int k = 0; k < intervals; ++k) {
    interval i;
    i.start_us = std::int64_t{k} * 1'000'000;
    i.length_us = 1'000'000;
    for (int m = 0; m < metrics; ++m) {
      const metric_key key{"", "get", "http://127.0.0.1:8080/api/endpoint/" + std::to_string(m), ""};
      fill(i.metrics[key], 2000 + 500 * m + 10 * (k % 60), static_cast<std::uint64_t>(k * 100 + m));
      if ((k + m) % 7 == 0) i.metrics[metric_key{key.session, key.action, key.target, "HTTP 503"}]
                                .record(1000);
    }
    if (value_metric) {
      auto& bytes = i.metrics[metric_key{"", "bytes", "", "", metric_unit::value}];
      bytes.record(1000, 9);
      bytes.record(2000);
    }
    i.sessions.started = k < 10 ? 10 : 0;
    i.sessions_active = k < 10 ? std::uint64_t(10 * (k + 1)) : 100;
    series.append(i);
  }
  const auto total = series.total();
  run_results results;
  results.metrics = total.metrics;
  results.sessions = total.sessions;
  results.duration_us = std::int64_t{intervals} * 1'000'000;
  results.start_unix_ms = 1'767'225'600'000;
  results.load_test = "large_report";
  export_options options;
  if (!totals_only) options.series = &series;
  try {
    find_exporter("html").write(results, argv[1], options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
