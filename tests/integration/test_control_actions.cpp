// Custom actions (measured, failures recorded, abort() on a stop) and the session log prefix.
#include <gtest/gtest.h>

#include <chrono>
#include <coroutine>
#include <stdexcept>
#include <string>
#include <utility>

#include <chaperon/action.hpp>
#include <chaperon/chaperon.hpp>

#include "integration/test_control_support.hpp"

namespace {

using namespace chaperon::itest::control::prelude;

// ---- custom actions --------------------------------------------------------------------------------

// Waits a little in the session and then reports what it was told to.
class sleepy_action : public chaperon::action {
 public:
  sleepy_action(bool ok, std::string error) : ok_(ok), error_(std::move(error)) {}
  task<chaperon::action_result> run(session& s) override {
    co_await s.delay(2ms);
    co_return chaperon::action_result{ok_, error_, json{{"slept", true}}};
  }
  std::string metric_name() const override { return "sleepy(x)"; }

 private:
  bool ok_;
  std::string error_;
};

task<> run_custom_actions(session& s) {
  sleepy_action good(true, "");
  auto a = co_await s.run_action(good);
  sleepy_action bad(false, "boom");
  auto b = co_await s.run_action(bad);
  sleepy_action silent(false, "");
  auto c = co_await s.run_action(silent);
  seen().add("results", {{"a", {a.ok, a.value}}, {"b", {b.ok, b.error}}, {"c", c.ok}});
  s.abort("done");
  bool threw = false;
  try {
    co_await s.run_action(good);
  } catch (const chaperon::session_stopped&) {
    threw = true;
  }
  seen().add("threw", threw);
}

TEST(ControlFlowAction, CustomActionsAreMeasuredAndFailuresRecorded) {
  auto r = run_scenario_test(chaperon::make_scenario("Custom", &run_custom_actions));
  auto results = seen().only("results");
  EXPECT_EQ(results["a"], (json{true, {{"slept", true}}}));
  EXPECT_EQ(results["b"], (json{false, "boom"}));
  EXPECT_EQ(results["c"], false);
  EXPECT_EQ(seen().only("threw"), true) << "a stopped session does not run actions";
  EXPECT_EQ(count_of(r, key("sleepy(x)")), 3u);
  EXPECT_GE(min_of(r, key("sleepy(x)")), 2 * ms_us);
  EXPECT_EQ(count_of(r, key("sleepy(x)", "", "boom")), 1u);
  EXPECT_EQ(key("sleepy(x)", "", "boom").name(), "Error boom sleepy(x)");
  EXPECT_EQ(count_of(r, key("sleepy(x)", "", "failed")), 1u);
}

class blocking_action;
// The action currently parked, so that a watchdog session can release it if abort() never comes.
// Everything here runs on the one engine thread of the run.
blocking_action* g_blocked = nullptr;
int g_blocking_scenarios = 0;  // blocking scenarios that have started and not yet ended

// Waits for something only abort() releases, as an action over its own socket would; config
// `delay_first` makes it wait in the session first, as an action that sends before it waits.
class blocking_action : public chaperon::action {
 public:
  task<chaperon::action_result> run(session& s) override {
    struct until_released {
      blocking_action& self;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) noexcept {
        self.waiter_ = h;
        g_blocked = &self;
      }
      void await_resume() const noexcept {}
    };
    if (s.config_as<bool>("delay_first", false)) co_await s.delay(1ms);
    co_await until_released{*this};
    co_return chaperon::action_result{false, "aborted", {}};
  }
  void abort(session&) override {
    seen().add("action_aborted", true);
    release();
  }
  std::string metric_name() const override { return "blocking"; }

  void release() {
    if (auto h = std::exchange(waiter_, {})) {
      g_blocked = nullptr;
      h.resume();
    }
  }

 private:
  std::coroutine_handle<> waiter_;
};

task<> run_blocking_action(session& s) {
  struct running {
    running() { ++g_blocking_scenarios; }
    ~running() { --g_blocking_scenarios; }
  } guard;
  blocking_action a;
  co_await s.run_action(a);
  seen().add("after_action", true);
}

task<> watchdog(session& s) {
  // Sessions start in order on the one shard, so the blocking one has started by now.
  for (int i = 0; i < 100 && g_blocking_scenarios > 0; ++i) co_await s.delay(10ms);
  if (g_blocked) {
    seen().add("rescued", true);
    g_blocked->release();
  }
}

// The blocking scenario plus a watchdog session on the same engine thread, so that a missing
// abort() fails the test instead of hanging it.
chaperon::run_results run_with_watchdog(const chaperon::scenario_ref& ref, json config,
                                        chaperon::run_options options = {}) {
  seen().clear();
  g_blocked = nullptr;
  options.threads = 1;
  auto test = chaperon::load_test{"ControlFlowWatchdog"}
                  .scenario(ref, std::move(config))
                  .scenario(chaperon::make_scenario("Watchdog", &watchdog));
  return chaperon::run_load_test(test, options);
}

TEST(ControlFlowAction, StopCallsTheActionsAbort) {
  json config{{"scenario_timeout", "50ms"}};
  auto r = run_with_watchdog(chaperon::make_scenario("Blocking", &run_blocking_action), config);
  EXPECT_EQ(seen().only("action_aborted"), true);
  EXPECT_TRUE(seen().take("rescued").empty());
  EXPECT_TRUE(seen().take("after_action").empty()) << "the stopped session unwinds";
  EXPECT_EQ(count_of(r, key("blocking", "", "aborted")), 1u);
  EXPECT_EQ(r.sessions.timed_out, 1u);
}

TEST(ControlFlowAction, StopCallsAbortAlsoAfterTheActionWaitedInTheSession) {
  json config{{"scenario_timeout", "50ms"}, {"delay_first", true}};
  auto r = run_with_watchdog(chaperon::make_scenario("Blocking", &run_blocking_action), config);
  EXPECT_EQ(seen().only("action_aborted"), true);
  EXPECT_TRUE(seen().take("rescued").empty()) << "abort() was never called";
  EXPECT_EQ(r.sessions.timed_out, 1u);
}

task<> child_with_blocking_action(session& c) { co_await run_blocking_action(c); }

task<> await_blocked_child(session& s) {
  s.async("blocked", &child_with_blocking_action);
  co_await s.await("blocked");
}

TEST(ControlFlowAction, LoadTestTimeoutAbortsAnActionInATask) {
  chaperon::run_options options;
  options.config = json{{"load_test_timeout", "50ms"}};
  json config{{"timeout", "5s"}};
  auto r = run_with_watchdog(chaperon::make_scenario("Parent", &await_blocked_child), config,
                             options);
  EXPECT_EQ(seen().only("action_aborted"), true);
  EXPECT_TRUE(seen().take("rescued").empty());
  EXPECT_TRUE(r.partial);
  EXPECT_EQ(count_of(r, key("blocked")), 1u);
}

// Throws from run(), as an action with a bug would.
class throwing_action : public chaperon::action {
 public:
  task<chaperon::action_result> run(session&) override {
    throw std::runtime_error("broken action");
    co_return chaperon::action_result{};
  }
  void abort(session&) override { seen().add("abort_after_the_fact", true); }
  std::string metric_name() const override { return "throwing"; }
};

task<> throw_then_abort(session& s) {
  throwing_action a;
  try {
    co_await s.run_action(a);
  } catch (const std::runtime_error& e) {
    seen().add("caught", e.what());
  }
  s.abort("later");
}

TEST(ControlFlowAction, AFinishedActionIsNotAbortedLater) {
  auto r = run_scenario_test(chaperon::make_scenario("Throwing", &throw_then_abort));
  EXPECT_EQ(seen().only("caught"), "broken action");
  EXPECT_TRUE(seen().take("abort_after_the_fact").empty())
      << "abort() belongs to the action while it runs only";
  EXPECT_EQ(count_of(r, key("throwing", "", "exception")), 1u);
  EXPECT_EQ(r.sessions.aborted, 1u);
}

// ---- logging ---------------------------------------------------------------------------------------

task<> child_logs(session& c) {
  c.log_info("child hello");
  c.log_debug("child debug");
  co_return;
}

task<> parent_logs(session& s) {
  s.log_info("parent hello");
  s.async("chatty", &child_logs);
  seen().add("ids", {{"parent", s.id()}, {"name", s.name()}});
  co_await s.await("chatty");
}

task<> child_reports_id(session& c) {
  seen().add("child_id", c.id());
  co_await child_logs(c);
}

task<> parent_logs_with_ids(session& s) {
  s.log_info("parent hello");
  s.async("chatty", &child_reports_id);
  seen().add("ids", {{"parent", s.id()}, {"name", s.name()}});
  co_await s.await("chatty");
}

TEST(ControlFlowLogging, ChildLinesCarryTheParentId) {
  chaperon::run_options options;
  options.level = chaperon::log_level::info;
  testing::internal::CaptureStderr();
  run_scenario_test(chaperon::make_scenario("Logs", &parent_logs_with_ids), json::object(), options);
  const std::string err = testing::internal::GetCapturedStderr();
  auto ids = seen().only("ids");
  const auto child = seen().only("child_id").get<std::string>();
  const auto parent = ids["parent"].get<std::string>();
  const auto name = ids["name"].get<std::string>();
  EXPECT_NE(err.find(parent + " " + name + " | parent hello"), std::string::npos) << err;
  EXPECT_NE(err.find(child + " [" + parent + "] " + name + " | child hello"), std::string::npos)
      << err;
  EXPECT_EQ(err.find("child debug"), std::string::npos) << "below the level";
}

TEST(ControlFlowLogging, QuietAtTheDefaultLevel) {
  testing::internal::CaptureStderr();
  run_scenario_test(chaperon::make_scenario("Quiet", &parent_logs));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.find("hello"), std::string::npos) << err;
}

}  // namespace
