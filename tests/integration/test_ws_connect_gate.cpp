// Config ws.max_connecting: how many WebSocket connects one engine thread has in flight at once.
// Against the demo target, and against a port whose listener never accepts (the kernel completes
// the TCP handshake, nobody answers the upgrade), where each connect lasts its timeout.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <chaperon/chaperon.hpp>

#include "integration/process_fixture.hpp"
#include "integration/test_control_support.hpp"

namespace {

using namespace chaperon::itest::control::prelude;
using chaperon::run_results;
using chaperon::itest::demo_server;

// A loopback port with a listener that never accepts: connects complete, nothing is answered.
class mute_port {
 public:
  mute_port() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~mute_port() { ::close(fd_); }
  mute_port(const mute_port&) = delete;
  mute_port& operator=(const mute_port&) = delete;
  std::string ws_url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/ws/echo"; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

run_results run_sessions(chaperon::scenario_fn fn, json config, std::size_t sessions) {
  return run_scenario_test(chaperon::make_scenario("Gate", std::move(fn)), std::move(config), {},
                           sessions);
}

task<> connect_and_time(session& s) {
  auto start = session::clock::now();
  auto r = co_await s.ws_connect(s.config("url").get<std::string>());
  seen().add("connect", {{"error", to_string(r.error)},
                         {"elapsed_us", us_since(start)},
                         {"duration_us", r.duration.count()}});
}

// 6 sessions, 2 places, each connect times out after 300 ms: three waves, and the wait for a
// place is not part of a connect's duration.
TEST(WsConnectGate, ConnectsBeyondTheBoundWaitForAPlace) {
  mute_port mute;
  json config{{"url", mute.ws_url()},
              {"ws", {{"max_connecting", 2}, {"connect_timeout", "300ms"}}}};
  auto r = run_sessions(&connect_and_time, config, 6);
  auto seen_connects = seen().take("connect");
  ASSERT_EQ(seen_connects.size(), 6u);
  std::vector<std::int64_t> elapsed;
  for (const auto& c : seen_connects) {
    EXPECT_EQ(c["error"], "connect_timeout") << c.dump();
    EXPECT_GE(c["duration_us"].get<std::int64_t>(), 290 * ms_us) << c.dump();
    EXPECT_LT(c["duration_us"].get<std::int64_t>(), 580 * ms_us) << c.dump();
    elapsed.push_back(c["elapsed_us"].get<std::int64_t>());
  }
  std::sort(elapsed.begin(), elapsed.end());
  EXPECT_GE(elapsed[2], 580 * ms_us) << "the second wave starts when the first has ended";
  EXPECT_GE(elapsed[4], 870 * ms_us) << "the third wave starts when the second has ended";
  EXPECT_EQ(r.sessions.completed, 6u);
}

task<> echo_once(session& s) {
  auto c = co_await s.ws_connect("/ws/echo");
  if (!c.ok()) co_return;
  co_await s.ws_send("through the gate");
  seen().add("echo", (co_await s.ws_recv()).message.data);
}

TEST(WsConnectGate, EverySessionConnectsThroughOnePlace) {
  demo_server demo;
  auto r = run_sessions(&echo_once,
                        {{"base_url", demo.url()}, {"ws_timeout", "5s"},
                         {"ws", {{"max_connecting", 1}}}},
                        30);
  auto echoes = seen().take("echo");
  ASSERT_EQ(echoes.size(), 30u);
  for (const auto& e : echoes) EXPECT_EQ(e, "through the gate");
  EXPECT_EQ(count_of(r, key("ws_connect", "ws://127.0.0.1:" + std::to_string(demo.port()) +
                                              "/ws/echo")),
            30u);
  EXPECT_EQ(r.sessions.completed, 30u);
}

// A stop reaches the sessions waiting in line, not only the one connecting.
TEST(WsConnectGate, AStopEndsTheSessionsWaitingForAPlace) {
  mute_port mute;
  chaperon::run_options options;
  options.config = json{{"load_test_timeout", "300ms"}};
  json config{{"url", mute.ws_url()}, {"ws", {{"max_connecting", 1}, {"connect_timeout", "20s"}}}};
  auto start = session::clock::now();
  auto r = run_scenario_test(chaperon::make_scenario("Gate", &connect_and_time), config, options,
                             4);
  EXPECT_LT(us_since(start), 10'000 * ms_us) << "not one connect timeout after another";
  EXPECT_TRUE(r.partial);
  EXPECT_EQ(r.sessions.timed_out, 4u);
}

TEST(WsConnectGate, ANegativeBoundIsAnErrorNamingTheKey) {
  auto r = run_sessions(
      &echo_once, {{"base_url", "http://127.0.0.1:1"}, {"ws", {{"max_connecting", -1}}}}, 1);
  EXPECT_EQ(r.sessions.failed, 1u);
  bool named = false;
  for (const auto& [reason, n] : r.session_errors) {
    named = named || reason.find("ws.max_connecting") != std::string::npos;
  }
  EXPECT_TRUE(named);
}

}  // namespace
