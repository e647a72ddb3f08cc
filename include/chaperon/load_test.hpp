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
// the run-time config (`--config`, `--config-file`). All sessions start together, each after its
// own initial `delay` / `random_delay`.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "chaperon/config.hpp"
#include "chaperon/scenario.hpp"

namespace chaperon {

struct load_test_entry {
  std::size_t count = 1;
  // One scenario, or a sequence: each scenario's assigned values become the next one's config.
  std::vector<scenario_ref> sequence;
  std::string session_name;  // "" -> "<Scenario> <session id>"
  json config = json::object();

  std::string scenario_name() const;  // "A" or "A -> B"
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

  const std::string& name() const noexcept { return name_; }
  const json& default_config() const noexcept { return default_config_; }
  const std::vector<load_test_entry>& entries() const noexcept { return entries_; }
  std::size_t session_count() const noexcept;

 private:
  std::string name_;
  json default_config_ = json::object();
  std::vector<load_test_entry> entries_;
};

// Registry of load tests by name (filled by static registration, read by the CLI).
using load_test_factory = std::function<load_test()>;
bool register_load_test(load_test_factory factory);
// Registers under an explicit name (the factory is called only when the test is run).
bool register_load_test(std::string name, load_test_factory factory);
std::vector<std::string> registered_load_tests();
// Throws std::invalid_argument naming the test and the known ones when it is not registered.
load_test find_load_test(const std::string& name);

}  // namespace chaperon
