// Runs a load test for the CLI: live progress line, summary table, result files.
#include <iostream>
#include <stop_token>

#include "chaperon/prometheus.hpp"
#include "cli/cli_options.hpp"
#include "cli/console.hpp"
#include "cli/export_results.hpp"

namespace chaperon::cli {

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

}  // namespace

int execute(const load_test& test, const common_options& o) {
  run_options options = make_run_options(o);
  make_export_options(o);  // a bad --format or --unit fails before the run, not after it
  const json runtime_config = options.config;
  // The test as it runs (counts after --sessions / --scale), for the config file.
  const load_test ran = prepared_load_test(test, options);
  const auto s3 = s3_upload_of(o);

  interrupt_watch interrupts;
  auto run = run_with_progress(test, std::move(options), o, interrupts);
  const run_results& results = run.results;
  const bool uploaded = export_results(
      {results, &run.series, config_report(ran, runtime_config, results), test.name(), {}, {}},
      o, s3);
  if (int sig = interrupts.signal_received()) {
    std::cerr << "chaperon: stopped by signal " << sig << "; partial results written\n";
    return 128 + sig;
  }
  if (!results.thresholds_passed()) return 99;
  if (results.partial) return 3;
  return uploaded ? 0 : 1;
}

}  // namespace chaperon::cli
