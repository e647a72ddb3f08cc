// Host names are looked up off the engine thread: a slow lookup stalls no other session, a name
// that does not resolve is "Error dns ...", and connections to one name share one lookup.
//
// The lookups are real (getaddrinfo: `localhost` from /etc/hosts, `.invalid` names fail); the
// lookup observer (net/name_lookup.hpp) makes one of them slow, deterministically, by holding
// the lookup thread until the test lets it go.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <chaperon/chaperon.hpp>

#include "integration/process_fixture.hpp"
#include "integration/test_control_support.hpp"
#include "net/name_lookup.hpp"

namespace {

using namespace std::chrono_literals;
using chaperon::failure;
using chaperon::json;
using chaperon::session;
using chaperon::task;
using chaperon::itest::nginx_server;
using chaperon::itest::control::count_of;
using chaperon::itest::control::key;
using chaperon::itest::control::seen;

// Holds the lookup of one host name until released (or until a bounded wait runs out), and
// counts the lookups of every name.
class lookup_gate {
 public:
  void hold(std::string host) {
    std::lock_guard lock(mutex_);
    held_host_ = std::move(host);
    started_ = released_ = timed_out_ = false;
    counts_.clear();
  }

  void on_lookup(const std::string& host) {
    std::unique_lock lock(mutex_);
    ++counts_[host];
    if (host != held_host_) return;
    started_ = true;
    changed_.notify_all();
    if (!changed_.wait_for(lock, 10s, [this] { return released_; })) timed_out_ = true;
  }

  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

  bool started() {
    std::lock_guard lock(mutex_);
    return started_;
  }
  bool timed_out() {
    std::lock_guard lock(mutex_);
    return timed_out_;
  }
  int count(const std::string& host) {
    std::lock_guard lock(mutex_);
    return counts_[host];
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string held_host_;
  bool started_ = false;
  bool released_ = false;
  bool timed_out_ = false;
  std::map<std::string, int> counts_;
};

lookup_gate& gate() {
  static lookup_gate instance;
  return instance;
}

constexpr const char* slow_host = "slow-lookup.invalid";
constexpr int requests_during_lookup = 20;

// Keeps requesting nginx while another session's lookup is held: first until the lookup has
// begun (bounded), then a fixed number more, and only then lets the lookup go. Were the lookup
// made on this engine thread, none of these requests could run until the gate gave up.
task<> request_while_lookup_is_held(session& s) {
  int before = 0;
  while (!gate().started() && before < 50'000) {
    co_await s.get("/");
    ++before;
  }
  int during = 0;
  for (int i = 0; i < requests_during_lookup; ++i) {
    auto r = co_await s.get("/");
    if (r.ok()) ++during;
  }
  seen().add("during", {{"started", gate().started()}, {"ok", during}});
  gate().release();
}

task<> request_slow_name(session& s) {
  auto r = co_await s.get(s.config_as<std::string>("slow_url"));
  seen().add("slow", {{"error", to_string(r.error)}, {"status", r.status}});
}

task<> localhost_and_invalid(session& s) {
  auto ok = co_await s.get(s.config_as<std::string>("localhost_url"));
  seen().add("localhost", {{"error", to_string(ok.error)}, {"status", ok.status}});
  auto bad = co_await s.get(s.config_as<std::string>("invalid_url"));
  seen().add("invalid", {{"error", to_string(bad.error)}, {"status", bad.status}});
  auto ws = co_await s.ws_connect(s.config_as<std::string>("invalid_ws_url"));
  seen().add("invalid_ws", {{"error", to_string(ws.error)}});
}

task<> get_localhost(session& s) {
  auto r = co_await s.get(s.config_as<std::string>("localhost_url"));
  if (r.ok()) seen().add("ok", true);
}

class Dns : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    peers_.start();
    nginx_ = peers_.nginx.get();
    chaperon::net::set_lookup_observer([](const std::string& host) { gate().on_lookup(host); });
  }
  static void TearDownTestSuite() {
    gate().release();
    chaperon::net::set_lookup_observer({});
    peers_.nginx.reset();
  }
  void SetUp() override {
    if (!peers_.skip_reason.empty()) GTEST_SKIP() << peers_.skip_reason;
    ASSERT_TRUE(peers_.setup_error.empty()) << peers_.setup_error;
    seen().clear();
  }
  void TearDown() override { gate().release(); }

  static std::string url_on(const std::string& host, const std::string& path = "/") {
    return "http://" + host + ":" + std::to_string(nginx_->port()) + path;
  }

  static inline chaperon::itest::nginx_suite peers_;
  static inline nginx_server* nginx_ = nullptr;
};

TEST_F(Dns, ASlowLookupDoesNotStallTheOtherSessionsOfItsThread) {
  gate().hold(slow_host);
  const auto slow_url = url_on(slow_host);
  chaperon::load_test test("Dns");
  test.default_config({{"base_url", nginx_->url()}});
  test.scenario(1, chaperon::make_scenario("Loop", request_while_lookup_is_held), json::object());
  test.scenario(1, chaperon::make_scenario("Slow", request_slow_name), {{"slow_url", slow_url}});
  chaperon::run_options options;
  options.threads = 1;
  const auto start = std::chrono::steady_clock::now();
  auto results = chaperon::run_load_test(test, options);
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_FALSE(gate().timed_out()) << "the held lookup blocked the engine thread";
  const auto during = seen().only("during");
  EXPECT_EQ(during["started"], true);
  EXPECT_EQ(during["ok"], requests_during_lookup);
  // The held name is under .invalid: once released, the real lookup fails.
  const auto slow = seen().only("slow");
  EXPECT_EQ(slow["error"], "dns");
  EXPECT_EQ(slow["status"], 0);
  EXPECT_EQ(count_of(results, key("get", slow_url, "dns")), 1u);
  EXPECT_EQ(key("get", slow_url, "dns").name(), "Error dns get(" + slow_url + ")");
  EXPECT_EQ(results.sessions.completed, 2u);
  EXPECT_LT(elapsed, 8s);
}

TEST_F(Dns, LocalhostResolvesAndAnInvalidNameIsADnsError) {
  gate().hold("");
  const auto localhost_url = url_on("localhost");
  const auto invalid_url = url_on("no-such-host.invalid");
  const auto invalid_ws_url = "ws://no-such-host.invalid:" + std::to_string(nginx_->port()) + "/ws";
  auto results = chaperon::itest::control::run_scenario_test(
      chaperon::make_scenario("Names", localhost_and_invalid),
      {{"localhost_url", localhost_url},
       {"invalid_url", invalid_url},
       {"invalid_ws_url", invalid_ws_url}});

  EXPECT_EQ(seen().only("localhost"), (json{{"error", ""}, {"status", 200}}));
  EXPECT_EQ(seen().only("invalid"), (json{{"error", "dns"}, {"status", 0}}));
  EXPECT_EQ(seen().only("invalid_ws"), (json{{"error", "dns"}}));
  EXPECT_EQ(count_of(results, key("get", localhost_url)), 1u);
  EXPECT_EQ(count_of(results, key("get", invalid_url, "dns")), 1u);
  EXPECT_EQ(count_of(results, key("ws_connect", invalid_ws_url, "dns")), 1u);
  EXPECT_EQ(results.sessions.completed, 1u);
}

TEST_F(Dns, ConnectionsToOneNameShareOneLookup) {
  gate().hold("");
  constexpr std::size_t sessions = 20;
  const auto localhost_url = url_on("localhost");
  auto results = chaperon::itest::control::run_scenario_test(
      chaperon::make_scenario("Shared", get_localhost), {{"localhost_url", localhost_url}}, {},
      sessions);

  EXPECT_EQ(seen().take("ok").size(), sessions);
  EXPECT_EQ(count_of(results, key("get", localhost_url)), sessions);
  // One engine thread, one lookup: the sessions that connected while it ran waited for it, and
  // the later ones found the answer cached.
  EXPECT_EQ(gate().count("localhost"), 1);
  // A numeric address is never looked up.
  EXPECT_EQ(gate().count("127.0.0.1"), 0);
}

TEST_F(Dns, ALookupSlowerThanTheConnectTimeoutIsADnsErrorAtTheTimeout) {
  gate().hold(slow_host);
  const auto slow_url = url_on(slow_host);
  const auto start = std::chrono::steady_clock::now();
  auto results = chaperon::itest::control::run_scenario_test(
      chaperon::make_scenario("Slow", request_slow_name),
      {{"slow_url", slow_url}, {"connect_timeout", 200}});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  gate().release();

  EXPECT_EQ(seen().only("slow"), (json{{"error", "dns"}, {"status", 0}}));
  const auto k = key("get", slow_url, "dns");
  ASSERT_EQ(count_of(results, k), 1u);
  EXPECT_GE(results.metrics.at(k).min(), 150'000);
  // The run did not wait for the held lookup (the gate holds it for up to 10 s).
  EXPECT_LT(elapsed, 5s);
  EXPECT_FALSE(gate().timed_out());
}

}  // namespace
