// WebSocket ping-pong against the demo target's echo endpoint: connect, then send a message and
// wait for the same text to come back, again and again, each round trip traced as
// call(WsEcho.ping_pong); close at the end.
//
//   scripts/demo.sh Demo.WsEcho
#include <chaperon/chaperon.hpp>

namespace {

using namespace std::chrono_literals;
using chaperon::session;
using chaperon::task;

struct ws_echo : chaperon::scenario {
  task<> run(session& s) override {
    auto connected = co_await s.ws_connect("/ws/echo");
    if (!connected.ok()) {
      s.log_warn("no websocket: " + std::string(chaperon::to_string(connected.error)));
      co_return;
    }
    auto round = [](session& ss) -> task<> {
      auto n = ss.assigned("round", chaperon::json(0)).get<int>() + 1;
      ss.assign("round", n);
      std::string text = "ping " + std::to_string(n);
      co_await ss.ws_send(text);
      co_await ss.ws_await_recv(text);
    };
    co_await s.repeat_traced("ping_pong", s.config_as<std::size_t>("rounds", 100), round);
    co_await s.ws_close();
  }
};

const bool registered = chaperon::register_load_test([] {
  return chaperon::load_test{"Demo.WsEcho"}
      .default_config({{"base_url", "http://127.0.0.1:8080"}, {"rounds", 200}})
      .scenario(50, chaperon::scenario_of<ws_echo>("WsEcho"), {{"random_delay", 100}});
});

}  // namespace
