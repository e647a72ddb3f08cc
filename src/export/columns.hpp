// The numbers every export reports for one metric, and how they are written.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "chaperon/export.hpp"
#include "chaperon/metrics.hpp"

namespace chaperon::detail {

// In the metric's unit (microseconds or plain values), in the exported column order after the
// count.
struct metric_columns {
  std::uint64_t count = 0;
  std::int64_t max = 0;
  std::int64_t mean = 0;  // rounded to the microsecond
  std::int64_t min = 0;
  std::array<std::int64_t, reported_percentiles.size()> percentiles{};
};

metric_columns columns_of(const histogram& h);

// "percentile_10.0", "percentile_99.9", ...
std::string percentile_column_name(double percentile);

// "12.345" (ms) or "12345" (us).
std::string format_duration(std::int64_t us, time_unit unit);

// A figure of a metric: a duration as format_duration() writes it, a plain value as recorded.
std::string format_figure(std::int64_t v, metric_unit metric, time_unit unit);

}  // namespace chaperon::detail
