#include "chaperon/export.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "export/columns.hpp"

namespace chaperon {
namespace {

using table_row = std::vector<std::string>;

// Columns separated by two spaces; the first left-aligned (names), the rest right-aligned.
void append_table(std::string& out, const table_row& header, const std::vector<table_row>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());

  const auto append_row = [&](const table_row& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i == 0)
        line += fmt::format("{:<{}}", row[i], widths[i]);
      else
        line += fmt::format("  {:>{}}", row[i], widths[i]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line;
    out += '\n';
  };
  append_row(header);
  for (const auto& row : rows) append_row(row);
}

std::string label_of(const metric_key& key) {
  return key.session.empty() ? key.name() : key.session + " " + key.name();
}

std::string ms(std::int64_t us) { return detail::format_duration(us, time_unit::ms); }

std::string rate(double count, double duration_s) {
  return fmt::format("{:.2f}", duration_s > 0 ? count / duration_s : 0.0);
}

std::vector<table_row> metric_rows(const run_results& results, double duration_s) {
  std::map<metric_key, std::uint64_t> errors_by_metric;
  for (const auto& [key, h] : results.metrics) {
    if (!key.is_error()) continue;
    auto plain = key;
    plain.error.clear();
    errors_by_metric[plain] += h.count();
  }

  std::vector<table_row> rows;
  const bool with_corrected = !results.corrected.empty();
  for (const auto& [key, h] : results.metrics) {
    if (key.is_error()) continue;
    const auto c = detail::columns_of(h);
    const auto errors = errors_by_metric.find(key);
    const auto fig = [&](std::int64_t v) {
      return detail::format_figure(v, key.unit, time_unit::ms);
    };
    rows.push_back({label_of(key), std::to_string(c.count),
                    std::to_string(errors == errors_by_metric.end() ? 0 : errors->second),
                    rate(static_cast<double>(c.count), duration_s), fig(c.min), fig(c.mean),
                    fig(h.value_at_percentile(50)), fig(h.value_at_percentile(90)),
                    fig(h.value_at_percentile(99)), fig(c.max)});
    if (!with_corrected) continue;
    const auto corrected = results.corrected.find(key);
    if (corrected == results.corrected.end()) {
      rows.back().insert(rows.back().end(), {"-", "-"});
    } else {
      rows.back().push_back(fig(corrected->second.value_at_percentile(50)));
      rows.back().push_back(fig(corrected->second.value_at_percentile(99)));
    }
  }
  return rows;
}

std::vector<table_row> error_rows(const run_results& results) {
  std::vector<table_row> rows;
  for (const auto& [key, h] : results.metrics)
    if (key.is_error()) rows.push_back({label_of(key), std::to_string(h.count())});
  return rows;
}

}  // namespace

std::string summary_table(const run_results& results, double duration_s) {
  std::string out;
  if (results.partial) out += "PARTIAL RESULTS: the run did not complete\n";
  const auto& gen = results.generator;
  if (gen.saturated()) {
    out += "GENERATOR SATURATED: the load generator could not keep up, so the latencies below "
           "include its own delays and do not describe the server alone:\n";
    for (const auto& reason : gen.saturation) out += "  - " + reason + "\n";
  }

  const auto metrics = metric_rows(results, duration_s);
  table_row header{"metric (times in ms)", "count", "errors", "rps", "min", "mean", "p50", "p90",
                   "p99", "max"};
  if (!results.corrected.empty()) header.insert(header.end(), {"corr p50", "corr p99"});
  if (!metrics.empty()) append_table(out, header, metrics);
  if (!results.corrected.empty())
    out += "corr: measured from the intended start time, so waiting for a late start counts\n";
  if (std::any_of(results.metrics.begin(), results.metrics.end(),
                  [](const auto& m) { return m.first.is_value() && !m.first.is_error(); }))
    out += "values (add_value) are shown as recorded, without a time unit\n";

  const auto errors = error_rows(results);
  if (!errors.empty()) {
    out += '\n';
    append_table(out, {"error", "count"}, errors);
  }

  if (!results.session_errors.empty()) {
    std::vector<table_row> rows;
    for (const auto& [reason, count] : results.session_errors)
      rows.push_back({reason, std::to_string(count)});
    out += '\n';
    append_table(out, {"session error", "count"}, rows);
  }

  const auto& s = results.sessions;
  const auto requests = results.total_requests();
  if (!out.empty()) out += '\n';
  out += fmt::format("sessions: {} started, {} completed, {} failed, {} aborted, {} timed out\n",
                     s.started, s.completed, s.failed, s.aborted, s.timed_out);
  out += fmt::format("requests: {}, errors: {}, rps: {}\n", requests, results.error_count(),
                     rate(static_cast<double>(requests), duration_s));
  const auto& a = results.arrivals;
  if (a.started + a.dropped > 0) {
    out += fmt::format("arrivals: {} started, {} dropped (max active sessions reached), "
                       "{}/s started\n",
                       a.started, a.dropped, rate(static_cast<double>(a.started), duration_s));
  }
  if (!gen.schedule_lag.empty()) {
    out += fmt::format("schedule lag: p50 {} ms, p99 {} ms, max {} ms\n",
                       ms(gen.schedule_lag.value_at_percentile(50)),
                       ms(gen.schedule_lag.value_at_percentile(99)), ms(gen.schedule_lag.max()));
  }
  if (!results.thresholds.empty()) {
    const auto failed = std::count_if(results.thresholds.begin(), results.thresholds.end(),
                                      [](const threshold_verdict& v) { return !v.passed(); });
    out += fmt::format("\nthresholds: {} of {} passed{}\n", results.thresholds.size() - failed,
                       results.thresholds.size(), failed ? " -- THRESHOLDS FAILED" : "");
    for (const auto& v : results.thresholds)
      out += fmt::format("  {} {}\n", v.passed() ? "ok  " : "FAIL", v.text);
  }
  return out;
}

}  // namespace chaperon
