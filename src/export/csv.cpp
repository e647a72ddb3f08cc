#include "chaperon/export.hpp"

#include <string_view>

#include "export/columns.hpp"

namespace chaperon {
namespace {

bool needs_quoting(std::string_view field, const export_options& options) {
  if (field.find_first_of("\"\r\n") != std::string_view::npos) return true;
  if (!options.separator.empty() && field.find(options.separator) != std::string_view::npos)
    return true;
  return !options.delimiter.empty() && field.find(options.delimiter) != std::string_view::npos;
}

std::string quoted(std::string_view field, const export_options& options) {
  if (!needs_quoting(field, options)) return std::string(field);
  std::string out = "\"";
  for (const char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

void append_header(std::string& out, const export_options& options) {
  out += "session_action_name";
  for (const char* column : {"total_count", "max", "mean", "min"}) {
    out += options.separator;
    out += column;
  }
  for (const double p : reported_percentiles) {
    out += options.separator;
    out += detail::percentile_column_name(p);
  }
  out += options.delimiter;
}

void append_row(std::string& out, const std::string& label, const histogram& h,
                metric_unit metric, const export_options& options) {
  const auto c = detail::columns_of(h);
  const auto value = [&](std::int64_t v) {
    out += options.separator;
    out += detail::format_figure(v, metric, options.unit);
  };
  out += quoted(label, options);
  out += options.separator;
  out += std::to_string(c.count);
  value(c.max);
  value(c.mean);
  value(c.min);
  for (const auto p : c.percentiles) value(p);
  out += options.delimiter;
}

}  // namespace

std::string export_csv(const run_results& results, const export_options& options) {
  std::string out;
  append_header(out, options);
  for (const auto& [key, h] : results.metrics)
    append_row(out, key.row_label(), h, key.unit, options);
  for (const auto& [key, h] : results.corrected)
    append_row(out, key.row_label() + " corrected", h, key.unit, options);
  // Only histograms become rows: scripts read every row as a metric. The arrival counts and the
  // saturation verdict are not metrics; the summary and the JSON export carry them.
  const auto& lag = results.generator.schedule_lag;
  if (!lag.empty()) append_row(out, " schedule_lag", lag, metric_unit::duration, options);
  return out;
}

}  // namespace chaperon
