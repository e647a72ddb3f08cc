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

}  // namespace

share_run::share_run(run_spec spec, share part, std::chrono::system_clock::time_point start_at,
                     on_finished done)
    : state_(std::make_shared<state>()) {
  state_->thread = std::jthread([st = state_, spec = std::move(spec), part, start_at,
                                 done = std::move(done)] {
    std::optional<load_test_run> run;
    std::string error;
    try {
      std::unique_lock lock(st->mutex);
      if (wait_for_start(lock, st->wake, st->stop_reason, start_at)) {
        lock.unlock();
        run.emplace(start_load_test(find_load_test(spec.load_test), spec.options(part)));
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!run && error.empty()) error = "stopped before it started";
    if (run) {
      // Polled rather than signalled: a stop request waits at most this long.
      while (!run->wait_for(std::chrono::milliseconds(50))) {
        std::unique_lock lock(st->mutex);
        if (st->stop_reason) {
          auto reason = *st->stop_reason;
          lock.unlock();
          run->stop(reason);
          break;
        }
      }
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
