// Turning run results into files and terminal output.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "chaperon/metrics.hpp"
#include "chaperon/series.hpp"

namespace chaperon {

// The names of the built-in exporters. Any registered exporter's name is a format too.
namespace export_format {
inline constexpr std::string_view csv = "csv";
inline constexpr std::string_view json = "json";
}  // namespace export_format

enum class time_unit { ms, us };

struct export_options {
  // The name of a registered exporter, in any letter case (see find_exporter).
  std::string format{export_format::csv};
  // ms: decimals with microsecond precision ("12.345"; the mean is rounded to the microsecond
  // first); us: integers (the mean rounded to the nearest integer). Durations only: the figures
  // of a value metric (metric_unit::value) are written as recorded, as integers, either way.
  time_unit unit = time_unit::ms;
  std::string separator = ",";   // CSV only: between columns
  std::string delimiter = "\n";  // CSV only: ends every line, the last one included
  // What some formats need beyond the totals, when the caller has it (neither is owned): the
  // run's interval series (an HTML report's charts, an HdrHistogram log), and a description of
  // the run (load test, tag, config, entries: what the CLI writes beside the results).
  const interval_series* series = nullptr;
  const nlohmann::json* run_info = nullptr;
};

// One header line, then one line per metric in key order:
//   session_action_name,total_count,max,mean,min,percentile_10.0,...,percentile_99.999
//   <metric_key::row_label()>,<count>,<max>,<mean>,<min>,<percentiles...>
// then, only for runs that have them, rows in the same columns:
//   <row_label()> corrected       the metric measured from the intended start (key order)
//    schedule_lag                 the generator's lateness against its schedule
// Every row is a histogram (the original's format): dropped arrivals and the saturation verdict
// are not metrics, so they are in the summary and the JSON export, not here. A value metric's
// row (session::add_value) has the same columns with its values as recorded, e.g.
//    bytes,2,1500,1250,1000,1000,...,1500
// The CSV does not say which rows are values; the JSON export does.
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
// mean, min, percentile_10.0 ... percentile_99.999 as numbers in the chosen unit. A value metric
// (session::add_value) has "unit":"value" after its target and its figures as recorded
// (integers, never divided into milliseconds):
//   {"action":"bytes","unit":"value","metrics":{"total_count":2,"max":1500,...}}
// A metric with figures from the intended start has them under "corrected_metrics" (same
// fields). Runs with rate-driven work, dropped arrivals or a saturated generator end with one
// more object:
//   {"action":"schedule_lag","generator":{"saturated":false,"saturation":[...],
//    "arrivals_started":n,"arrivals_dropped":n,"max_thread_cpu":0.42,"loop_delay":{...}},
//    "metrics":{...}}
// whose "metrics" are the schedule lag's.
std::string export_json(const run_results& results, const export_options& options = {});

// The thresholds' verdicts: [{"threshold","status","metric","value","aborted_run","text"}, ...].
// The JSON export ends with {"action":"thresholds","passed":bool,"thresholds":[...]} when a run
// has any; the CSV keeps to metric rows (the verdicts are in the config file beside it).
nlohmann::json thresholds_json(const run_results& results);

// The lossless form of run_results::to_json (every histogram's counters, session and arrival
// counts, the generator's figures): what `chaperon merge` adds up, e.g. the shares of a test.
// Format "raw", extension "json".
std::string export_raw(const run_results& results, const export_options& options = {});

// A format results are written in. CSV and JSON are built in; an HTML report, an HdrHistogram
// log or an uploader plugs in beside them with register_exporter. One registered instance
// serves every caller, so its const members may be called from several threads at once.
class exporter {
 public:
  virtual ~exporter() = default;

  // What --format and export_options::format call it, e.g. "csv": lower-case letters, digits,
  // '-' and '_'.
  virtual std::string_view name() const = 0;
  // The file name extension without the dot, e.g. "csv" or "hlog".
  virtual std::string_view extension() const = 0;
  // The whole file's content.
  virtual std::string encode(const run_results& results, const export_options& options) const = 0;
  // Writes encode()'s content to `path`, creating its folders; throws export_error naming the
  // file when that fails. Override for formats that are not one file (or not a local one).
  virtual void write(const run_results& results, const std::filesystem::path& path,
                     const export_options& options) const;
};

// A setup error of the export: an unknown format, a name registered twice, a file not written.
class export_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Makes `e` findable by its name for the rest of the program. Throws export_error when the name
// is empty or has other characters than lower-case letters, digits, '-' and '_', when the
// extension is empty or contains '.', '/' or '\\', or when that name is registered already.
void register_exporter(std::unique_ptr<const exporter> e);

// The exporter named `name`, in any letter case. Throws export_error naming `name` and the known
// formats when there is none ("unknown export format 'xml' (known: csv, json)"). The reference
// stays valid for the rest of the program.
const exporter& find_exporter(std::string_view name);

// The registered formats' names, built-in ones first, then in the order they were registered.
std::vector<std::string> exporter_names();

// find_exporter(options.format).encode(results, options).
std::string export_results(const run_results& results, const export_options& options = {});

// The registered name for `name` in any letter case ("JSON" -> "json"); nullopt when unknown.
std::optional<std::string> parse_export_format(std::string_view name);
// find_exporter(format).extension().
std::string_view extension(std::string_view format);

// results/<UTC YYYY-MM-DD>/<load test name>/<tag>-<unix seconds>.<e.extension()>, where the load
// test name's "::", ':', '.', '/' and '\\' separate folders (empty parts are dropped). Slashes
// in the tag become '_'. An empty tag gives <unix seconds>.<ext>.
std::filesystem::path tagged_output_path(std::string_view load_test, std::string_view tag,
                                         const exporter& e,
                                         std::chrono::system_clock::time_point now);
// The same with find_exporter(format).
std::filesystem::path tagged_output_path(std::string_view load_test, std::string_view tag,
                                         std::string_view format,
                                         std::chrono::system_clock::time_point now);

// `path` with ".<e.extension()>" appended, unless it already ends with that extension (any
// letter case) or names an existing file that is not a regular one (/dev/null, a pipe).
std::filesystem::path output_path_with_extension(const std::filesystem::path& path,
                                                 const exporter& e);
// The same with find_exporter(format).
std::filesystem::path output_path_with_extension(const std::filesystem::path& path,
                                                 std::string_view format);

// A table for the terminal, times in ms (the figures of a value metric as recorded, integers):
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
