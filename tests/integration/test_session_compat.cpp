// Session functions of the original that a Chaperon user reaches for: ws_close forgets its
// connection and ws_reset drops one, a WebSocket URL that cannot be used is a recorded error,
// schedule_scenario, add_error / add_result / add_ws_result with store_results, await_signal
// with the default timeout, retry_on_error with default options and await(name) awaiting every
// task of that name. Each test runs a real load test in-process, against the demo target where
// it needs a server.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <chaperon/chaperon.hpp>

#include "integration/process_fixture.hpp"
#include "integration/test_control_support.hpp"

namespace {

using namespace chaperon::itest::control::prelude;
using chaperon::itest::control::numbered_child;
using chaperon::ws_options;
using chaperon::ws_result;
using chaperon::itest::demo_server;

std::string error_of(const ws_result& r) { return std::string(to_string(r.error)); }

// ---- ws_close forgets the connection; ws_reset drops one without a close handshake ------------

task<> close_then_use(session& s) {
  co_await s.ws_connect("/ws/echo");
  co_await s.ws_close();
  seen().add("connected_after_close", s.ws_connected());
  seen().add("send_after_close", error_of(co_await s.ws_send("late")));
  seen().add("recv_after_close", error_of(co_await s.ws_recv()));
}

TEST(SessionCompatWs, ClosedConnectionIsForgotten) {
  demo_server demo;
  auto r = run_scenario_test(chaperon::make_scenario("CloseThenUse", &close_then_use),
                             json{{"base_url", demo.url()}});
  EXPECT_EQ(seen().only("connected_after_close"), false);
  EXPECT_EQ(seen().only("send_after_close"), "not_connected");
  EXPECT_EQ(seen().only("recv_after_close"), "not_connected");
  EXPECT_EQ(count_of(r, key("ws_send", "(no connection)", "not_connected")), 1u);
  EXPECT_EQ(count_of(r, key("ws_recv", "(no connection)", "not_connected")), 1u);
  EXPECT_EQ(r.sessions.completed, 1u);
}

task<> reset_then_reconnect(session& s) {
  co_await s.ws_connect("/ws/echo");
  s.ws_reset();
  seen().add("connected_after_reset", s.ws_connected());
  seen().add("send_after_reset", error_of(co_await s.ws_send("late")));
  s.ws_reset();  // nothing there: does nothing
  co_await s.ws_connect("/ws/echo");
  co_await s.ws_send("again");
  seen().add("echo", (co_await s.ws_recv()).message.data);
  co_await s.ws_close();
}

TEST(SessionCompatWs, ResetDropsTheConnectionAndANewOneWorks) {
  demo_server demo;
  auto r = run_scenario_test(chaperon::make_scenario("ResetThenReconnect", &reset_then_reconnect),
                             json{{"base_url", demo.url()}});
  EXPECT_EQ(seen().only("connected_after_reset"), false);
  EXPECT_EQ(seen().only("send_after_reset"), "not_connected");
  EXPECT_EQ(seen().only("echo"), "again");
  EXPECT_EQ(count_of(r, key("ws_send", "(no connection)", "not_connected")), 1u);
  EXPECT_EQ(r.sessions.completed, 1u);
}

// ---- a WebSocket URL that cannot be used is a recorded error; the session goes on -------------

task<> connect_to_bad_urls(session& s) {
  auto relative = co_await s.ws_connect("/ws/echo");
  seen().add("relative", json{{"error", error_of(relative)}, {"url", relative.url}});
  auto garbled = co_await s.ws_connect("ws://127.0.0.1:notaport/ws/echo");
  seen().add("garbled", json{{"error", error_of(garbled)}, {"url", garbled.url}});
  seen().add("connected", s.ws_connected());
  seen().add("went_on", true);
}

TEST(SessionCompatWs, UnusableUrlIsARecordedErrorNamingIt) {
  auto r = run_scenario_test(chaperon::make_scenario("BadUrls", &connect_to_bad_urls));
  EXPECT_EQ(seen().only("relative"), (json{{"error", "invalid_url"}, {"url", "/ws/echo"}}));
  EXPECT_EQ(seen().only("garbled"),
            (json{{"error", "invalid_url"}, {"url", "ws://127.0.0.1:notaport/ws/echo"}}));
  EXPECT_EQ(seen().only("connected"), false);
  EXPECT_EQ(seen().only("went_on"), true);
  const auto k = key("ws_connect", "/ws/echo", "invalid_url");
  EXPECT_EQ(k.name(), "Error invalid_url ws_connect(/ws/echo)");
  EXPECT_EQ(count_of(r, k), 1u);
  EXPECT_EQ(count_of(r, key("ws_connect", "ws://127.0.0.1:notaport/ws/echo", "invalid_url")), 1u);
  EXPECT_EQ(r.sessions.completed, 1u);
  EXPECT_TRUE(r.session_errors.empty());
}

// ---- schedule_scenario starts an independent session and does not wait for it -----------------

task<> scheduled_run(session& s) {
  seen().add("scheduled_start", s.config_as<std::int64_t>("started_at"));
  co_await s.delay(std::chrono::milliseconds(s.config_as<int>("scheduled_ms")));
  s.add_metric("scheduled_work", 1ms);
  seen().add("scheduled", json{{"id", s.id()},
                               {"name", s.name()},
                               {"scenario", s.scenario_name()},
                               {"parent_key", s.config("parent_key", json())},
                               {"assigned", s.assigned()}});
}

task<> schedules(session& s) {
  s.assign("mine", 1);
  const auto scheduled = chaperon::make_scenario("Scheduled", &scheduled_run);
  const auto now = chaperon::itest::control::clock_ticks();
  s.schedule_scenario(scheduled, json{{"started_at", now}});
  s.schedule_scenario(scheduled, json{{"started_at", now}, {"scheduled_ms", 10}}, false);
  seen().add("parent", json{{"id", s.id()}, {"returned_after_us", us_since_ticks(now)}});
  co_return;
}

TEST(SessionCompatSchedule, ScheduledScenarioIsASessionOfItsOwn) {
  auto r = run_scenario_test(chaperon::make_scenario("Schedules", &schedules),
                             json{{"parent_key", "p"}, {"scheduled_ms", 150}});
  auto parent = seen().only("parent");
  EXPECT_LT(parent["returned_after_us"].get<std::int64_t>(), 100 * ms_us)
      << "schedule_scenario does not wait";
  auto scheduled = seen().take("scheduled");
  ASSERT_EQ(scheduled.size(), 2u);
  std::set<std::string> ids{parent["id"].get<std::string>()};
  for (const auto& one : scheduled) {
    ids.insert(one["id"].get<std::string>());
    EXPECT_EQ(one["name"], "Scheduled " + one["id"].get<std::string>());
    EXPECT_EQ(one["scenario"], "Scheduled");
    EXPECT_EQ(one["assigned"], json::object()) << "nothing of the parent's own state";
  }
  EXPECT_EQ(ids.size(), 3u) << "each session has its own id";
  // The merged one sees the parent's config and waits 150 ms; the replaced one only its own.
  std::multiset<json> parent_keys{scheduled[0]["parent_key"], scheduled[1]["parent_key"]};
  EXPECT_EQ(parent_keys, (std::multiset<json>{json(), "p"}));
  EXPECT_EQ(r.sessions.started, 3u);
  EXPECT_EQ(r.sessions.completed, 3u);
  EXPECT_EQ(count_of(r, key("scheduled_work")), 2u) << "its metrics count toward the run";
  EXPECT_GE(r.duration_us, 150 * ms_us) << "the run waits for the scheduled sessions";
}

// ---- add_error, add_result, add_ws_result and store_results -----------------------------------

task<> records_results(session& s) {
  s.add_error("checkout", "out_of_stock");
  chaperon::http_result unavailable;
  unavailable.status = 503;
  unavailable.duration = 5ms;
  s.add_result("get(/stock)", unavailable);
  chaperon::http_result fine;
  fine.status = 200;
  fine.duration = 2ms;
  s.add_result("get(/stock)", fine);
  ws_result late;
  late.error = chaperon::failure::timeout;
  late.duration = 7ms;
  s.add_ws_result("ws_recv(feed)", late);
  if (s.has_config("base_url")) {
    co_await s.ws_connect("/ws/echo");
    co_await s.ws_send("kept");
    co_await s.ws_recv();
    co_await s.ws_close();
  }
  std::vector<std::string> actions;
  for (const auto& kept : s.results()) actions.push_back(kept.action);
  seen().add("kept", actions);
  for (int i = 0; i < 150; ++i) {
    chaperon::http_result numbered;
    numbered.status = 200 + i;
    s.add_result("bulk", numbered);
  }
  const auto& all = s.results();
  const auto* oldest = all.empty() ? nullptr : std::get_if<chaperon::http_result>(&all.front().result);
  seen().add("bounded", json{{"size", all.size()}, {"oldest_status", oldest ? oldest->status : -1}});
}

TEST(SessionCompatResults, AddedResultsAreRecordedAsBuiltInOnesAndKeptOnRequest) {
  demo_server demo;
  auto r = run_scenario_test(chaperon::make_scenario("Records", &records_results),
                             json{{"base_url", demo.url()}, {"store_results", true}});
  const auto error = key("checkout", "", "out_of_stock");
  EXPECT_EQ(error.name(), "Error out_of_stock checkout");
  EXPECT_EQ(count_of(r, error), 1u);
  EXPECT_EQ(count_of(r, key("get(/stock)")), 2u);
  EXPECT_EQ(count_of(r, key("get(/stock)", "", "HTTP 503")), 1u);
  EXPECT_EQ(chaperon::itest::control::min_of(r, key("get(/stock)")), 2 * ms_us);
  EXPECT_EQ(count_of(r, key("ws_recv(feed)", "", "timeout")), 1u);
  EXPECT_EQ(count_of(r, key("ws_recv(feed)")), 0u) << "a failed WebSocket result has no time";
  const std::string ws_url = "ws://127.0.0.1:" + std::to_string(demo.port()) + "/ws/echo";
  EXPECT_EQ(seen().only("kept"),
            (json{"get(/stock)", "get(/stock)", "ws_recv(feed)", "ws_connect(" + ws_url + ")",
                  "ws_send(" + ws_url + ")", "ws_recv(" + ws_url + ")"}));
  EXPECT_EQ(seen().only("bounded"),
            (json{{"size", session::max_kept_results}, {"oldest_status", 250}}));
  EXPECT_EQ(r.sessions.completed, 1u);
}

TEST(SessionCompatResults, NothingIsKeptWithoutStoreResults) {
  auto r = run_scenario_test(chaperon::make_scenario("Records", &records_results));
  EXPECT_EQ(seen().only("kept"), json::array());
  EXPECT_EQ(seen().only("bounded"), (json{{"size", 0}, {"oldest_status", -1}}));
  EXPECT_EQ(count_of(r, key("bulk")), 150u);
}

// ---- await_signal with the default timeout; retry_on_error with default options ---------------

task<> signals_later(session& c) {
  co_await c.delay(20ms);
  c.signal_parent("go");
}

task<> awaits_signals(session& s) {
  s.async("signaller", &signals_later);
  seen().add("got_go", co_await s.await_signal("go"));
  co_await s.await("signaller");
  s.set_config("timeout", "50ms");
  const auto start = session::clock::now();
  seen().add("got_never", co_await s.await_signal("never"));
  seen().add("waited_us", us_since(start));
}

TEST(SessionCompatSignals, AwaitSignalUsesTheConfigTimeout) {
  auto r = run_scenario_test(chaperon::make_scenario("Signals", &awaits_signals));
  EXPECT_EQ(seen().only("got_go"), true);
  EXPECT_EQ(seen().only("got_never"), false);
  const auto waited = seen().only("waited_us").get<std::int64_t>();
  EXPECT_GE(waited, 50 * ms_us);
  EXPECT_LT(waited, 5'000 * ms_us);
  EXPECT_EQ(count_of(r, key("await_signal", "", "timeout")), 1u);
  EXPECT_EQ(r.sessions.completed, 1u);
}

task<> fails_once(session& s) {
  const int attempts = s.assigned("attempts", 0).get<int>() + 1;
  s.assign("attempts", attempts);
  if (attempts == 1) throw std::runtime_error("first attempt fails");
  co_return;
}

task<> retries_with_defaults(session& s) {
  const auto start = session::clock::now();
  seen().add("ok", co_await s.retry_on_error("flaky", &fails_once));
  seen().add("attempts", s.assigned("attempts"));
  seen().add("took_us", us_since(start));
}

TEST(SessionCompatRetry, DefaultOptionsRetryOnceAfterARandomDelayUpToASecond) {
  auto r = run_scenario_test(chaperon::make_scenario("Defaults", &retries_with_defaults));
  EXPECT_EQ(seen().only("ok"), true);
  EXPECT_EQ(seen().only("attempts"), 2);
  EXPECT_LT(seen().only("took_us").get<std::int64_t>(), 3'000 * ms_us);
  EXPECT_EQ(count_of(r, key("retry", "Defaults.flaky", "exception")), 1u);
}

// ---- await(name) waits for every task under that name -----------------------------------------

task<> awaits_a_name(session& s) {
  s.async("batch", &numbered_child, 1, 30);
  s.async("batch", &numbered_child, 2, 10);
  s.async("batch", &numbered_child, 3, 20);
  const bool ok = co_await s.await("batch");
  auto finished = seen().take("finished");
  std::sort(finished.begin(), finished.end());
  seen().add("after_await", json{{"ok", ok},
                                 {"finished", finished},
                                 {"left", s.async_task_count("batch")}});
  seen().add("again", co_await s.await("batch"));
}

TEST(SessionCompatAwait, AwaitWaitsForEveryTaskOfTheName) {
  auto r = run_scenario_test(chaperon::make_scenario("AwaitName", &awaits_a_name));
  EXPECT_EQ(seen().only("after_await"),
            (json{{"ok", true}, {"finished", {1, 2, 3}}, {"left", 0}}));
  EXPECT_EQ(seen().only("again"), false) << "nothing left under the name";
  EXPECT_EQ(count_of(r, key("await", "batch", "no_task")), 1u);
  EXPECT_EQ(count_of(r, key("batch")), 3u);
  EXPECT_EQ(r.sessions.completed, 1u);
}

}  // namespace
