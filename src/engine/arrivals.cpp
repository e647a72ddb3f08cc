#include "engine/arrivals.hpp"

#include <cmath>
#include <coroutine>
#include <map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "chaperon/scenario.hpp"
#include "engine/drivers.hpp"
#include "engine/intended_time.hpp"
#include "engine/lifecycle.hpp"
#include "engine/load_model.hpp"
#include "engine/session_state.hpp"

namespace chaperon::detail {

namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

constexpr auto ramp_tick = std::chrono::milliseconds(10);

steady::time_point at_seconds(steady::time_point t0, double seconds) {
  return t0 + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
}

// ---- closed: ramping session targets ----------------------------------------------------------

class ramp_driver final : public load_driver, public session_observer {
 public:
  ramp_driver(shard& w, model_plan plan)
      : w_(w), plan_(std::move(plan)), curve_(plan_.model.start, plan_.model.stages),
        timer_(w.io()) {}

  void start() override { tick(); }

  void stop() override {
    if (over_) return;
    stopped_ = true;
    finish();
  }

  void session_started(session_state& s) override {
    if (over_) {
      if (!stopped_) stop_session(s);
      return;
    }
    s.model.seq = ++seq_;
    live_.emplace(s.model.seq, &s);
  }

  void session_ended(session_state& s) override {
    --launched_;
    if (s.model.ramp_down) {
      --stopping_;
    } else {
      live_.erase(s.model.seq);
    }
    // The target still stands: replace the session (on the next turn, not inside its ending).
    if (!over_ && !rebalance_posted_) {
      rebalance_posted_ = true;
      asio::post(w_.io(), [this] {
        rebalance_posted_ = false;
        if (!over_) rebalance(current_target());
      });
    }
  }

 private:
  double elapsed() const {
    return std::chrono::duration<double>(steady::now() - plan_.t0).count();
  }

  std::size_t current_target() const {
    auto total = static_cast<std::size_t>(std::floor(curve_.value_at(elapsed()) + 1e-9));
    return share_of(total, plan_.share_index, plan_.share_count);
  }

  void tick() {
    if (over_) return;
    if (elapsed() >= curve_.end()) {
      finish();
      return;
    }
    rebalance(current_target());
    auto next = std::min(steady::now() + ramp_tick, at_seconds(plan_.t0, curve_.end()));
    timer_.expires_at(next);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  }

  void rebalance(std::size_t target) {
    std::size_t running = launched_ - stopping_;
    for (; running < target; ++running) {
      ++launched_;
      w_.start_session(session_plan{plan_.entry, plan_.config}, this);
    }
    // Sessions above the target stop, newest first; they count as completed.
    while (running > target && !live_.empty()) {
      auto newest = std::prev(live_.end());
      session_state* s = newest->second;
      live_.erase(newest);
      stop_session(*s);
      --running;
    }
  }

  // A session that was already stopping (an abort, a timeout) keeps its own ending: request_stop
  // leaves the first stop in place and only stop_kind::ramp_down counts as completed.
  void stop_session(session_state& s) {
    ++stopping_;
    s.model.ramp_down = true;
    s.request_stop(stop_kind::ramp_down, std::string(ramp_down_reason));
  }

  // The last stage is over (or the test is stopped): every session still running stops.
  void finish() {
    over_ = true;
    timer_.cancel();
    if (!stopped_) {
      while (!live_.empty()) {
        auto it = live_.begin();
        session_state* s = it->second;
        live_.erase(it);
        stop_session(*s);
      }
    }
    w_.release();
  }

  shard& w_;
  model_plan plan_;
  stage_curve curve_;
  asio::steady_timer timer_;
  std::map<std::uint64_t, session_state*> live_;  // started, not asked to stop; by start order
  std::uint64_t seq_ = 0;
  std::size_t launched_ = 0;  // started (or about to start) and not ended
  std::size_t stopping_ = 0;  // asked to stop by the ramp and not ended
  bool over_ = false;
  bool stopped_ = false;
  bool rebalance_posted_ = false;
};

// ---- open: arrivals at a rate, run on a pool of sessions ----------------------------------------

// A pooled session waiting for its next arrival.
struct idle_slot {
  std::coroutine_handle<> handle;
  steady::time_point due;
  bool quit = false;
};

class arrival_driver final : public load_driver {
 public:
  arrival_driver(shard& w, model_plan plan)
      : w_(w),
        plan_(std::move(plan)),
        curve_(plan_.model.start, plan_.model.stages),
        count_(arrival_count(curve_)),
        next_(plan_.share_index),
        cap_(std::max<std::size_t>(1, share_of(plan_.model.effective_max_active(),
                                               plan_.share_index, plan_.share_count))),
        timer_(w.io()) {}

  void start() override { schedule_next(); }
  void stop() override { close(); }

  shard& owner() { return w_; }
  const model_plan& plan() const { return plan_; }
  bool closing() const { return closing_; }
  void park(idle_slot& slot) { idle_.push_back(&slot); }
  void session_ended() { --pool_size_; }

 private:
  steady::time_point due(std::uint64_t n) const {
    return at_seconds(plan_.t0, *arrival_time(curve_, n));
  }

  void schedule_next() {
    if (closing_) return;
    if (next_ >= count_) {
      close();
      return;
    }
    timer_.expires_at(due(next_));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) on_timer();
    });
  }

  // Starts every arrival whose time has come: a late timer catches up, it never skips.
  void on_timer() {
    auto now = steady::now();
    while (!closing_ && next_ < count_) {
      auto when = due(next_);
      if (when > now) break;
      next_ += plan_.share_count;
      dispatch(when, now);
    }
    schedule_next();
  }

  void dispatch(steady::time_point when, steady::time_point now);

  void close() {
    if (closing_) return;
    closing_ = true;
    timer_.cancel();
    auto idle = std::move(idle_);
    idle_.clear();
    for (auto* slot : idle) {
      slot->quit = true;
      slot->handle.resume();
    }
    w_.release();
  }

  shard& w_;
  model_plan plan_;
  stage_curve curve_;
  std::uint64_t count_;  // arrivals of the whole schedule, over all shards
  std::uint64_t next_;   // the next arrival of this shard's share
  std::size_t cap_;
  std::size_t pool_size_ = 0;
  std::vector<idle_slot*> idle_;
  asio::steady_timer timer_;
  bool closing_ = false;
};

struct idle_awaiter {
  arrival_driver& driver;
  idle_slot& slot;
  bool await_ready() const noexcept { return driver.closing(); }
  void await_suspend(std::coroutine_handle<> h) {
    slot.handle = h;
    driver.park(slot);
  }
  void await_resume() const noexcept {}
};

using lifecycles = std::vector<scenario_lifecycle>;

// One iteration: run() of each scenario, from the arrival's intended time `due`. A failed run is
// the iteration's failure, not the session's; one stopped by scenario_timeout is also recorded as
// `Error timeout iteration(<scenario>)`. False when the session has stopped and must leave the
// pool.
task<bool> run_iteration(session& s, const load_test_entry& entry, lifecycles& scenarios,
                         steady::time_point due) {
  auto& st = state_of(s);
  auto start = steady::now();
  st.model.schedule_lag = std::max(
      std::chrono::microseconds{0}, std::chrono::duration_cast<std::chrono::microseconds>(start - due));
  bool stopped = false;
  std::exception_ptr error;
  for (auto& sc : scenarios) {
    co_await sc.run();
    // The iteration's time includes the tasks it started.
    if (co_await sc.end_tasks()) continue;
    stopped = sc.stopped();
    error = sc.take_failure();
    break;
  }
  auto elapsed =
      std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start).count();
  metric_key key{st.metric_session(), "iteration", entry.scenario_name(), {}};
  record_latency(st, key, elapsed);
  if (st.stop == stop_kind::timed_out) {
    key.error = "timeout";
    record_latency(st, key, elapsed);
    live_counters::add(st.owner.counters().errors);
  } else if (error) {
    key.error = "exception";
    record_latency(st, key, elapsed);
    live_counters::add(st.owner.counters().errors);
    st.owner.count_session_error("iteration: " + describe_failure(error));
  }
  co_return !stopped && !s.stopped();
}

// A pooled session: init of each scenario once, then an iteration per arrival it is handed
// until the driver closes or the session stops, then teardown of each. Config scenario_timeout
// bounds each iteration, which is one run of the scenarios: a late one stops the session as
// timed out, the session leaves the pool, and a new one takes the next arrival.
task<void> run_pooled(session& s, arrival_driver& driver, steady::time_point first_due) {
  const auto& entry = *driver.plan().entry;
  const auto timeout = scenario_deadline::configured(state_of(s));
  scenario_deadline deadline;
  lifecycles scenarios;
  scenarios.reserve(entry.sequence.size());
  bool go_on = true;
  for (std::size_t i = 0; go_on && i < entry.sequence.size(); ++i) {
    if (i > 0) s.set_config(s.assigned());
    scenarios.emplace_back(s, entry.sequence[i]);
    go_on = co_await scenarios.back().init();
  }
  std::exception_ptr failure = scenarios.empty() ? nullptr : scenarios.back().failure();
  idle_slot slot;
  slot.due = first_due;
  while (go_on) {
    if (timeout) deadline.arm(state_of(s), *timeout);
    go_on = co_await run_iteration(s, entry, scenarios, slot.due);
    deadline.disarm();
    if (!go_on || driver.closing()) break;
    co_await idle_awaiter{driver, slot};
    if (slot.quit || driver.closing()) break;
  }
  for (auto& sc : scenarios) co_await sc.teardown();
  // Run failures were the iterations' own; an init failure came first, then teardown ones.
  for (auto& sc : scenarios) {
    if (!failure) failure = sc.failure();
  }
  if (failure) state_of(s).set_failure(describe_failure(failure));
}

struct pooled_job {
  static constexpr bool counted = true;
  arrival_driver* driver;
  steady::time_point first_due;

  void started(session_state& st) { st.model.rate_driven = true; }
  task<void> body(session& s) { return run_pooled(s, *driver, first_due); }
  void ended(session_state& st) {
    st.owner.record_session_end(st);
    driver->session_ended();
  }
};

void arrival_driver::dispatch(steady::time_point when, steady::time_point now) {
  w_.record_schedule_lag(now - when);
  if (!idle_.empty()) {
    idle_slot* slot = idle_.back();
    idle_.pop_back();
    slot->due = when;
    w_.arrivals().started++;
    slot->handle.resume();
  } else if (pool_size_ < cap_) {
    ++pool_size_;
    w_.arrivals().started++;
    w_.hold();
    drive(w_, w_.new_session(*plan_.entry, plan_.config), pooled_job{this, when});
  } else {
    w_.arrivals().dropped++;
  }
}

}  // namespace

std::unique_ptr<load_driver> make_driver(shard& w, model_plan plan) {
  if (plan.model.kind == load_kind::arrival_rate)
    return std::make_unique<arrival_driver>(w, std::move(plan));
  return std::make_unique<ramp_driver>(w, std::move(plan));
}

}  // namespace chaperon::detail
