// Runs a load test for the CLI: live progress line, summary table, result files.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/cli_options.hpp"

namespace chaperon::cli {

namespace {

namespace fs = std::filesystem;

class progress_printer {
 public:
  explicit progress_printer(bool enabled) : enabled_(enabled), tty_(isatty(STDERR_FILENO) != 0) {}

  void operator()(const progress_snapshot& p) {
    if (!enabled_) return;
    double secs = std::chrono::duration<double>(p.elapsed).count();
    double rate = (p.requests - last_requests_) / std::max(1e-9, secs - last_secs_);
    last_requests_ = p.requests;
    last_secs_ = secs;
    std::string line = fmt::format(
        "{:7.1f}s  sessions {} active, {}/{} done  |  {} requests  {:.0f} req/s  |  {} errors",
        secs, p.sessions_active, p.sessions_done, p.sessions_total, p.requests, rate, p.errors);
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
  std::uint64_t last_requests_ = 0;
  double last_secs_ = 0;
};

json config_report(const load_test& test, const json& runtime) {
  json entries = json::array();
  for (const auto& e : test.entries()) {
    entries.push_back({{"scenario", e.scenario_name()},
                       {"count", e.count},
                       {"session_name", e.session_name},
                       {"config", deep_merged(deep_merged(test.default_config(), e.config), runtime)}});
  }
  return {{"load_test", test.name()},
          {"default_config", test.default_config()},
          {"runtime_config", runtime},
          {"entries", entries}};
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

}  // namespace

int execute(const load_test& test, const common_options& o) {
  run_options options = make_run_options(o);
  export_options exp = make_export_options(o);
  progress_printer progress(!o.no_progress);
  options.on_progress = [&progress](const progress_snapshot& p) { progress(p); };

  run_results results = run_load_test(test, options);
  progress.finish();

  double secs = static_cast<double>(results.duration_us) / 1e6;
  std::string summary = summary_table(results, secs);
  std::string exported = export_results(results, exp);
  if (o.output == "-") {
    std::cerr << summary;
    std::cout << exported << std::flush;
  } else {
    fs::path path = o.output.empty()
                        ? tagged_output_path(test.name(), o.tag, exp.format,
                                             std::chrono::system_clock::now())
                        : output_path_with_extension(o.output, exp.format);
    write_file(path, exported);
    write_file(beside(path, ".config.json"), config_report(test, options.config).dump(2) + "\n");
    std::cout << summary << "results: " << path.string() << "\n" << std::flush;
  }
  return results.partial ? 3 : 0;
}

}  // namespace chaperon::cli
