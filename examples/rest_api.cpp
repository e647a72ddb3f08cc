// A REST-style load test against the bundled demo target (chaperon-demo):
// log in (the server sets a session cookie), post and list messages, read the account page that
// needs the cookie, and hit an error status on purpose so error metrics show up.
//
//   ./build/chaperon-demo --port 8080 &
//   ./build/chaperon run Demo.Rest
#include <chaperon/chaperon.hpp>

namespace {

using namespace std::chrono_literals;
using chaperon::http_options;
using chaperon::session;
using chaperon::task;

struct rest_scenario : chaperon::scenario {
  task<> init(session& s) override {
    s.assign("user", "user-" + s.id().substr(0, 8));
    co_return;
  }

  task<> run(session& s) override {
    // The server's session cookie is kept and sent back with the later requests.
    co_await s.post("/login", http_options{}
                                  .form_field("user", s.assigned("user").get<std::string>())
                                  .form_field("password", "secret"));

    const auto rounds = s.config_as<int>("rounds", 5);
    for (int i = 0; i < rounds; ++i) {
      auto posted = co_await s.post(
          "/api/messages",
          http_options{}.json_field("message", "hello " + std::to_string(i)).decode_json());
      if (posted.ok()) s.assign("last_message_id", posted.json["id"]);

      co_await s.get("/api/messages", http_options{}.param("limit", "10"));
      co_await s.get("/account");
      co_await s.delay(s.config_duration("think_time", 10ms));
    }
    // A missing page: recorded as "Error HTTP 404 get(...)", the session goes on.
    co_await s.get("/status/404");
  }

  task<> teardown(session& s) override {
    co_await s.post("/logout");
  }
};

// Reads the account page without logging in first: every request is an HTTP 401 error metric.
struct anonymous_scenario : chaperon::scenario {
  task<> run(session& s) override {
    for (int i = 0; i < s.config_as<int>("rounds", 5); ++i) co_await s.get("/account");
  }
};

const bool registered = chaperon::register_load_test([] {
  return chaperon::load_test{"Demo.Rest"}
      .default_config({{"base_url", "http://127.0.0.1:8080"}, {"rounds", 40}, {"think_time", "50ms"}})
      .scenario(40, chaperon::scenario_of<rest_scenario>("RestScenario"),
                {{"random_delay", 200}})
      .scenario(2, chaperon::scenario_of<anonymous_scenario>("AnonymousScenario"),
                "anonymous", {{"rounds", 5}});
});

}  // namespace
