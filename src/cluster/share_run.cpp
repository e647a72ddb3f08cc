#include "cluster/share_run.hpp"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "chaperon/load_test.hpp"

namespace chaperon::cluster {

struct share_run::state {
  std::mutex mutex;
  std::condition_variable wake;
  std::optional<std::string> stop_reason;
  bool finished = false;
  std::jthread thread;
};

namespace {

// Waits until `start_at` unless a stop comes first; true when the share should start.
bool wait_for_start(std::unique_lock<std::mutex>& lock, std::condition_variable& wake,
                    const std::optional<std::string>& stop_reason,
                    std::chrono::system_clock::time_point start_at) {
  wake.wait_until(lock, start_at, [&] { return stop_reason.has_value(); });
  return !stop_reason;
}

// The test as the share runs it: the same entries and config, no thresholds (see the header).
load_test without_thresholds(const load_test& test) {
  load_test out{test.name()};
  out.default_config(test.default_config());
  for (const auto& e : test.entries()) out.entry(e);
  return out;
}

// Watches a started share until it ends: passes on a stop request and reports once per period.
void watch(load_test_run& run, const std::function<std::optional<std::string>()>& stop_reason,
           std::chrono::milliseconds period, const share_run::on_report& report) {
  auto next_report = std::chrono::steady_clock::now() + period;
  // Polled rather than signalled: a stop request waits at most this long.
  while (!run.wait_for(std::chrono::milliseconds(50))) {
    if (auto reason = stop_reason()) {
      run.stop(*reason);
      return;
    }
    if (report && std::chrono::steady_clock::now() >= next_report) {
      report(run.snapshot(), run.progress());
      next_report += period;
    }
  }
}

}  // namespace

std::chrono::milliseconds report_period(const run_spec& spec) {
  if (spec.interval.empty()) return std::chrono::milliseconds(1000);
  const auto d = parse_duration_text(spec.interval);
  if (!d || d->count() <= 0) return std::chrono::milliseconds(1000);
  return std::max(std::chrono::milliseconds(50),
                  std::chrono::duration_cast<std::chrono::milliseconds>(*d));
}

share_run::share_run(run_spec spec, share part, std::chrono::system_clock::time_point start_at,
                     on_finished done, on_report report)
    : state_(std::make_shared<state>()) {
  spec.thresholds.clear();
  state_->thread = std::jthread([st = state_, spec = std::move(spec), part, start_at,
                                 done = std::move(done), report = std::move(report)] {
    std::optional<load_test_run> run;
    std::string error;
    try {
      std::unique_lock lock(st->mutex);
      if (wait_for_start(lock, st->wake, st->stop_reason, start_at)) {
        lock.unlock();
        run.emplace(start_load_test(without_thresholds(find_load_test(spec.load_test)),
                                    spec.options(part)));
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!run && error.empty()) error = "stopped before it started";
    if (run) {
      watch(*run, [&]() -> std::optional<std::string> {
        std::lock_guard lock(st->mutex);
        return st->stop_reason;
      }, report_period(spec), report);
      const auto results = run->wait();
      done(&results, {});
    } else {
      done(nullptr, error);
    }
    std::lock_guard lock(st->mutex);
    st->finished = true;
  });
}

share_run::~share_run() {
  stop("the node is shutting down");
  if (state_->thread.joinable()) state_->thread.join();
}

void share_run::stop(std::string reason) {
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->stop_reason) state_->stop_reason = std::move(reason);
  }
  state_->wake.notify_all();
}

bool share_run::finished() const {
  std::lock_guard lock(state_->mutex);
  return state_->finished;
}

}  // namespace chaperon::cluster
