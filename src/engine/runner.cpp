// run_load_test: spreads the sessions and load models over engine threads, watches progress and
// the load test timeout, and merges the shards' results once they have all finished.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "chaperon/run.hpp"
#include "engine/open_files.hpp"
#include "engine/shard.hpp"

namespace chaperon {

namespace {

using steady = std::chrono::steady_clock;

// Workers need a moment to start; a schedule that began before them would count their start-up
// as lag.
constexpr auto schedule_start_margin = std::chrono::milliseconds(2);
constexpr std::chrono::milliseconds default_saturation_lag{5};

std::size_t thread_count(std::size_t requested, std::size_t sessions, bool models) {
  std::size_t n = requested ? requested : std::max(1u, std::thread::hardware_concurrency());
  if (models) return std::max<std::size_t>(1, n);
  return std::max<std::size_t>(1, std::min(n, std::max<std::size_t>(1, sessions)));
}

const load_model& model_of(const load_test_entry& entry, const run_options& options) {
  return options.model ? *options.model : entry.model;
}

// An upper bound on the sessions alive at once.
std::size_t concurrent_sessions(const load_test& test, const run_options& options) {
  std::size_t n = 0;
  for (const auto& e : test.entries()) {
    const auto& m = model_of(e, options);
    switch (m.kind) {
      case load_kind::at_once: n += e.count; break;
      case load_kind::ramping_sessions: n += static_cast<std::size_t>(m.peak()); break;
      case load_kind::arrival_rate: n += m.effective_max_active(); break;
    }
  }
  return n;
}

struct work_plan {
  std::vector<std::vector<detail::session_plan>> sessions;
  std::vector<std::vector<detail::model_plan>> models;
};

work_plan plan_work(const load_test& test, const run_options& options, std::size_t workers,
                    steady::time_point t0) {
  work_plan plan;
  plan.sessions.resize(workers);
  plan.models.resize(workers);
  std::size_t next = 0;
  for (const auto& entry : test.entries()) {
    json merged = deep_merged(deep_merged(test.default_config(), entry.config), options.config);
    auto config = std::make_shared<const json>(std::move(merged));
    const auto& model = model_of(entry, options);
    if (model.kind == load_kind::at_once) {
      for (std::size_t i = 0; i < entry.count; ++i) {
        plan.sessions[next++ % workers].push_back(detail::session_plan{&entry, config});
      }
      continue;
    }
    model.validate();
    for (std::size_t i = 0; i < workers; ++i) {
      plan.models[i].push_back(detail::model_plan{&entry, config, model, i, workers, t0});
    }
  }
  return plan;
}

json run_config(const load_test& test, const json& runtime) {
  return deep_merged(test.default_config(), runtime);
}

std::optional<steady::duration> load_test_timeout(const json& config) {
  const json* t = find_path(config, config_path{"load_test_timeout"});
  if (!t || t->is_null()) return std::nullopt;
  return parse_duration(*t, "load_test_timeout");
}

saturation_thresholds thresholds(const json& config) {
  saturation_thresholds t;
  t.lag_us = default_saturation_lag.count() * 1000;
  if (const json* v = find_path(config, config_path{"saturation_lag"}); v && !v->is_null()) {
    t.lag_us = parse_duration(*v, "saturation_lag").count();
  }
  return t;
}

progress_snapshot snapshot(const std::vector<std::unique_ptr<detail::shard>>& workers,
                           steady::time_point start, std::uint64_t total) {
  progress_snapshot p;
  p.elapsed = steady::now() - start;
  p.sessions_total = total;
  for (const auto& w : workers) {
    auto& c = w->counters();
    p.requests += c.requests.load(std::memory_order_relaxed);
    p.errors += c.errors.load(std::memory_order_relaxed);
    p.sessions_active += c.sessions_active.load(std::memory_order_relaxed);
    p.sessions_done += c.sessions_done.load(std::memory_order_relaxed);
  }
  return p;
}

// Waits for the shards, reporting progress and sending the load test timeout or a stop request;
// true when either stopped the run.
bool supervise(std::vector<std::unique_ptr<detail::shard>>& workers, std::mutex& mutex,
               std::condition_variable& cv, const std::size_t& finished,
               std::optional<steady::duration> timeout, const run_options& options,
               steady::time_point start, std::uint64_t total) {
  const std::size_t n = workers.size();
  bool stop_sent = false;
  std::unique_lock lock(mutex);
  auto next_progress = start + options.progress_interval;
  constexpr auto stop_poll = std::chrono::milliseconds(100);
  while (finished < n) {
    auto wake = next_progress;
    if (timeout && !stop_sent) wake = std::min(wake, start + *timeout);
    if (options.stop.stop_possible() && !stop_sent) wake = std::min(wake, steady::now() + stop_poll);
    cv.wait_until(lock, wake, [&] { return finished == n; });
    if (finished == n) break;
    auto now = steady::now();
    if (timeout && !stop_sent && now >= start + *timeout) {
      for (auto& w : workers) w->request_stop("load_test_timeout");
      stop_sent = true;
    }
    if (!stop_sent && options.stop.stop_requested()) {
      for (auto& w : workers) w->request_stop("interrupted");
      stop_sent = true;
    }
    if (now >= next_progress) {
      next_progress += options.progress_interval;
      if (options.on_progress) {
        lock.unlock();
        options.on_progress(snapshot(workers, start, total));
        lock.lock();
      }
    }
  }
  return stop_sent;
}

}  // namespace

run_results run_load_test(const load_test& test, const run_options& options) {
  if (test.entries().empty()) {
    throw std::invalid_argument("load test " + test.name() + " has no scenarios");
  }
  if (options.model) options.model->validate();
  const json config = run_config(test, options.config);
  auto timeout = load_test_timeout(config);
  auto limits = thresholds(config);
  const std::size_t concurrent = concurrent_sessions(test, options);
  detail::check_open_files(concurrent, config);
  bool models = false;
  for (const auto& e : test.entries()) models = models || model_of(e, options).kind != load_kind::at_once;
  std::size_t n = thread_count(options.threads, concurrent, models);

  detail::shard_settings settings{options.per_session, options.print_results, options.level,
                                   options.metrics};
  std::vector<std::unique_ptr<detail::shard>> workers;
  std::random_device seed_source;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t seed = (std::uint64_t{seed_source()} << 32) ^ seed_source() ^ i;
    workers.push_back(std::make_unique<detail::shard>(i, settings, seed));
  }

  std::mutex mutex;
  std::condition_variable cv;
  std::size_t finished = 0;
  auto start_wall = std::chrono::system_clock::now();
  auto start = steady::now();
  auto plan = plan_work(test, options, n, start + schedule_start_margin);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      workers[i]->run(std::move(plan.sessions[i]), std::move(plan.models[i]));
      std::lock_guard lock(mutex);
      ++finished;
      cv.notify_all();
    });
  }
  bool partial = supervise(workers, mutex, cv, finished, timeout, options, start, concurrent);
  for (auto& t : threads) t.join();

  run_results results;
  for (auto& w : workers) results.merge(w->take_results());
  results.load_test = test.name();
  results.start_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              start_wall.time_since_epoch())
                              .count();
  results.duration_us =
      std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start).count();
  results.partial = partial;
  assess_saturation(results.generator, limits);
  return results;
}

}  // namespace chaperon
