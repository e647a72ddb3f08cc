#include "engine/worker.hpp"

#include <sys/prctl.h>
#include <time.h>

#include <cstdio>
#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "engine/arrivals.hpp"
#include "engine/intended_time.hpp"
#include "engine/detached.hpp"
#include "engine/lifecycle.hpp"
#include "engine/session_state.hpp"
#include "net/io_services.hpp"

namespace chaperon::detail {

namespace asio = boost::asio;

struct worker::io_parts {
  // One thread runs this context; only posts come from other threads, so the reactor's
  // per-descriptor locks can go (the scheduler keeps its own).
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  net::io_services net{io};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  bool stopping = false;
  std::string stop_reason;
  std::size_t failures_printed = 0;
  // The event-loop probe: a timer whose lateness is the time ready work waits for the thread,
  // and once a second the thread's CPU time against the wall clock.
  asio::steady_timer probe{io};
  std::chrono::steady_clock::time_point probe_due;
  std::chrono::steady_clock::time_point window_start;
  std::int64_t window_cpu_ns = 0;
  bool finished = false;
};

namespace {

std::string make_uuid(std::mt19937_64& rng) {
  std::uint64_t a = rng();
  std::uint64_t b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 1
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff,
                     a & 0xffff, b >> 48, b & 0xffffffffffffULL);
}

constexpr auto probe_period = std::chrono::milliseconds(10);
constexpr auto cpu_window = std::chrono::seconds(1);

std::int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

detached drive_session(worker& w, session_plan plan, session_observer* observer) {
  const auto& entry = *plan.entry;
  session s(w.new_session(entry, plan.config));
  session_state& state = s.state();
  w.attach(state, true);
  if (observer) observer->session_started(state);

  // Allocated only when used: a timer in every session's frame would cost idle sessions memory.
  std::unique_ptr<asio::steady_timer> timeout;
  if (const json* t = find_path(*plan.config, config_path{"scenario_timeout"}); t && !t->is_null()) {
    try {
      timeout = std::make_unique<asio::steady_timer>(w.io());
      timeout->expires_after(parse_duration(*t, "scenario_timeout"));
      timeout->async_wait([&state](const boost::system::error_code& ec) {
        if (!ec) state.request_stop(stop_kind::timed_out, "scenario_timeout");
      });
    } catch (const std::exception& e) {
      state.failure = e.what();
    }
  }
  if (state.failure.empty()) co_await run_lifecycle(s, entry);
  co_await join_tasks(s);
  if (timeout) timeout->cancel();
  w.record_session_end(state);
  if (observer) observer->session_ended(state);
  w.detach(state);
}

detached drive_child(worker& w, std::shared_ptr<child_task> t,
                     std::unique_ptr<session_state> owned,
                     std::function<task<void>(session&)> fn) {
  session_state& state = *owned;
  session s(std::move(owned));
  w.attach(state, false);
  auto start = std::chrono::steady_clock::now();
  try {
    co_await fn(s);
  } catch (const session_stopped&) {
  } catch (const std::exception& e) {
    state.failure = e.what();
  } catch (...) {
    state.failure = "unknown exception";
  }
  co_await join_tasks(s);
  auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  record_latency(state, metric_key{state.metric_session(), t->name, {}, {}}, elapsed.count());
  if (!state.failure.empty()) {
    record_latency(state, metric_key{state.metric_session(), t->name, {}, "exception"},
                   elapsed.count());
    w.record_task_failure(state);
  }
  t->done = true;
  t->state = nullptr;
  if (t->waiter) w.wake(*t->waiter);
  w.detach(state);
}

}  // namespace

worker::worker(std::size_t index, worker_settings settings, std::uint64_t seed)
    : index_(index),
      settings_(std::move(settings)),
      rng_(seed),
      recorder_(settings_.filter),
      io_(std::make_unique<io_parts>()) {}

worker::~worker() = default;

asio::io_context& worker::io() noexcept { return io_->io; }
net::io_services& worker::net() noexcept { return io_->net; }

void worker::run(std::vector<session_plan> plans, std::vector<model_plan> models) {
  // Timers fire within the default 50 us slack otherwise: too coarse for arrival schedules.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  // Each driver holds the worker until its schedule is over.
  remaining_ = plans.size() + models.size();
  if (remaining_ == 0) return;
  io_->guard.emplace(io_->io.get_executor());
  for (auto& plan : plans) {
    asio::post(io_->io, [this, plan] { drive_session(*this, plan, nullptr); });
  }
  for (auto& m : models) drivers_.push_back(make_driver(*this, std::move(m)));
  for (auto& d : drivers_) asio::post(io_->io, [d = d.get()] { d->start(); });
  start_probe();
  io_->io.run();
}

void worker::start_session(const session_plan& plan, session_observer* observer) {
  ++remaining_;
  asio::post(io_->io, [this, plan, observer] { drive_session(*this, plan, observer); });
}

void worker::release() {
  if (--remaining_ > 0) return;
  io_->finished = true;
  io_->probe.cancel();
  io_->net.shutdown();
  io_->guard.reset();
}

std::unique_ptr<session_state> worker::new_session(const load_test_entry& entry,
                                                   std::shared_ptr<const json> config) {
  std::string id = make_uuid(rng_);
  std::string name =
      entry.session_name.empty() ? entry.scenario_name() + " " + id : entry.session_name;
  return std::make_unique<session_state>(*this, std::move(id), std::move(name), std::move(config));
}

std::shared_ptr<const http_settings> worker::settings_for(
    const std::shared_ptr<const json>& config) {
  for (const auto& [cfg, settings] : settings_cache_) {
    if (cfg == config) return settings;
  }
  auto settings = make_http_settings(*config);
  // A config only this session holds is its own (it wrote to it, or a nested run_scenario made
  // it): it gets its own settings. Holding it here would also make its next write copy it.
  if (config.use_count() == 1) return settings;
  constexpr std::size_t max_cached = 8;
  std::erase_if(settings_cache_, [](const auto& e) { return e.first.use_count() == 1; });
  if (settings_cache_.size() < max_cached) settings_cache_.emplace_back(config, settings);
  return settings;
}

void worker::record_schedule_lag(std::chrono::steady_clock::duration lag) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(lag).count();
  results_.generator.schedule_lag.record(std::max<std::int64_t>(0, us));
}

void worker::start_probe() {
  auto now = std::chrono::steady_clock::now();
  io_->window_start = now;
  io_->window_cpu_ns = thread_cpu_ns();
  io_->probe_due = now + probe_period;
  io_->probe.expires_at(io_->probe_due);
  io_->probe.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_probe();
  });
}

void worker::on_probe() {
  if (io_->finished) return;
  auto now = std::chrono::steady_clock::now();
  auto late = std::chrono::duration_cast<std::chrono::microseconds>(now - io_->probe_due);
  results_.generator.loop_delay.record(std::max<std::int64_t>(0, late.count()));
  if (now - io_->window_start >= cpu_window) {
    auto cpu = thread_cpu_ns();
    double wall = std::chrono::duration<double, std::nano>(now - io_->window_start).count();
    double share = static_cast<double>(cpu - io_->window_cpu_ns) / wall;
    results_.generator.max_worker_cpu = std::max(results_.generator.max_worker_cpu, share);
    io_->window_start = now;
    io_->window_cpu_ns = cpu;
  }
  // The next probe is due a period after this one ran: a late probe measures one delay, not a
  // backlog of them.
  io_->probe_due = now + probe_period;
  io_->probe.expires_at(io_->probe_due);
  io_->probe.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_probe();
  });
}

void worker::post(std::function<void()> fn) { asio::post(io_->io, std::move(fn)); }

void worker::request_stop(std::string reason) {
  asio::post(io_->io, [this, reason = std::move(reason)] { stop_all(reason); });
}

void worker::stop_all(const std::string& reason) {
  io_->stopping = true;
  io_->stop_reason = reason;
  // request_stop only cancels (completions are posted, a custom action's abort too), so no
  // session ends during this walk; the copy keeps the walk independent of the list anyway.
  auto active = active_;
  for (auto* s : active) s->request_stop(stop_kind::cancelled, reason);
  // Drivers resume their idle sessions when they stop, which may end sessions: not in this walk.
  for (auto& d : drivers_) asio::post(io_->io, [d = d.get()] { d->stop(); });
}

void worker::attach(session_state& s, bool counted) {
  s.active_index = active_.size();
  active_.push_back(&s);
  if (counted) {
    results_.sessions.started++;
    live_counters::add(counters_.sessions_active);
  }
  if (io_->stopping) s.request_stop(stop_kind::cancelled, io_->stop_reason);
}

void worker::detach(session_state& s) {
  auto* last = active_.back();
  active_[s.active_index] = last;
  last->active_index = s.active_index;
  active_.pop_back();
  if (!s.parent) {
    live_counters::add(counters_.sessions_active, -1);
    live_counters::add(counters_.sessions_done);
  }
  release();
}

void worker::record_session_end(const session_state& s) {
  auto& counts = results_.sessions;
  if (!s.failure.empty()) {
    counts.failed++;
    results_.session_errors[s.failure]++;
    if (io_->failures_printed++ < 5) {
      std::fprintf(stderr, "chaperon: session %s failed: %s\n", s.name.c_str(), s.failure.c_str());
    }
    return;
  }
  if (s.ramp_down && s.stop == stop_kind::cancelled && s.stop_reason == ramp_down_reason) {
    counts.completed++;
    return;
  }
  switch (s.stop) {
    case stop_kind::none: counts.completed++; break;
    case stop_kind::aborted:
      counts.aborted++;
      results_.session_errors["aborted: " + s.stop_reason]++;
      break;
    case stop_kind::timed_out:
    case stop_kind::cancelled:
      counts.timed_out++;
      results_.session_errors[s.stop_reason]++;
      break;
  }
}

run_results worker::take_results() {
  recorder_.drain_into(results_);
  return std::move(results_);
}

void worker::sleep(session_state& s, std::chrono::microseconds d, std::coroutine_handle<> h) {
  struct sleeper {
    asio::steady_timer timer;
    std::coroutine_handle<> waiter;
    session_state* state;
  };
  auto* sl = new sleeper{asio::steady_timer(io_->io, d), h, &s};
  s.pending = pending_op{[](void* p) { static_cast<sleeper*>(p)->timer.cancel(); }, sl};
  sl->timer.async_wait([sl](const boost::system::error_code&) {
    auto waiter = sl->waiter;
    if (sl->state->pending.target == sl) sl->state->pending = {};
    delete sl;
    waiter.resume();
  });
}

}  // namespace chaperon::detail

namespace chaperon::detail {

void worker::record_task_failure(const session_state& s) {
  results_.session_errors["task: " + s.failure]++;
  if (io_->failures_printed++ < 5) {
    std::fprintf(stderr, "chaperon: async task of %s failed: %s\n", s.name.c_str(),
                 s.failure.c_str());
  }
}

void worker::wait(session_state& s, wait_slot& slot, std::chrono::microseconds timeout,
                  std::coroutine_handle<> h) {
  auto* timer = new asio::steady_timer(io_->io, timeout);
  slot.waiter = h;
  slot.timer = timer;
  slot.woken = slot.timed_out = false;
  s.pending = pending_op{[](void* p) {
                           auto* sl = static_cast<wait_slot*>(p);
                           if (sl->timer) static_cast<asio::steady_timer*>(sl->timer)->cancel();
                         },
                         &slot};
  timer->async_wait([&slot, &s, timer](const boost::system::error_code& ec) {
    delete timer;
    slot.timer = nullptr;
    if (s.pending.target == &slot) s.pending = {};
    slot.timed_out = !ec && !slot.woken;
    std::exchange(slot.waiter, {}).resume();
  });
}

void worker::wake(wait_slot& slot) {
  if (!slot.waiter || slot.woken) return;
  slot.woken = true;
  if (slot.timer) {
    static_cast<asio::steady_timer*>(slot.timer)->cancel();
  } else {
    asio::post(io_->io, [&slot] { std::exchange(slot.waiter, {}).resume(); });
  }
}

std::shared_ptr<child_task> worker::spawn_child(session_state& parent, std::string name,
                                                std::function<task<void>(session&)> fn) {
  auto t = std::make_shared<child_task>();
  t->name = std::move(name);
  auto child = std::make_unique<session_state>(*this, make_uuid(rng_), parent.name, parent.config);
  child->parent = &parent;
  child->assigned = parent.assigned;
  child->cookies = parent.cookies;
  child->scenario = parent.scenario;
  child->heartbeat_period = parent.heartbeat_period;
  child->heartbeat = parent.heartbeat;
  child->schedule_lag = parent.schedule_lag;
  child->rate_driven = parent.rate_driven;
  t->state = child.get();
  ++remaining_;
  if (parent.stop != stop_kind::none) child->request_stop(parent.stop, parent.stop_reason);
  drive_child(*this, t, std::move(child), std::move(fn));
  return t;
}

}  // namespace chaperon::detail
