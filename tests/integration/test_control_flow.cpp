// Async tasks, await, signals, heartbeats and cc_spread: child sessions on the parent's worker,
// their metrics, timeouts as recorded errors, and signal delivery in both directions.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <chaperon/chaperon.hpp>

#include "integration/process_fixture.hpp"
#include "integration/test_control_support.hpp"

namespace {

using namespace chaperon::itest::control::prelude;
using chaperon::itest::control::numbered_child;
using chaperon::itest::demo_server;

// ---- async / await -----------------------------------------------------------------------------

task<> child_assigns(session& c, int n) {
  seen().add("child_start", {{"who", c.assigned("who")}, {"n", n}, {"id", c.id()}});
  c.assign("who", "child");
  co_await c.delay(5ms);
  seen().add("child_end", c.assigned("who"));
}

task<> await_one(session& s) {
  s.assign("who", "parent");
  s.async("worker", &child_assigns, 7);
  const auto pending = s.async_task_count("worker");
  const bool ok = co_await s.await("worker");
  seen().add("parent", {{"ok", ok},
                        {"who", s.assigned("who")},
                        {"pending_before", pending},
                        {"pending_after", s.async_task_count("worker")},
                        {"id", s.id()}});
}

TEST(ControlFlowAsync, AwaitRunsTheChildAndRecordsTheTaskDuration) {
  auto r = run_scenario_test(chaperon::make_scenario("Await", &await_one));
  auto start = seen().only("child_start");
  auto parent = seen().only("parent");
  ASSERT_FALSE(start.is_null());
  ASSERT_FALSE(parent.is_null());
  EXPECT_EQ(start["who"], "parent") << "a child starts with a copy of the assigned values";
  EXPECT_EQ(start["n"], 7) << "async passes its extra arguments";
  EXPECT_NE(start["id"], parent["id"]) << "a child is a session of its own";
  EXPECT_EQ(seen().only("child_end"), "child");
  EXPECT_EQ(parent["ok"], true);
  EXPECT_EQ(parent["who"], "parent") << "the child's assign stays the child's";
  EXPECT_EQ(parent["pending_before"], 1);
  EXPECT_EQ(parent["pending_after"], 0);
  EXPECT_EQ(count_of(r, key("worker")), 1u);
  EXPECT_GE(max_of(r, key("worker")), 5 * ms_us) << "the task's duration covers its delay";
  EXPECT_EQ(r.error_count(), 0u);
  EXPECT_EQ(r.sessions.started, 1u) << "tasks are not counted as sessions";
  EXPECT_EQ(r.sessions.completed, 1u);
}

task<> child_gets_echo(session& c) {
  co_await c.get("/echo");
  co_await c.get("/echo");
}

task<> parent_with_http_child(session& s) {
  s.async("fetch", &child_gets_echo);
  co_await s.get("/echo");
  seen().add("ok", co_await s.await("fetch"));
}

TEST(ControlFlowAsync, ChildRequestsCountInTheRun) {
  demo_server demo;
  json config{{"base_url", demo.url()}};
  auto r = run_scenario_test(chaperon::make_scenario("HttpChild", &parent_with_http_child), config);
  EXPECT_EQ(seen().only("ok"), true);
  EXPECT_EQ(count_of(r, key("get", demo.url() + "/echo")), 3u);
  EXPECT_EQ(r.total_requests(), 3u);
  EXPECT_EQ(demo.path_count("/echo"), 3u);
  EXPECT_EQ(count_of(r, key("fetch")), 1u);
}

task<> several_per_name(session& s) {
  s.async("batch", &numbered_child, 1, 30);
  s.async("batch", &numbered_child, 2, 10);
  s.async("batch", &numbered_child, 3, 20);
  s.async("other", &numbered_child, 4, 1);
  seen().add("count", s.async_task_count("batch"));
  const bool ok = co_await s.await_all("batch");
  seen().add("all", {{"ok", ok}, {"left", s.async_task_count("batch")}});
  seen().add("other_ok", co_await s.await("other"));
}

TEST(ControlFlowAsync, SeveralTasksPerNameAndAwaitAll) {
  auto r = run_scenario_test(chaperon::make_scenario("Batch", &several_per_name));
  EXPECT_EQ(seen().only("count"), 3);
  auto all = seen().only("all");
  EXPECT_EQ(all["ok"], true);
  EXPECT_EQ(all["left"], 0);
  EXPECT_EQ(seen().only("other_ok"), true);
  auto finished = seen().take("finished");
  std::sort(finished.begin(), finished.end());
  EXPECT_EQ(finished, (std::vector<json>{1, 2, 3, 4}));
  EXPECT_EQ(count_of(r, key("batch")), 3u);
  EXPECT_EQ(count_of(r, key("other")), 1u);
  EXPECT_EQ(r.error_count(), 0u);
}

task<> await_list(session& s) {
  s.async("a", &numbered_child, 1, 5);
  s.async("b", &numbered_child, 2, 5);
  std::vector<std::string> names{"a", "b"};
  const bool ok = co_await s.await(std::move(names));
  seen().add("ok", ok);
  seen().add("left", s.async_task_count("a") + s.async_task_count("b"));
}

TEST(ControlFlowAsync, AwaitAListOfNames) {
  auto r = run_scenario_test(chaperon::make_scenario("List", &await_list));
  EXPECT_EQ(seen().only("ok"), true);
  EXPECT_EQ(seen().only("left"), 0);
  EXPECT_EQ(count_of(r, key("a")), 1u);
  EXPECT_EQ(count_of(r, key("b")), 1u);
  EXPECT_EQ(r.error_count(), 0u);
}

task<> await_nothing(session& s) {
  seen().add("ok", co_await s.await("ghost"));
  seen().add("still_running", true);
}

TEST(ControlFlowAsync, AwaitWithoutTaskIsARecordedError) {
  auto r = run_scenario_test(chaperon::make_scenario("Ghost", &await_nothing));
  EXPECT_EQ(seen().only("ok"), false);
  EXPECT_EQ(seen().only("still_running"), true);
  const auto k = key("await", "ghost", "no_task");
  EXPECT_EQ(k.name(), "Error no_task await(ghost)");
  EXPECT_EQ(count_of(r, k), 1u);
  EXPECT_EQ(r.sessions.completed, 1u);
}

task<> sleepy_child(session& c) {
  co_await c.delay(5s);
  seen().add("late_child_finished", true);
}

task<> await_too_long(session& s) {
  s.async("slow", &sleepy_child);
  const auto start = session::clock::now();
  const bool ok = co_await s.await("slow");
  seen().add("await", {{"ok", ok}, {"waited_us", us_since(start)}});
}

TEST(ControlFlowAsync, AwaitTimeoutIsRecordedAndStopsTheLateTask) {
  json config{{"timeout", "100ms"}};
  auto r = run_scenario_test(chaperon::make_scenario("Timeout", &await_too_long), config);
  auto await = seen().only("await");
  EXPECT_EQ(await["ok"], false);
  EXPECT_GE(await["waited_us"].get<std::int64_t>(), 100 * ms_us);
  EXPECT_TRUE(seen().take("late_child_finished").empty()) << "the late task was stopped";
  EXPECT_EQ(count_of(r, key("await", "slow", "timeout")), 1u);
  EXPECT_EQ(count_of(r, key("slow")), 1u) << "the stopped task's duration is still recorded";
  EXPECT_LT(r.duration_us, 3'000 * ms_us) << "the run does not wait for the 5 s delay";
  EXPECT_EQ(r.sessions.completed, 1u) << "a timed-out await is an error, not a stop";
}

task<> marks_done(session& c) {
  co_await c.delay(50ms);
  c.signal_parent("leftover done");
}

task<> leave_task_behind(session& s) {
  s.async("left", &marks_done);
  co_return;
}

task<> teardown_after_leftovers(session& s) {
  auto got = co_await s.await_signal_or_timeout(0us);
  seen().add("teardown", got ? *got : json());
}

TEST(ControlFlowAsync, LeftoverTasksAreAwaitedBeforeTeardown) {
  auto ref = chaperon::make_scenario("Leftover", &leave_task_behind, {}, &teardown_after_leftovers);
  auto r = run_scenario_test(ref);
  EXPECT_EQ(seen().only("teardown"), "leftover done");
  EXPECT_EQ(count_of(r, key("left")), 1u);
  EXPECT_EQ(r.error_count(), 0u);
  EXPECT_EQ(r.sessions.completed, 1u);
}

task<> grandchild(session& g) {
  co_await g.delay(30ms);
  seen().add("grandchild_done", true);
}

task<> child_leaves_grandchild(session& c) {
  c.async("grandchild", &grandchild);
  co_return;
}

task<> await_child_with_grandchild(session& s) {
  s.async("child", &child_leaves_grandchild);
  const bool ok = co_await s.await("child");
  seen().add("awaited", {{"ok", ok}, {"grandchild_done", !seen().take("grandchild_done").empty()}});
}

TEST(ControlFlowAsync, ATaskEndsAfterItsOwnTasks) {
  auto r = run_scenario_test(chaperon::make_scenario("Nested", &await_child_with_grandchild));
  auto awaited = seen().only("awaited");
  EXPECT_EQ(awaited["ok"], true);
  EXPECT_EQ(awaited["grandchild_done"], true);
  EXPECT_EQ(count_of(r, key("grandchild")), 1u);
  EXPECT_GE(max_of(r, key("child")), 30 * ms_us);
}

// ---- signals -----------------------------------------------------------------------------------

task<> listener(session& c) {
  const bool got = co_await c.await_signal("go", 5s);
  seen().add("child_got_go", got);
  c.signal_parent("unrelated");
  c.signal_parent("done");
}

task<> signal_both_ways(session& s) {
  s.async("listener", &listener);
  s.signal("listener", "go");
  const bool done = co_await s.await_signal("done", 5s);
  // The signal that did not match stays queued for later.
  auto queued = co_await s.await_signal_or_timeout(1s);
  seen().add("parent", {{"done", done}, {"queued", queued ? *queued : json()}});
  seen().add("awaited", co_await s.await("listener"));
}

TEST(ControlFlowSignals, DeliveredParentToChildAndBack) {
  auto r = run_scenario_test(chaperon::make_scenario("Signals", &signal_both_ways));
  EXPECT_EQ(seen().only("child_got_go"), true);
  auto parent = seen().only("parent");
  EXPECT_EQ(parent["done"], true);
  EXPECT_EQ(parent["queued"], "unrelated");
  EXPECT_EQ(seen().only("awaited"), true);
  EXPECT_EQ(r.error_count(), 0u);
}

task<> late_listener(session& c) {
  // The signal arrives while this task sleeps; it must wait in the mailbox.
  co_await c.delay(20ms);
  json expected{{"n", 1}};
  seen().add("got", co_await c.await_signal(std::move(expected), 1s));
}

task<> signal_before_waiting(session& s) {
  s.async("late", &late_listener);
  s.async("late", &late_listener);
  s.signal("late", json{{"n", 1}});
  co_await s.await_all("late");
}

TEST(ControlFlowSignals, SignalToEveryTaskOfANameIsQueuedUntilAwaited) {
  auto r = run_scenario_test(chaperon::make_scenario("Queued", &signal_before_waiting));
  EXPECT_EQ(seen().take("got"), (std::vector<json>{true, true}));
  EXPECT_EQ(r.error_count(), 0u);
}

task<> wait_for_nothing(session& s) {
  const auto start = session::clock::now();
  const bool got = co_await s.await_signal("never", 50ms);
  seen().add("wait", {{"got", got}, {"waited_us", us_since(start)}});
}

TEST(ControlFlowSignals, AwaitSignalTimeoutIsARecordedError) {
  auto r = run_scenario_test(chaperon::make_scenario("NoSignal", &wait_for_nothing));
  auto wait = seen().only("wait");
  EXPECT_EQ(wait["got"], false);
  EXPECT_GE(wait["waited_us"].get<std::int64_t>(), 50 * ms_us);
  const auto k = key("await_signal", "", "timeout");
  EXPECT_EQ(k.name(), "Error timeout await_signal");
  EXPECT_EQ(count_of(r, k), 1u);
  EXPECT_EQ(r.sessions.completed, 1u);
}

task<> sends_value(session& c) {
  co_await c.delay(5ms);
  c.signal_parent(json{{"n", 42}});
}

task<> or_timeout(session& s) {
  auto none = co_await s.await_signal_or_timeout(20ms);
  s.async("sender", &sends_value);
  auto store = [](session& self, const json& v) { self.assign("from_callback", v); };
  auto some = co_await s.await_signal_or_timeout(5s, store);
  seen().add("result", {{"none", none.has_value()},
                        {"some", some ? *some : json()},
                        {"callback", s.assigned("from_callback", json())}});
}

TEST(ControlFlowSignals, AwaitSignalOrTimeoutGivesNulloptOrTheValue) {
  auto r = run_scenario_test(chaperon::make_scenario("OrTimeout", &or_timeout));
  auto result = seen().only("result");
  EXPECT_EQ(result["none"], false);
  EXPECT_EQ(result["some"], (json{{"n", 42}}));
  EXPECT_EQ(result["callback"], (json{{"n", 42}}));
  EXPECT_EQ(r.error_count(), 0u) << "an await_signal_or_timeout timeout is not an error";
}

task<> with_callback(session& s) {
  s.async("sender", &sends_value);
  auto store = [](session& self, const json& v) { self.assign("from_callback", v); };
  const bool got = co_await s.await_signal(store);
  // Nothing else is sent: this one times out after config `timeout`.
  const bool second = co_await s.await_signal(store);
  seen().add("result", {{"got", got}, {"second", second}, {"value", s.assigned("from_callback")}});
}

TEST(ControlFlowSignals, AwaitSignalWithCallback) {
  json config{{"timeout", "50ms"}};
  auto r = run_scenario_test(chaperon::make_scenario("Callback", &with_callback), config);
  auto result = seen().only("result");
  EXPECT_EQ(result["got"], true);
  EXPECT_EQ(result["second"], false);
  EXPECT_EQ(result["value"], (json{{"n", 42}}));
  EXPECT_EQ(count_of(r, key("await_signal", "", "timeout")), 1u);
}

// ---- heartbeat while waiting ---------------------------------------------------------------------

task<> beat(session& s) {
  s.update_assign("beats", [](const json& v) { return v.get<int>() + 1; });
  co_return;
}

task<> heartbeat_while_awaiting(session& s) {
  s.assign("beats", 0);
  s.set_interval(20ms, &beat);
  s.async("slow", &numbered_child, 1, 200);
  const bool ok = co_await s.await("slow");
  const int during = s.assigned("beats").get<int>();
  co_await s.delay(100ms);
  seen().add("beats", {{"ok", ok}, {"during", during}, {"after", s.assigned("beats")}});
}

TEST(ControlFlowSignals, HeartbeatRunsOnlyWhileWaiting) {
  auto r = run_scenario_test(chaperon::make_scenario("Heartbeat", &heartbeat_while_awaiting));
  auto beats = seen().only("beats");
  EXPECT_EQ(beats["ok"], true);
  EXPECT_GE(beats["during"].get<int>(), 2);
  EXPECT_LE(beats["during"].get<int>(), 10) << "at most one beat per period";
  EXPECT_EQ(beats["after"], beats["during"]) << "no beats during a plain delay";
  EXPECT_EQ(r.error_count(), 0u);
}

task<> slow_beat(session& s) { co_await s.delay(200ms); }

task<> signals_mid_beat(session& c) {
  co_await c.delay(100ms);
  c.signal_parent("ping");
}

task<> signal_during_heartbeat(session& s) {
  s.set_interval(20ms, &slow_beat);
  s.async("pinger", &signals_mid_beat);
  const auto start = session::clock::now();
  const bool got = co_await s.await_signal("ping", 3s);
  seen().add("wait", {{"got", got}, {"waited_us", us_since(start)}});
}

TEST(ControlFlowSignals, SignalArrivingDuringAHeartbeatIsNotLost) {
  auto r = run_scenario_test(chaperon::make_scenario("BusyBeat", &signal_during_heartbeat));
  auto wait = seen().only("wait");
  EXPECT_EQ(wait["got"], true);
  EXPECT_LT(wait["waited_us"].get<std::int64_t>(), 1'500 * ms_us)
      << "the signal is taken when the heartbeat returns, not at the timeout";
  EXPECT_EQ(count_of(r, key("await_signal", "", "timeout")), 0u);
}

task<> finishes_mid_beat(session& c) { co_await c.delay(100ms); }

task<> task_done_during_heartbeat(session& s) {
  s.set_interval(20ms, &slow_beat);
  s.async("quick", &finishes_mid_beat);
  const auto start = session::clock::now();
  const bool ok = co_await s.await("quick");
  seen().add("wait", {{"ok", ok}, {"waited_us", us_since(start)}});
}

TEST(ControlFlowSignals, TaskFinishingDuringAHeartbeatEndsTheAwait) {
  json config{{"timeout", "3s"}};
  auto r = run_scenario_test(chaperon::make_scenario("BusyAwait", &task_done_during_heartbeat),
                             config);
  auto wait = seen().only("wait");
  EXPECT_EQ(wait["ok"], true);
  EXPECT_LT(wait["waited_us"].get<std::int64_t>(), 1'500 * ms_us);
}

// ---- cc_spread -----------------------------------------------------------------------------------

task<> report_start(session& c) {
  seen().add("start_us", us_since_ticks(c.assigned("t0").get<std::int64_t>()));
  co_await c.delay(1ms);
}

task<> spread_over_interval(session& s) {
  const auto rate = s.config_as<std::size_t>("rate");
  const auto interval = s.config_duration("interval");
  s.assign("t0", clock_ticks());
  co_await s.cc_spread("spread", rate, interval, &report_start);
  seen().add("count", s.async_task_count("spread"));
  seen().add("ok", co_await s.await_all("spread"));
}

std::vector<std::int64_t> start_offsets() {
  std::vector<std::int64_t> out;
  for (const auto& v : seen().take("start_us")) out.push_back(v.get<std::int64_t>());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ControlFlowSpread, StartsRateTasksEvenlyOverTheInterval) {
  json config{{"rate", 5}, {"interval", "200ms"}};
  auto r = run_scenario_test(chaperon::make_scenario("Spread", &spread_over_interval), config);
  EXPECT_EQ(seen().only("count"), 5);
  EXPECT_EQ(seen().only("ok"), true);
  EXPECT_EQ(count_of(r, key("spread")), 5u) << "the name is honoured";
  auto starts = start_offsets();
  ASSERT_EQ(starts.size(), 5u);
  // Timers never fire early, so start i is at least i * interval / rate after the first's due time.
  for (std::size_t i = 0; i < starts.size(); ++i) {
    EXPECT_GE(starts[i], static_cast<std::int64_t>(i) * 40 * ms_us - ms_us) << "start " << i;
  }
  EXPECT_GE(starts.back() - starts.front(), 150 * ms_us);
  EXPECT_LT(starts.back(), 2'000 * ms_us) << "spread over about the interval, not longer";
}

TEST(ControlFlowSpread, FractionalIntervalTerminates) {
  json config{{"rate", 4}, {"interval", "1500us"}};
  auto r = run_scenario_test(chaperon::make_scenario("Fraction", &spread_over_interval), config);
  EXPECT_EQ(seen().only("ok"), true);
  EXPECT_EQ(count_of(r, key("spread")), 4u);
  EXPECT_EQ(start_offsets().size(), 4u);

  json thirds{{"rate", 3}, {"interval", 1}};  // 1 ms over 3 tasks
  r = run_scenario_test(chaperon::make_scenario("Thirds", &spread_over_interval), thirds);
  EXPECT_EQ(count_of(r, key("spread")), 3u);
}

TEST(ControlFlowSpread, RateZeroStartsNothing) {
  json config{{"rate", 0}, {"interval", "100ms"}};
  auto r = run_scenario_test(chaperon::make_scenario("Zero", &spread_over_interval), config);
  EXPECT_EQ(seen().only("count"), 0);
  EXPECT_EQ(seen().only("ok"), true);
  EXPECT_EQ(count_of(r, key("spread")), 0u);
  EXPECT_EQ(r.error_count(), 0u);
}

}  // namespace
