#include "export/html_data.hpp"

#include <cmath>
#include <map>
#include <vector>

#include "export/columns.hpp"

namespace chaperon::detail {
namespace {

using nlohmann::json;

double ms(std::int64_t us) { return static_cast<double>(us) / 1000.0; }

// Durations in ms; a value metric's values as recorded.
double figure(std::int64_t v, metric_unit unit) {
  return unit == metric_unit::value ? static_cast<double>(v) : ms(v);
}

// Rates keep three decimals: enough for a chart, and the page stays small.
double rounded(double x) { return std::round(x * 1000.0) / 1000.0; }

double per_second(std::uint64_t count, double seconds) {
  return seconds > 0 ? rounded(static_cast<double>(count) / seconds) : 0.0;
}

std::string label_of(const metric_key& key) {
  return key.session.empty() ? key.name() : key.session + " " + key.name();
}

metric_key without_error(metric_key key) {
  key.error.clear();
  return key;
}

// The summary table's columns for one histogram.
json figures_of(const histogram& h, metric_unit unit) {
  const auto c = columns_of(h);
  return {{"count", c.count},
          {"min", figure(c.min, unit)},
          {"mean", figure(c.mean, unit)},
          {"p50", figure(h.value_at_percentile(50), unit)},
          {"p90", figure(h.value_at_percentile(90), unit)},
          {"p99", figure(h.value_at_percentile(99), unit)},
          {"max", figure(c.max, unit)}};
}

// [[percentile, ms], ...] from 0 up to 99.999, four steps for each halving of the distance to
// 100%, as HdrHistogram plots it: the tail gets as many points as the body.
json spectrum_of(const histogram& h, metric_unit unit) {
  json out = json::array();
  for (int i = 0;; ++i) {
    const double p = 100.0 * (1.0 - std::exp2(-i / 4.0));
    if (p >= 99.999) break;
    out.push_back({rounded(p), figure(h.value_at_percentile(p), unit)});
  }
  out.push_back({99.999, figure(h.value_at_percentile(99.999), unit)});
  return out;
}

json metrics_of(const run_results& results, double duration_s) {
  std::map<metric_key, std::uint64_t> errors;
  for (const auto& [key, h] : results.metrics)
    if (key.is_error()) errors[without_error(key)] += h.count();

  json out = json::array();
  for (const auto& [key, h] : results.metrics) {
    if (key.is_error()) continue;
    json m = figures_of(h, key.unit);
    m["label"] = label_of(key);
    if (key.is_value()) m["unit"] = to_string(key.unit);
    const auto e = errors.find(key);
    m["errors"] = e == errors.end() ? 0 : e->second;
    m["rps"] = per_second(h.count(), duration_s);
    m["spectrum"] = spectrum_of(h, key.unit);
    const auto corrected = results.corrected.find(key);
    if (corrected != results.corrected.end()) {
      m["corrected"] = figures_of(corrected->second, key.unit);
      m["corrected"]["spectrum"] = spectrum_of(corrected->second, key.unit);
    }
    out.push_back(std::move(m));
  }
  return out;
}

json generator_of(const generator_report& g, const arrival_counts& arrivals) {
  json out = {{"saturated", g.saturated()},
              {"saturation", g.saturation},
              {"max_thread_cpu", rounded(g.max_thread_cpu)},
              {"arrivals_started", arrivals.started},
              {"arrivals_dropped", arrivals.dropped}};
  if (!g.schedule_lag.empty())
    out["schedule_lag"] = {{"p50", ms(g.schedule_lag.value_at_percentile(50))},
                           {"p99", ms(g.schedule_lag.value_at_percentile(99))},
                           {"max", ms(g.schedule_lag.max())}};
  if (!g.loop_delay.empty())
    out["loop_delay"] = {{"p99", ms(g.loop_delay.value_at_percentile(99))},
                         {"max", ms(g.loop_delay.max())}};
  return out;
}

// One metric's values over the points of the series.
struct metric_track {
  json rps = json::array(), errors = json::array();
  json p50 = json::array(), p90 = json::array(), p99 = json::array();
  json corrected_p99 = json::array();
  bool has_corrected = false;
  metric_unit unit = metric_unit::duration;

  void add(const histogram* h, std::uint64_t errors_count, const histogram* corrected,
           double seconds) {
    rps.push_back(per_second(h ? h->count() : 0, seconds));
    errors.push_back(per_second(errors_count, seconds));
    const auto at = [&](const histogram* x, double p) -> json {
      return x && !x->empty() ? json(figure(x->value_at_percentile(p), unit)) : json(nullptr);
    };
    p50.push_back(at(h, 50));
    p90.push_back(at(h, 90));
    p99.push_back(at(h, 99));
    corrected_p99.push_back(at(corrected, 99));
    has_corrected = has_corrected || corrected;
  }

  json to_json() && {
    json out = {{"rps", std::move(rps)}, {"errors", std::move(errors)}, {"p50", std::move(p50)},
                {"p90", std::move(p90)}, {"p99", std::move(p99)}};
    if (has_corrected) out["corrected_p99"] = std::move(corrected_p99);
    return out;
  }
};

const histogram* find_in(const std::map<metric_key, histogram>& m, const metric_key& key) {
  const auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

json series_of(const interval_series& series, const run_results& results) {
  std::vector<metric_key> keys;
  for (const auto& [key, h] : results.metrics)
    if (!key.is_error()) keys.push_back(key);
  std::vector<metric_track> tracks(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) tracks[i].unit = keys[i].unit;

  json t = json::array(), requests = json::array(), errors = json::array();
  json sessions = json::array(), started = json::array();
  for (const auto& point : series.points()) {
    const double seconds = static_cast<double>(point.length_us) / 1e6;
    t.push_back(rounded(static_cast<double>(point.start_us + point.length_us) / 1e6));
    requests.push_back(per_second(point.requests(), seconds));
    errors.push_back(per_second(point.errors(), seconds));
    sessions.push_back(point.sessions_active);
    started.push_back(per_second(point.sessions.started, seconds));

    std::map<metric_key, std::uint64_t> point_errors;
    for (const auto& [key, h] : point.metrics)
      if (key.is_error()) point_errors[without_error(key)] += h.count();
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto e = point_errors.find(keys[i]);
      tracks[i].add(find_in(point.metrics, keys[i]), e == point_errors.end() ? 0 : e->second,
                    find_in(point.corrected, keys[i]), seconds);
    }
  }
  json per_metric = json::array();
  for (auto& track : tracks) per_metric.push_back(std::move(track).to_json());
  return {{"interval_s", static_cast<double>(series.interval_length().count()) / 1e6},
          {"intervals", series.intervals()},
          {"intervals_per_point", series.intervals_per_point()},
          {"t", std::move(t)},
          {"requests", std::move(requests)},
          {"errors", std::move(errors)},
          {"sessions", std::move(sessions)},
          {"sessions_started", std::move(started)},
          {"metrics", std::move(per_metric)}};
}

// The run's tag, where the description carries one (at its top or in the run-time config).
std::string tag_of(const json* info) {
  if (!info || !info->is_object()) return "";
  for (const auto* where : {"/tag", "/runtime_config/tag"}) {
    const json::json_pointer pointer(where);
    if (info->contains(pointer) && info->at(pointer).is_string())
      return info->at(pointer).get<std::string>();
  }
  return "";
}

json thresholds_of(const std::vector<threshold_verdict>& verdicts) {
  json out = json::array();
  for (const auto& v : verdicts) {
    out.push_back({{"threshold", v.threshold},
                   {"status", v.status},
                   {"metric", v.metric},
                   {"value", v.value},
                   {"text", v.text},
                   {"aborted_run", v.aborted_run}});
  }
  return out;
}

}  // namespace

json html_report_data(const run_results& results, const export_options& options) {
  const double duration_s = static_cast<double>(results.duration_us) / 1e6;
  json error_metrics = json::array();
  for (const auto& [key, h] : results.metrics)
    if (key.is_error()) error_metrics.push_back({{"label", label_of(key)}, {"count", h.count()}});
  const auto& s = results.sessions;
  const auto requests = results.total_requests();
  return {{"load_test", results.load_test},
          {"tag", tag_of(options.run_info)},
          {"start_unix_ms", results.start_unix_ms},
          {"duration_s", rounded(duration_s)},
          {"partial", results.partial},
          {"info", options.run_info ? *options.run_info : json(nullptr)},
          {"totals",
           {{"requests", requests},
            {"errors", results.error_count()},
            {"rps", per_second(requests, duration_s)},
            {"sessions",
             {{"started", s.started},
              {"completed", s.completed},
              {"failed", s.failed},
              {"aborted", s.aborted},
              {"timed_out", s.timed_out}}}}},
          {"generator", generator_of(results.generator, results.arrivals)},
          {"metrics", metrics_of(results, duration_s)},
          {"error_metrics", std::move(error_metrics)},
          {"session_errors", results.session_errors},
          {"thresholds", thresholds_of(results.thresholds)},
          {"series", options.series ? series_of(*options.series, results) : json(nullptr)}};
}

std::string script_safe_json(const json& data) {
  const auto text = data.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + text.size() / 64);
  for (const char c : text) {
    switch (c) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace chaperon::detail
