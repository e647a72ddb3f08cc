#pragma once
// Options shared by `chaperon run` and `chaperon quick`.

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "chaperon/export.hpp"
#include "chaperon/load_test.hpp"
#include "chaperon/run.hpp"

namespace chaperon::cli {

// --rate, --duration, --stages, --max-active: a load model that replaces every entry's.
struct model_options {
  std::string rate;      // "2000/s"
  std::string duration;  // with --rate (quick: its own --duration)
  std::string stages;    // "30s:100,60s:100,30s:0" or "10s:500/s,..."
  std::size_t max_active = 0;
};

struct common_options {
  model_options model;
  std::size_t threads = 0;
  std::vector<std::string> config_assignments;
  std::string config_file;
  std::string format = "csv";
  std::string output;  // "" -> results/<date>/<name>/<tag>-<ts>.<ext>; "-" -> stdout
  std::string tag = "chaperon";
  std::string unit = "ms";
  std::string metrics;  // comma-separated metric types
  std::string log_level = "warn";
  std::string share;     // "I/N"
  std::string interval;  // series interval, e.g. "1s"
  std::string s3;        // s3://bucket/prefix; "" -> env S3_BUCKET, if set
  std::string report;    // an HTML report to write besides the results
  std::string hdr_log;   // an HdrHistogram interval log to write besides the results
  std::size_t sessions = 0;  // run --sessions; 0: the entry's own count
  double scale = 0;          // run --scale; 0: none
  std::vector<std::string> thresholds;  // --threshold specs
  std::string prometheus_listen;        // ADDR:PORT
  std::string prometheus_remote_write;  // URL
  bool per_session = false;
  bool print_results = false;
  bool no_progress = false;
};

// add_spec_options, add_export_options and the rest of run's and quick's options.
void add_common_options(CLI::App& app, common_options& o);
// What a scheduled test carries to every node as well (cluster::run_spec): --threads, --config,
// --config-file, --metrics, --per-session, --threshold, --interval.
void add_spec_options(CLI::App& app, common_options& o);
// Where and how results are written: --format, --output, --tag, --unit, --report, --hdr-log,
// --s3, and --no-progress (the master has these, not the run options).
void add_export_options(CLI::App& app, common_options& o);
// --rate, --stages, --max-active, and --duration when `with_duration` (quick has its own).
void add_model_options(CLI::App& app, model_options& o, bool with_duration);
// run's --sessions and --scale (quick has a --sessions of its own).
void add_count_options(CLI::App& app, common_options& o);

// The model the flags ask for, nullopt when none; throws CLI::ValidationError naming the flag and
// the bad value.
std::optional<load_model> make_load_model(const model_options& o);

// Builds run options (config file + assignments, filter, log level); throws CLI::ValidationError
// naming the bad option.
run_options make_run_options(const common_options& o);
export_options make_export_options(const common_options& o);
// "a,b,,c" -> {"a", "b", "c"} (--metrics).
std::vector<std::string> split_comma_list(const std::string& text);

// Runs the test with a progress line, prints the summary, writes the results; returns exit status.
int execute(const load_test& test, const common_options& o);

}  // namespace chaperon::cli
