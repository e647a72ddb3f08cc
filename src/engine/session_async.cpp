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
  auto& part = target.tasks();
  part.mailbox.push_back(std::move(value));
  if (part.signal_waiter) target.owner.wake(*part.signal_waiter);
}

void forget_finished(session_state& st) {
  std::erase_if(st.tasks().tasks, [](const auto& t) { return t->done && t->awaited; });
}

// The oldest task under `name` not awaited yet. Inside a nested scenario its own tasks come
// first, so that it does not claim a task of the scenario around it.
std::shared_ptr<detail::child_task> next_task(session_state& st, std::string_view name) {
  auto* part = st.tasks_if_any();
  if (!part) return nullptr;
  std::shared_ptr<detail::child_task> outer;
  for (const auto& t : part->tasks) {
    if (t->name != name || t->awaited) continue;
    if (t->depth >= st.run.depth) return t;
    if (!outer) outer = t;
  }
  return outer;
}

}  // namespace

void session::set_interval(microseconds period, task_fn fn) {
  if (!fn && !state_->tasks_if_any()) return;
  auto& part = state_->tasks();
  part.heartbeat_period = fn ? period : microseconds{0};
  part.heartbeat = std::move(fn);
}

task<bool> session::wait_step(detail::wait_slot*& where, clock::time_point deadline) {
  auto& st = *state_;
  auto left = std::chrono::duration_cast<microseconds>(deadline - clock::now());
  if (left.count() <= 0) co_return false;
  auto* part = st.tasks_if_any();
  bool beat = part && part->heartbeat && part->heartbeat_period.count() > 0 &&
              part->heartbeat_period < left;
  wait_slot slot;
  where = &slot;
  co_await wait_awaiter{st, slot, beat ? part->heartbeat_period : left};
  where = nullptr;
  throw_if_stopped();
  if (slot.woken) co_return true;
  if (!beat) co_return false;
  // The heartbeat runs while the session waits (e.g. a Phoenix channel heartbeat); what the
  // caller waits for may have happened meanwhile, so it checks again.
  co_await st.tasks().heartbeat(*this);
  co_return true;
}

void session::spawn_task(std::string name, task_fn fn) {
  throw_if_stopped();
  auto& st = *state_;
  auto t = st.owner.spawn_child(st, std::move(name), std::move(fn));
  st.tasks().tasks.push_back(std::move(t));
}

std::size_t session::async_task_count(std::string_view name) const {
  const auto* part = state_->tasks_if_any();
  if (!part) return 0;
  return static_cast<std::size_t>(std::count_if(
      part->tasks.begin(), part->tasks.end(),
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

// Every task under `name`, as the original's await. Inside a nested scenario with tasks of its own
// under that name, only those: the scenario around it awaits its own.
task<bool> session::await(std::string name) {
  throw_if_stopped();
  auto& st = *state_;
  auto first = next_task(st, name);
  if (!first) {
    record_error("await", name, "no_task", microseconds{0});
    co_return false;
  }
  const bool own_only = first->depth >= st.run.depth;
  bool ok = true;
  for (auto t = std::move(first); t; t = next_task(st, name)) {
    if (own_only && t->depth < st.run.depth) break;
    ok = (co_await await_task(t, name)) && ok;
  }
  co_return ok;
}

task<bool> session::await_task(std::shared_ptr<detail::child_task> t, const std::string& name) {
  auto& st = *state_;
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
  auto* part = state_->tasks_if_any();
  if (!part) return;
  for (auto& t : part->tasks) {
    if (t->name == task_name && t->state) deliver(*t->state, value);
  }
}

void session::signal_parent(json value) {
  if (state_->parent) deliver(*state_->parent, std::move(value));
}

task<bool> session::await_signal(json expected) {
  co_return co_await await_signal(std::move(expected), session_timeout(*this));
}

task<bool> session::await_signal(json expected, microseconds timeout) {
  throw_if_stopped();
  auto& st = *state_;
  auto& part = st.tasks();
  auto deadline = clock::now() + timeout;
  for (;;) {
    auto it = std::find(part.mailbox.begin(), part.mailbox.end(), expected);
    if (it != part.mailbox.end()) {
      part.mailbox.erase(it);
      co_return true;
    }
    bool woken = co_await wait_step(part.signal_waiter, deadline);
    if (!woken) break;
  }
  record_error("await_signal", {}, "timeout", timeout);
  co_return false;
}

task<std::optional<json>> session::await_signal_or_timeout(microseconds timeout,
                                                            signal_callback callback) {
  throw_if_stopped();
  auto& st = *state_;
  auto& part = st.tasks();
  auto deadline = clock::now() + timeout;
  while (part.mailbox.empty()) {
    bool woken = co_await wait_step(part.signal_waiter, deadline);
    if (!woken) break;
  }
  if (part.mailbox.empty()) co_return std::nullopt;
  json value = std::move(part.mailbox.front());
  part.mailbox.erase(part.mailbox.begin());
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
task<void> join_tasks(session& s, std::uint16_t depth) {
  auto* part = state_of(s).tasks_if_any();
  if (!part) co_return;
  for (std::size_t i = 0; i < part->tasks.size(); ++i) {
    auto t = part->tasks[i];
    if (t->done || t->depth < depth) continue;
    wait_slot slot;
    t->waiter = &slot;
    co_await join_awaiter{slot};
    t->waiter = nullptr;
  }
  std::erase_if(part->tasks, [depth](const auto& t) { return t->depth >= depth; });
}

void stop_tasks(session_state& st, std::uint16_t depth, const std::string& reason) {
  auto* part = st.tasks_if_any();
  if (!part) return;
  for (auto& t : part->tasks) {
    if (t->depth >= depth && t->state) t->state->request_stop(stop_kind::cancelled, reason);
  }
}
}  // namespace detail

}  // namespace chaperon
