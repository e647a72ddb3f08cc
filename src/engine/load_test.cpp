#include "chaperon/load_test.hpp"

#include <map>
#include <mutex>
#include <stdexcept>

namespace chaperon {

std::string load_test_entry::scenario_name() const {
  std::string out;
  for (const auto& s : sequence) {
    if (!out.empty()) out += " -> ";
    out += s.name;
  }
  return out;
}

std::string load_test_entry::label() const {
  if (session_name.empty()) return scenario_name();
  return scenario_name() + " \"" + session_name + "\"";
}

json load_test::entry_config(const load_test_entry& entry, const json& runtime) const {
  return deep_merged(deep_merged(default_config_, entry.config), runtime);
}

load_test& load_test::default_config(json config) {
  default_config_ = std::move(config);
  return *this;
}

load_test& load_test::scenario(scenario_ref s, json config) {
  return scenario(1, std::move(s), std::move(config));
}

load_test& load_test::scenario(std::size_t count, scenario_ref s, json config) {
  return entry(load_test_entry{count, {std::move(s)}, {}, std::move(config), {}});
}

load_test& load_test::scenario(std::size_t count, scenario_ref s, std::string session_name,
                               json config) {
  return entry(
      load_test_entry{count, {std::move(s)}, std::move(session_name), std::move(config), {}});
}

load_test& load_test::sequence(std::size_t count, std::vector<scenario_ref> scenarios,
                               json config) {
  return entry(load_test_entry{count, std::move(scenarios), {}, std::move(config), {}});
}

load_test& load_test::entry(load_test_entry e) {
  if (e.sequence.empty()) {
    throw std::invalid_argument("load test " + name_ + ": an entry needs at least one scenario");
  }
  for (const auto& s : e.sequence) {
    if (!s.make) {
      throw std::invalid_argument("load test " + name_ + ": scenario '" + s.name +
                                  "' has no factory");
    }
  }
  if (e.config.is_null()) e.config = json::object();
  entries_.push_back(std::move(e));
  return *this;
}

load_test& load_test::threshold(std::string_view selector, std::string_view expression) {
  return threshold(parse_threshold(selector, expression));
}

load_test& load_test::threshold(chaperon::threshold t) {
  thresholds_.push_back(std::move(t));
  return *this;
}

load_test& load_test::with_model(load_model model) {
  if (entries_.empty()) {
    throw std::logic_error("load test " + name_ + ": with_model() needs an entry before it");
  }
  model.validate();
  entries_.back().model = std::move(model);
  return *this;
}

std::size_t load_test::session_count() const noexcept {
  std::size_t n = 0;
  for (const auto& e : entries_) {
    switch (e.model.kind) {
      case load_kind::at_once: n += e.count; break;
      case load_kind::ramping_sessions: n += static_cast<std::size_t>(e.model.peak()); break;
      case load_kind::arrival_rate: n += e.model.effective_max_active(); break;
    }
  }
  return n;
}

namespace {
struct registry {
  std::mutex mutex;
  std::map<std::string, load_test_factory> tests;
};
registry& the_registry() {
  static registry r;
  return r;
}
}  // namespace

bool register_load_test(std::string name, load_test_factory factory) {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  r.tests[std::move(name)] = std::move(factory);
  return true;
}

bool register_load_test(load_test_factory factory) {
  auto name = factory().name();
  return register_load_test(std::move(name), std::move(factory));
}

std::vector<std::string> registered_load_tests() {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, _] : r.tests) names.push_back(name);
  return names;
}

load_test find_load_test(const std::string& name) {
  load_test_factory factory;
  {
    auto& r = the_registry();
    std::lock_guard lock(r.mutex);
    auto it = r.tests.find(name);
    if (it != r.tests.end()) factory = it->second;
  }
  if (!factory) throw unknown_load_test(name, registered_load_tests());
  return factory();
}

namespace {
std::string unknown_message(const std::string& name, const std::vector<std::string>& known) {
  std::string list;
  for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
  return "no load test named '" + name + "' (known: " + (list.empty() ? "none" : list) + ")";
}
}  // namespace

unknown_load_test::unknown_load_test(std::string name, const std::vector<std::string>& known)
    : missing_key(unknown_message(name, known), name) {}

namespace {
class function_scenario final : public chaperon::scenario {
 public:
  function_scenario(scenario_fn run, scenario_fn init, scenario_fn teardown)
      : run_(std::move(run)), init_(std::move(init)), teardown_(std::move(teardown)) {}
  task<void> init(session& s) override {
    if (init_) co_await init_(s);
  }
  task<void> run(session& s) override { co_await run_(s); }
  task<void> teardown(session& s) override {
    if (teardown_) co_await teardown_(s);
  }

 private:
  scenario_fn run_, init_, teardown_;
};
}  // namespace

scenario_ref make_scenario(std::string name, scenario_fn run, scenario_fn init,
                           scenario_fn teardown) {
  if (!run) throw std::invalid_argument("scenario " + name + " needs a run function");
  return scenario_ref{std::move(name), [run, init, teardown] {
                        return std::unique_ptr<chaperon::scenario>(
                            new function_scenario(run, init, teardown));
                      }};
}

}  // namespace chaperon
