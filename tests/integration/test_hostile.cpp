// Servers that fail on purpose (tests/peers/hostile_server.py). A load tester is pointed at
// servers that break: whatever one does, the run must end within its timeouts, the failure must
// be a classified error metric, sessions against a healthy server in the same run must not
// notice, memory must stay bounded and nothing may crash.
//
// Each run has two entries on one engine thread: sessions that meet the hostile server, and
// sessions that keep requesting the demo target meanwhile. Sharing the thread is deliberate: a
// hostile peer that blocked the event loop would show up as starved healthy sessions.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <chaperon/chaperon.hpp>
#include <chaperon/export.hpp>

#include "integration/process_fixture.hpp"
#include "integration/test_control_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using chaperon::http_result;
using chaperon::json;
using chaperon::load_test;
using chaperon::metric_key;
using chaperon::run_options;
using chaperon::run_results;
using chaperon::scenario_ref;
using chaperon::session;
using chaperon::task;
using chaperon::ws_result;
using chaperon::itest::child_process;
using chaperon::itest::demo_server;
using chaperon::itest::process_options;
using chaperon::itest::control::count_of;
using chaperon::itest::control::key;
using chaperon::itest::control::ms_us;
using chaperon::itest::control::seen;
using chaperon::itest::control::us_since;

// Room for a loaded 2-core machine on top of any configured timeout.
constexpr std::int64_t slack_us = 3'000 * ms_us;
constexpr std::size_t healthy_sessions = 2;
// A healthy session requests every 20 ms; a worker that hostile peers never block manages far
// more than this per second even on a busy machine.
constexpr std::int64_t min_healthy_per_second = 5;
#ifdef __SANITIZE_ADDRESS__
// AddressSanitizer keeps freed memory in quarantine (256 MB by default) and pads every block, so
// the process's RSS says more about the sanitizer than about the engine.
constexpr long rss_budget_kb = 600 * 1024;
#else
constexpr long rss_budget_kb = 200 * 1024;
#endif

// ---- the hostile peer -------------------------------------------------------------------------

class hostile_server {
 public:
  hostile_server() {
    const auto python = chaperon::itest::find_program("python3", {"/usr/bin", "/usr/local/bin"});
    if (!python) throw std::runtime_error("python3 is not installed");
    const auto script = fs::path(CHAPERON_SOURCE_DIR) / "tests/peers/hostile_server.py";
    process_ = std::make_unique<child_process>(
        process_options{{python->string(), script.string(), "--port", "0"}, {}});
    port_ = read_port("hostile listening on http://127.0.0.1:");
    tls_port_ = read_port("hostile tls on 127.0.0.1:");
  }

  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  std::string ws_url() const { return fmt::format("ws://127.0.0.1:{}", port_); }
  std::uint16_t tls_port() const noexcept { return tls_port_; }

  // How many requests for `path` the server has read, by its own count.
  std::uint64_t path_count(const std::string& path) const {
    const auto reply = chaperon::itest::http_request(port_, "GET", "/stats");
    if (reply.status != 200) throw std::runtime_error("GET /stats on the hostile server failed");
    return json::parse(reply.body).value(path, std::uint64_t{0});
  }

 private:
  std::uint16_t read_port(std::string_view prefix) {
    const auto line = process_->wait_for_line(
        [&](std::string_view l) { return l.starts_with(prefix); }, 20s);
    if (!line) {
      process_->stop(2s);
      process_->wait_output_closed(5s);
      throw std::runtime_error("hostile_server.py did not start; stdout: " +
                               process_->stdout_text() + " stderr: " + process_->stderr_text());
    }
    return static_cast<std::uint16_t>(std::stoi(line->substr(prefix.size())));
  }

  std::unique_ptr<child_process> process_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
};

// ---- scenarios ----------------------------------------------------------------------------------

json describe(const http_result& r, session::clock::time_point start) {
  return {{"error", to_string(r.error)},
          {"message", r.code ? r.code.message() : std::string()},
          {"status", r.status},
          {"body_bytes", r.body.size()},
          {"elapsed_us", us_since(start)}};
}

json describe(const ws_result& r, session::clock::time_point start) {
  return {{"error", to_string(r.error)},
          {"message", r.code ? r.code.message() : std::string()},
          {"status", r.status},
          {"data_bytes", r.message.data.size()},
          {"elapsed_us", us_since(start)}};
}

// /ok first, so that the hostile request goes over a reused keep-alive connection; the hostile
// path twice (the second time on a fresh connection); /ok again, which must succeed: a broken
// exchange may not leave anything behind that spoils the session's next request.
task<> meet_hostile_http(session& s) {
  const auto path = s.config_as<std::string>("hostile_path");
  const auto warm = co_await s.get("/ok");
  seen().add("warm", warm.status);
  for (int i = 0; i < 2; ++i) {
    const auto start = session::clock::now();
    const auto r = co_await s.get(path);
    seen().add("hostile", describe(r, start));
  }
  const auto after = co_await s.get("/ok");
  seen().add("after", after.status);
}

// Connects, then (when the upgrade went through) receives twice: the first receive meets the
// broken frame, the second one a connection that is already dead and must not wait for it.
task<> meet_hostile_ws(session& s) {
  const auto path = s.config_as<std::string>("hostile_path");
  auto start = session::clock::now();
  const auto connected = co_await s.ws_connect(path);
  seen().add("connect", describe(connected, start));
  if (!connected.ok()) co_return;
  start = session::clock::now();
  const auto first = co_await s.ws_recv();
  seen().add("recv", describe(first, start));
  start = session::clock::now();
  const auto second = co_await s.ws_recv();
  seen().add("again", describe(second, start));
  seen().add("still_connected", s.ws_connected());
}

task<> meet_not_tls(session& s) {
  const auto https = s.config_as<std::string>("https_url");
  auto start = session::clock::now();
  const auto r = co_await s.get(https);
  seen().add("https", describe(r, start));
  const auto wss = s.config_as<std::string>("wss_url");
  start = session::clock::now();
  const auto c = co_await s.ws_connect(wss);
  seen().add("wss", describe(c, start));
}

// Requests the demo target every 20 ms for `healthy_for`, counting what succeeded.
task<> stay_healthy(session& s) {
  const auto until = session::clock::now() + s.config_duration("healthy_for");
  std::int64_t ok = 0;
  std::int64_t failed = 0;
  for (;;) {
    const auto r = co_await s.get("/");
    ++(r.ok() ? ok : failed);
    if (session::clock::now() >= until) break;
    co_await s.delay(20ms);
  }
  seen().add("healthy", {{"ok", ok}, {"failed", failed}});
}

// ---- running and checking -----------------------------------------------------------------------

long max_rss_kb() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

struct mixed_run {
  run_results results;
  std::int64_t wall_us = 0;
  long rss_growth_kb = 0;
};

std::string error_metrics(const run_results& r) {
  std::string out;
  for (const auto& [k, h] : r.metrics) {
    if (k.is_error()) out += fmt::format("\n  {} x{}", k.name(), h.count());
  }
  return out.empty() ? "\n  (no error metrics)" : out;
}

class HostilePeer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      demo_ = std::make_unique<demo_server>();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { demo_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    hostile_ = std::make_unique<hostile_server>();
  }

  // One run: `count` sessions of `hostile` with `config` over the hostile server, and the
  // healthy sessions over the demo target for `healthy_for`, all on one engine thread.
  mixed_run run_mixed(const scenario_ref& hostile, json config, std::size_t count,
                      std::chrono::milliseconds healthy_for) {
    seen().clear();
    config["base_url"] = hostile_->url();
    json healthy{{"base_url", demo_->url()}, {"healthy_for", healthy_for.count()}};
    auto test = load_test{"Hostile"}
                    .scenario(count, hostile, std::move(config))
                    .scenario(healthy_sessions, chaperon::make_scenario("Healthy", &stay_healthy),
                              std::move(healthy));
    run_options options;
    options.threads = 1;
    const long rss_before = max_rss_kb();
    const auto start = session::clock::now();
    mixed_run m;
    m.results = chaperon::run_load_test(test, options);
    m.wall_us = us_since(start);
    m.rss_growth_kb = max_rss_kb() - rss_before;
    fmt::print("[ hostile  ] {}: wall {:.3f} s, max RSS growth {} MB, error metrics:{}\n",
               ::testing::UnitTest::GetInstance()->current_test_info()->name(),
               m.wall_us / 1e6, m.rss_growth_kb / 1024, error_metrics(m.results));
    return m;
  }

  // The healthy sessions all finished, every one of their requests succeeded, and they kept
  // going at their pace while the hostile sessions ran.
  void expect_healthy_unharmed(const mixed_run& m, std::chrono::milliseconds healthy_for) {
    const auto reports = seen().take("healthy");
    ASSERT_EQ(reports.size(), healthy_sessions) << "a healthy session did not finish";
    std::int64_t ok = 0;
    for (const auto& r : reports) {
      EXPECT_EQ(r["failed"], 0) << r.dump();
      ok += r["ok"].get<std::int64_t>();
    }
    const auto seconds = std::max<std::int64_t>(1, healthy_for.count() / 1000);
    EXPECT_GE(ok, static_cast<std::int64_t>(healthy_sessions) * min_healthy_per_second * seconds)
        << "healthy sessions were starved while the hostile ones ran";
    EXPECT_EQ(count_of(m.results, key("get", demo_->url() + "/")), static_cast<std::uint64_t>(ok));
    for (const auto& [k, h] : m.results.metrics) {
      if (k.is_error()) {
        EXPECT_FALSE(k.target.starts_with(demo_->url())) << k.name();
      }
    }
  }

  // The only error metrics of the run are `expected` (with `count` occurrences each).
  static void expect_only_errors(const run_results& r, const std::vector<metric_key>& expected,
                                 std::uint64_t count) {
    for (const auto& k : expected) {
      EXPECT_EQ(count_of(r, k), count) << "expected " << k.name() << "; got" << error_metrics(r);
    }
    for (const auto& [k, h] : r.metrics) {
      if (!k.is_error()) continue;
      EXPECT_NE(std::find(expected.begin(), expected.end(), k), expected.end())
          << "unexpected error metric " << k.name() << " x" << h.count();
    }
  }

  static void expect_sessions_completed(const run_results& r, std::uint64_t total) {
    EXPECT_EQ(r.sessions.started, total);
    EXPECT_EQ(r.sessions.completed, total) << "failed " << r.sessions.failed << ", aborted "
                                           << r.sessions.aborted << ", timed out "
                                           << r.sessions.timed_out;
    EXPECT_TRUE(r.session_errors.empty());
  }

  // One HTTP mode: the failure is `kind` each time; a `prompt` failure comes before the request
  // timeout, any other one at the timeout (not later).
  mixed_run check_http_mode(const std::string& path, const std::string& kind,
                            std::chrono::milliseconds request_timeout, bool prompt,
                            std::size_t sessions = 2) {
    const auto healthy_for = prompt ? 1000ms : 2 * request_timeout;
    json config{{"hostile_path", path},
                {"request_timeout", request_timeout.count()},
                {"connect_timeout", 1000}};
    auto m = run_mixed(chaperon::make_scenario("HostileHttp", &meet_hostile_http),
                       std::move(config), sessions, healthy_for);
    const auto timeout_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                request_timeout).count();
    EXPECT_LT(m.wall_us, std::max<std::int64_t>(2 * timeout_us, healthy_for.count() * ms_us) +
                             slack_us)
        << "the run outlived its timeouts";

    const auto hostile = seen().take("hostile");
    EXPECT_EQ(hostile.size(), 2 * sessions);
    for (const auto& r : hostile) {
      EXPECT_EQ(r["error"], kind) << r.dump();
      const auto elapsed = r["elapsed_us"].get<std::int64_t>();
      if (prompt) {
        EXPECT_LT(elapsed, timeout_us) << "found out only by the timeout: " << r.dump();
      } else {
        EXPECT_GE(elapsed, timeout_us - 50 * ms_us) << r.dump();
        EXPECT_LT(elapsed, timeout_us + slack_us) << r.dump();
      }
    }
    for (const auto& status : seen().take("warm")) EXPECT_EQ(status, 200);
    const auto after = seen().take("after");
    EXPECT_EQ(after.size(), sessions);
    for (const auto& status : after) EXPECT_EQ(status, 200) << "the session did not recover";

    const auto url = hostile_->url() + path;
    expect_only_errors(m.results, {key("get", url, kind)}, 2 * sessions);
    EXPECT_EQ(count_of(m.results, key("get", hostile_->url() + "/ok")), 2 * sessions);
    EXPECT_EQ(hostile_->path_count(path), 2 * sessions)
        << "the server saw another number of requests than the sessions made (a hidden retry?)";
    expect_sessions_completed(m.results, sessions + healthy_sessions);
    expect_healthy_unharmed(m, healthy_for);
    return m;
  }

  static inline std::unique_ptr<demo_server> demo_;
  static inline std::string setup_error_;
  std::unique_ptr<hostile_server> hostile_;
};

// ---- HTTP ---------------------------------------------------------------------------------------

TEST_F(HostilePeer, InvalidStatusLineIsAProtocolError) {
  check_http_mode("/invalid-status", "protocol", 2000ms, true);
}

TEST_F(HostilePeer, InvalidChunkSizeIsAProtocolError) {
  check_http_mode("/bad-chunk", "protocol", 2000ms, true);
}

TEST_F(HostilePeer, ChunkSizeBeyondSixtyFourBitsIsAProtocolError) {
  check_http_mode("/huge-chunk", "protocol", 2000ms, true);
}

TEST_F(HostilePeer, ResetMidBodyIsAReset) {
  check_http_mode("/reset-mid-body", "reset", 2000ms, true);
}

TEST_F(HostilePeer, CloseBeforeTheAnnouncedLengthIsClosed) {
  check_http_mode("/short-body", "closed", 2000ms, true);
}

TEST_F(HostilePeer, EndlessHeadersAreAProtocolErrorInBoundedMemory) {
  const auto m = check_http_mode("/header-bomb", "protocol", 2000ms, true);
  EXPECT_LT(m.rss_growth_kb, rss_budget_kb);
}

TEST_F(HostilePeer, AnnouncedHugeBodyIsAProtocolErrorInBoundedMemory) {
  const auto m = check_http_mode("/huge-body", "protocol", 2000ms, true, 1);
  EXPECT_LT(m.rss_growth_kb, rss_budget_kb);
}

TEST_F(HostilePeer, StreamedHugeBodyStopsAtTheLimitInBoundedMemory) {
  // One session: a body is kept up to the 64 MiB limit before it is refused, and the string that
  // holds it grows geometrically, so each such exchange may peak near twice the limit.
  const auto m = check_http_mode("/huge-body-chunked", "protocol", 10000ms, true, 1);
  EXPECT_LT(m.rss_growth_kb, rss_budget_kb);
}

TEST_F(HostilePeer, StallIsATimeoutAtTheRequestTimeout) {
  check_http_mode("/stall", "timeout", 1500ms, false);
}

TEST_F(HostilePeer, SlowlorisIsATimeoutAtTheRequestTimeout) {
  check_http_mode("/slowloris", "timeout", 1500ms, false);
}

// Every quick failure at once, several sessions each, over two engine threads: the failures stay
// apart (each is counted under its own URL and class) and the run still ends in time.
TEST_F(HostilePeer, ManyHostileSessionsAtOnce) {
  const std::vector<std::pair<std::string, std::string>> modes{
      {"/invalid-status", "protocol"}, {"/bad-chunk", "protocol"},   {"/huge-chunk", "protocol"},
      {"/reset-mid-body", "reset"},    {"/short-body", "closed"},    {"/header-bomb", "protocol"},
      {"/huge-body", "protocol"},      {"/stall", "timeout"},        {"/slowloris", "timeout"}};
  constexpr std::size_t per_mode = 4;
  seen().clear();
  load_test test{"HostileMix"};
  for (const auto& [path, kind] : modes) {
    test.scenario(per_mode, chaperon::make_scenario("HostileHttp", &meet_hostile_http),
                  json{{"base_url", hostile_->url()}, {"hostile_path", path},
                       {"request_timeout", 1500}, {"connect_timeout", 1000}});
  }
  test.scenario(healthy_sessions, chaperon::make_scenario("Healthy", &stay_healthy),
                json{{"base_url", demo_->url()}, {"healthy_for", 3000}});
  run_options options;
  options.threads = 2;
  const auto start = session::clock::now();
  const auto r = chaperon::run_load_test(test, options);
  const auto wall_us = us_since(start);
  fmt::print("[ hostile  ] ManyHostileSessionsAtOnce: wall {:.3f} s, error metrics:{}\n",
             wall_us / 1e6, error_metrics(r));
  EXPECT_LT(wall_us, 3'000 * ms_us + slack_us);
  std::vector<metric_key> expected;
  for (const auto& [path, kind] : modes) expected.push_back(key("get", hostile_->url() + path, kind));
  expect_only_errors(r, expected, 2 * per_mode);
  for (const auto& status : seen().take("after")) EXPECT_EQ(status, 200);
  const auto total = modes.size() * per_mode;
  EXPECT_EQ(count_of(r, key("get", hostile_->url() + "/ok")), 2 * total);
  expect_sessions_completed(r, total + healthy_sessions);
  const auto healthy = seen().take("healthy");
  ASSERT_EQ(healthy.size(), healthy_sessions);
  for (const auto& h : healthy) EXPECT_EQ(h["failed"], 0) << h.dump();
}

// ---- WebSocket ----------------------------------------------------------------------------------

class HostileWebSocket : public HostilePeer {
 protected:
  static constexpr auto ws_timeout = 2000ms;
  static constexpr std::size_t sessions = 2;

  mixed_run run_ws_mode(const std::string& path) {
    json config{{"hostile_path", path}, {"ws_timeout", ws_timeout.count()}, {"connect_timeout", 1000}};
    auto m = run_mixed(chaperon::make_scenario("HostileWs", &meet_hostile_ws), std::move(config),
                       sessions, 1000ms);
    EXPECT_LT(m.wall_us, 2 * ws_timeout.count() * ms_us + slack_us) << "the run outlived its timeouts";
    EXPECT_EQ(hostile_->path_count(path), sessions);
    expect_sessions_completed(m.results, sessions + healthy_sessions);
    expect_healthy_unharmed(m, 1000ms);
    return m;
  }

  // The upgrade went through and the first receive met a frame a client must reject; the second
  // receive fails at once on the dead connection.
  void check_bad_frame(const std::string& path) {
    const auto m = run_ws_mode(path);
    const auto connects = seen().take("connect");
    const auto recvs = seen().take("recv");
    const auto agains = seen().take("again");
    ASSERT_EQ(connects.size(), sessions);
    for (const auto& c : connects) EXPECT_EQ(c["error"], "") << c.dump();
    ASSERT_EQ(recvs.size(), sessions);
    ASSERT_EQ(agains.size(), sessions);
    const auto limit_us = ws_timeout.count() * ms_us;
    for (const auto& r : recvs) {
      EXPECT_EQ(r["error"], "protocol") << r.dump();
      EXPECT_LT(r["elapsed_us"].get<std::int64_t>(), limit_us) << r.dump();
    }
    // The second receive is a failed action of its own; it may name the error that killed the
    // connection again, or say that it is gone, but never wait.
    std::uint64_t protocol_errors = sessions;
    for (const auto& r : agains) {
      if (r["error"] == "protocol") ++protocol_errors;
      EXPECT_NE(r["error"], "") << r.dump();
      EXPECT_NE(r["error"], "timeout") << "a receive on a dead connection waited: " << r.dump();
      EXPECT_LT(r["elapsed_us"].get<std::int64_t>(), limit_us / 2) << r.dump();
    }
    for (const auto& c : seen().take("still_connected")) EXPECT_EQ(c, false);
    const auto url = hostile_->ws_url() + path;
    EXPECT_EQ(count_of(m.results, key("ws_connect", url)), sessions);
    EXPECT_EQ(count_of(m.results, key("ws_recv", url, "protocol")), protocol_errors)
        << error_metrics(m.results);
  }

  // The upgrade itself failed with `kind`, before the timeout.
  void check_failed_upgrade(const std::string& path, const std::string& kind, int status) {
    const auto m = run_ws_mode(path);
    const auto connects = seen().take("connect");
    ASSERT_EQ(connects.size(), sessions);
    for (const auto& c : connects) {
      EXPECT_EQ(c["error"], kind) << c.dump();
      EXPECT_EQ(c["status"], status) << c.dump();
      EXPECT_LT(c["elapsed_us"].get<std::int64_t>(), ws_timeout.count() * ms_us) << c.dump();
    }
    EXPECT_TRUE(seen().take("recv").empty());
    expect_only_errors(m.results, {key("ws_connect", hostile_->ws_url() + path, kind)}, sessions);
  }
};

TEST_F(HostileWebSocket, ReservedBitsAreAProtocolError) { check_bad_frame("/ws/invalid-frame"); }

TEST_F(HostileWebSocket, MaskedServerFrameIsAProtocolError) {
  check_bad_frame("/ws/masked-frame");
}

TEST_F(HostileWebSocket, CloseDuringUpgradeIsClosed) {
  check_failed_upgrade("/ws/close-during-upgrade", "closed", 0);
}

TEST_F(HostileWebSocket, WrongAcceptKeyIsAProtocolError) {
  check_failed_upgrade("/ws/garbage-upgrade", "protocol", 101);
}

// ---- TLS ----------------------------------------------------------------------------------------

TEST_F(HostilePeer, TlsHandshakeWithAServerThatIsNotTlsFails) {
  const auto https = fmt::format("https://127.0.0.1:{}/x", hostile_->tls_port());
  const auto wss = fmt::format("wss://127.0.0.1:{}/ws", hostile_->tls_port());
  // Certificates are not checked, so the failure can only come from the handshake itself.
  json config{{"https_url", https}, {"wss_url", wss}, {"insecure", true},
              {"request_timeout", 2000}, {"connect_timeout", 1000}, {"ws_timeout", 2000}};
  const auto m = run_mixed(chaperon::make_scenario("NotTls", &meet_not_tls), std::move(config),
                           2, 1000ms);
  EXPECT_LT(m.wall_us, 4'000 * ms_us + slack_us);
  for (const auto* topic : {"https", "wss"}) {
    const auto reports = seen().take(topic);
    ASSERT_EQ(reports.size(), 2u) << topic;
    for (const auto& r : reports) {
      EXPECT_EQ(r["error"], "tls") << topic << ": " << r.dump();
      EXPECT_LT(r["elapsed_us"].get<std::int64_t>(), 2'000 * ms_us) << topic << ": " << r.dump();
    }
  }
  expect_only_errors(m.results, {key("get", https, "tls"), key("ws_connect", wss, "tls")}, 2);
  expect_sessions_completed(m.results, 2 + healthy_sessions);
  expect_healthy_unharmed(m, 1000ms);
}

// ---- what was measured reaches the export -------------------------------------------------------

TEST_F(HostilePeer, ErrorsOfAHostileRunAreExported) {
  json config{{"hostile_path", "/reset-mid-body"}, {"request_timeout", 2000}};
  const auto m = run_mixed(chaperon::make_scenario("HostileHttp", &meet_hostile_http),
                           std::move(config), 1, 500ms);
  const auto url = hostile_->url() + "/reset-mid-body";
  const auto csv = chaperon::export_csv(m.results);
  EXPECT_NE(csv.find("\n Error reset get(" + url + "),2,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n get(" + demo_->url() + "/),"), std::string::npos) << csv;
  const auto exported = json::parse(chaperon::export_json(m.results));
  const auto is_reset = [&](const json& row) {
    return row.value("url", "") == url && row.contains("error") &&
           row["error"].value("reason", "") == "reset";
  };
  const auto it = std::find_if(exported.begin(), exported.end(), is_reset);
  ASSERT_NE(it, exported.end()) << exported.dump(1);
  EXPECT_EQ((*it)["metrics"]["total_count"], 2);
}

TEST_F(HostilePeer, CliQuickAgainstAStallingServerWritesTheTimeouts) {
  chaperon::itest::temp_dir dir;
  const auto out = dir.path() / "stall.csv";
  const auto url = hostile_->url() + "/stall";
  const auto start = session::clock::now();
  const auto r = chaperon::itest::run_command(
      {{CHAPERON_CLI_BINARY, "quick", url, "-s", "2", "-d", "2s", "-c", "request_timeout=500",
        "-c", "connect_timeout=500", "-o", out.string(), "--no-progress"},
       {}},
      60s);
  const auto wall_us = us_since(start);
  ASSERT_FALSE(r.timed_out) << r.out << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_LT(wall_us, 2'500 * ms_us + slack_us) << "2 s of requests of at most 500 ms each";
  ASSERT_TRUE(fs::exists(out)) << r.out << r.err;
  const auto csv = chaperon::itest::read_text_file(out);
  const auto label = "\n Error timeout get(" + url + "),";
  const auto row = csv.find(label);
  ASSERT_NE(row, std::string::npos) << csv;
  // Each session gets through at least three 500 ms timeouts in 2 s.
  EXPECT_GE(std::stoull(csv.substr(row + label.size())), 6u) << csv;
}

}  // namespace
