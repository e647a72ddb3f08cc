#pragma once
// Shared pieces of the session control-flow tests: a place where sessions report what they saw,
// metric lookups, and running one scenario in-process.
//
// Sessions run on engine threads, so reports go through a lock. Scenarios here take what they
// need from config and assigned values rather than from captures, which keeps their coroutine
// frames independent of the test's stack.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <chaperon/chaperon.hpp>

namespace chaperon::itest::control {

class observations {
 public:
  void add(const std::string& topic, json value) {
    std::lock_guard lock(mutex_);
    items_[topic].push_back(std::move(value));
  }
  std::vector<json> take(const std::string& topic) {
    std::lock_guard lock(mutex_);
    auto out = std::move(items_[topic]);
    items_.erase(topic);
    return out;
  }
  // The only report under topic; null when there is none or more than one.
  json only(const std::string& topic) {
    auto all = take(topic);
    return all.size() == 1 ? std::move(all.front()) : json();
  }
  void clear() {
    std::lock_guard lock(mutex_);
    items_.clear();
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<json>> items_;
};

inline observations& seen() {
  static observations instance;
  return instance;
}

inline metric_key key(std::string action, std::string target = {}, std::string error = {}) {
  return metric_key{"", std::move(action), std::move(target), std::move(error)};
}

inline std::uint64_t count_of(const run_results& r, const metric_key& k) {
  auto it = r.metrics.find(k);
  return it == r.metrics.end() ? 0 : it->second.count();
}

inline std::int64_t min_of(const run_results& r, const metric_key& k) {
  auto it = r.metrics.find(k);
  return it == r.metrics.end() ? -1 : it->second.min();
}

inline std::int64_t max_of(const run_results& r, const metric_key& k) {
  auto it = r.metrics.find(k);
  return it == r.metrics.end() ? -1 : it->second.max();
}

// Microseconds on the session clock since `start`.
inline std::int64_t us_since(session::clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(session::clock::now() - start)
      .count();
}

// A point on the session clock as a number, so that it can travel in assigned values to tasks.
inline std::int64_t clock_ticks() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             session::clock::now().time_since_epoch())
      .count();
}

inline std::int64_t us_since_ticks(std::int64_t ticks) { return clock_ticks() - ticks; }

// Runs `count` sessions of one scenario on one engine thread, after clearing old reports.
inline run_results run_scenario_test(const scenario_ref& ref, json config = json::object(),
                                     run_options options = {}, std::size_t count = 1) {
  seen().clear();
  if (options.threads == 0) options.threads = 1;
  auto test = load_test{"ControlFlow"}.scenario(count, ref, std::move(config));
  return run_load_test(test, options);
}

constexpr std::int64_t ms_us = 1000;

// An async task that waits delay_ms and then reports n under "finished".
inline task<> numbered_child(session& c, int n, int delay_ms) {
  co_await c.delay(std::chrono::milliseconds(delay_ms));
  seen().add("finished", n);
}

// What the session tests use, by `using namespace chaperon::itest::control::prelude;`.
namespace prelude {
using namespace std::chrono_literals;
using chaperon::http_options;
using chaperon::json;
using chaperon::session;
using chaperon::task;
using control::clock_ticks;
using control::count_of;
using control::key;
using control::max_of;
using control::min_of;
using control::ms_us;
using control::run_scenario_test;
using control::seen;
using control::us_since;
using control::us_since_ticks;
}  // namespace prelude

}  // namespace chaperon::itest::control
