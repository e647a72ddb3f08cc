#pragma once
// `chaperon merge`: adds up the raw (lossless) results of several runs, e.g. the shares of one
// load test run by any orchestrator with --share I/N --format raw.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace chaperon::cli {

struct merge_options {
  std::vector<std::string> inputs;
  std::string format = "csv";
  std::string output;  // "" -> stdout
  std::string unit = "ms";
};

void add_merge_options(CLI::App& app, merge_options& o);
// Reads every input (raw results JSON), merges them exactly, prints the summary on stderr and
// writes the merged results; throws std::runtime_error naming a file that is not raw results.
int merge(const merge_options& o);

}  // namespace chaperon::cli
