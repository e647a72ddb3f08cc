// Flow helpers of a session: loops, repeats, traced calls, spreads, retries, nested scenarios and
// custom actions.
#include <cmath>
#include <exception>
#include <stdexcept>

#include "chaperon/action.hpp"
#include "chaperon/scenario.hpp"
#include "chaperon/session.hpp"
#include "engine/intended_time.hpp"
#include "engine/lifecycle.hpp"
#include "engine/session_state.hpp"
#include "engine/shard.hpp"

namespace chaperon {

namespace {
using std::chrono::microseconds;

microseconds since(session::clock::time_point start) {
  return std::chrono::duration_cast<microseconds>(session::clock::now() - start);
}
}  // namespace

const std::string& session::scenario_name() const noexcept { return state_->run.scenario; }

task<void> session::call(task_fn fn) {
  throw_if_stopped();
  co_await fn(*this);
}

task<void> session::call_traced(std::string name, task_fn fn) {
  throw_if_stopped();
  auto start = clock::now();
  co_await fn(*this);
  detail::record_latency(
      *state_, metric_key{state_->metric_session(), "call", state_->run.scenario + "." + name, {}},
      since(start).count());
}

task<void> session::repeat(std::size_t times, task_fn fn) {
  for (std::size_t i = 0; i < times; ++i) {
    throw_if_stopped();
    co_await fn(*this);
  }
}

task<void> session::repeat_traced(std::string name, std::size_t times, task_fn fn) {
  for (std::size_t i = 0; i < times; ++i) co_await call_traced(name, fn);
}

task<void> session::loop(std::string name, microseconds duration, task_fn fn) {
  auto end = clock::now() + duration;
  while (clock::now() < end) co_await call_traced(name, fn);
}

task<void> session::loop(std::string name, microseconds duration, pacing pace, task_fn fn) {
  throw_if_stopped();
  const double rate = pace.per_second();
  if (!std::isfinite(rate) || rate <= 0) {
    throw std::invalid_argument("loop " + name + ": pacing must be a positive number per second");
  }
  auto& st = *state_;
  const auto start = clock::now();
  const double span = std::chrono::duration<double>(duration).count();
  for (std::uint64_t k = 0;; ++k) {
    // From the start, not from the last iteration: lateness never shifts the schedule.
    const double offset = static_cast<double>(k) / rate;
    if (offset >= span) break;
    const auto due =
        start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(offset));
    auto wait = std::chrono::duration_cast<microseconds>(due - clock::now());
    if (wait.count() > 0) co_await delay(wait);
    auto late = std::max(clock::duration::zero(), clock::now() - due);
    st.owner.record_schedule_lag(late);
    detail::lag_scope scope(st, std::chrono::duration_cast<microseconds>(late));
    co_await call_traced(name, fn);
  }
}

task<void> session::cc_spread(std::string name, std::size_t rate, microseconds interval,
                              task_fn fn) {
  throw_if_stopped();
  if (rate == 0) co_return;
  // Start times are computed from the first start, so a late start does not shift the rest and
  // any interval (also a fractional one) ends after exactly `rate` starts.
  auto start = clock::now();
  for (std::size_t i = 0; i < rate; ++i) {
    auto due = start + interval * static_cast<std::int64_t>(i) / static_cast<std::int64_t>(rate);
    auto wait = std::chrono::duration_cast<microseconds>(due - clock::now());
    if (wait.count() > 0) co_await delay(wait);
    // The task inherits this session's lag plus its own lateness.
    auto late = std::max(clock::duration::zero(), clock::now() - due);
    state_->owner.record_schedule_lag(late);
    detail::lag_scope scope(*state_, std::chrono::duration_cast<microseconds>(late));
    spawn_task(name, fn);
  }
}

task<bool> session::retry_on_error(std::string name, task_fn fn, retry_options options) {
  for (std::size_t attempt = 0;; ++attempt) {
    throw_if_stopped();
    auto start = clock::now();
    std::exception_ptr failure;
    try {
      co_await fn(*this);
      co_return true;
    } catch (const session_stopped&) {
      throw;
    } catch (...) {
      failure = std::current_exception();
    }
    record_error("retry", state_->run.scenario + "." + name, "exception", since(start));
    if (attempt >= options.retries) {
      if (options.rethrow) std::rethrow_exception(failure);
      co_return false;
    }
    auto pause = options.delay.count() > 0 ? options.delay
                                           : microseconds{random(0, options.random_delay.count())};
    co_await delay(pause);
  }
}

// The nested scenario runs one depth deeper, so that its lifecycle ends the tasks it started
// (and only those) before its teardown; its time includes them.
task<void> session::run_scenario(const scenario_ref& ref, json config, bool merge_config) {
  throw_if_stopped();
  auto& st = *state_;
  auto saved_config = st.config;
  auto saved_scenario = st.run.scenario;
  json nested = merge_config ? deep_merged(*st.config, config) : std::move(config);
  st.config = std::make_shared<const json>(std::move(nested));
  st.invalidate_settings();
  ++st.run.depth;
  auto start = clock::now();
  detail::scenario_lifecycle sc(*this, ref);
  if (co_await sc.init()) co_await sc.run();
  co_await sc.teardown();
  --st.run.depth;
  st.config = std::move(saved_config);
  st.invalidate_settings();
  st.run.scenario = std::move(saved_scenario);
  detail::record_latency(st, metric_key{st.metric_session(), "run_scenario", ref.name, {}},
                         since(start).count());
  if (sc.failure()) std::rethrow_exception(sc.failure());
  // A stop goes on to the scenario around this one.
  if (sc.stopped()) throw session_stopped(st.stop_reason());
}

void session::schedule_scenario(const scenario_ref& ref, json config, bool merge_config) {
  throw_if_stopped();
  auto& st = *state_;
  json merged = merge_config ? deep_merged(*st.config, config) : std::move(config);
  st.owner.start_scheduled(ref, std::make_shared<const json>(std::move(merged)));
}

task<action_result> session::run_action(action& a) {
  throw_if_stopped();
  auto& st = *state_;
  // A stop while the action runs asks the action to let go of what it waits on.
  auto start = clock::now();
  auto name = a.metric_name();
  auto previous = std::exchange(st.tasks().action_abort,
                                std::make_shared<std::function<void()>>([&a, this] { a.abort(*this); }));
  action_result r;
  std::exception_ptr failure;
  try {
    r = co_await a.run(*this);
  } catch (...) {
    failure = std::current_exception();
  }
  // The abort must not outlive the action, whichever way it ended.
  st.tasks().action_abort = std::move(previous);
  auto elapsed = since(start);
  if (failure) {
    record_error(name, {}, "exception", elapsed);
    std::rethrow_exception(failure);
  }
  detail::record_latency(st, metric_key{st.metric_session(), name, {}, {}}, elapsed.count());
  if (!r.ok) record_error(name, {}, r.error.empty() ? "failed" : r.error, elapsed);
  throw_if_stopped();
  co_return r;
}

}  // namespace chaperon
