// The lifecycle of a scenario (init, run, teardown) as plain, nested and pooled sessions share
// it: tasks end before teardown, a failing run or constructor fails only its session, a timeout
// that fires as its session ends touches nothing, and errors of rate-driven sessions reach the
// corrected results.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <chaperon/chaperon.hpp>

#include "integration/test_control_support.hpp"

namespace {

using namespace chaperon::itest::control::prelude;

std::vector<std::string> strings_of(const std::vector<json>& items) {
  std::vector<std::string> out;
  for (const auto& j : items) out.push_back(j.get<std::string>());
  return out;
}

// Reports under "order" when the coroutine frame holding it ends, however it ends.
struct end_note {
  std::string what;
  ~end_note() { seen().add("order", what); }
};

task<> slow_task(session& s) {
  end_note note{"task_end"};
  co_await s.delay(std::chrono::milliseconds(s.config_as<int>("task_ms")));
  seen().add("task_done", true);
}

task<> note_teardown(session& s) {
  seen().add("order", "teardown");
  co_return;
}

// ---- nested scenarios await their tasks before their teardown ---------------------------------

task<> inner_starts_a_task(session& s) {
  s.async("inner_task", &slow_task);
  co_return;
}

task<> outer_runs_inner(session& s) {
  const auto inner =
      chaperon::make_scenario("InnerWithTask", &inner_starts_a_task, {}, &note_teardown);
  co_await s.run_scenario(inner);
  seen().add("order", "outer_after");
}

TEST(ControlFlowLifecycle, NestedScenarioAwaitsItsTasksBeforeTeardown) {
  auto r = run_scenario_test(chaperon::make_scenario("OuterOfTask", &outer_runs_inner),
                             json{{"task_ms", 60}});
  EXPECT_EQ(strings_of(seen().take("order")),
            (std::vector<std::string>{"task_end", "teardown", "outer_after"}));
  EXPECT_EQ(seen().take("task_done").size(), 1u);
  EXPECT_EQ(count_of(r, key("inner_task")), 1u);
  EXPECT_GE(min_of(r, key("run_scenario", "InnerWithTask")), 60 * ms_us)
      << "run_scenario's time includes its tasks";
  EXPECT_EQ(r.sessions.completed, 1u);
}

// A task of the same name started around the nested scenario is not the nested scenario's to
// await: it keeps running and the outer scenario awaits it.
task<> outer_task(session& s) {
  co_await s.delay(150ms);
  seen().add("order", "outer_task_done");
}

task<> inner_task_named_t(session& s) {
  s.async("t", &slow_task);
  co_return;
}

task<> outer_with_same_name(session& s) {
  s.async("t", &outer_task);
  const auto inner = chaperon::make_scenario("InnerSameName", &inner_task_named_t);
  co_await s.run_scenario(inner);
  seen().add("order", "inner_returned");
  const bool awaited = co_await s.await("t");
  seen().add("outer_await", awaited);
}

TEST(ControlFlowLifecycle, NestedScenarioLeavesTheTasksAroundIt) {
  auto r = run_scenario_test(chaperon::make_scenario("OuterSameName", &outer_with_same_name),
                             json{{"task_ms", 10}});
  EXPECT_EQ(strings_of(seen().take("order")),
            (std::vector<std::string>{"task_end", "inner_returned", "outer_task_done"}));
  EXPECT_EQ(seen().only("outer_await"), true);
  EXPECT_EQ(count_of(r, key("t")), 2u);
  EXPECT_EQ(count_of(r, key("await", "t", "no_task")), 0u);
  EXPECT_EQ(r.sessions.completed, 1u);
  EXPECT_TRUE(r.session_errors.empty());
}

// ---- a failing run stops its tasks and ends them before teardown ------------------------------

task<> run_starts_task_then_throws(session& s) {
  s.async("slow", &slow_task);
  co_await s.delay(1ms);
  throw std::runtime_error("run broke");
}

TEST(ControlFlowLifecycle, FailedRunStopsAndEndsItsTasksBeforeTeardown) {
  auto ref = chaperon::make_scenario("Breaks", &run_starts_task_then_throws, {}, &note_teardown);
  auto r = run_scenario_test(ref, json{{"task_ms", 3000}});
  EXPECT_EQ(strings_of(seen().take("order")), (std::vector<std::string>{"task_end", "teardown"}));
  EXPECT_TRUE(seen().take("task_done").empty()) << "the task was stopped";
  EXPECT_EQ(r.sessions.failed, 1u);
  EXPECT_EQ(r.session_errors["run broke"], 1u);
  EXPECT_LT(r.duration_us, 2'000 * ms_us);
}

// ---- a scenario whose constructor throws fails its session, not the run -----------------------

task<> note_run(session& s) {
  seen().add("ran", s.scenario_name());
  co_return;
}

chaperon::scenario_ref unconstructible() {
  return chaperon::scenario_ref{"Unconstructible", []() -> std::unique_ptr<chaperon::scenario> {
                                  throw std::runtime_error("cannot construct Unconstructible");
                                }};
}

TEST(ControlFlowLifecycle, ThrowingConstructorFailsTheSessionAndTheRunGoesOn) {
  seen().clear();
  chaperon::run_options options;
  options.threads = 1;
  auto test = chaperon::load_test{"Constructors"}
                  .scenario(2, unconstructible())
                  .scenario(chaperon::make_scenario("Fine", &note_run));
  auto r = chaperon::run_load_test(test, options);
  EXPECT_EQ(r.sessions.failed, 2u);
  EXPECT_EQ(r.sessions.completed, 1u);
  EXPECT_EQ(r.session_errors["cannot construct Unconstructible"], 2u);
  EXPECT_EQ(strings_of(seen().take("ran")), (std::vector<std::string>{"Fine"}));

  // The same for pooled sessions of an arrival rate.
  auto pooled = chaperon::load_test{"PooledConstructors"}
                    .scenario(unconstructible())
                    .with_model(chaperon::load_model::constant_rate(100, 50ms));
  auto p = chaperon::run_load_test(pooled, options);
  EXPECT_GE(p.sessions.failed, 1u);
  EXPECT_EQ(p.sessions.failed, p.sessions.started);
  EXPECT_EQ(p.session_errors["cannot construct Unconstructible"], p.sessions.failed);
}

// ---- a scenario timeout whose timer fires in the round its session ends -----------------------
//
// "Ends" ends (its delay is due at 5 ms) before its scenario_timeout (10 ms); "Blocker" holds the
// engine thread from 2 ms to 60 ms, so that both timers are due when the event loop polls next:
// the delay's completion runs first and ends the session, the timeout's completion is already
// queued behind it. "Spawner" (due at 7 ms, between the two) starts tasks whose states are new
// allocations of the size just freed: a handler that still held the ended session's state would
// stop one of them.

task<> ends_before_its_timeout(session& s) { co_await s.delay(5ms); }

task<> blocks_the_thread(session& s) {
  co_await s.delay(2ms);
  std::this_thread::sleep_for(60ms);
}

task<> child_reports(session& s) {
  co_await s.delay(20ms);
  seen().add("child_done", true);
}

task<> spawns_children(session& s) {
  co_await s.delay(7ms);
  for (int i = 0; i < 4; ++i) s.async("child", &child_reports);
  co_await s.await_all("child");
}

TEST(ControlFlowLifecycle, TimeoutDueAsTheSessionEndsTouchesNothing) {
  seen().clear();
  chaperon::run_options options;
  options.threads = 1;
  auto test = chaperon::load_test{"TimeoutRace"}
                  .scenario(chaperon::make_scenario("Ends", &ends_before_its_timeout),
                            json{{"scenario_timeout", "10ms"}})
                  .scenario(chaperon::make_scenario("Blocker", &blocks_the_thread))
                  .scenario(chaperon::make_scenario("Spawner", &spawns_children));
  auto r = chaperon::run_load_test(test, options);
  EXPECT_EQ(r.sessions.completed, 3u);
  EXPECT_EQ(r.sessions.timed_out, 0u);
  EXPECT_EQ(seen().take("child_done").size(), 4u) << "no task was stopped by another's timeout";
  EXPECT_EQ(count_of(r, key("child")), 4u);
  EXPECT_TRUE(r.session_errors.empty());
}

// ---- errors of rate-driven sessions are in the corrected results ------------------------------

task<> always_fails(session&) {
  throw std::runtime_error("never works");
  co_return;
}

task<> retry_once(session& s) {
  session::retry_options options;
  options.retries = 0;
  co_await s.retry_on_error("flaky", &always_fails, options);
}

TEST(ControlFlowLifecycle, ErrorsOfRateDrivenSessionsAreCorrectedToo) {
  chaperon::run_options options;
  options.threads = 1;
  auto test = chaperon::load_test{"RateErrors"}
                  .scenario(chaperon::make_scenario("RateErrors", &retry_once))
                  .with_model(chaperon::load_model::constant_rate(200, 100ms));
  auto r = chaperon::run_load_test(test, options);
  const auto k = key("retry", "RateErrors.flaky", "exception");
  ASSERT_EQ(count_of(r, k), 20u);
  auto it = r.corrected.find(k);
  ASSERT_NE(it, r.corrected.end()) << "the error is in the corrected set";
  EXPECT_EQ(it->second.count(), 20u);
}

}  // namespace
