// Flow helpers of a session: loop, repeat, call, time, retry_on_error, nested scenarios and
// sequences, abort and scenario_timeout with running tasks.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <chaperon/chaperon.hpp>

#include "integration/process_fixture.hpp"
#include "integration/test_control_support.hpp"

namespace {

using namespace chaperon::itest::control::prelude;
using chaperon::itest::demo_server;

task<> count_and_wait(session& s) {
  s.update_assign("runs", [](const json& v) { return v.get<int>() + 1; });
  co_await s.delay(20ms);
}

task<> count_only(session& s) {
  s.update_assign("runs", [](const json& v) { return v.get<int>() + 1; });
  co_return;
}

// ---- loop / repeat / call / time -----------------------------------------------------------------

task<> loop_for_a_while(session& s) {
  s.assign("runs", 0);
  const auto start = session::clock::now();
  co_await s.loop("tick", 200ms, &count_and_wait);
  seen().add("loop", {{"runs", s.assigned("runs")}, {"took_us", us_since(start)}});
}

TEST(ControlFlowLoops, LoopRunsForTheDurationAndTracesEachIteration) {
  auto r = run_scenario_test(chaperon::make_scenario("Looper", &loop_for_a_while));
  auto loop = seen().only("loop");
  const int runs = loop["runs"].get<int>();
  EXPECT_GE(runs, 1);
  EXPECT_LE(runs, 10) << "each iteration takes at least 20 ms of the 200 ms";
  EXPECT_GE(loop["took_us"].get<std::int64_t>(), 200 * ms_us);
  EXPECT_LT(loop["took_us"].get<std::int64_t>(), 2'000 * ms_us);
  const auto k = key("call", "Looper.tick");
  EXPECT_EQ(k.name(), "call(Looper.tick)");
  EXPECT_EQ(count_of(r, k), static_cast<std::uint64_t>(runs));
  EXPECT_GE(min_of(r, k), 20 * ms_us);
}

task<> repeats_and_calls(session& s) {
  s.assign("runs", 0);
  co_await s.repeat(3, &count_only);
  seen().add("after_repeat", s.assigned("runs"));
  co_await s.repeat_traced("again", 4, &count_only);
  seen().add("after_traced", s.assigned("runs"));
  co_await s.call(&count_only);
  co_await s.call_traced("once", &count_and_wait);
  seen().add("after_calls", s.assigned("runs"));
  auto timed = [](session& self) -> task<> { co_await self.delay(10ms); };
  co_await s.time("my_timer", timed);
}

TEST(ControlFlowLoops, RepeatCallAndTime) {
  auto r = run_scenario_test(chaperon::make_scenario("Repeats", &repeats_and_calls));
  EXPECT_EQ(seen().only("after_repeat"), 3);
  EXPECT_EQ(seen().only("after_traced"), 7);
  EXPECT_EQ(seen().only("after_calls"), 9);
  EXPECT_EQ(count_of(r, key("call", "Repeats.again")), 4u) << "repeat_traced traces each run";
  EXPECT_EQ(count_of(r, key("call", "Repeats.once")), 1u);
  EXPECT_GE(min_of(r, key("call", "Repeats.once")), 20 * ms_us);
  EXPECT_EQ(count_of(r, key("my_timer")), 1u);
  EXPECT_GE(min_of(r, key("my_timer")), 10 * ms_us);
  std::uint64_t calls = 0;
  for (const auto& [k, h] : r.metrics) {
    if (k.action == "call") calls += h.count();
  }
  EXPECT_EQ(calls, 5u) << "repeat and call are not traced";
}

// ---- retry_on_error ------------------------------------------------------------------------------

task<> fails_until_third(session& s) {
  s.update_assign("attempts", [](const json& v) { return v.get<int>() + 1; });
  if (s.assigned("attempts").get<int>() < 3) throw std::runtime_error("not yet");
  co_return;
}

task<> always_fails(session& s) {
  s.update_assign("attempts", [](const json& v) { return v.get<int>() + 1; });
  throw std::runtime_error("never works");
  co_return;
}

task<> retry_until_success(session& s) {
  s.assign("attempts", 0);
  session::retry_options options;
  options.retries = 2;
  options.delay = 1ms;
  const bool ok = co_await s.retry_on_error("flaky", &fails_until_third, options);
  seen().add("first", {{"ok", ok}, {"attempts", s.assigned("attempts")}});

  s.assign("attempts", 0);
  options.retries = 1;
  options.delay = 0us;
  options.random_delay = 2ms;
  const bool never = co_await s.retry_on_error("broken", &always_fails, options);
  seen().add("second", {{"ok", never}, {"attempts", s.assigned("attempts")}});

  s.assign("attempts", 0);
  options.retries = 0;
  const bool once = co_await s.retry_on_error("single", &always_fails, options);
  seen().add("third", {{"ok", once}, {"attempts", s.assigned("attempts")}});
}

TEST(ControlFlowRetry, RetriesMeansRetriesAndEachFailureIsRecorded) {
  auto r = run_scenario_test(chaperon::make_scenario("Retry", &retry_until_success));
  auto first = seen().only("first");
  EXPECT_EQ(first["ok"], true);
  EXPECT_EQ(first["attempts"], 3);
  const auto k = key("retry", "Retry.flaky", "exception");
  EXPECT_EQ(k.name(), "Error exception retry(Retry.flaky)");
  EXPECT_EQ(count_of(r, k), 2u);

  auto second = seen().only("second");
  EXPECT_EQ(second["ok"], false);
  EXPECT_EQ(second["attempts"], 2);
  EXPECT_EQ(count_of(r, key("retry", "Retry.broken", "exception")), 2u);

  auto third = seen().only("third");
  EXPECT_EQ(third["ok"], false);
  EXPECT_EQ(third["attempts"], 1);
  EXPECT_EQ(count_of(r, key("retry", "Retry.single", "exception")), 1u);
  EXPECT_EQ(r.sessions.completed, 1u) << "a returned failure does not fail the session";
}

task<> retry_and_rethrow(session& s) {
  s.assign("attempts", 0);
  session::retry_options options;
  options.retries = 1;
  options.delay = 1ms;
  options.rethrow = true;
  co_await s.retry_on_error("broken", &always_fails, options);
  seen().add("after", true);
}

TEST(ControlFlowRetry, RethrowFailsTheSession) {
  auto r = run_scenario_test(chaperon::make_scenario("Rethrow", &retry_and_rethrow));
  EXPECT_TRUE(seen().take("after").empty());
  EXPECT_EQ(count_of(r, key("retry", "Rethrow.broken", "exception")), 2u);
  EXPECT_EQ(r.sessions.failed, 1u);
  EXPECT_EQ(r.session_errors["never works"], 1u);
}

// ---- run_scenario and sequences ------------------------------------------------------------------

task<> inner_run(session& s) {
  seen().add("inner", {{"config", s.config_root()},
                       {"scenario", s.scenario_name()},
                       {"assigned_before", s.assigned("outer", json())}});
  s.assign("from_inner", 1);
  co_await s.call_traced("step", &count_only);
}

task<> outer_run(session& s) {
  s.assign("outer", true);
  s.assign("runs", 0);
  const auto inner = chaperon::make_scenario("Inner", &inner_run);
  json extra{{"inner_key", 2}, {"shared", {{"b", 2}}}};
  co_await s.run_scenario(inner, std::move(extra));
  seen().add("outer", {{"from_inner", s.assigned("from_inner", json())},
                       {"inner_key_left", s.has_config("inner_key")},
                       {"scenario", s.scenario_name()}});
  json replaced{{"only", 1}, {"delay", "5s"}};
  const auto start = session::clock::now();
  co_await s.run_scenario(inner, std::move(replaced), false);
  seen().add("replaced_took_us", us_since(start));
}

TEST(ControlFlowNested, RunScenarioMergesConfigAndKeepsAssigns) {
  json config{{"outer_key", 1}, {"shared", {{"a", 1}}}};
  auto r = run_scenario_test(chaperon::make_scenario("Outer", &outer_run), config);
  auto inner = seen().take("inner");
  ASSERT_EQ(inner.size(), 2u);
  EXPECT_EQ(inner[0]["config"]["outer_key"], 1);
  EXPECT_EQ(inner[0]["config"]["inner_key"], 2);
  EXPECT_EQ(inner[0]["config"]["shared"], (json{{"a", 1}, {"b", 2}})) << "deep-merged";
  EXPECT_EQ(inner[0]["scenario"], "Inner");
  EXPECT_EQ(inner[0]["assigned_before"], true) << "the nested scenario sees the session's state";
  EXPECT_EQ(inner[1]["config"], (json{{"only", 1}, {"delay", "5s"}}))
      << "merge_config=false replaces the config";

  auto outer = seen().only("outer");
  EXPECT_EQ(outer["from_inner"], 1);
  EXPECT_EQ(outer["inner_key_left"], false) << "the nested config ends with the nested scenario";
  EXPECT_EQ(outer["scenario"], "Outer");
  EXPECT_LT(seen().only("replaced_took_us").get<std::int64_t>(), 2'000 * ms_us)
      << "the initial delay is not applied again";

  EXPECT_EQ(count_of(r, key("run_scenario", "Inner")), 2u);
  EXPECT_EQ(key("run_scenario", "Inner").name(), "run_scenario(Inner)");
  EXPECT_EQ(count_of(r, key("call", "Inner.step")), 2u);
}

task<> inner_sets_cookie(session& s) { co_await s.get("/cookies/set?x=1"); }

task<> outer_uses_cookie(session& s) {
  const auto inner = chaperon::make_scenario("SetCookie", &inner_sets_cookie);
  co_await s.run_scenario(inner);
  auto opts = http_options{}.decode_json();
  auto echo = co_await s.get("/echo", std::move(opts));
  seen().add("cookie", echo.json["headers"].value("cookie", ""));
}

TEST(ControlFlowNested, CookiesFromANestedScenarioAreSentAfterwards) {
  demo_server demo;
  json config{{"base_url", demo.url()}};
  auto r = run_scenario_test(chaperon::make_scenario("CookieOuter", &outer_uses_cookie), config);
  EXPECT_EQ(seen().only("cookie"), "x=1");
  EXPECT_EQ(count_of(r, key("run_scenario", "SetCookie")), 1u);
  EXPECT_EQ(r.total_requests(), 2u);
}

task<> inner_gets_echo(session& s) { co_await s.get("/echo"); }

// Sessions share the HTTP settings of a shared config; one that writes its config, or runs a
// nested scenario with another base_url, gets its own, and the others keep theirs.
task<> rebases_midway(session& s) {
  co_await s.get("/echo");
  co_await s.delay(5ms);  // every session has made its first request before any rebases
  const auto base = s.config_as<std::string>("base_url");
  s.set_config("base_url", base + "/api");
  co_await s.get("/echo");
  const auto inner = chaperon::make_scenario("Inner", &inner_gets_echo);
  json nested{{"base_url", base + "/nested"}};
  co_await s.run_scenario(inner, std::move(nested));
  co_await s.get("/echo");
}

TEST(ControlFlowNested, ConfigWritesAndNestedConfigsChangeTheBaseUrlOfThatSessionOnly) {
  demo_server demo;
  json config{{"base_url", demo.url()}};
  constexpr std::size_t sessions = 4;
  auto r = run_scenario_test(chaperon::make_scenario("Rebase", &rebases_midway), config, {},
                             sessions);
  EXPECT_EQ(demo.path_count("/echo"), sessions);
  EXPECT_EQ(demo.path_count("/api/echo"), 2 * sessions);
  EXPECT_EQ(demo.path_count("/nested/echo"), sessions);
  EXPECT_EQ(count_of(r, key("get", demo.url() + "/api/echo")), 2 * sessions);
  EXPECT_EQ(r.sessions.completed, sessions);
}

task<> seq_assigns(session& s) {
  s.assign("token", "abc");
  if (s.has_config("abort_first")) s.abort("first said stop");
  co_return;
}

task<> seq_reads(session& s) {
  seen().add("second", s.config("token"));
  co_return;
}

TEST(ControlFlowNested, SequenceHandsAssignsOnAndAbortSkipsTheRest) {
  auto first = chaperon::make_scenario("First", &seq_assigns);
  auto second = chaperon::make_scenario("Second", &seq_reads);
  chaperon::run_options options;
  options.threads = 1;
  seen().clear();
  auto test = chaperon::load_test{"Seq"}.sequence(1, {first, second});
  auto r = chaperon::run_load_test(test, options);
  EXPECT_EQ(seen().only("second"), "abc");
  EXPECT_EQ(r.sessions.completed, 1u);

  auto aborting = chaperon::load_test{"SeqAbort"}.sequence(1, {first, second}, {{"abort_first", true}});
  r = chaperon::run_load_test(aborting, options);
  EXPECT_TRUE(seen().take("second").empty());
  EXPECT_EQ(r.sessions.aborted, 1u);
}

// ---- abort and scenario_timeout --------------------------------------------------------------------

task<> spin(session& c) { co_await c.loop("spin", 30s, &count_and_wait); }

task<> abort_with_child(session& s) {
  s.assign("runs", 0);
  s.async("spinner", &spin);
  co_await s.delay(30ms);
  s.abort("enough");
  seen().add("stopped", {{"stopped", s.stopped()}, {"reason", s.stop_reason()}});
  bool threw = false;
  try {
    co_await s.delay(1ms);
  } catch (const chaperon::session_stopped&) {
    threw = true;
  }
  seen().add("threw", threw);
  co_await s.get("/never");
  seen().add("after_get", true);
}

task<> note_teardown(session& s) {
  seen().add("teardown", s.stopped());
  co_return;
}

TEST(ControlFlowStop, AbortStopsLaterActionsAndChildren) {
  auto ref = chaperon::make_scenario("Abort", &abort_with_child, {}, &note_teardown);
  auto r = run_scenario_test(ref, json{{"base_url", "http://127.0.0.1:1"}});
  auto stopped = seen().only("stopped");
  EXPECT_EQ(stopped["stopped"], true);
  EXPECT_EQ(stopped["reason"], "enough");
  EXPECT_EQ(seen().only("threw"), true);
  EXPECT_TRUE(seen().take("after_get").empty());
  EXPECT_EQ(seen().only("teardown"), true) << "teardown still runs";
  EXPECT_EQ(r.sessions.aborted, 1u);
  EXPECT_EQ(r.session_errors["aborted: enough"], 1u);
  EXPECT_EQ(r.total_requests(), 0u);
  EXPECT_EQ(count_of(r, key("spinner")), 1u) << "the child ended";
  EXPECT_LT(r.duration_us, 5'000 * ms_us) << "the child stopped with its parent";
}

task<> wait_on_spinner(session& s) {
  s.assign("runs", 0);
  s.async("spinner", &spin);
  co_await s.await("spinner");
  seen().add("await_returned", true);
}

TEST(ControlFlowStop, ScenarioTimeoutStopsTheSessionAndItsTasks) {
  json config{{"scenario_timeout", "150ms"}, {"timeout", "60s"}};
  auto r = run_scenario_test(chaperon::make_scenario("Timed", &wait_on_spinner), config);
  EXPECT_TRUE(seen().take("await_returned").empty());
  EXPECT_EQ(r.sessions.timed_out, 1u);
  EXPECT_EQ(r.session_errors["scenario_timeout"], 1u);
  EXPECT_EQ(count_of(r, key("spinner")), 1u);
  EXPECT_GE(r.duration_us, 150 * ms_us);
  EXPECT_LT(r.duration_us, 5'000 * ms_us);
}

}  // namespace
