// Turning run results into files and terminal output.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "chaperon/metrics.hpp"

namespace chaperon {

enum class export_format { csv, json };
enum class time_unit { ms, us };

struct export_options {
  export_format format = export_format::csv;
  // ms: decimals with microsecond precision ("12.345"; the mean is rounded to the microsecond
  // first); us: integers (the mean rounded to the nearest integer).
  time_unit unit = time_unit::ms;
  std::string separator = ",";   // CSV only: between columns
  std::string delimiter = "\n";  // CSV only: ends every line, the last one included
};

// One header line, then one line per metric in key order:
//   session_action_name,total_count,max,mean,min,percentile_10.0,...,percentile_99.999
//   <metric_key::row_label()>,<count>,<max>,<mean>,<min>,<percentiles...>
// then, only for runs that have them, rows in the same columns:
//   <row_label()> corrected       the metric measured from the intended start (key order)
//    schedule_lag                 the generator's lateness against its schedule
// Every row is a histogram (the original's format): dropped arrivals and the saturation verdict
// are not metrics, so they are in the summary and the JSON export, not here.
// A label containing the separator, the delimiter, a quote or a line break is quoted CSV-style.
std::string export_csv(const run_results& results, const export_options& options = {});

// An array with one object per metric in key order, e.g.
//   {"action":"get","url":"...","metrics":{...}}
//   {"action":"call","module":"MyScenario","function":"fn","metrics":{...}}
//   {"error":{"http":404},"action":"get","url":"...","metrics":{...}}
//   {"error":{"reason":"timeout"},"action":"get","url":"...","metrics":{...}}
//   {"action":"ws_recv","metrics":{...}}     (no target)
//   {"action":"x","target":"...","metrics":{...}}  (a target that is not a URL)
// with "session" first when the metric belongs to one session. "metrics" holds total_count, max,
// mean, min, percentile_10.0 ... percentile_99.999 as numbers in the chosen unit; a metric with
// figures from the intended start has them under "corrected_metrics" (same fields). Runs with
// rate-driven work, dropped arrivals or a saturated generator end with one more object:
//   {"action":"schedule_lag","generator":{"saturated":false,"saturation":[...],
//    "arrivals_started":n,"arrivals_dropped":n,"max_thread_cpu":0.42,"loop_delay":{...}},
//    "metrics":{...}}
// whose "metrics" are the schedule lag's.
std::string export_json(const run_results& results, const export_options& options = {});

// export_csv() or export_json(), by options.format.
std::string export_results(const run_results& results, const export_options& options = {});

// "csv" or "json", in any letter case; nullopt otherwise.
std::optional<export_format> parse_export_format(std::string_view name);
// "csv" or "json".
std::string_view extension(export_format format);

// results/<UTC YYYY-MM-DD>/<load test name>/<tag>-<unix seconds>.<ext>, where the load test
// name's "::", ':', '.', '/' and '\\' separate folders (empty parts are dropped). Slashes in the
// tag become '_'. An empty tag gives <unix seconds>.<ext>.
std::filesystem::path tagged_output_path(std::string_view load_test, std::string_view tag,
                                         export_format format,
                                         std::chrono::system_clock::time_point now);

// `path` with ".<ext>" appended, unless it already ends with that extension (any letter case).
std::filesystem::path output_path_with_extension(const std::filesystem::path& path,
                                                 export_format format);

// A table for the terminal, times in ms:
//  - one row per non-error metric: name, count, errors (the counts of error metrics with the same
//    session, action and target), rps (count / duration_s), min, mean, p50, p90, p99, max;
//  - one row per error metric with its count;
//  - session errors by reason;
//  - sessions started/completed/failed/aborted/timed out, and total requests, errors and overall
//    requests per second.
// With corrected figures, two more columns, "corr p50" and "corr p99": the metric measured from
// the intended start ("-" for metrics without). Then lines on arrivals (started, dropped) and the
// schedule lag when there are any.
// Starts with a PARTIAL warning when results.partial, and with a GENERATOR SATURATED warning and
// its reasons when the generator could not keep up. A duration_s <= 0 reports rates as 0.
std::string summary_table(const run_results& results, double duration_s);

}  // namespace chaperon
