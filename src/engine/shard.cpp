#include "engine/shard.hpp"

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
#include "engine/drivers.hpp"
#include "engine/lifecycle.hpp"
#include "engine/session_state.hpp"
#include "engine/sleep_queue.hpp"
#include "net/io_services.hpp"

namespace chaperon::detail {

namespace asio = boost::asio;

struct shard::io_parts {
  // One thread runs this context; only posts come from other threads, so the reactor's
  // per-descriptor locks can go (the scheduler keeps its own).
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  net::io_services net{io};
  sleep_queue sleeps{io};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  bool stopping = false;
  std::string stop_reason;
  // The event-loop probe: a timer whose lateness is the time ready work waits for the thread,
  // and once a second the thread's CPU time against the wall clock.
  asio::steady_timer probe{io};
  asio::steady_timer cut_timer{io};
  std::chrono::steady_clock::time_point probe_due;
  std::chrono::steady_clock::time_point window_start;
  std::int64_t window_cpu_ns = 0;
  bool finished = false;
};

std::string make_uuid(std::mt19937_64& rng) {
  std::uint64_t a = rng();
  std::uint64_t b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 1
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff,
                     a & 0xffff, b >> 48, b & 0xffffffffffffULL);
}

namespace {

constexpr auto probe_period = std::chrono::milliseconds(10);
constexpr auto cpu_window = std::chrono::seconds(1);

std::int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

shard::shard(std::size_t index, shard_settings settings, std::uint64_t seed)
    : index_(index),
      settings_(std::move(settings)),
      rng_(seed),
      recorder_(settings_.filter),
      io_(std::make_unique<io_parts>()) {}

shard::~shard() = default;

asio::io_context& shard::io() noexcept { return io_->io; }
net::io_services& shard::net() noexcept { return io_->net; }
sleep_queue& shard::sleeps() noexcept { return io_->sleeps; }

void shard::run(std::vector<session_plan> plans, std::vector<model_plan> models) {
  // Timers fire within the default 50 us slack otherwise: too coarse for arrival schedules.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  // Each driver holds the shard until its schedule is over.
  remaining_ = plans.size() + models.size();
  if (remaining_ == 0) return;
  io_->guard.emplace(io_->io.get_executor());
  for (auto& plan : plans) {
    asio::post(io_->io, [this, plan] { drive_session(*this, plan, nullptr); });
  }
  for (auto& m : models) drivers_.push_back(make_driver(*this, std::move(m)));
  for (auto& d : drivers_) asio::post(io_->io, [d = d.get()] { d->start(); });
  start_probe();
  if (sink_) schedule_cut();
  io_->io.run();
}

void shard::start_session(const session_plan& plan, session_observer* observer) {
  ++remaining_;
  asio::post(io_->io, [this, plan, observer] { drive_session(*this, plan, observer); });
}

void shard::release() {
  if (--remaining_ > 0) return;
  io_->finished = true;
  io_->probe.cancel();
  io_->cut_timer.cancel();
  io_->sleeps.shutdown();
  io_->net.shutdown();
  io_->guard.reset();
}

std::unique_ptr<session_state> shard::new_session(const load_test_entry& entry,
                                                   std::shared_ptr<const json> config) {
  return std::make_unique<session_state>(*this, make_uuid(rng_), entry, std::move(config));
}

std::shared_ptr<const http_settings> shard::settings_for(
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

void shard::record_schedule_lag(std::chrono::steady_clock::duration lag) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(lag).count();
  results_.generator.schedule_lag.record(std::max<std::int64_t>(0, us));
}

void shard::start_probe() {
  auto now = std::chrono::steady_clock::now();
  io_->window_start = now;
  io_->window_cpu_ns = thread_cpu_ns();
  io_->probe_due = now + probe_period;
  io_->probe.expires_at(io_->probe_due);
  io_->probe.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_probe();
  });
}

void shard::on_probe() {
  if (io_->finished) return;
  auto now = std::chrono::steady_clock::now();
  auto late = std::chrono::duration_cast<std::chrono::microseconds>(now - io_->probe_due);
  results_.generator.loop_delay.record(std::max<std::int64_t>(0, late.count()));
  if (now - io_->window_start >= cpu_window) {
    auto cpu = thread_cpu_ns();
    double wall = std::chrono::duration<double, std::nano>(now - io_->window_start).count();
    double share = static_cast<double>(cpu - io_->window_cpu_ns) / wall;
    results_.generator.max_thread_cpu = std::max(results_.generator.max_thread_cpu, share);
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

void shard::post(std::function<void()> fn) { asio::post(io_->io, std::move(fn)); }

void shard::request_stop(std::string reason) {
  asio::post(io_->io, [this, reason = std::move(reason)] { stop_all(reason); });
}

void shard::stop_all(const std::string& reason) {
  io_->stopping = true;
  io_->stop_reason = reason;
  // request_stop only cancels (completions are posted, a custom action's abort too), so no
  // session ends during this walk; the copy keeps the walk independent of the list anyway.
  auto active = active_;
  for (auto* s : active) s->request_stop(stop_kind::cancelled, reason);
  // Drivers resume their idle sessions when they stop, which may end sessions: not in this walk.
  for (auto& d : drivers_) asio::post(io_->io, [d = d.get()] { d->stop(); });
}

void shard::attach(session_state& s, bool counted) {
  s.active_index = static_cast<std::uint32_t>(active_.size());
  active_.push_back(&s);
  if (counted) {
    results_.sessions.started++;
    live_counters::add(counters_.sessions_active);
  }
  if (io_->stopping) s.request_stop(stop_kind::cancelled, io_->stop_reason);
}

void shard::detach(session_state& s) {
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

void shard::deliver_intervals(interval_sink sink, std::chrono::steady_clock::time_point t0,
                              std::chrono::microseconds length) {
  sink_ = std::move(sink);
  intervals_t0_ = t0;
  interval_length_ = length;
}

interval shard::cut() {
  interval part;
  part.start_us = static_cast<std::int64_t>(cut_index_) * interval_length_.count();
  part.length_us = interval_length_.count();
  recorder_.drain_into(part.metrics, part.corrected);
  part.session_errors = std::exchange(results_.session_errors, {});
  part.sessions = std::exchange(results_.sessions, {});
  part.arrivals = std::exchange(results_.arrivals, {});
  part.sessions_active = counters_.sessions_active.load(std::memory_order_relaxed);
  return part;
}

// Cuts are due at fixed times from t0 on every shard, so parts with the same index cover the same
// span; a loop held up past a due time cuts late, and the next cut is due at its own time.
void shard::schedule_cut() {
  io_->cut_timer.expires_at(intervals_t0_ + interval_length_ * static_cast<std::int64_t>(cut_index_ + 1));
  io_->cut_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec || io_->finished) return;
    sink_(index_, cut_index_, cut());
    ++cut_index_;
    schedule_cut();
  });
}

interval shard::take_final_interval() { return cut(); }

generator_report shard::take_generator() { return std::move(results_.generator); }

}  // namespace chaperon::detail
