// A shard's session bookkeeping: how sessions and tasks ended, the waits a session's coroutines
// suspend in (awaits with a timeout, on the shard's sleep queue as sleeps are) and the child
// sessions of async tasks.
#include <cstdio>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "engine/drivers.hpp"
#include "engine/session_state.hpp"
#include "engine/shard.hpp"
#include "engine/sleep_queue.hpp"

namespace chaperon::detail {

namespace asio = boost::asio;

void shard::record_session_end(const session_state& s) {
  auto& counts = results_.sessions;
  const auto& failure = s.failure();
  if (!failure.empty()) {
    counts.failed++;
    results_.session_errors[failure]++;
    if (failures_printed_++ < 5) {
      std::fprintf(stderr, "chaperon: session %s failed: %s\n", s.name().c_str(), failure.c_str());
    }
    return;
  }
  switch (s.stop) {
    // A ramp that lowered its target chose the session to end: it has done its part.
    case stop_kind::none:
    case stop_kind::ramp_down: counts.completed++; break;
    case stop_kind::aborted:
      counts.aborted++;
      results_.session_errors["aborted: " + s.stop_reason()]++;
      break;
    case stop_kind::timed_out:
    case stop_kind::cancelled:
      counts.timed_out++;
      results_.session_errors[s.stop_reason()]++;
      break;
  }
}

void shard::record_task_failure(const session_state& s) {
  results_.session_errors["task: " + s.failure()]++;
  if (failures_printed_++ < 5) {
    std::fprintf(stderr, "chaperon: async task of %s failed: %s\n", s.name().c_str(),
                 s.failure().c_str());
  }
}

namespace {

// A wait's entry in the sleep queue. wait_slot has room for a pointer only, so the entry is
// allocated per wait: 48 bytes instead of a timer (88) and its pending Asio operation.
struct wait_sleeper : sleeper {
  wait_slot* slot;
  session_state* state;
  bool cut_short = false;  // woken or stopped before the timeout

  // Due, woken or stopped: the waiter goes on, with timed_out only when nothing came first.
  static void finish(sleeper& self) {
    auto* w = static_cast<wait_sleeper*>(&self);
    wait_slot& slot = *w->slot;
    slot.timer = nullptr;
    if (w->state->pending.target == &slot) w->state->pending = {};
    slot.timed_out = !w->cut_short && !slot.woken;
    delete w;
    std::exchange(slot.waiter, {}).resume();
  }
};

void cut_short(wait_slot& slot) {
  auto* w = static_cast<wait_sleeper*>(slot.timer);
  w->cut_short = true;
  w->state->owner.sleeps().wake_soon(*w);
}

}  // namespace

void shard::wait(session_state& s, wait_slot& slot, std::chrono::microseconds timeout,
                  std::coroutine_handle<> h) {
  auto* w = new wait_sleeper{};
  w->deadline = std::chrono::steady_clock::now() + timeout;
  w->wake = &wait_sleeper::finish;
  w->slot = &slot;
  w->state = &s;
  slot.waiter = h;
  slot.timer = w;
  slot.woken = slot.timed_out = false;
  s.pending = pending_op{[](void* p) { cut_short(*static_cast<wait_slot*>(p)); }, &slot};
  sleeps().add(*w);
}

void shard::wake(wait_slot& slot) {
  if (!slot.waiter || slot.woken) return;
  slot.woken = true;
  if (slot.timer) {
    cut_short(slot);
  } else {
    asio::post(io(), [&slot] { std::exchange(slot.waiter, {}).resume(); });
  }
}

namespace {

// A session started by session::schedule_scenario: counted as any session of the load test.
struct scheduled_job {
  static constexpr bool counted = true;
  scenario_ref ref;
  scenario_deadline deadline;  // config scenario_timeout, as for any session of the load test

  void started(session_state& st) {
    try {
      if (auto after = scenario_deadline::configured(st)) deadline.arm(st, *after);
    } catch (const std::exception& e) {
      st.set_failure(e.what());  // a malformed scenario_timeout fails this session only
    }
  }
  task<void> body(session& s) {
    if (!state_of(s).failure().empty()) co_return;
    co_await run_scheduled(s, ref);
  }
  void ended(session_state& st) {
    deadline.disarm();
    st.owner.record_session_end(st);
  }

  static task<void> run_scheduled(session& s, const scenario_ref& ref) {
    co_await run_whole_scenario(s, ref, true);
  }
};

}  // namespace

void shard::start_scheduled(scenario_ref ref, std::shared_ptr<const json> config) {
  // Held from now, not from when the post runs: the run must not end in between.
  ++remaining_;
  asio::post(io(), [this, ref = std::move(ref), config = std::move(config)]() mutable {
    std::string id = make_uuid(rng_);
    std::string name = ref.name + " " + id;
    drive(*this,
          std::make_unique<session_state>(*this, std::move(id), std::move(name), std::move(config)),
          scheduled_job{std::move(ref), {}});
  });
}

std::shared_ptr<child_task> shard::spawn_child(session_state& parent, std::string name,
                                                std::function<task<void>(session&)> fn) {
  auto t = std::make_shared<child_task>();
  t->name = std::move(name);
  t->depth = parent.run.depth;
  auto child =
      std::make_unique<session_state>(*this, make_uuid(rng_), parent.name(), parent.config);
  child->parent = &parent;
  child->assigned = parent.assigned;
  child->cookies = parent.cookies;
  child->run.scenario = parent.run.scenario;
  if (auto* part = parent.tasks_if_any(); part && part->heartbeat) {
    child->tasks().heartbeat_period = part->heartbeat_period;
    child->tasks().heartbeat = part->heartbeat;
  }
  child->model.schedule_lag = parent.model.schedule_lag;
  child->model.rate_driven = parent.model.rate_driven;
  t->state = child.get();
  ++remaining_;
  if (parent.stop != stop_kind::none) child->request_stop(parent.stop, parent.stop_reason());
  drive_child(*this, t, std::move(child), std::move(fn));
  return t;
}

}  // namespace chaperon::detail
