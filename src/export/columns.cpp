#include "export/columns.hpp"

#include <cmath>

#include <fmt/format.h>

namespace chaperon::detail {

metric_columns columns_of(const histogram& h) {
  metric_columns c;
  c.count = h.count();
  c.max = h.max();
  c.mean = std::llround(h.mean());
  c.min = h.min();
  for (std::size_t i = 0; i < reported_percentiles.size(); ++i)
    c.percentiles[i] = h.value_at_percentile(reported_percentiles[i]);
  return c;
}

std::string percentile_column_name(double percentile) {
  // Whole percentiles keep one decimal ("percentile_10.0"), the others their shortest form.
  if (percentile == std::floor(percentile)) return fmt::format("percentile_{:.1f}", percentile);
  return fmt::format("percentile_{}", percentile);
}

std::string format_duration(std::int64_t us, time_unit unit) {
  if (unit == time_unit::us) return fmt::format("{}", us);
  // Integer arithmetic keeps the decimals exact at any magnitude.
  const char* sign = us < 0 ? "-" : "";
  const auto magnitude = us < 0 ? -static_cast<std::uint64_t>(us) : static_cast<std::uint64_t>(us);
  return fmt::format("{}{}.{:03}", sign, magnitude / 1000, magnitude % 1000);
}

std::string format_figure(std::int64_t v, metric_unit metric, time_unit unit) {
  return metric == metric_unit::value ? fmt::format("{}", v) : format_duration(v, unit);
}

}  // namespace chaperon::detail
