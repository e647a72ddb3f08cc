// A custom action: "expect_text" GETs a page and fails unless the body contains a text. Custom
// actions run through the same path as built-in ones: measured under metric_name(), a failed
// result recorded as "Error <error> <metric_name()>", skipped once the session is stopped.
//
//   ./build/chaperon-demo --port 8080 &
//   ./build/chaperon run Demo.CustomAction
#include <chaperon/action.hpp>
#include <chaperon/chaperon.hpp>

namespace {

using chaperon::session;
using chaperon::task;

class expect_text final : public chaperon::action {
 public:
  expect_text(std::string path, std::string text) : path_(std::move(path)), text_(std::move(text)) {}

  task<chaperon::action_result> run(session& s) override {
    auto page = co_await s.get(path_);
    if (!page.ok()) co_return chaperon::action_result{false, "unavailable", page.status};
    bool found = page.body.find(text_) != std::string::npos;
    co_return chaperon::action_result{found, found ? "" : "mismatch", page.body.size()};
  }

  std::string metric_name() const override { return "expect_text(" + path_ + ")"; }

 private:
  std::string path_;
  std::string text_;
};

struct custom_action_scenario : chaperon::scenario {
  task<> run(session& s) override {
    expect_text home("/", "chaperon demo target");
    expect_text wrong("/", "no such text");  // recorded as "Error mismatch expect_text(/)"
    for (int i = 0; i < s.config_as<int>("rounds", 10); ++i) {
      co_await s.run_action(home);
      co_await s.run_action(wrong);
      co_await s.delay(chaperon::milliseconds(10));
    }
  }
};

const bool registered = chaperon::register_load_test([] {
  return chaperon::load_test{"Demo.CustomAction"}
      .default_config({{"base_url", "http://127.0.0.1:8080"}})
      .scenario(5, chaperon::scenario_of<custom_action_scenario>("CustomAction"));
});

}  // namespace
