// Runs a load test for the CLI: live progress line, summary table, result files.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stop_token>
#include <thread>

#include <fmt/format.h>

#include "chaperon/prometheus.hpp"
#include "chaperon/s3.hpp"
#include "cli/cli_options.hpp"

namespace chaperon::cli {

namespace {

namespace fs = std::filesystem;

class progress_printer {
 public:
  explicit progress_printer(bool enabled) : enabled_(enabled), tty_(isatty(STDERR_FILENO) != 0) {}

  // Requests and errors as the summary counts them (responses; error metrics), the rate of the
  // last complete interval.
  void operator()(const progress_snapshot& p) {
    if (!enabled_) return;
    double secs = std::chrono::duration<double>(p.elapsed).count();
    std::string line = fmt::format(
        "{:7.1f}s  sessions {} active, {}/{} done  |  {} requests  {:.0f} req/s  |  {} errors",
        secs, p.sessions_active, p.sessions_done, p.sessions_total, p.requests,
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

  void finish() {
    if (printed_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  bool enabled_;
  bool tty_;
  bool printed_ = false;
  std::uint64_t ticks_ = 0;
};

// The config file beside the results: what ran, with what config, and whether the generator kept
// up (the verdict is not a metric, so the CSV does not carry it).
json config_report(const load_test& test, const json& runtime, const run_results& results) {
  json entries = json::array();
  for (const auto& e : test.entries()) {
    entries.push_back({{"scenario", e.scenario_name()},
                       {"count", e.count},
                       {"session_name", e.session_name},
                       {"config", test.entry_config(e, runtime)}});
  }
  return {{"load_test", test.name()},
          {"default_config", test.default_config()},
          {"runtime_config", runtime},
          {"entries", entries},
          {"partial", results.partial},
          {"thresholds", thresholds_json(results)},
          {"generator",
           {{"saturated", results.generator.saturated()},
            {"saturation", results.generator.saturation},
            {"max_thread_cpu", results.generator.max_thread_cpu}}}};
}

void write_file(const fs::path& path, const std::string& content) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// results.csv -> results.config.json
fs::path beside(const fs::path& output, std::string_view suffix) {
  fs::path p = output;
  p.replace_extension();
  p += suffix;
  return p;
}

// SIGINT and SIGTERM stop the run gracefully: the watcher thread turns the first one into a stop
// request (the run ends within a moment and its partial results are written); a second one
// exits at once. The signals are blocked in every thread and taken by sigwait, so no handler
// runs inside the engine.
class interrupt_watch {
 public:
  interrupt_watch() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR2);  // wakes the watcher when the run is over
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    watcher_ = std::thread([this] { watch(); });
  }
  ~interrupt_watch() {
    done_ = true;
    pthread_kill(watcher_.native_handle(), SIGUSR2);
    watcher_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  interrupt_watch(const interrupt_watch&) = delete;
  interrupt_watch& operator=(const interrupt_watch&) = delete;

  std::stop_token token() const { return source_.get_token(); }
  int signal_received() const { return first_.load(); }

 private:
  void watch() {
    while (!done_) {
      int sig = 0;
      if (sigwait(&set_, &sig) != 0 || sig == SIGUSR2) continue;
      if (first_.load() != 0) {
        static constexpr char msg[] = "chaperon: second signal, exiting now\n";
        [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
        std::_Exit(128 + sig);
      }
      first_ = sig;
      static constexpr char msg[] =
          "\nchaperon: stopping (partial results follow; signal again to exit at once)\n";
      [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
      source_.request_stop();
    }
  }

  sigset_t set_{};
  sigset_t old_{};
  std::stop_source source_;
  std::atomic<int> first_{0};
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

}  // namespace

namespace {

// Starts the run and prints progress every second until it ends; a first SIGINT/SIGTERM stops it
// gracefully.
struct finished_run {
  run_results results;
  interval_series series;
};

// Where the live metrics go while the run lasts: a /metrics endpoint and a remote-write receiver.
struct live_exports {
  std::unique_ptr<prometheus_server> server;
  std::unique_ptr<prometheus_remote_writer> writer;

  live_exports(const common_options& o, const load_test_run& run) {
    if (!o.prometheus_listen.empty()) {
      server = std::make_unique<prometheus_server>(
          o.prometheus_listen, [&run] { return prometheus_text(run.snapshot(), run.progress()); });
      std::cerr << "chaperon: Prometheus metrics on port " << server->port() << " at /metrics\n";
    }
    if (!o.prometheus_remote_write.empty()) {
      prometheus_remote_write_options options;
      options.url = o.prometheus_remote_write;
      writer = std::make_unique<prometheus_remote_writer>(options);
    }
  }

  void tick(const load_test_run& run) {
    if (writer) writer->push(run.snapshot(), run.progress());
  }

  // The final figures go out once more; a receiver that failed is told about, not fatal.
  void finish(const run_results& results, const load_test_run& run) {
    server.reset();
    if (!writer) return;
    writer->push(results, run.progress());
    auto stats = writer->finish(std::chrono::seconds(10));
    if (stats.failed || stats.dropped) {
      std::cerr << "chaperon: Prometheus remote write: " << stats.sent << " sent, " << stats.failed
                << " failed, " << stats.dropped << " dropped; last error: " << stats.last_error
                << "\n";
    }
  }
};

finished_run run_with_progress(const load_test& test, run_options options,
                               const common_options& o, const interrupt_watch& interrupts) {
  progress_printer progress(!o.no_progress);
  auto run = start_load_test(test, std::move(options));
  live_exports live(o, run);
  auto stop = interrupts.token();
  std::stop_callback on_signal(stop, [&run] { run.stop("interrupted"); });
  auto next = std::chrono::steady_clock::now();
  const auto period = std::chrono::duration_cast<std::chrono::milliseconds>(
      run.series().interval_length());
  while (true) {
    next += period;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        next - std::chrono::steady_clock::now());
    if (run.wait_for(std::max(wait, std::chrono::milliseconds(0)))) break;
    progress(run.progress());
    live.tick(run);
  }
  progress.finish();
  auto results = run.wait();
  live.finish(results, run);
  return {std::move(results), run.series()};
}

// The extra files asked for beside the results (--report, --hdr-log), in their formats.
std::vector<fs::path> write_extras(const common_options& o, const run_results& results,
                                   const export_options& exp) {
  std::vector<fs::path> written;
  auto extra = [&](const std::string& path, std::string_view format) {
    if (path.empty()) return;
    const exporter& e = find_exporter(format);
    fs::path p = output_path_with_extension(path, e);
    e.write(results, p, exp);
    written.push_back(p);
  };
  extra(o.report, "html");
  extra(o.hdr_log, "hdr-log");
  return written;
}

}  // namespace

// The S3 upload asked for, checked before the run so that a bad URL or missing credentials do
// not cost a whole test; nullopt when none was asked for.
struct s3_upload {
  s3_target target;
  s3_settings settings;
};

std::optional<s3_upload> s3_upload_of(const common_options& o) {
  auto target = s3_target_from(o.s3);
  if (!target) return std::nullopt;
  if (o.output == "-")
    throw CLI::ValidationError("--s3", "uploads result files: use it without --output -");
  return s3_upload{*target, s3_settings_from_environment()};
}

// Uploads the files written; the local files stay whatever happens. False when it failed.
bool upload(const s3_upload& s3, const std::vector<fs::path>& files) {
  try {
    for (const auto& url : s3_upload_files(s3.settings, s3.target, files))
      std::cout << "uploaded: " << url << "\n";
    return true;
  } catch (const std::exception& e) {
    std::cerr << "chaperon: " << e.what() << "\nchaperon: the local files are kept:";
    for (const auto& f : files) std::cerr << " " << f.string();
    std::cerr << "\n";
    return false;
  }
}

int execute(const load_test& test, const common_options& o) {
  run_options options = make_run_options(o);
  export_options exp = make_export_options(o);
  const exporter& format = find_exporter(exp.format);
  const json runtime_config = options.config;
  // The test as it runs (counts after --sessions / --scale), for the config file.
  const load_test ran = prepared_load_test(test, options);
  const auto s3 = s3_upload_of(o);
  bool uploaded = true;

  interrupt_watch interrupts;
  auto run = run_with_progress(test, std::move(options), o, interrupts);
  const run_results& results = run.results;
  const json info = config_report(ran, runtime_config, results);
  exp.series = &run.series;
  exp.run_info = &info;

  double secs = static_cast<double>(results.duration_us) / 1e6;
  std::string summary = summary_table(results, secs);
  if (o.output == "-") {
    std::cerr << summary;
    std::cout << format.encode(results, exp) << std::flush;
    for (const auto& extra : write_extras(o, results, exp))
      std::cerr << "written: " << extra.string() << "\n";
  } else {
    fs::path path = o.output.empty() ? tagged_output_path(test.name(), o.tag, format,
                                                          std::chrono::system_clock::now())
                                     : output_path_with_extension(o.output, format);
    format.write(results, path, exp);
    const auto config_path = beside(path, ".config.json");
    write_file(config_path, info.dump(2) + "\n");
    std::vector<fs::path> files{path, config_path};
    std::cout << summary << "results: " << path.string() << "\n";
    for (const auto& extra : write_extras(o, results, exp)) {
      std::cout << "written: " << extra.string() << "\n";
      files.push_back(extra);
    }
    std::cout << std::flush;
    if (s3) uploaded = upload(*s3, files);
  }
  if (int sig = interrupts.signal_received()) {
    std::cerr << "chaperon: stopped by signal " << sig << "; partial results written\n";
    return 128 + sig;
  }
  if (!results.thresholds_passed()) return 99;
  if (results.partial) return 3;
  return uploaded ? 0 : 1;
}

}  // namespace chaperon::cli
