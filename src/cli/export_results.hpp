#pragma once
// Writing a run's results the way `chaperon run` does (summary, result file, its config file,
// --report / --hdr-log extras, the S3 upload): shared by `run`, `quick` and the master, which
// exports every test of its queue.

#include <optional>
#include <string>

#include "chaperon/config.hpp"
#include "chaperon/load_test.hpp"
#include "chaperon/metrics.hpp"
#include "chaperon/s3.hpp"
#include "cli/cli_options.hpp"

namespace chaperon::cli {

// The S3 upload asked for (--s3, or env S3_BUCKET), checked before a run so that a bad URL or
// missing credentials do not cost a whole test; nullopt when none was asked for.
struct s3_upload {
  s3_target target;
  s3_settings settings;
};
std::optional<s3_upload> s3_upload_of(const common_options& o);

// The config file beside the results: what ran (`ran`: the test as prepared for the run), with
// what config, and whether the generator kept up (the verdict is not a metric, so the CSV does
// not carry it).
json config_report(const load_test& ran, const json& runtime, const run_results& results);

struct results_export {
  const run_results& results;
  const interval_series* series = nullptr;
  json info;              // the config file's content (config_report, maybe with more)
  std::string load_test;  // for the default file name
  // Set, it goes into every file name (the default one's tag, --output, --report, --hdr-log), so
  // that the tests a master runs one after another do not overwrite each other's files.
  std::string id;
  std::string tag;  // set: replaces the options' tag (a scheduled test's own)
};

// Prints the summary and writes the files the options ask for; false when the S3 upload failed
// (the local files are kept). Throws std::runtime_error when a file cannot be written.
bool export_results(const results_export& what, const common_options& o,
                    const std::optional<s3_upload>& s3);

}  // namespace chaperon::cli
