// Firehose: publishers PUT JSON messages into one channel (asynchronously, with a custom
// header), HTTP subscribers poll the channel's latest message, and WebSocket subscribers ask for
// everything since sequence 0 and then receive a stream of messages. Ten named subscriber
// sessions start with different delays; their metrics merge by name.
//
//   scripts/demo.sh Demo.Firehose
#include <chaperon/chaperon.hpp>

namespace {

using namespace std::chrono_literals;
using chaperon::http_options;
using chaperon::json;
using chaperon::session;
using chaperon::task;

constexpr const char* channel = "/channels/firehose";

task<> publish_one(session& s, int n) {
  co_await s.put(channel, http_options{}
                              .json_field("text", "message " + std::to_string(n))
                              .json_field("from", s.id())
                              .header("X-Firehose-Publisher", s.name()));
}

struct publisher : chaperon::scenario {
  task<> run(session& s) override {
    const int count = s.config_as<int>("messages", 200);
    for (int i = 0; i < count; ++i) {
      s.async("publish", publish_one, i);
      co_await s.delay(s.config_duration("publish_interval", 10ms));
    }
    co_await s.await_all("publish");
  }
};

struct http_subscriber : chaperon::scenario {
  task<> run(session& s) override {
    auto poll = [](session& ss) -> task<> {
      co_await ss.get(channel);
      co_await ss.delay(20ms);
    };
    co_await s.loop("poll", s.config_duration("duration", 3s), poll);
  }
};

struct ws_subscriber : chaperon::scenario {
  task<> run(session& s) override {
    auto connected = co_await s.ws_connect(channel);
    if (!connected.ok()) co_return;
    json since = {{"last_message_sequence", 0}};
    co_await s.ws_send_json(since);
    const int wanted = s.config_as<int>("receive", 100);
    for (int i = 0; i < wanted; ++i) {
      auto r = co_await s.ws_recv(chaperon::ws_options{}.decode_json());
      if (!r.ok()) break;
    }
    co_await s.ws_close();
  }
};

const bool registered = chaperon::register_load_test([] {
  chaperon::load_test t{"Demo.Firehose"};
  t.default_config({{"base_url", "http://127.0.0.1:8080"}, {"messages", 300}, {"receive", 100}})
      .scenario(2, chaperon::scenario_of<publisher>("Publisher"), "publisher", json::object())
      .scenario(5, chaperon::scenario_of<http_subscriber>("HttpSubscriber"), "http subscriber",
                json::object());
  for (int i = 0; i < 10; ++i) {
    t.scenario(1, chaperon::scenario_of<ws_subscriber>("WsSubscriber"),
               "ws subscriber " + std::to_string(i), {{"delay", 100 * i}});
  }
  return t;
});

}  // namespace
