// Async tasks (child sessions on the same shard) and signals between sessions.
#include <algorithm>

#include "chaperon/session.hpp"
#include "engine/intended_time.hpp"
#include "engine/lifecycle.hpp"
#include "engine/session_state.hpp"
#include "engine/shard.hpp"

namespace chaperon {

namespace {

using detail::session_state;
using detail::wait_slot;
using std::chrono::microseconds;

struct wait_awaiter {
  session_state& state;
  wait_slot& slot;
  microseconds timeout;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { state.owner.wait(state, slot, timeout, h); }
  void await_resume() const noexcept {}
};

// Waits for the slot to be woken, with no timer and no stop: used only to join children.
struct join_awaiter {
  wait_slot& slot;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept { slot.waiter = h; }
  void await_resume() const noexcept {}
};

microseconds session_timeout(const session& s) {
  return s.config_duration("timeout", std::chrono::seconds(10));
}

void deliver(session_state& target, json value) {
  target.mailbox.push_back(std::move(value));
  if (target.signal_waiter) target.owner.wake(*target.signal_waiter);
}

void forget_finished(session_state& st) {
  std::erase_if(st.tasks, [](const auto& t) { return t->done && t->awaited; });
}

}  // namespace

void session::set_interval(microseconds period, task_fn fn) {
  state_->heartbeat_period = fn ? period : microseconds{0};
  state_->heartbeat = std::move(fn);
}

task<bool> session::wait_step(detail::wait_slot*& where, clock::time_point deadline) {
  auto& st = *state_;
  auto left = std::chrono::duration_cast<microseconds>(deadline - clock::now());
  if (left.count() <= 0) co_return false;
  bool beat = st.heartbeat && st.heartbeat_period.count() > 0 && st.heartbeat_period < left;
  wait_slot slot;
  where = &slot;
  co_await wait_awaiter{st, slot, beat ? st.heartbeat_period : left};
  where = nullptr;
  throw_if_stopped();
  if (slot.woken) co_return true;
  if (!beat) co_return false;
  // The heartbeat runs while the session waits (e.g. a Phoenix channel heartbeat); what the
  // caller waits for may have happened meanwhile, so it checks again.
  co_await st.heartbeat(*this);
  co_return true;
}

void session::spawn_task(std::string name, task_fn fn) {
  throw_if_stopped();
  auto& st = *state_;
  auto t = st.owner.spawn_child(st, std::move(name), std::move(fn));
  st.tasks.push_back(std::move(t));
}

std::size_t session::async_task_count(std::string_view name) const {
  return static_cast<std::size_t>(std::count_if(
      state_->tasks.begin(), state_->tasks.end(),
      [&](const auto& t) { return t->name == name && !t->awaited; }));
}

// Through record_latency like every other latency: a rate-driven session's errors are in the
// corrected results too.
void session::record_error(std::string action, std::string target, std::string error,
                           microseconds value) {
  detail::record_latency(
      *state_,
      metric_key{state_->metric_session(), std::move(action), std::move(target), std::move(error)},
      value.count());
  detail::live_counters::add(state_->owner.counters().errors);
}

task<bool> session::await(std::string name) {
  throw_if_stopped();
  auto& st = *state_;
  auto it = std::find_if(st.tasks.begin(), st.tasks.end(),
                         [&](const auto& t) { return t->name == name && !t->awaited; });
  if (it == st.tasks.end()) {
    record_error("await", name, "no_task", microseconds{0});
    co_return false;
  }
  auto t = *it;
  t->awaited = true;
  bool ok = true;
  if (!t->done) {
    auto start = clock::now();
    auto deadline = start + session_timeout(*this);
    // No co_await inside the loop condition: GCC 12 loses exceptions thrown from there.
    while (!t->done) {
      bool woken = co_await wait_step(t->waiter, deadline);
      if (!woken) break;
    }
    if (!t->done) {
      ok = false;
      record_error("await", name, "timeout",
                   std::chrono::duration_cast<microseconds>(clock::now() - start));
      if (t->state) t->state->request_stop(detail::stop_kind::cancelled, "await timeout");
    }
  }
  forget_finished(st);
  co_return ok;
}

task<bool> session::await(std::vector<std::string> names) {
  bool ok = true;
  for (auto& n : names) ok = (co_await await(n)) && ok;
  co_return ok;
}

task<bool> session::await_all(std::string name) {
  bool ok = true;
  while (async_task_count(name) > 0) ok = (co_await await(name)) && ok;
  co_return ok;
}

void session::signal(std::string_view task_name, json value) {
  for (auto& t : state_->tasks) {
    if (t->name == task_name && t->state) deliver(*t->state, value);
  }
}

void session::signal_parent(json value) {
  if (state_->parent) deliver(*state_->parent, std::move(value));
}

task<bool> session::await_signal(json expected, microseconds timeout) {
  throw_if_stopped();
  auto& st = *state_;
  auto deadline = clock::now() + timeout;
  for (;;) {
    auto it = std::find(st.mailbox.begin(), st.mailbox.end(), expected);
    if (it != st.mailbox.end()) {
      st.mailbox.erase(it);
      co_return true;
    }
    bool woken = co_await wait_step(st.signal_waiter, deadline);
    if (!woken) break;
  }
  record_error("await_signal", {}, "timeout", timeout);
  co_return false;
}

task<std::optional<json>> session::await_signal_or_timeout(microseconds timeout,
                                                            signal_callback callback) {
  throw_if_stopped();
  auto& st = *state_;
  auto deadline = clock::now() + timeout;
  while (st.mailbox.empty()) {
    bool woken = co_await wait_step(st.signal_waiter, deadline);
    if (!woken) break;
  }
  if (st.mailbox.empty()) co_return std::nullopt;
  json value = std::move(st.mailbox.front());
  st.mailbox.erase(st.mailbox.begin());
  if (callback) callback(*this, value);
  co_return value;
}

task<bool> session::await_signal(signal_callback callback) {
  auto timeout = session_timeout(*this);
  auto got = co_await await_signal_or_timeout(timeout, std::move(callback));
  if (!got) record_error("await_signal", {}, "timeout", timeout);
  co_return got.has_value();
}

namespace detail {
task<void> join_tasks(session& s) {
  auto& st = s.state();
  for (std::size_t i = 0; i < st.tasks.size(); ++i) {
    auto t = st.tasks[i];
    if (t->done) continue;
    wait_slot slot;
    t->waiter = &slot;
    co_await join_awaiter{slot};
    t->waiter = nullptr;
  }
  st.tasks.clear();
}
}  // namespace detail

}  // namespace chaperon
