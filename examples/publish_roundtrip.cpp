// Publish round trip: each session subscribes to a channel of its own over a WebSocket, then
// publishes messages with HTTP PUT and waits for each to arrive on the WebSocket. The whole round
// trip (PUT, then the message pushed back) is traced as one call(PublishRoundtrip.roundtrip).
//
//   scripts/demo.sh Demo.PublishRoundtrip
#include <chaperon/chaperon.hpp>

namespace {

using chaperon::http_options;
using chaperon::session;
using chaperon::task;

struct publish_roundtrip : chaperon::scenario {
  task<> init(session& s) override {
    s.assign("channel", "/channels/roundtrip-" + s.id().substr(0, 8));
    co_return;
  }

  task<> run(session& s) override {
    auto channel = s.assigned("channel").get<std::string>();
    // One metric for all the sessions' channels instead of one per channel.
    auto connected =
        co_await s.ws_connect(channel, chaperon::ws_options{}.metrics_url("/channels/:id"));
    if (!connected.ok()) co_return;
    auto roundtrip = [channel](session& ss) -> task<> {
      auto published = co_await ss.put(
          channel, http_options{}.body("hello", "text/plain").metrics_url("/channels/:id"));
      if (!published.ok()) co_return;
      co_await ss.ws_recv();
    };
    for (std::size_t i = 0; i < s.config_as<std::size_t>("rounds", 50); ++i) {
      co_await s.call_traced("roundtrip", roundtrip);
    }
    co_await s.ws_close();
  }
};

const bool registered = chaperon::register_load_test([] {
  return chaperon::load_test{"Demo.PublishRoundtrip"}
      .default_config({{"base_url", "http://127.0.0.1:8080"}, {"rounds", 100}})
      .scenario(20, chaperon::scenario_of<publish_roundtrip>("PublishRoundtrip"));
});

}  // namespace
