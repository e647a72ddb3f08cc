// run_load_test: spreads the sessions over worker threads, watches progress and the load test
// timeout, and merges the workers' results once they have all finished.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "chaperon/run.hpp"
#include "engine/worker.hpp"

namespace chaperon {

namespace {

using steady = std::chrono::steady_clock;

std::size_t thread_count(std::size_t requested, std::size_t sessions) {
  std::size_t n = requested ? requested : std::max(1u, std::thread::hardware_concurrency());
  return std::max<std::size_t>(1, std::min(n, std::max<std::size_t>(1, sessions)));
}

std::vector<std::vector<detail::session_plan>> plan_sessions(const load_test& test,
                                                              const json& runtime,
                                                              std::size_t workers) {
  std::vector<std::vector<detail::session_plan>> plans(workers);
  std::size_t next = 0;
  for (const auto& entry : test.entries()) {
    json merged = deep_merged(deep_merged(test.default_config(), entry.config), runtime);
    auto config = std::make_shared<const json>(std::move(merged));
    for (std::size_t i = 0; i < entry.count; ++i) {
      plans[next++ % workers].push_back(detail::session_plan{&entry, config});
    }
  }
  return plans;
}

std::optional<steady::duration> load_test_timeout(const load_test& test, const json& runtime) {
  json merged = deep_merged(test.default_config(), runtime);
  const json* t = find_path(merged, config_path{"load_test_timeout"});
  if (!t || t->is_null()) return std::nullopt;
  return parse_duration(*t, "load_test_timeout");
}

progress_snapshot snapshot(const std::vector<std::unique_ptr<detail::worker>>& workers,
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

}  // namespace

run_results run_load_test(const load_test& test, const run_options& options) {
  if (test.entries().empty()) {
    throw std::invalid_argument("load test " + test.name() + " has no scenarios");
  }
  auto timeout = load_test_timeout(test, options.config);
  std::size_t n = thread_count(options.threads, test.session_count());
  auto plans = plan_sessions(test, options.config, n);

  detail::worker_settings settings{options.per_session, options.print_results, options.level,
                                   options.metrics};
  std::vector<std::unique_ptr<detail::worker>> workers;
  std::random_device seed_source;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t seed = (std::uint64_t{seed_source()} << 32) ^ seed_source() ^ i;
    workers.push_back(std::make_unique<detail::worker>(i, settings, seed));
  }

  std::mutex mutex;
  std::condition_variable cv;
  std::size_t finished = 0;
  auto start_wall = std::chrono::system_clock::now();
  auto start = steady::now();
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      workers[i]->run(std::move(plans[i]));
      std::lock_guard lock(mutex);
      ++finished;
      cv.notify_all();
    });
  }

  bool stop_sent = false;
  bool partial = false;
  {
    std::unique_lock lock(mutex);
    auto next_progress = start + options.progress_interval;
    while (finished < n) {
      auto wake = next_progress;
      if (timeout && !stop_sent) wake = std::min(wake, start + *timeout);
      cv.wait_until(lock, wake, [&] { return finished == n; });
      if (finished == n) break;
      auto now = steady::now();
      if (timeout && !stop_sent && now >= start + *timeout) {
        for (auto& w : workers) w->request_stop("load_test_timeout");
        stop_sent = partial = true;
      }
      if (now >= next_progress) {
        next_progress += options.progress_interval;
        if (options.on_progress) {
          lock.unlock();
          options.on_progress(snapshot(workers, start, test.session_count()));
          lock.lock();
        }
      }
    }
  }
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
  return results;
}

}  // namespace chaperon
