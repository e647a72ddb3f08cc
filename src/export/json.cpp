#include "chaperon/export.hpp"

#include <charconv>
#include <string_view>

#include "export/columns.hpp"

namespace chaperon {
namespace {

using ordered_json = nlohmann::ordered_json;

// A figure in the export's time unit; a plain value as recorded (an integer).
ordered_json figure(std::int64_t v, metric_unit metric, time_unit unit) {
  if (unit == time_unit::us || metric == metric_unit::value) return v;
  return static_cast<double>(v) / 1000.0;
}

ordered_json error_json(std::string_view error) {
  constexpr std::string_view http_prefix = "HTTP ";
  if (error.starts_with(http_prefix)) {
    const auto digits = error.substr(http_prefix.size());
    int status = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), status);
    if (ec == std::errc{} && end == digits.data() + digits.size()) return {{"http", status}};
  }
  return {{"reason", error}};
}

bool looks_like_url(std::string_view target) {
  return target.find("://") != std::string_view::npos;
}

void add_target(ordered_json& j, const metric_key& key) {
  if (key.target.empty()) return;
  if (key.action == "call") {
    const auto dot = key.target.rfind('.');
    if (dot != std::string::npos) j["module"] = key.target.substr(0, dot);
    j["function"] = dot == std::string::npos ? key.target : key.target.substr(dot + 1);
  } else if (is_http_method(key.action) || looks_like_url(key.target)) {
    j["url"] = key.target;
  } else {
    j["target"] = key.target;
  }
}

ordered_json metrics_json(const histogram& h, metric_unit metric, time_unit unit) {
  const auto c = detail::columns_of(h);
  ordered_json m = ordered_json::object();
  m["total_count"] = c.count;
  m["max"] = figure(c.max, metric, unit);
  m["mean"] = figure(c.mean, metric, unit);
  m["min"] = figure(c.min, metric, unit);
  for (std::size_t i = 0; i < c.percentiles.size(); ++i)
    m[detail::percentile_column_name(reported_percentiles[i])] =
        figure(c.percentiles[i], metric, unit);
  return m;
}

ordered_json generator_json(const run_results& results, time_unit unit) {
  const auto& gen = results.generator;
  ordered_json g = ordered_json::object();
  g["saturated"] = gen.saturated();
  g["saturation"] = gen.saturation;
  g["arrivals_started"] = results.arrivals.started;
  g["arrivals_dropped"] = results.arrivals.dropped;
  g["max_thread_cpu"] = gen.max_thread_cpu;
  g["loop_delay"] = metrics_json(gen.loop_delay, metric_unit::duration, unit);
  ordered_json entry = ordered_json::object();
  entry["action"] = "schedule_lag";
  entry["generator"] = std::move(g);
  entry["metrics"] = metrics_json(gen.schedule_lag, metric_unit::duration, unit);
  return entry;
}

}  // namespace

std::string export_json(const run_results& results, const export_options& options) {
  auto out = ordered_json::array();
  for (const auto& [key, h] : results.metrics) {
    ordered_json entry = ordered_json::object();
    if (!key.session.empty()) entry["session"] = key.session;
    if (key.is_error()) entry["error"] = error_json(key.error);
    entry["action"] = key.action;
    add_target(entry, key);
    if (key.is_value()) entry["unit"] = to_string(key.unit);
    entry["metrics"] = metrics_json(h, key.unit, options.unit);
    if (auto c = results.corrected.find(key); c != results.corrected.end())
      entry["corrected_metrics"] = metrics_json(c->second, key.unit, options.unit);
    out.push_back(std::move(entry));
  }
  const auto& gen = results.generator;
  if (!gen.schedule_lag.empty() || results.arrivals.dropped > 0 || gen.saturated())
    out.push_back(generator_json(results, options.unit));
  if (!results.thresholds.empty()) {
    ordered_json entry;
    entry["action"] = "thresholds";
    entry["passed"] = results.thresholds_passed();
    entry["thresholds"] = thresholds_json(results);
    out.push_back(std::move(entry));
  }
  return out.dump() + "\n";
}

nlohmann::json thresholds_json(const run_results& results) {
  auto out = nlohmann::json::array();
  for (const auto& v : results.thresholds) {
    out.push_back({{"threshold", v.threshold},
                   {"status", v.status},
                   {"metric", v.metric},
                   {"value", v.value},
                   {"aborted_run", v.aborted_run},
                   {"text", v.text}});
  }
  return out;
}

std::string export_raw(const run_results& results, const export_options&) {
  return results.to_json().dump() + "\n";
}

}  // namespace chaperon
