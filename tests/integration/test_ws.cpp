// WebSocket sessions against two unrelated servers with the same endpoints: the demo target
// (Beast) and tests/peers/ws_server.js (the npm `ws` package). Every test runs a real load test
// in-process and checks what the session saw, the metrics it recorded and, where the server
// counts, the server's own view.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <chaperon/chaperon.hpp>

#include "integration/process_fixture.hpp"
#include "integration/test_control_support.hpp"

namespace {

using namespace chaperon::itest::control::prelude;
using chaperon::run_results;
using chaperon::ws_message;
using chaperon::ws_options;
using chaperon::ws_predicate;
using chaperon::ws_result;
using chaperon::itest::demo_server;
using chaperon::itest::ws_peer_server;

// "Promptly": far below the 5 s receive timeout, with room for a loaded 2-core machine.
constexpr std::int64_t prompt_us = 1'000 * ms_us;

std::string hex(const std::string& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

// Binary data goes as hex: a JSON string must stay valid UTF-8 to be printed.
json to_json(const ws_result& r) {
  return {{"error", to_string(r.error)},
          {"binary", r.message.binary},
          {"data", r.message.binary ? hex(r.message.data) : r.message.data},
          {"json", r.message.json},
          {"status", r.status},
          {"close_code", r.close_code},
          {"url", r.url}};
}

json timed(const ws_result& r, session::clock::time_point start) {
  auto j = to_json(r);
  j["elapsed_us"] = us_since(start);
  return j;
}

// UTF-8 beyond ASCII, which a text frame must carry unchanged.
constexpr const char* accented_text = "caf\xc3\xa9 ol\xc3\xa9";

// Bytes of every value, including a zero and ones that are invalid as UTF-8.
std::string all_bytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  return bytes;
}

// ---- the servers --------------------------------------------------------------------------------

enum class ws_peer { demo, npm_ws };

class WsSession : public ::testing::TestWithParam<ws_peer> {
 protected:
  void SetUp() override {
    if (GetParam() == ws_peer::demo) {
      demo_ = std::make_unique<demo_server>();
      port_ = demo_->port();
      return;
    }
    if (!ws_peer_server::available()) {
      const auto why = ws_peer_server::unavailable_reason();
      if (std::getenv("CI") != nullptr) FAIL() << "CI must run the npm ws peer: " << why;
      GTEST_SKIP() << "the npm ws peer cannot run: " << why;
    }
    npm_ = std::make_unique<ws_peer_server>();
    port_ = npm_->port();
  }

  bool is_demo() const { return GetParam() == ws_peer::demo; }
  std::string http_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string ws_url(const std::string& path) const {
    return "ws://127.0.0.1:" + std::to_string(port_) + path;
  }
  json stats() const { return demo_ ? demo_->stats() : npm_->stats(); }
  // base_url, and a receive timeout that fails a broken test in seconds rather than hanging it.
  json config(json extra = json::object()) const {
    json c{{"base_url", http_url()}, {"ws_timeout", "5s"}};
    c.update(extra);
    return c;
  }
  run_results run(const char* name, chaperon::scenario_fn fn, json extra = json::object()) {
    return run_scenario_test(chaperon::make_scenario(name, std::move(fn)), config(std::move(extra)));
  }

  std::uint16_t port_ = 0;

 private:
  std::unique_ptr<demo_server> demo_;
  std::unique_ptr<ws_peer_server> npm_;
};

std::string peer_name(const ::testing::TestParamInfo<ws_peer>& info) {
  return info.param == ws_peer::demo ? "demo" : "npm_ws";
}

void PrintTo(ws_peer peer, std::ostream* os) {
  *os << (peer == ws_peer::demo ? "chaperon-demo" : "tests/peers/ws_server.js");
}

INSTANTIATE_TEST_SUITE_P(Peers, WsSession, ::testing::Values(ws_peer::demo, ws_peer::npm_ws),
                         peer_name);

// ---- round trips --------------------------------------------------------------------------------

task<> round_trips(session& s) {
  auto connected = co_await s.ws_connect("/ws/echo");
  seen().add("connect", to_json(connected));
  seen().add("connected", s.ws_connected());

  co_await s.ws_send(accented_text);
  seen().add("text", to_json(co_await s.ws_recv()));
  co_await s.ws_send("");
  seen().add("empty", to_json(co_await s.ws_recv()));

  const std::string bytes = all_bytes();
  co_await s.ws_send_binary(bytes);
  auto binary = co_await s.ws_recv();
  seen().add("binary", {{"binary", binary.message.binary}, {"same", binary.message.data == bytes}});

  // Longer than 65535 bytes: the 64-bit length form, and more than one TCP read.
  std::string large(70'000, 'x');
  for (std::size_t i = 0; i < large.size(); i += 997) large[i] = static_cast<char>('a' + i % 26);
  co_await s.ws_send_binary(large);
  auto big = co_await s.ws_recv();
  seen().add("large", {{"size", big.message.data.size()}, {"same", big.message.data == large}});

  const json value{{"a", 1}, {"list", {1, 2, 3}}, {"s", "x\"y"}};
  co_await s.ws_send_json(value);
  auto decode = ws_options{}.decode_json();
  seen().add("json", to_json(co_await s.ws_recv(std::move(decode))));

  co_await s.ws_close();
  seen().add("connected_after_close", s.ws_connected());
}

TEST_P(WsSession, TextBinaryAndJsonRoundTrips) {
  auto r = run("RoundTrips", &round_trips);
  const auto url = ws_url("/ws/echo");
  auto connect = seen().only("connect");
  EXPECT_EQ(connect["error"], "");
  EXPECT_EQ(connect["status"], 101);
  EXPECT_EQ(connect["url"], url) << "http base_url becomes ws";
  EXPECT_EQ(seen().only("connected"), true);

  auto text = seen().only("text");
  EXPECT_EQ(text["error"], "");
  EXPECT_EQ(text["binary"], false);
  EXPECT_EQ(text["data"], accented_text);
  auto empty = seen().only("empty");
  EXPECT_EQ(empty["error"], "");
  EXPECT_EQ(empty["data"], "");
  EXPECT_EQ(seen().only("binary"), (json{{"binary", true}, {"same", true}}));
  EXPECT_EQ(seen().only("large"), (json{{"size", 70'000}, {"same", true}}));

  auto decoded = seen().only("json");
  EXPECT_EQ(decoded["error"], "");
  EXPECT_EQ(decoded["binary"], false);
  EXPECT_EQ(decoded["json"], (json{{"a", 1}, {"list", {1, 2, 3}}, {"s", "x\"y"}}));
  EXPECT_EQ(seen().only("connected_after_close"), false);

  EXPECT_EQ(count_of(r, key("ws_connect", url)), 1u);
  EXPECT_EQ(count_of(r, key("ws_send", url)), 5u);
  EXPECT_EQ(count_of(r, key("ws_recv", url)), 5u);
  EXPECT_EQ(r.error_count(), 0u);
  EXPECT_EQ(r.sessions.completed, 1u);
}

constexpr int ordered_count = 100;

task<> send_all_then_receive(session& s) {
  co_await s.ws_connect("/ws/echo");
  for (int i = 0; i < ordered_count; ++i) co_await s.ws_send("m" + std::to_string(i));
  std::vector<std::string> got;
  for (int i = 0; i < ordered_count; ++i) {
    auto r = co_await s.ws_recv();
    got.push_back(r.ok() ? r.message.data : "error " + std::string(to_string(r.error)));
  }
  seen().add("got", got);
}

TEST_P(WsSession, HundredMessagesArriveInOrder) {
  auto r = run("Ordering", &send_all_then_receive);
  std::vector<std::string> expected;
  for (int i = 0; i < ordered_count; ++i) expected.push_back("m" + std::to_string(i));
  EXPECT_EQ(seen().only("got"), json(expected));
  EXPECT_EQ(count_of(r, key("ws_send", ws_url("/ws/echo"))), 100u);
  EXPECT_EQ(count_of(r, key("ws_recv")), 100u);
  EXPECT_EQ(r.error_count(), 0u);
  EXPECT_EQ(stats()["ws_messages_in"], 100) << "the server's own count";
}

task<> two_named_connections(session& s) {
  auto to_a = ws_options{}.connection("a");
  auto to_b = ws_options{}.connection("b");
  seen().add("connect_a", to_json(co_await s.ws_connect("/ws/echo", to_a)));
  seen().add("connect_b", to_json(co_await s.ws_connect("/ws/headers", to_b)));
  seen().add("open", {s.ws_connected("a"), s.ws_connected("b"), s.ws_connected()});
  // /ws/headers speaks first; it waits on b while a is used.
  co_await s.ws_send("to a", to_a);
  co_await s.ws_send("to b", to_b);
  seen().add("a", to_json(co_await s.ws_recv(to_a)));
  auto headers = co_await s.ws_recv(to_b);
  seen().add("b_first_is_headers", headers.message.data.find("\"headers\"") != std::string::npos);
  seen().add("b", to_json(co_await s.ws_recv(to_b)));
  co_await s.ws_close(to_a);
  seen().add("open_after", {s.ws_connected("a"), s.ws_connected("b")});
  co_await s.ws_close(to_b);
}

TEST_P(WsSession, NamedConnectionsToDifferentEndpoints) {
  auto r = run("Named", &two_named_connections);
  EXPECT_EQ(seen().only("connect_a")["url"], ws_url("/ws/echo"));
  EXPECT_EQ(seen().only("connect_b")["url"], ws_url("/ws/headers"));
  EXPECT_EQ(seen().only("open"), (json{true, true, false})) << "the default one was never opened";
  EXPECT_EQ(seen().only("a")["data"], "to a");
  EXPECT_EQ(seen().only("b_first_is_headers"), true);
  EXPECT_EQ(seen().only("b")["data"], "to b");
  EXPECT_EQ(seen().only("open_after"), (json{false, true}));
  EXPECT_EQ(count_of(r, key("ws_connect", ws_url("/ws/echo"))), 1u);
  EXPECT_EQ(count_of(r, key("ws_connect", ws_url("/ws/headers"))), 1u);
  EXPECT_EQ(count_of(r, key("ws_recv", ws_url("/ws/echo"))), 1u);
  EXPECT_EQ(count_of(r, key("ws_recv", ws_url("/ws/headers"))), 2u);
  EXPECT_EQ(count_of(r, key("ws_recv")), 3u);
  EXPECT_EQ(r.error_count(), 0u);
}

// ---- ws_await_recv ------------------------------------------------------------------------------

task<> await_by_value(session& s) {
  co_await s.ws_connect("/ws/echo");
  const std::vector<std::string> words{"one", "two", "three"};
  for (const auto& word : words) co_await s.ws_send(word);
  seen().add("two", to_json(co_await s.ws_await_recv("two")));
  seen().add("after_two", to_json(co_await s.ws_recv()));

  for (int n = 1; n <= 4; ++n) {
    const json value{{"n", n}};
    co_await s.ws_send_json(value);
  }
  const json expected{{"n", 2}};
  auto by_json = co_await s.ws_await_recv_json(expected);
  seen().add("json", {{"error", to_string(by_json.error)}, {"data", json::parse(by_json.message.data)}});
  ws_predicate is_four = [](const ws_message& m) {
    return json::parse(m.data, nullptr, false) == json{{"n", 4}};
  };
  auto by_predicate = co_await s.ws_await_recv(std::move(is_four));
  seen().add("predicate",
             {{"error", to_string(by_predicate.error)}, {"data", json::parse(by_predicate.message.data)}});

  co_await s.ws_send("x");
  auto short_wait = ws_options{}.timeout(300ms);
  const auto start = session::clock::now();
  seen().add("never", timed(co_await s.ws_await_recv("never", std::move(short_wait)), start));
}

TEST_P(WsSession, AwaitRecvByValueJsonAndPredicate) {
  auto r = run("Await", &await_by_value);
  auto two = seen().only("two");
  EXPECT_EQ(two["error"], "");
  EXPECT_EQ(two["data"], "two");
  EXPECT_EQ(seen().only("after_two")["data"], "three") << "the await consumed one and two";
  EXPECT_EQ(seen().only("json"), (json{{"error", ""}, {"data", {{"n", 2}}}}));
  EXPECT_EQ(seen().only("predicate"), (json{{"error", ""}, {"data", {{"n", 4}}}}))
      << "the predicate skipped n=3";
  auto never = seen().only("never");
  EXPECT_EQ(never["error"], "timeout");
  EXPECT_GE(never["elapsed_us"].get<std::int64_t>(), 299 * ms_us);
  EXPECT_LT(never["elapsed_us"].get<std::int64_t>(), 300 * ms_us + prompt_us)
      << "one timeout for the whole wait";
  EXPECT_EQ(count_of(r, key("ws_recv")), 8u) << "every message received is recorded";
  EXPECT_EQ(r.error_count(), 1u) << "only the await that timed out";
}

// ---- failures -----------------------------------------------------------------------------------

task<> silent_timeouts(session& s) {
  co_await s.ws_connect("/ws/silent");
  auto short_wait = ws_options{}.timeout(300ms);
  auto start = session::clock::now();
  seen().add("explicit", timed(co_await s.ws_recv(std::move(short_wait)), start));
  start = session::clock::now();
  seen().add("from_config", timed(co_await s.ws_recv(), start));
  seen().add("still_open", s.ws_connected());
  co_await s.ws_close();
}

TEST_P(WsSession, RecvTimeoutIsAnErrorWithinTheTimeout) {
  auto r = run("Silent", &silent_timeouts, {{"ws_timeout", "200ms"}});
  const auto url = ws_url("/ws/silent");
  auto explicit_wait = seen().only("explicit");
  EXPECT_EQ(explicit_wait["error"], "timeout");
  EXPECT_GE(explicit_wait["elapsed_us"].get<std::int64_t>(), 299 * ms_us);
  EXPECT_LT(explicit_wait["elapsed_us"].get<std::int64_t>(), 300 * ms_us + prompt_us);
  auto from_config = seen().only("from_config");
  EXPECT_EQ(from_config["error"], "timeout");
  EXPECT_GE(from_config["elapsed_us"].get<std::int64_t>(), 199 * ms_us) << "config ws_timeout";
  EXPECT_LT(from_config["elapsed_us"].get<std::int64_t>(), 200 * ms_us + prompt_us);
  EXPECT_EQ(seen().only("still_open"), true) << "a timeout does not close the connection";
  const auto timeout_key = key("ws_recv", url, "timeout");
  EXPECT_EQ(timeout_key.name(), "Error timeout ws_recv(" + url + ")");
  EXPECT_EQ(count_of(r, timeout_key), 2u);
  EXPECT_EQ(r.sessions.completed, 1u);
}

task<> receive_past_close(session& s) {
  co_await s.ws_connect("/ws/close");
  seen().add("first", to_json(co_await s.ws_recv()));
  auto start = session::clock::now();
  seen().add("second", timed(co_await s.ws_recv(), start));
  seen().add("open", s.ws_connected());
  start = session::clock::now();
  seen().add("third", timed(co_await s.ws_recv(), start));
}

TEST_P(WsSession, ServerCloseFailsTheNextRecvPromptly) {
  auto r = run("Close", &receive_past_close);
  auto first = seen().only("first");
  EXPECT_EQ(first["error"], "") << first;
  EXPECT_EQ(first["data"], "bye") << first;
  auto second = seen().only("second");
  EXPECT_EQ(second["error"], "closed") << second;
  EXPECT_EQ(second["close_code"], 1000) << second;
  EXPECT_LT(second["elapsed_us"].get<std::int64_t>(), prompt_us);
  EXPECT_EQ(seen().only("open"), false);
  auto third = seen().only("third");
  EXPECT_NE(third["error"], "") << "a dead connection keeps failing";
  EXPECT_NE(third["error"], "timeout") << third;
  EXPECT_LT(third["elapsed_us"].get<std::int64_t>(), prompt_us) << "and never hangs";
  const auto third_closed = third["error"] == "closed" ? 1u : 0u;
  EXPECT_EQ(count_of(r, key("ws_recv", ws_url("/ws/close"), "closed")), 1u + third_closed);
  EXPECT_EQ(r.sessions.completed, 1u);
}

task<> receive_past_drop(session& s) {
  co_await s.ws_connect("/ws/drop");
  co_await s.ws_send("last words");
  seen().add("echo", to_json(co_await s.ws_recv()));
  const auto start = session::clock::now();
  seen().add("after_drop", timed(co_await s.ws_recv(), start));
  seen().add("open", s.ws_connected());
}

TEST_P(WsSession, DroppedConnectionFailsTheNextRecvPromptly) {
  auto r = run("Drop", &receive_past_drop);
  EXPECT_EQ(seen().only("echo")["data"], "last words");
  auto after = seen().only("after_drop");
  const auto error = after["error"].get<std::string>();
  EXPECT_TRUE(error == "closed" || error == "reset") << after;
  EXPECT_LT(after["elapsed_us"].get<std::int64_t>(), prompt_us);
  EXPECT_EQ(seen().only("open"), false);
  EXPECT_EQ(count_of(r, key("ws_recv", ws_url("/ws/drop"), error)), 1u);
  EXPECT_EQ(r.sessions.completed, 1u);
}

task<> connect_nowhere_then_echo(session& s) {
  const auto nowhere = s.config_as<std::string>("nowhere");
  seen().add("refused", to_json(co_await s.ws_connect(nowhere)));
  seen().add("open", s.ws_connected());
  seen().add("send", to_json(co_await s.ws_send("into the void")));
  co_await s.ws_connect("/ws/echo");
  co_await s.ws_send("still here");
  seen().add("echo", to_json(co_await s.ws_recv()));
}

TEST_P(WsSession, RefusedConnectIsAnErrorAndTheSessionGoesOn) {
  const auto nowhere =
      "ws://127.0.0.1:" + std::to_string(chaperon::itest::free_tcp_port()) + "/ws/echo";
  auto r = run("Refused", &connect_nowhere_then_echo, {{"nowhere", nowhere}});
  auto refused = seen().only("refused");
  EXPECT_EQ(refused["error"], "connect");
  EXPECT_EQ(refused["status"], 0);
  EXPECT_EQ(refused["url"], nowhere) << "an absolute ws:// URL is used as is";
  EXPECT_EQ(seen().only("open"), false);
  // Either the connection's own failure or that it is not open; never a hang or a crash.
  const auto send_error = seen().only("send")["error"].get<std::string>();
  EXPECT_TRUE(send_error == "connect" || send_error == "not_connected") << send_error;
  EXPECT_EQ(seen().only("echo")["data"], "still here");
  EXPECT_EQ(count_of(r, key("ws_connect", nowhere, "connect")), 1u);
  EXPECT_EQ(count_of(r, key("ws_connect", ws_url("/ws/echo"))), 1u);
  EXPECT_EQ(r.sessions.completed, 1u);
}

task<> connect_rejected(session& s) {
  seen().add("reject", to_json(co_await s.ws_connect("/ws/reject")));
  seen().add("unknown", to_json(co_await s.ws_connect("/ws/no-such-endpoint")));
  seen().add("open", s.ws_connected());
}

TEST_P(WsSession, RejectedUpgradeReportsTheStatus) {
  auto r = run("Rejected", &connect_rejected);
  for (const char* topic : {"reject", "unknown"}) {
    auto j = seen().only(topic);
    EXPECT_EQ(j["error"], "rejected") << topic;
    EXPECT_EQ(j["status"], 403) << topic;
  }
  EXPECT_EQ(seen().only("open"), false);
  EXPECT_EQ(count_of(r, key("ws_connect", ws_url("/ws/reject"), "rejected")), 1u);
  EXPECT_EQ(count_of(r, key("ws_connect", ws_url("/ws/no-such-endpoint"), "rejected")), 1u);
  EXPECT_EQ(r.sessions.completed, 1u);
}

// ---- protocol details ---------------------------------------------------------------------------

task<> ping_pong(session& s) {
  co_await s.ws_connect("/ws/ping");
  seen().add("pong", to_json(co_await s.ws_recv()));
  co_await s.ws_send("after ping");
  seen().add("echo", to_json(co_await s.ws_recv()));
}

TEST_P(WsSession, PingIsAnsweredWithPong) {
  auto r = run("Ping", &ping_pong);
  auto pong = seen().only("pong");
  EXPECT_EQ(pong["error"], "");
  EXPECT_EQ(pong["data"], "pong chaperon") << "the server saw a pong with its payload";
  EXPECT_EQ(seen().only("echo")["data"], "after ping");
  EXPECT_EQ(r.error_count(), 0u);
}

task<> upgrade_headers(session& s) {
  if (s.config_as<bool>("set_cookie", false)) co_await s.get("/cookies/set?flavour=oat");
  auto opts = ws_options{}.header("X-Test", "1");
  seen().add("connect", to_json(co_await s.ws_connect("/ws/headers", std::move(opts))));
  auto decode = ws_options{}.decode_json();
  seen().add("headers", to_json(co_await s.ws_recv(std::move(decode))));
}

TEST_P(WsSession, UpgradeCarriesAuthHeadersAndCookies) {
  json extra{{"basic_auth", {{"user", "ann"}, {"pass", "secret"}}}, {"set_cookie", is_demo()}};
  auto r = run("Headers", &upgrade_headers, extra);
  EXPECT_EQ(seen().only("connect")["error"], "");
  auto reply = seen().only("headers");
  ASSERT_EQ(reply["error"], "") << reply;
  const auto& seen_json = reply["json"];
  ASSERT_TRUE(seen_json.contains("headers")) << reply;
  const auto& h = seen_json["headers"];
  EXPECT_EQ(h.value("authorization", ""), "Basic YW5uOnNlY3JldA==") << h;
  EXPECT_EQ(h.value("x-test", ""), "1") << h;
  EXPECT_EQ(h.value("sec-websocket-version", ""), "13") << h;
  EXPECT_EQ(h.value("host", ""), "127.0.0.1:" + std::to_string(port_)) << h;
  EXPECT_EQ(h.value("sec-websocket-key", "").size(), 24u) << "base64 of 16 bytes";
  std::string upgrade = h.value("upgrade", "");
  for (auto& c : upgrade) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(upgrade, "websocket");
  EXPECT_EQ(seen_json["cookie"], is_demo() ? "flavour=oat" : "") << "the session's cookies";
  EXPECT_EQ(r.error_count(), 0u);
}

// ---- channels -----------------------------------------------------------------------------------

task<> put_message(session& s, std::string path, std::string text) {
  auto opts = http_options{}.body(text, "text/plain").decode_json();
  auto put = co_await s.put(path, std::move(opts));
  seen().add("put", {{"status", put.status}, {"json", put.json}});
}

task<> receive_channel(session& s, int count) {
  for (int i = 0; i < count; ++i) {
    auto decode = ws_options{}.decode_json();
    seen().add("message", to_json(co_await s.ws_recv(std::move(decode)))["json"]);
  }
}

task<> subscribe_then_publish(session& s) {
  const std::string path = "/channels/t";
  seen().add("connect", to_json(co_await s.ws_connect(path)));
  for (int i = 1; i <= 3; ++i) co_await put_message(s, path, "message " + std::to_string(i));
  co_await receive_channel(s, 3);
  auto decode = http_options{}.decode_json();
  auto latest = co_await s.get(path, std::move(decode));
  seen().add("latest", {{"status", latest.status}, {"json", latest.json}});
}

json channel_message(int n) { return {{"sequence", n}, {"message", "message " + std::to_string(n)}}; }

TEST_P(WsSession, ChannelDeliversPublishedMessagesInOrder) {
  auto r = run("Subscribe", &subscribe_then_publish);
  EXPECT_EQ(seen().only("connect")["error"], "");
  auto puts = seen().take("put");
  ASSERT_EQ(puts.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(puts[i], (json{{"status", 200}, {"json", {{"sequence", i + 1}}}}));
  }
  EXPECT_EQ(seen().take("message"),
            (std::vector<json>{channel_message(1), channel_message(2), channel_message(3)}));
  EXPECT_EQ(seen().only("latest"), (json{{"status", 200}, {"json", channel_message(3)}}));
  EXPECT_EQ(count_of(r, key("put", http_url() + "/channels/t")), 3u);
  EXPECT_EQ(count_of(r, key("ws_recv", ws_url("/channels/t"))), 3u);
  EXPECT_EQ(r.error_count(), 0u);
}

task<> replay_then_live(session& s) {
  const std::string path = "/channels/replay";
  for (int i = 1; i <= 3; ++i) co_await put_message(s, path, "message " + std::to_string(i));
  co_await s.ws_connect(path);
  const json resume{{"last_message_sequence", 1}};
  co_await s.ws_send_json(resume);
  co_await receive_channel(s, 2);
  co_await put_message(s, path, "message 4");
  co_await receive_channel(s, 1);
}

TEST_P(WsSession, ChannelReplaysAfterLastMessageSequence) {
  auto r = run("Replay", &replay_then_live);
  EXPECT_EQ(seen().take("message"),
            (std::vector<json>{channel_message(2), channel_message(3), channel_message(4)}));
  EXPECT_EQ(seen().take("put").size(), 4u);
  EXPECT_EQ(r.error_count(), 0u);
}

// ---- metric names -------------------------------------------------------------------------------

task<> send_each_kind(session& s) {
  co_await s.ws_connect("/ws/echo");
  co_await s.ws_send("a");
  co_await s.ws_send_binary("b");
  const json value{{"c", 3}};
  co_await s.ws_send_json(value);
  for (int i = 0; i < 3; ++i) co_await s.ws_recv();
  co_await s.ws_close();
}

TEST_P(WsSession, MetricNamesAndCounts) {
  auto r = run("Metrics", &send_each_kind);
  const auto url = ws_url("/ws/echo");
  EXPECT_EQ(key("ws_connect", url).name(), "ws_connect(" + url + ")");
  EXPECT_EQ(key("ws_send", url).name(), "ws_send(" + url + ")");
  EXPECT_EQ(key("ws_recv", url).name(), "ws_recv(" + url + ")");
  EXPECT_EQ(count_of(r, key("ws_connect", url)), 1u);
  EXPECT_EQ(count_of(r, key("ws_send", url)), 3u);
  EXPECT_EQ(count_of(r, key("ws_recv")), 3u) << "the plain ws_recv metric";
  EXPECT_EQ(count_of(r, key("ws_recv", url)), 3u);
  EXPECT_EQ(r.total_requests(), 0u) << "WebSocket messages are not HTTP requests";
  EXPECT_EQ(r.error_count(), 0u);
  auto server = stats();
  EXPECT_EQ(server["ws_messages_in"], 3) << server;
  EXPECT_EQ(server["ws_messages_out"], 3) << server;
}

}  // namespace
