// The engine against nginx: exact request counts on both sides, keep-alive reuse, error metrics,
// connect failures and request timeouts (the latter against the demo target's /delay), and the
// config keys of the timeouts.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <chaperon/chaperon.hpp>

#include "integration/process_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using chaperon::failure;
using chaperon::http_options;
using chaperon::json;
using chaperon::metric_key;
using chaperon::run_results;
using chaperon::session;
using chaperon::task;
using chaperon::itest::demo_server;
using chaperon::itest::nginx_server;

std::uint64_t count_of(const run_results& r, const metric_key& key) {
  auto it = r.metrics.find(key);
  return it == r.metrics.end() ? 0 : it->second.count();
}

metric_key get_metric(const std::string& url, std::string error = {}) {
  return metric_key{"", "get", url, std::move(error)};
}

// What the sessions saw, for assertions beyond the metrics.
std::atomic<int> g_not_found_seen{0};
std::atomic<int> g_server_error_seen{0};
std::atomic<int> g_connect_errors_seen{0};
std::atomic<int> g_timeouts_seen{0};

// `k` GETs of config `path` (default "/").
task<> get_k_times(session& s) {
  const int k = s.config_as<int>("k");
  const auto path = s.config_as<std::string>("path", "/");
  for (int i = 0; i < k; ++i) co_await s.get(path);
}

task<> hit_error_pages(session& s) {
  for (int i = 0; i < 3; ++i) {
    auto r = co_await s.get("/notfound");
    if (r.status == 404 && !r.ok() && r.error == failure::none) ++g_not_found_seen;
  }
  for (int i = 0; i < 2; ++i) {
    auto r = co_await s.get("/fail");
    if (r.status == 500 && !r.ok() && r.error == failure::none) ++g_server_error_seen;
  }
  co_await s.get("/");
}

task<> dead_port_then_live(session& s) {
  const auto dead = s.config_as<std::string>("dead_url");
  for (int i = 0; i < 3; ++i) {
    auto r = co_await s.get(dead);
    if (r.status == 0 && r.error == failure::connect && r.code && !r.ok()) ++g_connect_errors_seen;
  }
  // A failed request is a value: the session goes on.
  co_await s.get("/");
}

task<> slow_request(session& s) {
  auto r = co_await s.get(s.config_as<std::string>("slow_url"));
  if (r.error == failure::timeout && r.status == 0) ++g_timeouts_seen;
}

task<> slow_request_with_option(session& s) {
  auto r = co_await s.get(s.config_as<std::string>("slow_url"), http_options{}.timeout(200ms));
  if (r.error == failure::timeout && r.status == 0) ++g_timeouts_seen;
}

// A 127.0.0.1 port whose listener never accepts and whose accept queue is full: Linux drops the
// SYN of every further connect, which then hangs until the client's connect timeout. A connect
// timeout test that stays on loopback.
class full_backlog_port {
 public:
  full_backlog_port() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_, 0) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    // A backlog of 0 holds one connection: this one fills it.
    filler_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (filler_ < 0 || ::connect(filler_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
      throw std::runtime_error("cannot fill the accept queue");
    }
  }
  ~full_backlog_port() {
    ::close(filler_);
    ::close(listener_);
  }
  full_backlog_port(const full_backlog_port&) = delete;
  full_backlog_port& operator=(const full_backlog_port&) = delete;

  std::string url(const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + "/";
  }

 private:
  int listener_ = -1;
  int filler_ = -1;
  std::uint16_t port_ = 0;
};

// What the timeout scenarios saw: {"what", "error", "elapsed_ms"} per action.
std::mutex g_timed_mutex;
std::vector<json> g_timed;

void report_timed(const std::string& what, failure error, std::chrono::steady_clock::time_point t0) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::lock_guard lock(g_timed_mutex);
  g_timed.push_back({{"what", what}, {"error", to_string(error)}, {"elapsed_ms", ms.count()}});
}

std::vector<json> take_timed() {
  std::lock_guard lock(g_timed_mutex);
  return std::exchange(g_timed, {});
}

// A GET of config `url`, and a WebSocket connect to config `ws_url` when it is given.
task<> timed_get_and_ws_connect(session& s) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = co_await s.get(s.config_as<std::string>("url"));
  report_timed("get", r.error, t0);
  if (!s.has_config("ws_url")) co_return;
  t0 = std::chrono::steady_clock::now();
  auto w = co_await s.ws_connect(s.config_as<std::string>("ws_url"));
  report_timed("ws_connect", w.error, t0);
}

class NginxLoad : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    peers_.start({}, [] { demo_ = std::make_unique<demo_server>(); });
    nginx_ = peers_.nginx.get();
  }
  static void TearDownTestSuite() {
    peers_.nginx.reset();
    demo_.reset();
  }
  void SetUp() override {
    if (!peers_.skip_reason.empty()) GTEST_SKIP() << peers_.skip_reason;
    ASSERT_TRUE(peers_.setup_error.empty()) << peers_.setup_error;
  }

  static chaperon::load_test nginx_test(std::size_t sessions, chaperon::scenario_fn fn, json cfg) {
    chaperon::load_test t("Nginx");
    t.default_config({{"base_url", nginx_->url()}});
    t.scenario(sessions, chaperon::make_scenario("Nginx", std::move(fn)), std::move(cfg));
    return t;
  }

  static inline chaperon::itest::nginx_suite peers_;
  static inline nginx_server* nginx_ = nullptr;
  static inline std::unique_ptr<demo_server> demo_;
};

TEST_F(NginxLoad, EverySessionMakesExactlyKRequestsAndNginxCountsThem) {
  constexpr std::size_t sessions = 8;
  constexpr int k = 25;
  const auto before = nginx_->counters();
  auto results = chaperon::run_load_test(nginx_test(sessions, get_k_times, {{"k", k}}));
  const auto after = nginx_->counters();

  const std::string url = nginx_->url() + "/";
  EXPECT_EQ(get_metric(url).name(), "get(" + url + ")");
  EXPECT_EQ(count_of(results, get_metric(url)), sessions * k);
  EXPECT_EQ(results.total_requests(), sessions * k);
  EXPECT_EQ(results.error_count(), 0u);
  EXPECT_EQ(results.metrics.size(), 1u);
  EXPECT_EQ(results.sessions.started, sessions);
  EXPECT_EQ(results.sessions.completed, sessions);
  EXPECT_FALSE(results.partial);
  EXPECT_EQ(results.load_test, "Nginx");
  // nginx counts the request that read `after` too.
  EXPECT_EQ(after.requests - before.requests, sessions * k + 1);
}

TEST_F(NginxLoad, KeepAliveUsesOneConnectionPerSession) {
  constexpr std::size_t sessions = 5;
  constexpr int k = 40;
  const auto before = nginx_->counters();
  auto results = chaperon::run_load_test(nginx_test(sessions, get_k_times, {{"k", k}}));
  const auto after = nginx_->counters();

  EXPECT_EQ(count_of(results, get_metric(nginx_->url() + "/")), sessions * k);
  // One connection per session, plus the one that read `after`.
  EXPECT_EQ(after.accepts - before.accepts, sessions + 1);
  EXPECT_EQ(after.handled - before.handled, sessions + 1);
  EXPECT_EQ(after.requests - before.requests, sessions * k + 1);
}

TEST_F(NginxLoad, ErrorStatusesRecordTheBaseAndTheErrorMetric) {
  constexpr std::size_t sessions = 4;
  g_not_found_seen = 0;
  g_server_error_seen = 0;
  auto results = chaperon::run_load_test(nginx_test(sessions, hit_error_pages, {}));

  const std::string not_found = nginx_->url() + "/notfound";
  const std::string fail = nginx_->url() + "/fail";
  EXPECT_EQ(get_metric(not_found, "HTTP 404").name(), "Error HTTP 404 get(" + not_found + ")");
  EXPECT_EQ(count_of(results, get_metric(not_found)), sessions * 3);
  EXPECT_EQ(count_of(results, get_metric(not_found, "HTTP 404")), sessions * 3);
  EXPECT_EQ(count_of(results, get_metric(fail)), sessions * 2);
  EXPECT_EQ(count_of(results, get_metric(fail, "HTTP 500")), sessions * 2);
  EXPECT_EQ(count_of(results, get_metric(nginx_->url() + "/")), sessions);
  EXPECT_EQ(results.metrics.size(), 5u);
  EXPECT_EQ(results.error_count(), sessions * 5);
  EXPECT_EQ(results.total_requests(), sessions * 6);
  EXPECT_EQ(results.sessions.completed, sessions);
  EXPECT_EQ(g_not_found_seen.load(), static_cast<int>(sessions * 3));
  EXPECT_EQ(g_server_error_seen.load(), static_cast<int>(sessions * 2));
}

TEST_F(NginxLoad, RefusedConnectionIsAnErrorMetricAndTheSessionGoesOn) {
  constexpr std::size_t sessions = 3;
  const auto dead_port = chaperon::itest::free_tcp_port();
  const std::string dead_url = "http://127.0.0.1:" + std::to_string(dead_port) + "/";
  g_connect_errors_seen = 0;
  auto results =
      chaperon::run_load_test(nginx_test(sessions, dead_port_then_live, {{"dead_url", dead_url}}));

  EXPECT_EQ(count_of(results, get_metric(dead_url, "connect")), sessions * 3);
  EXPECT_EQ(get_metric(dead_url, "connect").name(), "Error connect get(" + dead_url + ")");
  // No response arrived, so there is no timing under the plain name.
  EXPECT_EQ(count_of(results, get_metric(dead_url)), 0u);
  EXPECT_EQ(count_of(results, get_metric(nginx_->url() + "/")), sessions);
  EXPECT_EQ(results.sessions.completed, sessions);
  EXPECT_EQ(results.sessions.failed, 0u);
  EXPECT_EQ(g_connect_errors_seen.load(), static_cast<int>(sessions * 3));
}

TEST_F(NginxLoad, RequestTimeoutFromConfigEndsASlowRequestEarly) {
  constexpr std::size_t sessions = 4;
  const std::string slow_url = demo_->url() + "/delay/2000";
  g_timeouts_seen = 0;
  const auto start = std::chrono::steady_clock::now();
  auto results = chaperon::run_load_test(nginx_test(
      sessions, slow_request, {{"slow_url", slow_url}, {"request_timeout", "200ms"}}));
  const auto elapsed = std::chrono::steady_clock::now() - start;

  const auto key = get_metric(slow_url, "timeout");
  EXPECT_EQ(key.name(), "Error timeout get(" + slow_url + ")");
  ASSERT_EQ(count_of(results, key), sessions);
  EXPECT_EQ(count_of(results, get_metric(slow_url)), 0u);
  EXPECT_EQ(g_timeouts_seen.load(), static_cast<int>(sessions));
  // The recorded time is the timeout, not the server's delay.
  const auto& h = results.metrics.at(key);
  EXPECT_GE(h.min(), 150'000);
  EXPECT_LT(h.max(), 1'500'000);
  EXPECT_LT(elapsed, 1500ms);
  EXPECT_EQ(results.sessions.completed, sessions);
}

TEST_F(NginxLoad, RequestTimeoutOptionOverridesTheConfig) {
  constexpr std::size_t sessions = 2;
  const std::string slow_url = demo_->url() + "/delay/2000";
  g_timeouts_seen = 0;
  const auto start = std::chrono::steady_clock::now();
  auto results = chaperon::run_load_test(nginx_test(
      sessions, slow_request_with_option, {{"slow_url", slow_url}, {"request_timeout", "30s"}}));
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(count_of(results, get_metric(slow_url, "timeout")), sessions);
  EXPECT_EQ(g_timeouts_seen.load(), static_cast<int>(sessions));
  EXPECT_LT(elapsed, 1500ms);
}

// The original's `http` map carries HTTPoison's options: recv_timeout is the response timeout.
TEST_F(NginxLoad, HttpRecvTimeoutIsTheRequestTimeout) {
  const std::string slow_url = demo_->url() + "/delay/2000";
  take_timed();
  auto results = chaperon::run_load_test(nginx_test(
      1, timed_get_and_ws_connect, {{"url", slow_url}, {"http", {{"recv_timeout", 200}}}}));
  const auto seen = take_timed();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["error"], "timeout");
  EXPECT_LT(seen[0]["elapsed_ms"].get<int>(), 1500);
  EXPECT_EQ(count_of(results, get_metric(slow_url, "timeout")), 1u);
}

TEST_F(NginxLoad, TopLevelRequestTimeoutWinsOverHttpRecvTimeout) {
  const std::string slow_url = demo_->url() + "/delay/600";
  take_timed();
  auto results = chaperon::run_load_test(
      nginx_test(1, timed_get_and_ws_connect,
                 {{"url", slow_url}, {"http", {{"recv_timeout", 100}}}, {"request_timeout", "5s"}}));
  const auto seen = take_timed();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["error"], "");
  EXPECT_GE(seen[0]["elapsed_ms"].get<int>(), 550);
  EXPECT_EQ(count_of(results, get_metric(slow_url)), 1u);
}

// http.timeout is HTTPoison's connect timeout; ws.connect_timeout is the WebSocket's and falls
// back to connect_timeout. Both against a loopback port that never completes a connect.
TEST_F(NginxLoad, HttpTimeoutIsTheConnectTimeoutAndWsConnectTimeoutFallsBackToIt) {
  full_backlog_port hang;
  take_timed();
  chaperon::run_load_test(nginx_test(1, timed_get_and_ws_connect,
                                     {{"url", hang.url()},
                                      {"ws_url", hang.url("ws")},
                                      {"http", {{"timeout", 200}}}}));
  const auto seen = take_timed();
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& s : seen) {
    EXPECT_EQ(s["error"], "connect_timeout") << s.dump();
    EXPECT_GE(s["elapsed_ms"].get<int>(), 150) << s.dump();
    EXPECT_LT(s["elapsed_ms"].get<int>(), 900) << s.dump();
  }
}

TEST_F(NginxLoad, WsConnectTimeoutAppliesToWebSocketsOnly) {
  full_backlog_port hang;
  take_timed();
  chaperon::run_load_test(nginx_test(1, timed_get_and_ws_connect,
                                     {{"url", hang.url()},
                                      {"ws_url", hang.url("ws")},
                                      {"http", {{"timeout", 100}}},
                                      {"connect_timeout", 1200},
                                      {"ws", {{"connect_timeout", 200}}}}));
  const auto seen = take_timed();
  ASSERT_EQ(seen.size(), 2u);
  // The GET: connect_timeout (which wins over http.timeout), not the WebSocket's.
  EXPECT_EQ(seen[0]["what"], "get");
  EXPECT_EQ(seen[0]["error"], "connect_timeout");
  EXPECT_GE(seen[0]["elapsed_ms"].get<int>(), 1100);
  EXPECT_EQ(seen[1]["what"], "ws_connect");
  EXPECT_EQ(seen[1]["error"], "connect_timeout");
  EXPECT_GE(seen[1]["elapsed_ms"].get<int>(), 150);
  EXPECT_LT(seen[1]["elapsed_ms"].get<int>(), 1000);
}

TEST_F(NginxLoad, ServerClosingTheConnectionMakesTheClientReconnect) {
  constexpr std::size_t sessions = 3;
  constexpr int k = 4;
  const auto before = nginx_->counters();
  auto results =
      chaperon::run_load_test(nginx_test(sessions, get_k_times, {{"k", k}, {"path", "/close"}}));
  const auto after = nginx_->counters();

  EXPECT_EQ(count_of(results, get_metric(nginx_->url() + "/close")), sessions * k);
  EXPECT_EQ(results.error_count(), 0u);
  EXPECT_EQ(results.sessions.completed, sessions);
  // One connection per request now, plus the one that read `after`.
  EXPECT_EQ(after.accepts - before.accepts, sessions * k + 1);
  EXPECT_EQ(after.requests - before.requests, sessions * k + 1);
}

TEST_F(NginxLoad, TwoThreadsAndManySessionsStillGiveExactCounts) {
  constexpr std::size_t sessions = 200;
  constexpr int k = 10;
  const auto before = nginx_->counters();
  chaperon::run_options options;
  options.threads = 2;
  auto results = chaperon::run_load_test(nginx_test(sessions, get_k_times, {{"k", k}}), options);
  const auto after = nginx_->counters();

  EXPECT_EQ(count_of(results, get_metric(nginx_->url() + "/")), sessions * k);
  EXPECT_EQ(results.error_count(), 0u);
  EXPECT_EQ(results.sessions.started, sessions);
  EXPECT_EQ(results.sessions.completed, sessions);
  EXPECT_EQ(after.requests - before.requests, sessions * k + 1);
  EXPECT_EQ(after.accepts - before.accepts, sessions + 1);
}

}  // namespace
