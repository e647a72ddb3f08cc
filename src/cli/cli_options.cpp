#include "cli/cli_options.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "engine/model_text.hpp"

namespace chaperon::cli {

void add_export_options(CLI::App& app, common_options& o) {
  app.add_option("-f,--format", o.format, "Export format")
      ->check(CLI::IsMember(exporter_names(), CLI::ignore_case));
  app.add_option("-o,--output", o.output,
                 "Write results to this file ('-' for stdout); default "
                 "results/<date>/<load test>/<tag>-<unix time>.<format>");
  app.add_option("--tag", o.tag, "Prefix of the default output file name");
  app.add_option("--unit", o.unit, "Unit of exported values: ms (decimals) or us (integers)")
      ->check(CLI::IsMember({"ms", "us"}));
  app.add_option("--report", o.report,
                 "Also write a self-contained HTML report with charts to this file");
  app.add_option("--hdr-log", o.hdr_log,
                 "Also write the HdrHistogram interval log (one histogram per interval and metric) "
                 "to this file");
  app.add_option("--s3", o.s3,
                 "Also upload the results and their config file to s3://bucket/prefix (default: "
                 "env S3_BUCKET); credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
                 "AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL");
  app.add_flag("--no-progress", o.no_progress, "Do not print the live progress line");
}

void add_spec_options(CLI::App& app, common_options& o) {
  app.add_option("-t,--threads", o.threads, "Engine threads (default: one per core)");
  app.add_option("-c,--config", o.config_assignments,
                 "Run-time config key=value (value parsed as JSON when valid), repeatable");
  app.add_option("--config-file", o.config_file, "JSON file merged into the run-time config")
      ->check(CLI::ExistingFile);
  app.add_option("--metrics", o.metrics,
                 "Record only these metric types, comma-separated (e.g. get,post,call)");
  app.add_flag("--per-session", o.per_session,
               "Export one row per session name (as config merge_scenario_sessions=false)");
  app.add_option("--threshold", o.thresholds,
                 "Pass/fail criterion, repeatable: [metric:]expression[,abort_on_fail][,grace=D], "
                 "e.g. 'get(http://h/api):p99<200ms', 'errors<1%', 'rps>=1000', '*:p95<500ms'; "
                 "a failed one exits 99");
  app.add_option("--interval", o.interval,
                 "Length of the intervals of live figures and series (default 1s, or config "
                 "interval)");
}

void add_common_options(CLI::App& app, common_options& o) {
  add_spec_options(app, o);
  app.add_option("--log-level", o.log_level, "Session log level")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));
  app.add_flag("--print-results", o.print_results, "Print every action's result");
  app.add_option("--share", o.share,
                 "Run only share I of N of the test (0-based, e.g. 3/8): the N shares together "
                 "run exactly the whole test");
  app.add_option("--prometheus-listen", o.prometheus_listen,
                 "Serve Prometheus metrics on ADDR:PORT/metrics while the run lasts");
  app.add_option("--prometheus-remote-write", o.prometheus_remote_write,
                 "Push the run's metrics every interval to this Prometheus remote-write URL");
  add_export_options(app, o);
}

void add_model_options(CLI::App& app, model_options& o, bool with_duration) {
  app.add_option("--rate", o.rate,
                 "Open model: start iterations at this rate (e.g. 2000/s, 120/m), for --duration; "
                 "with --stages, the rate before the first stage");
  if (with_duration)
    app.add_option("--duration", o.duration, "How long --rate runs (e.g. 60s)");
  app.add_option("--stages", o.stages,
                 "Ramp: 30s:100,60s:100,30s:0 (concurrent sessions) or 10s:500/s,20s:2000/s "
                 "(arrival rates)");
  app.add_option("--max-active", o.max_active,
                 "Open model: cap on active sessions; arrivals beyond it are dropped and counted "
                 "(default: 2 s of arrivals at the peak rate, 100..10000)");
}

void add_count_options(CLI::App& app, common_options& o) {
  app.add_option("-s,--sessions", o.sessions,
                 "Session count of the test's entry (a test with one entry; see --scale)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10000000}));
  app.add_option("--scale", o.scale,
                 "Multiply every entry's session count by F (rounded, at least 1), e.g. 0.1 or 2; "
                 "entries with a load model keep theirs")
      ->check(CLI::PositiveNumber);
}

std::optional<load_model> make_load_model(const model_options& o) {
  try {
    return detail::parse_model_text({o.rate, o.duration, o.stages, o.max_active});
  } catch (const detail::model_text_error& e) {
    auto flag = "--" + e.field();
    std::replace(flag.begin(), flag.end(), '_', '-');
    throw CLI::ValidationError(flag, e.what());
  }
}

namespace {

json read_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CLI::ValidationError("--config-file", "cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  json parsed = json::parse(text.str(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw CLI::ValidationError("--config-file", path + " is not a JSON object");
  }
  return parsed;
}


log_level parse_level(const std::string& name) {
  if (name == "debug") return log_level::debug;
  if (name == "info") return log_level::info;
  if (name == "error") return log_level::error;
  if (name == "off") return log_level::off;
  return log_level::warn;
}

}  // namespace

run_options make_run_options(const common_options& o) {
  run_options r;
  r.threads = o.threads;
  if (!o.config_file.empty()) r.config = read_config_file(o.config_file);
  for (const auto& a : o.config_assignments) {
    try {
      apply_assignment(r.config, a);
    } catch (const config_error& e) {
      throw CLI::ValidationError("--config", e.what());
    }
  }
  if (!o.metrics.empty()) r.metrics = metric_filter(split_comma_list(o.metrics));
  r.per_session = o.per_session;
  r.print_results = o.print_results;
  r.level = parse_level(o.log_level);
  r.model = make_load_model(o.model);
  if (o.sessions > 0) r.sessions = o.sessions;
  if (o.scale > 0) r.scale = o.scale;
  if (!o.share.empty()) {
    auto part = parse_share(o.share);
    if (!part) throw CLI::ValidationError("--share", "'" + o.share + "' is not I/N with I < N");
    r.part = *part;
  }
  for (const auto& spec : o.thresholds) {
    try {
      r.thresholds.push_back(parse_threshold(spec));
    } catch (const threshold_error& e) {
      throw CLI::ValidationError("--threshold", e.what());
    }
  }
  if (!o.interval.empty()) {
    auto length = parse_duration_text(o.interval);
    if (!length || length->count() <= 0)
      throw CLI::ValidationError("--interval", "'" + o.interval + "' is not a duration > 0");
    r.interval = *length;
  }
  return r;
}

std::vector<std::string> split_comma_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

export_options make_export_options(const common_options& o) {
  export_options e;
  e.format = find_exporter(o.format).name();
  e.unit = o.unit == "us" ? time_unit::us : time_unit::ms;
  return e;
}

}  // namespace chaperon::cli
