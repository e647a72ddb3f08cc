#include "export/prometheus/model.hpp"

#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace chaperon::prometheus_detail {
namespace {

constexpr std::array<double, 5> quantiles{0.5, 0.9, 0.95, 0.99, 0.999};

double seconds(double microseconds) { return microseconds / 1e6; }

// The labels that say which metric a series is about. An error metric is labelled with the
// name of the metric it is an error of, so that requests and errors of one metric share them.
label_list metric_labels(const metric_key& key) {
  metric_key base = key;
  base.error.clear();
  label_list labels{{"metric", base.name()}, {"action", key.action}, {"target", key.target}};
  if (!key.session.empty()) labels.emplace_back("session", key.session);
  return labels;
}

// Quantiles, _sum and _count of a histogram: microseconds in seconds, a value metric's plain
// numbers as recorded. The sum is the histogram's mean times its count: HDR histograms keep no
// exact sum.
void add_summary(family& f, const histogram& h, const label_list& labels,
                 metric_unit unit = metric_unit::duration) {
  const auto scaled = [unit](double v) { return unit == metric_unit::value ? v : seconds(v); };
  for (const double q : quantiles) {
    auto with_quantile = labels;
    with_quantile.emplace_back("quantile", format_value(q));
    const double value = h.empty() ? std::numeric_limits<double>::quiet_NaN()
                                   : scaled(static_cast<double>(h.value_at_percentile(q * 100)));
    f.samples.push_back({"", std::move(with_quantile), value});
  }
  const auto count = static_cast<double>(h.count());
  f.samples.push_back({"_sum", labels, scaled(h.mean() * count)});
  f.samples.push_back({"_count", labels, count});
}

family make(std::string name, std::string help, family_type type) {
  return family{std::move(name), std::move(help), type, {}};
}

void add_metric_families(std::vector<family>& out, const run_results& r) {
  auto requests = make("chaperon_requests_total",
                       "Measurements of each metric that succeeded (for HTTP: responses).",
                       family_type::counter);
  auto errors = make("chaperon_errors_total", "Measurements of each metric that failed.",
                     family_type::counter);
  auto latency = make("chaperon_latency_seconds", "Latency of each metric.", family_type::summary);
  auto corrected = make("chaperon_corrected_latency_seconds",
                        "Latency from the intended start of rate-driven work (coordinated "
                        "omission corrected).",
                        family_type::summary);
  auto values = make("chaperon_value",
                     "Values recorded as plain numbers (sizes, counts), as recorded: no time unit.",
                     family_type::summary);
  for (const auto& [key, h] : r.metrics) {
    auto labels = metric_labels(key);
    if (key.is_error()) {
      labels.emplace_back("error", key.error);
      errors.samples.push_back({"", std::move(labels), static_cast<double>(h.count())});
      continue;
    }
    requests.samples.push_back({"", labels, static_cast<double>(h.count())});
    if (key.is_value())
      add_summary(values, h, labels, key.unit);
    else
      add_summary(latency, h, labels);
  }
  // Only latencies are measured from an intended start: a value has no start to correct.
  for (const auto& [key, h] : r.corrected) {
    if (!key.is_error() && !key.is_value()) add_summary(corrected, h, metric_labels(key));
  }
  for (auto* f : {&requests, &errors, &latency, &values, &corrected}) {
    if (!f->samples.empty()) out.push_back(std::move(*f));
  }
}

void add_scalar(std::vector<family>& out, std::string name, std::string help, family_type type,
                double value, label_list labels = {}) {
  auto f = make(std::move(name), std::move(help), type);
  f.samples.push_back({"", std::move(labels), value});
  out.push_back(std::move(f));
}

void add_generator_families(std::vector<family>& out, const run_results& r,
                            const progress_snapshot& live) {
  add_scalar(out, "chaperon_sessions_active", "Sessions running now.", family_type::gauge,
             static_cast<double>(live.sessions_active));
  add_scalar(out, "chaperon_sessions_started_total", "Sessions started.", family_type::counter,
             static_cast<double>(r.sessions.started));
  add_scalar(out, "chaperon_arrivals_started_total",
             "Arrivals of rate-driven load models that started work.", family_type::counter,
             static_cast<double>(r.arrivals.started));
  add_scalar(out, "chaperon_arrivals_dropped_total",
             "Arrivals dropped because the cap on active sessions was reached.",
             family_type::counter, static_cast<double>(r.arrivals.dropped));
  auto lag = make("chaperon_schedule_lag_seconds",
                  "Actual minus intended start of rate-driven work.", family_type::summary);
  add_summary(lag, r.generator.schedule_lag, {});
  out.push_back(std::move(lag));
  auto delay = make("chaperon_loop_delay_seconds", "Event-loop delay of the engine threads.",
                    family_type::summary);
  add_summary(delay, r.generator.loop_delay, {});
  out.push_back(std::move(delay));
  add_scalar(out, "chaperon_generator_saturated",
             "1 when the load generator could not keep up, so latencies are its own.",
             family_type::gauge, r.generator.saturated() ? 1 : 0);
  add_scalar(out, "chaperon_run_info", "The load test being run.", family_type::gauge, 1,
             {{"load_test", r.load_test}});
}

const char* type_name(family_type type) {
  switch (type) {
    case family_type::counter: return "counter";
    case family_type::summary: return "summary";
    case family_type::gauge: break;
  }
  return "gauge";
}

std::string escape_help(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace

std::vector<family> collect(const run_results& so_far, const progress_snapshot& live) {
  std::vector<family> out;
  add_metric_families(out, so_far);
  add_generator_families(out, so_far, live);
  return out;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Shortest form that reads back as the same double; integers come out without ".0".
  return fmt::format("{}", value);
}

bool valid_label_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string render_text(const std::vector<family>& families) {
  std::string out;
  out.reserve(families.size() * 256);
  for (const auto& f : families) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", f.name,
                   escape_help(f.help), f.name, type_name(f.type));
    for (const auto& s : f.samples) {
      out += f.name;
      out += s.suffix;
      if (!s.labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < s.labels.size(); ++i) {
          if (i > 0) out += ',';
          fmt::format_to(std::back_inserter(out), "{}=\"{}\"", s.labels[i].first,
                         escape_label_value(s.labels[i].second));
        }
        out += '}';
      }
      out += ' ';
      out += format_value(s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace chaperon::prometheus_detail

namespace chaperon {

std::string prometheus_text(const run_results& so_far, const progress_snapshot& live) {
  return prometheus_detail::render_text(prometheus_detail::collect(so_far, live));
}

}  // namespace chaperon
