#include "cli/console.hpp"

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace chaperon::cli {

progress_printer::progress_printer(bool enabled, std::string prefix)
    : enabled_(enabled), tty_(isatty(STDERR_FILENO) != 0), prefix_(std::move(prefix)) {}

void progress_printer::operator()(const progress_snapshot& p) {
  if (!enabled_) return;
  double secs = std::chrono::duration<double>(p.elapsed).count();
  std::string line = fmt::format(
      "{}{:7.1f}s  sessions {} active, {}/{} done  |  {} requests  {:.0f} req/s  |  {} errors",
      prefix_, secs, p.sessions_active, p.sessions_done, p.sessions_total, p.requests,
      p.requests_per_second, p.errors);
  // On a terminal the line updates in place; in logs one line every 5 seconds is enough.
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    printed_ = true;
  } else if (++ticks_ % 5 == 0) {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void progress_printer::finish() {
  if (printed_) std::fprintf(stderr, "\r\033[K");
  printed_ = false;
  ticks_ = 0;
}

interrupt_watch::interrupt_watch(std::string message)
    : message_("\nchaperon: " + std::move(message) + "\n") {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGUSR2);  // wakes the watcher when the command is over
  pthread_sigmask(SIG_BLOCK, &set_, &old_);
  watcher_ = std::thread([this] { watch(); });
}

interrupt_watch::~interrupt_watch() {
  done_ = true;
  pthread_kill(watcher_.native_handle(), SIGUSR2);
  watcher_.join();
  pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

void interrupt_watch::watch() {
  while (!done_) {
    int sig = 0;
    if (sigwait(&set_, &sig) != 0 || sig == SIGUSR2) continue;
    if (first_.load() != 0) {
      static constexpr char msg[] = "chaperon: second signal, exiting now\n";
      [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
      std::_Exit(128 + sig);
    }
    first_ = sig;
    [[maybe_unused]] auto n = ::write(2, message_.data(), message_.size());
    source_.request_stop();
  }
}

}  // namespace chaperon::cli
