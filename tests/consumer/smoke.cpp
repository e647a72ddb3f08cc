// The consumer project's load test, run against the demo target (chaperon-demo) by run.sh:
// log in (the session cookie is kept), post and list messages, read the account page that needs
// the cookie, hit a missing page on purpose, log out. Every count is fixed by `rounds` and the
// number of sessions, so run.sh can check the exported rows exactly.
#include <chaperon/chaperon.hpp>

namespace {

using chaperon::http_options;
using chaperon::session;
using chaperon::task;

struct smoke_scenario : chaperon::scenario {
  task<> init(session& s) override {
    auto login = http_options{}.form({{"user", "consumer"}, {"password", "secret"}});
    co_await s.post("/login", std::move(login));
  }

  task<> run(session& s) override {
    for (int i = 0; i < s.config_as<int>("rounds", 1); ++i) {
      auto message = http_options{}.json({{"message", "from the consumer project"}});
      co_await s.post("/api/messages", std::move(message));
      co_await s.get("/api/messages");
      co_await s.get("/account");
    }
    co_await s.get("/status/404");
  }

  task<> teardown(session& s) override { co_await s.post("/logout"); }
};

const bool registered = chaperon::register_load_test([] {
  return chaperon::load_test{"Consumer.Smoke"}
      .default_config({{"base_url", "http://127.0.0.1:8080"}, {"rounds", 2}})
      .scenario(3, chaperon::scenario_of<smoke_scenario>("SmokeScenario"));
});

}  // namespace
