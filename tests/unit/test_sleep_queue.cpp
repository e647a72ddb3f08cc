// The shard's sleep queue alone: sleeper records woken through a real io_context and its timer.
#include "engine/sleep_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace chaperon::detail {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// A sleeper that notes its wake-ups in a shared log, and may act when it wakes.
struct test_sleeper : sleeper {
  int id = 0;
  std::vector<int>* log = nullptr;
  std::function<void()> on_wake;

  static void note(sleeper& s) {
    auto& self = static_cast<test_sleeper&>(s);
    self.log->push_back(self.id);
    if (self.on_wake) self.on_wake();
  }
};

class SleepQueue : public ::testing::Test {
 protected:
  boost::asio::io_context io;
  sleep_queue queue{io};
  std::vector<int> log;
  const clock::time_point t0 = clock::now();

  std::vector<std::unique_ptr<test_sleeper>> make(int n) {
    std::vector<std::unique_ptr<test_sleeper>> v;
    for (int i = 0; i < n; ++i) {
      v.push_back(std::make_unique<test_sleeper>());
      v.back()->id = i;
      v.back()->log = &log;
      v.back()->wake = &test_sleeper::note;
    }
    return v;
  }
  void add(test_sleeper& s, clock::duration after) {
    s.deadline = t0 + after;
    queue.add(s);
  }
  // Runs until the event loop has nothing left (the timer must not hold it), bounded.
  void run_out() {
    io.restart();
    const auto limit = clock::now() + 10s;
    while (!io.stopped() && clock::now() < limit) io.run_for(100ms);
    ASSERT_TRUE(io.stopped()) << "the event loop still had work after 10 s";
  }
};

TEST_F(SleepQueue, WakesInDeadlineOrderEachOnce) {
  auto s = make(5);
  const int after_ms[] = {40, 10, 30, 0, 20};
  for (int i = 0; i < 5; ++i) add(*s[i], std::chrono::milliseconds(after_ms[i]));
  EXPECT_EQ(queue.size(), 5u);
  run_out();
  EXPECT_EQ(log, (std::vector<int>{3, 1, 4, 2, 0}));
  EXPECT_EQ(queue.size(), 0u);
  for (auto& x : s) EXPECT_EQ(x->slot, sleeper::not_queued);
  EXPECT_GE(clock::now() - t0, 40ms);
}

TEST_F(SleepQueue, EqualDeadlinesWakeInTheOrderAdded) {
  auto s = make(6);
  for (int i : {2, 0, 5, 1, 4, 3}) add(*s[i], 5ms);
  run_out();
  EXPECT_EQ(log, (std::vector<int>{2, 0, 5, 1, 4, 3}));
}

TEST_F(SleepQueue, RemovingTheTopTheMiddleAndTheLast) {
  auto s = make(7);
  for (int i = 0; i < 7; ++i) add(*s[i], std::chrono::milliseconds(5 + i));
  EXPECT_TRUE(queue.remove(*s[0]));  // the top: the timer was armed for it
  EXPECT_TRUE(queue.remove(*s[3]));  // the middle
  EXPECT_TRUE(queue.remove(*s[6]));  // the last entry of the heap
  EXPECT_FALSE(queue.remove(*s[3]));  // not queued any more
  EXPECT_EQ(queue.size(), 4u);
  run_out();
  EXPECT_EQ(log, (std::vector<int>{1, 2, 4, 5}));
}

TEST_F(SleepQueue, RemovingEverySleeperLetsTheEventLoopEnd) {
  auto s = make(3);
  for (int i = 0; i < 3; ++i) add(*s[i], 1h);
  for (auto& x : s) EXPECT_TRUE(queue.remove(*x));
  const auto start = clock::now();
  run_out();
  EXPECT_TRUE(log.empty());
  EXPECT_LT(clock::now() - start, 5s);
}

TEST_F(SleepQueue, WakeSoonWakesOnceAndBeforeItsDeadline) {
  auto s = make(2);
  add(*s[0], 1h);
  add(*s[1], 5ms);
  queue.wake_soon(*s[0]);
  queue.wake_soon(*s[0]);  // already out of the queue: nothing more
  const auto start = clock::now();
  run_out();
  EXPECT_EQ(log, (std::vector<int>{0, 1}));
  EXPECT_LT(clock::now() - start, 5s);
}

TEST_F(SleepQueue, AnEarlierSleeperAddedLaterWakesFirst) {
  auto s = make(2);
  add(*s[0], 200ms);
  add(*s[1], 5ms);  // re-arms the timer for the earlier deadline
  io.restart();
  const auto limit = clock::now() + 5s;
  while (log.empty() && clock::now() < limit) io.run_one_for(100ms);
  EXPECT_EQ(log, (std::vector<int>{1}));
  EXPECT_LT(clock::now() - t0, 150ms);
  run_out();
  EXPECT_EQ(log, (std::vector<int>{1, 0}));
}

TEST_F(SleepQueue, WakeDuringAWake) {
  auto s = make(5);
  // 0 wakes first and then: removes 2 (due at the same wake), takes 3 out and wakes it soon,
  // and sleeps again itself (due after everything else); 1 adds 4, due before 0's second sleep.
  bool first = true;
  s[0]->on_wake = [&] {
    if (!std::exchange(first, false)) return;
    queue.remove(*s[2]);
    queue.wake_soon(*s[3]);
    add(*s[0], 60ms);
  };
  s[1]->on_wake = [&] { add(*s[4], 40ms); };
  add(*s[0], 10ms);
  add(*s[1], 10ms);
  add(*s[2], 10ms);
  add(*s[3], 1h);
  run_out();
  EXPECT_EQ(log, (std::vector<int>{0, 1, 3, 4, 0}));
  EXPECT_EQ(queue.size(), 0u);
}

TEST_F(SleepQueue, ManyEntriesWakeInOrderEachOnce) {
  constexpr int n = 20000;
  auto s = make(n);
  std::mt19937 rng(7);
  std::vector<int> ms(n);
  for (int i = 0; i < n; ++i) {
    ms[i] = static_cast<int>(rng() % 50);
    add(*s[i], std::chrono::milliseconds(ms[i]));
  }
  // Every third one leaves again, from wherever it is in the heap.
  for (int i = 0; i < n; i += 3) ASSERT_TRUE(queue.remove(*s[i]));
  run_out();
  std::vector<int> expected;
  for (int i = 0; i < n; ++i) {
    if (i % 3 != 0) expected.push_back(i);
  }
  // By deadline, then in the order added.
  std::stable_sort(expected.begin(), expected.end(), [&](int a, int b) { return ms[a] < ms[b]; });
  EXPECT_EQ(log, expected);
}

}  // namespace
}  // namespace chaperon::detail
