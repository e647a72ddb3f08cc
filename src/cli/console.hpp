#pragma once
// What every long-running command shows on the console and how it stops: the live progress line
// and the SIGINT/SIGTERM watcher (run, quick, master, worker).

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <stop_token>
#include <string>
#include <thread>

#include "chaperon/run.hpp"

namespace chaperon::cli {

class progress_printer {
 public:
  // `prefix` starts every line (e.g. the id of a test the master runs).
  explicit progress_printer(bool enabled, std::string prefix = {});

  // Requests and errors as the summary counts them (responses; error metrics), the rate of the
  // last complete interval.
  void operator()(const progress_snapshot& p);
  // Clears the line on a terminal.
  void finish();
  void set_prefix(std::string prefix) { prefix_ = std::move(prefix); }

 private:
  bool enabled_;
  bool tty_;
  bool printed_ = false;
  std::uint64_t ticks_ = 0;
  std::string prefix_;
};

// SIGINT and SIGTERM stop the command gracefully: the watcher thread turns the first one into a
// stop request and prints `message`; a second one exits at once. The signals are blocked in every
// thread and taken by sigwait, so no handler runs inside the engine.
class interrupt_watch {
 public:
  explicit interrupt_watch(
      std::string message = "stopping (partial results follow; signal again to exit at once)");
  ~interrupt_watch();
  interrupt_watch(const interrupt_watch&) = delete;
  interrupt_watch& operator=(const interrupt_watch&) = delete;

  std::stop_token token() const { return source_.get_token(); }
  int signal_received() const { return first_.load(); }

 private:
  void watch();

  std::string message_;
  sigset_t set_{};
  sigset_t old_{};
  std::stop_source source_;
  std::atomic<int> first_{0};
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

}  // namespace chaperon::cli
