#pragma once
// Load tests: named sets of scenario entries with a default config, registered by name so the
// CLI can run them (`chaperon run <name>`).
//
//   static const bool registered = chaperon::register_load_test([] {
//     return chaperon::load_test{"Demo.Rest"}
//         .default_config({{"base_url", "http://127.0.0.1:8080"}})
//         .scenario(20, chaperon::scenario_of<rest_scenario>("RestScenario"), {{"delay", 50}});
//   });
//
// Each entry's sessions get default_config deep-merged with the entry's config, deep-merged with
// the run-time config (`--config`, `--config-file`). By default all of an entry's sessions start
// together, each after its own initial `delay` / `random_delay`; an entry's load_model can ramp
// them in stages or start iterations at a target rate instead:
//
//   .scenario(scenario_of<browse>("Browse"))
//   .with_model(chaperon::load_model::constant_rate(2000, std::chrono::seconds(60)))

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chaperon/config.hpp"
#include "chaperon/scenario.hpp"
#include "chaperon/thresholds.hpp"

namespace chaperon {

// One stage of a ramp: over `duration`, the target moves linearly from the previous stage's
// target (or the model's `start`) to `target`. A target is a number of concurrent sessions
// (ramping_sessions) or arrivals per second (arrival_rate).
struct load_stage {
  std::chrono::microseconds duration{0};
  double target = 0;
  bool operator==(const load_stage&) const = default;
};

// How an entry's work is started.
//
//  - at_once (closed): the entry's `count` sessions start together and run the scenario once.
//  - ramping_sessions (closed): the number of active sessions follows the stages; a session that
//    finishes is replaced while the target stands, sessions above a falling target are stopped
//    (newest first) and count as completed; at the end of the last stage the rest are stopped.
//    Each session runs the whole scenario (init, run, teardown) once.
//  - arrival_rate (open): iterations of the scenario start at the rate of the stages, whether or
//    not earlier ones have finished. Each iteration runs the scenario's run() on an idle session
//    of a pool (created on demand: init once, teardown once at the end, keep-alive connections
//    and cookies kept between iterations). At most `max_active` sessions exist; an arrival that
//    finds none idle and the pool full is dropped and counted. Every iteration is recorded as
//    iteration(<Scenario>), measured both from its actual and from its intended start.
//    Initial `delay` / `random_delay` do not apply; a sequence's scenarios run in order per
//    iteration (their init and teardown once per pooled session).
enum class load_kind { at_once, ramping_sessions, arrival_rate };

struct load_model {
  load_kind kind = load_kind::at_once;
  double start = 0;  // the target before the first stage
  std::vector<load_stage> stages;
  // arrival_rate: the cap on sessions of the pool over all engine threads. 0: two seconds of
  // arrivals at the peak rate, at least 100 and at most 10000.
  std::size_t max_active = 0;

  static load_model at_once() { return {}; }
  static load_model ramping_sessions(std::vector<load_stage> stages, double start = 0);
  static load_model constant_rate(double per_second, std::chrono::microseconds duration,
                                  std::size_t max_active = 0);
  static load_model ramping_rate(std::vector<load_stage> stages, double start = 0,
                                 std::size_t max_active = 0);

  // The sum of the stages' durations.
  std::chrono::microseconds duration() const;
  // The largest target of start and stages.
  double peak() const;
  // max_active, or its default for this model.
  std::size_t effective_max_active() const;
  // Throws std::invalid_argument naming the problem (negative or non-finite targets, stages
  // without duration, rate stages that never start anything, fractional session targets).
  void validate() const;

  bool operator==(const load_model&) const = default;
};

// "2000/s", "2000", "120/m", "1.5k/s" -> arrivals per second; nullopt when malformed or negative.
std::optional<double> parse_rate(std::string_view text);
struct parsed_stages {
  std::vector<load_stage> stages;
  bool rates = false;  // targets are arrivals per second
};
// "30s:100,60s:100,30s:0" -> session stages; "10s:500/s,20s:2000/s" -> rate stages (every
// target must then carry a rate unit). Durations as config durations ("500ms", "2s", "1m").
// Throws std::invalid_argument naming the bad stage.
parsed_stages parse_stages(std::string_view text);

struct load_test_entry {
  std::size_t count = 1;  // sessions of the at_once model
  // One scenario, or a sequence: each scenario's assigned values become the next one's config.
  std::vector<scenario_ref> sequence;
  std::string session_name;  // "" -> "<Scenario> <session id>"
  json config = json::object();
  load_model model;

  std::string scenario_name() const;  // "A" or "A -> B"
  // For messages: the scenario name, and the session name when there is one: A "name".
  std::string label() const;
};

class load_test {
 public:
  load_test() = default;
  explicit load_test(std::string name) : name_(std::move(name)) {}

  load_test& default_config(json config);
  load_test& scenario(scenario_ref s, json config = json::object());
  load_test& scenario(std::size_t count, scenario_ref s, json config = json::object());
  load_test& scenario(std::size_t count, scenario_ref s, std::string session_name, json config);
  load_test& sequence(std::size_t count, std::vector<scenario_ref> scenarios,
                      json config = json::object());
  load_test& entry(load_test_entry e);
  // Sets the load model of the entry added last; throws std::logic_error when there is none and
  // std::invalid_argument when the model is invalid.
  load_test& with_model(load_model model);
  // A pass/fail criterion on the run's results (see thresholds.hpp), e.g.
  //   .threshold("get(http://127.0.0.1:8080/api)", "p(99) < 200ms")
  //   .threshold("", "errors < 1%")          (all HTTP requests together)
  // A failed threshold makes `chaperon run` exit with 99. Throws threshold_error naming the
  // expression and the column of a malformed one.
  load_test& threshold(std::string_view selector, std::string_view expression);
  load_test& threshold(chaperon::threshold t);

  const std::string& name() const noexcept { return name_; }
  const json& default_config() const noexcept { return default_config_; }
  const std::vector<load_test_entry>& entries() const noexcept { return entries_; }
  const std::vector<chaperon::threshold>& thresholds() const noexcept { return thresholds_; }
  // The config of an entry's sessions: default_config deep-merged with the entry's config,
  // deep-merged with the run-time config.
  json entry_config(const load_test_entry& entry, const json& runtime) const;
  // Sessions of the at_once entries plus the peak session target of ramping entries (rate
  // entries count their max_active): an upper bound on concurrent sessions.
  std::size_t session_count() const noexcept;

 private:
  std::string name_;
  json default_config_ = json::object();
  std::vector<load_test_entry> entries_;
  std::vector<chaperon::threshold> thresholds_;
};

// Registry of load tests by name (filled by static registration, read by the CLI).
using load_test_factory = std::function<load_test()>;
bool register_load_test(load_test_factory factory);
// Registers under an explicit name (the factory is called only when the test is run).
bool register_load_test(std::string name, load_test_factory factory);
std::vector<std::string> registered_load_tests();
// Thrown by find_load_test for a name that is not registered; the message names it and the
// registered ones.
class unknown_load_test : public missing_key {
 public:
  unknown_load_test(std::string name, const std::vector<std::string>& known);
};
// Throws unknown_load_test when no load test is registered under `name`.
load_test find_load_test(const std::string& name);

}  // namespace chaperon
