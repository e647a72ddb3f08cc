#pragma once
// Options shared by `chaperon run` and `chaperon quick`.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "chaperon/export.hpp"
#include "chaperon/load_test.hpp"
#include "chaperon/run.hpp"

namespace chaperon::cli {

struct common_options {
  std::size_t threads = 0;
  std::vector<std::string> config_assignments;
  std::string config_file;
  std::string format = "csv";
  std::string output;  // "" -> results/<date>/<name>/<tag>-<ts>.<ext>; "-" -> stdout
  std::string tag = "chaperon";
  std::string unit = "ms";
  std::string metrics;  // comma-separated metric types
  std::string log_level = "warn";
  bool per_session = false;
  bool print_results = false;
  bool no_progress = false;
};

void add_common_options(CLI::App& app, common_options& o);

// Builds run options (config file + assignments, filter, log level); throws CLI::ValidationError
// naming the bad option.
run_options make_run_options(const common_options& o);
export_options make_export_options(const common_options& o);

// Runs the test with a progress line, prints the summary, writes the results; returns exit status.
int execute(const load_test& test, const common_options& o);

}  // namespace chaperon::cli
