// session::delay through real sessions on an engine thread: the shard's sleep queue wakes
// sleepers in deadline order and each once, a stop ends a long sleep (or an await with a timeout,
// on the same queue) at once, and a delay of zero or less does not suspend.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include <chaperon/chaperon.hpp>

#include "integration/test_control_support.hpp"

namespace {

using namespace chaperon::itest::control::prelude;
using chaperon::session_stopped;
using wall = std::chrono::steady_clock;

// Reports under "ended" when the coroutine frame holding it ends, however it ends.
struct end_note {
  ~end_note() { seen().add("ended", clock_ticks()); }
};

task<> sleeps_an_hour(session& s) {
  end_note note;
  seen().add("asleep", clock_ticks());
  co_await s.delay(std::chrono::hours(1));
  seen().add("after_delay", true);
}

// Awaits with a timeout wait on the same queue as delays.
task<> awaits_a_signal_for_an_hour(session& s) {
  end_note note;
  seen().add("asleep", clock_ticks());
  co_await s.await_signal_or_timeout(std::chrono::hours(1));
  seen().add("after_delay", true);
}

void expect_a_scenario_timeout_ends_the_wait_at_once(const chaperon::scenario_ref& ref) {
  const auto start = wall::now();
  auto r = run_scenario_test(ref, json{{"scenario_timeout", "50ms"}});
  EXPECT_LT(wall::now() - start, 5s);
  auto asleep = seen().take("asleep");
  auto ended = seen().take("ended");
  ASSERT_EQ(asleep.size(), 1u);
  ASSERT_EQ(ended.size(), 1u);
  const auto slept_us = ended[0].get<std::int64_t>() - asleep[0].get<std::int64_t>();
  EXPECT_GE(slept_us, 45 * ms_us);
  EXPECT_LT(slept_us, 2000 * ms_us) << "the stop must wake the session, not its deadline";
  EXPECT_TRUE(seen().take("after_delay").empty()) << "the stopped session unwinds";
  EXPECT_EQ(r.sessions.timed_out, 1u);
}

TEST(Delay, AScenarioTimeoutEndsALongDelayAtOnce) {
  expect_a_scenario_timeout_ends_the_wait_at_once(
      chaperon::make_scenario("Sleeper", &sleeps_an_hour));
}

TEST(Delay, AScenarioTimeoutEndsALongAwaitAtOnce) {
  expect_a_scenario_timeout_ends_the_wait_at_once(
      chaperon::make_scenario("Awaiter", &awaits_a_signal_for_an_hour));
}

TEST(Delay, ALoadTestTimeoutEndsEverySleeperAndTheRun) {
  chaperon::run_options options;
  options.config = json{{"load_test_timeout", "100ms"}};
  const auto start = wall::now();
  auto r = run_scenario_test(chaperon::make_scenario("Sleepers", &sleeps_an_hour), {}, options,
                             2000);
  // The run ends: nothing (no timer of the sleep queue) holds the engine thread's event loop.
  EXPECT_LT(wall::now() - start, 10s);
  EXPECT_TRUE(r.partial);
  EXPECT_EQ(seen().take("ended").size(), 2000u);
  EXPECT_TRUE(seen().take("after_delay").empty());
  EXPECT_EQ(r.sessions.timed_out, 2000u);
}

// ---- order: sessions sleeping different durations wake in deadline order, each once ----------

constexpr int sleepers = 2000;
constexpr std::int64_t spacing_us = 1000;  // between two sleepers' deadlines
std::atomic<int> g_started{0};
std::atomic<int> g_woken{0};

// Session k (in the order they started) sleeps until 300 ms + k' ms from the first start, where
// k' is k scrambled, so that the order of the deadlines is not the order of the sleeps.
task<> sleeps_until_its_turn(session& s) {
  static std::atomic<std::int64_t> first_start{0};
  const int k = g_started++;
  std::int64_t zero = 0;
  first_start.compare_exchange_strong(zero, clock_ticks());
  const std::int64_t turn = (static_cast<std::int64_t>(k) * 7919) % sleepers;
  const std::int64_t due = first_start.load() + 300 * ms_us + turn * spacing_us;
  const std::int64_t wait = due - clock_ticks();
  co_await s.delay(std::chrono::microseconds(wait));
  const std::int64_t now = clock_ticks();
  seen().add("woken", json{{"turn", turn}, {"seq", g_woken++}, {"late_us", now - due}});
}

TEST(Delay, ThousandsOfSleepersWakeInDeadlineOrderEachOnce) {
  g_started = 0;
  g_woken = 0;
  auto r = run_scenario_test(chaperon::make_scenario("Turns", &sleeps_until_its_turn), {}, {},
                             sleepers);
  EXPECT_EQ(r.sessions.completed, static_cast<std::uint64_t>(sleepers));
  auto woken = seen().take("woken");
  ASSERT_EQ(woken.size(), static_cast<std::size_t>(sleepers));
  std::vector<std::int64_t> turn_by_seq(sleepers, -1);
  std::vector<int> times_woken(sleepers, 0);
  for (const auto& w : woken) {
    turn_by_seq[w["seq"].get<int>()] = w["turn"].get<std::int64_t>();
    times_woken[w["turn"].get<int>()]++;
    EXPECT_GE(w["late_us"].get<std::int64_t>(), 0) << "woken before its deadline";
  }
  EXPECT_TRUE(std::all_of(times_woken.begin(), times_woken.end(), [](int n) { return n == 1; }));
  // Deadlines are 1 ms apart and each taken within microseconds of its due time, so the
  // order of the wakes is the order of the turns.
  EXPECT_TRUE(std::is_sorted(turn_by_seq.begin(), turn_by_seq.end()));
}

// ---- a delay of zero or less does not suspend --------------------------------------------------

std::atomic<std::int64_t> g_other_due{0};
std::atomic<bool> g_other_woke{false};

task<> other_sleeper(session& s) {
  g_other_due = clock_ticks() + 2 * ms_us;
  co_await s.delay(2ms);
  g_other_woke = true;
}

// Once the other session's sleep is overdue by more than any of these delays is negative (were
// this one to sleep, even until now - 5 ms, the other would wake first), delays of zero or less,
// with any duration type, must return without letting it run.
task<> delays_nothing(session& s) {
  for (int i = 0; i < 1000 && g_other_due == 0; ++i) co_await s.delay(100us);
  const auto limit = wall::now() + 5s;
  while (clock_ticks() < g_other_due + 10 * ms_us && wall::now() < limit) {
  }
  co_await s.delay(0ms);
  co_await s.delay(-5ms);
  co_await s.delay(std::chrono::duration<double>(-0.5));
  co_await s.random_delay(0ms);
  seen().add("other_woke_meanwhile", g_other_woke.load());
  co_await s.delay(1ms);
  seen().add("other_woke_later", g_other_woke.load());
}

TEST(Delay, ZeroOrNegativeDelaysDoNotSuspend) {
  g_other_due = 0;
  g_other_woke = false;
  chaperon::run_options options;
  options.threads = 1;
  auto test = chaperon::load_test{"DelayNothing"}
                  .scenario(chaperon::make_scenario("Other", &other_sleeper))
                  .scenario(chaperon::make_scenario("Nothing", &delays_nothing));
  seen().clear();
  auto r = chaperon::run_load_test(test, options);
  EXPECT_EQ(seen().only("other_woke_meanwhile"), false);
  EXPECT_EQ(seen().only("other_woke_later"), true);
  EXPECT_EQ(r.sessions.completed, 2u);
}

// ---- a stopped session throws before and after the sleep ----------------------------------------

task<> aborts_then_delays(session& s) {
  s.abort("enough");
  try {
    co_await s.delay(0ms);  // even a delay that would not suspend
  } catch (const session_stopped& e) {
    seen().add("zero_threw", e.what());
  }
  try {
    co_await s.delay(1h);
  } catch (const session_stopped&) {
    seen().add("long_threw", true);
  }
}

TEST(Delay, AStoppedSessionThrowsWithoutSleeping) {
  const auto start = wall::now();
  auto r = run_scenario_test(chaperon::make_scenario("Aborts", &aborts_then_delays));
  EXPECT_LT(wall::now() - start, 5s);
  EXPECT_EQ(seen().only("zero_threw"), "enough");
  EXPECT_EQ(seen().only("long_threw"), true);
  EXPECT_EQ(r.sessions.aborted, 1u);
}

}  // namespace
