#pragma once
// What a node needs to run its share of a scheduled load test, as JSON on the wire: the load
// test's name and the run options that can cross a process boundary (no callbacks, no stop
// token). Every node builds the same run_options from it; only the share differs.

#include <string>
#include <vector>

#include "chaperon/config.hpp"
#include "chaperon/run.hpp"

namespace chaperon::cluster {

struct run_spec {
  std::string load_test;
  json config = json::object();           // run-time config, merged over each entry's
  std::size_t threads = 0;                // engine threads per node; 0: one per core
  bool per_session = false;
  std::vector<std::string> metrics;       // metric types to record; empty: all
  std::vector<std::string> thresholds;    // as on the command line: [metric:]expression[,...]
  std::string interval;                   // "" or a duration ("1s")
  // The load model replacing every entry's (as the command line's --rate, --duration,
  // --stages, --max-active take it; a rate is the whole cluster's, split by shares) and the
  // at-once session counts (--sessions, --scale; 0: the test's own).
  std::string rate;
  std::string duration;
  std::string stages;
  std::size_t max_active = 0;
  std::size_t sessions = 0;
  double scale = 0;
  std::string tag;  // names the test's result files and shows in its report and status
  std::string format;  // the master's export format for this test; "": its --format

  json to_json() const;
  // Throws chaperon::error naming the field that is missing or malformed.
  static run_spec from_json(const json& j);
  // The run options of share `part`; throws for a malformed threshold or interval.
  run_options options(share part) const;
};

}  // namespace chaperon::cluster
