// Evaluating thresholds (definitions in include/chaperon/thresholds.hpp).
#include "chaperon/thresholds.hpp"
#include "metrics/threshold_verdicts.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace chaperon {
namespace {

using metric_map = std::map<metric_key, histogram>;

// The histograms of one metric, without copying them: a metric usually has one (several when
// per-session rows are merged), and copying every histogram of a run for each evaluation would
// cost more than the evaluation.
struct histogram_parts {
  std::vector<const histogram*> parts;

  std::uint64_t count() const {
    std::uint64_t n = 0;
    for (const auto* h : parts) n += h->count();
    return n;
  }
  void add(const histogram_parts& other) {
    parts.insert(parts.end(), other.parts.begin(), other.parts.end());
  }
  template <typename F>
  auto with_merged(F&& f) const {
    if (parts.size() == 1) return f(*parts.front());
    histogram merged;
    for (const auto* h : parts) merged.merge(*h);
    return f(merged);
  }
};

// What a threshold can see of one metric name (merged over sessions).
struct subject {
  histogram_parts measured;
  histogram_parts corrected;  // corrected values where they exist, measured values elsewhere
  bool is_error = false;
  bool http = false;
  metric_unit unit = metric_unit::duration;
  std::string base;              // for an error metric: the name of the metric it failed
  std::uint64_t errors = 0;      // for a non-error metric: its error metrics' counts
  std::uint64_t unanswered = 0;  // ... of which were not also counted as a response
};

// "Error HTTP 500 get(u)" is a response, also counted under "get(u)"; other errors are not.
bool counted_as_response(const metric_key& key) {
  return is_http_method(key.action) && key.error.starts_with("HTTP ");
}

// Per-session rows repeat the aggregated ones when both are present: use the aggregated ones
// then, and merge the sessions' otherwise.
bool has_aggregate(const metric_map& metrics) {
  return std::any_of(metrics.begin(), metrics.end(),
                     [](const auto& entry) { return entry.first.session.empty(); });
}

// The subjects by name; they point into `metrics` and `corrected`.
std::map<std::string, subject> collect(const metric_map& metrics, const metric_map& corrected) {
  const bool aggregate = has_aggregate(metrics);
  std::map<std::string, subject> out;
  for (const auto& [key, h] : metrics) {
    if (aggregate && !key.session.empty()) continue;
    auto& s = out[key.name()];
    s.measured.parts.push_back(&h);
    s.http = is_http_method(key.action);
    s.unit = key.unit;
    if (!key.is_error()) {
      const auto c = corrected.find(key);
      s.corrected.parts.push_back(c != corrected.end() ? &c->second : &h);
      continue;
    }
    s.is_error = true;
    s.corrected.parts.push_back(&h);
    auto base_key = key;
    base_key.error.clear();
    s.base = base_key.name();
    auto& b = out[s.base];
    b.http = s.http;
    b.errors += h.count();
    if (!counted_as_response(key)) b.unanswered += h.count();
  }
  return out;
}

// Every HTTP request metric as one.
subject all_requests(const std::map<std::string, subject>& subjects) {
  subject all;
  all.http = true;
  for (const auto& [name, s] : subjects) {
    if (!s.http || s.is_error) continue;
    all.measured.add(s.measured);
    all.corrected.add(s.corrected);
    all.errors += s.errors;
    all.unanswered += s.unanswered;
  }
  return all;
}

std::uint64_t attempts(const subject& s) { return s.measured.count() + s.unanswered; }

bool is_latency(threshold_statistic s) {
  return s != threshold_statistic::count && s != threshold_statistic::rate &&
         s != threshold_statistic::error_rate;
}

// Whether t speaks of plain numbers for s: a latency statistic of a value metric.
bool plain_for(const threshold& t, const subject& s) {
  return s.unit == metric_unit::value && is_latency(t.statistic);
}

std::optional<double> measure(const threshold& t, const subject& s,
                              const std::map<std::string, subject>& subjects, double seconds) {
  const auto latency = [&](const histogram_parts& parts) -> std::optional<double> {
    if (parts.count() == 0) return std::nullopt;
    return parts.with_merged([&](const histogram& h) {
      switch (t.statistic) {
        case threshold_statistic::min: return static_cast<double>(h.min());
        case threshold_statistic::max: return static_cast<double>(h.max());
        case threshold_statistic::mean: return h.mean();
        default: return static_cast<double>(h.value_at_percentile(t.percentile));
      }
    });
  };
  switch (t.statistic) {
    case threshold_statistic::count: return static_cast<double>(s.measured.count());
    case threshold_statistic::rate:
      if (seconds <= 0) return std::nullopt;
      return static_cast<double>(s.measured.count()) / seconds;
    case threshold_statistic::error_rate: {
      const subject* base = &s;
      if (s.is_error) {
        const auto it = subjects.find(s.base);
        if (it == subjects.end()) return std::nullopt;
        base = &it->second;
      }
      const auto n = attempts(*base);
      if (n == 0) return std::nullopt;
      return static_cast<double>(s.is_error ? s.measured.count() : s.errors) / n;
    }
    case threshold_statistic::corrected_percentile: return latency(s.corrected);
    default: return latency(s.measured);
  }
}

bool holds(threshold_op op, double value, double limit) {
  switch (op) {
    case threshold_op::lt: return value < limit;
    case threshold_op::le: return value <= limit;
    case threshold_op::gt: return value > limit;
    case threshold_op::ge: return value >= limit;
    case threshold_op::eq: return value == limit;
    case threshold_op::ne: return value != limit;
  }
  return false;
}

// Up to `decimals` decimals, without trailing zeros.
std::string trimmed(double v, int decimals) {
  auto s = fmt::format("{:.{}f}", v, decimals);
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string format_value(const threshold& t, double v) {
  switch (t.statistic) {
    case threshold_statistic::count: return trimmed(v, 3);
    case threshold_statistic::rate: return trimmed(v, 2) + "/s";
    case threshold_statistic::error_rate: return trimmed(v * 100, 3) + "%";
    default:
      if (v < 1000) return trimmed(v, 1) + " us";
      if (v < 1e6) return trimmed(v / 1e3, 3) + " ms";
      return trimmed(v / 1e6, 3) + " s";
  }
}

std::string statistic_name(const threshold& t) {
  switch (t.statistic) {
    case threshold_statistic::count: return "count";
    case threshold_statistic::rate: return "rate";
    case threshold_statistic::error_rate: return "errors";
    case threshold_statistic::min: return "min";
    case threshold_statistic::max: return "max";
    case threshold_statistic::mean: return "mean";
    case threshold_statistic::percentile: return "p" + trimmed(t.percentile, 6);
    case threshold_statistic::corrected_percentile: return "corrected_p" + trimmed(t.percentile, 6);
  }
  return {};
}

const char* op_text(threshold_op op) {
  switch (op) {
    case threshold_op::lt: return "<";
    case threshold_op::le: return "<=";
    case threshold_op::gt: return ">";
    case threshold_op::ge: return ">=";
    case threshold_op::eq: return "==";
    case threshold_op::ne: return "!=";
  }
  return "?";
}

const char* status_text(threshold_status s) {
  switch (s) {
    case threshold_status::passed: return "passed";
    case threshold_status::failed: return "failed";
    case threshold_status::no_data: return "no_data";
  }
  return "?";
}

// How far a value is on the failing side of the limit: the larger, the worse.
double badness(threshold_op op, double value) {
  if (op == threshold_op::lt || op == threshold_op::le) return value;
  if (op == threshold_op::gt || op == threshold_op::ge) return -value;
  return 0;  // equality: the first one decides
}

std::optional<std::size_t> decisive_of(const threshold& t,
                                       const std::vector<threshold_measurement>& ms,
                                       bool failed) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    if (failed && ms[i].passed) continue;
    if (!best || badness(t.op, ms[i].value) > badness(t.op, ms[*best].value))
      best = i;
  }
  return best;
}

// Why a threshold has no value.
std::string no_data_reason(bool matched, bool time_limit_on_value) {
  if (time_limit_on_value)
    return "a value metric has no time unit: write its limit as a plain number";
  return matched ? "nothing measured" : "no metric matches";
}

std::string result_text(const threshold& t, const threshold_result& r, bool matched,
                        bool time_limit_on_value) {
  const auto sel = t.selector.to_string();
  const auto prefix = sel.empty() ? std::string() : sel + ": ";
  if (!r.decisive)
    return fmt::format("{}: NO DATA ({})", t.describe(),
                       no_data_reason(matched, time_limit_on_value));
  const auto& m = r.measurements[*r.decisive];
  const auto verdict = r.passed() ? "PASSED" : "FAILED";
  const auto shown = [&](double v) { return m.plain ? trimmed(v, 3) : format_value(t, v); };
  const auto value = fmt::format("{} = {}", statistic_name(t), shown(m.value));
  if (t.selector.what == metric_selector::kind::all_requests ||
      t.selector.what == metric_selector::kind::exact)
    return fmt::format("{}{}, limit {} {}: {}", prefix, value, op_text(t.op),
                       shown(m.plain ? *t.plain_limit : t.limit), verdict);
  const auto failures = std::count_if(r.measurements.begin(), r.measurements.end(),
                                      [](const auto& x) { return !x.passed; });
  const auto n = r.measurements.size();
  const auto metrics = n == 1 ? "metric" : "metrics";
  if (r.passed())
    return fmt::format("{}: PASSED ({} {}), closest {}: {}", t.describe(), n, metrics, m.metric,
                       value);
  return fmt::format("{}: FAILED ({} of {} {}), worst {}: {}", t.describe(), failures, n, metrics,
                     m.metric, value);
}

threshold_result evaluate_maps(const threshold& t, const metric_map& metrics,
                               const metric_map& corrected, double seconds) {
  const auto subjects = collect(metrics, corrected);
  threshold_result r;
  bool matched = false;
  bool time_limit_on_value = false;
  const auto add = [&](const std::string& name, const subject& s) {
    matched = true;
    const bool plain = plain_for(t, s);
    if (plain && !t.plain_limit) {
      time_limit_on_value = true;
      return;
    }
    const double limit = plain ? *t.plain_limit : t.limit;
    if (const auto v = measure(t, s, subjects, seconds))
      r.measurements.push_back({name, *v, holds(t.op, *v, limit), plain});
  };
  switch (t.selector.what) {
    case metric_selector::kind::all_requests: add("", all_requests(subjects)); break;
    case metric_selector::kind::exact:
      if (const auto it = subjects.find(t.selector.text); it != subjects.end())
        add(it->first, it->second);
      break;
    default:
      for (const auto& [name, s] : subjects) {
        // A latency gate over every metric is about times, not about sizes or counts.
        if (t.selector.what == metric_selector::kind::every_metric && plain_for(t, s)) continue;
        if (t.selector.matches(name, s.is_error)) add(name, s);
      }
  }
  const bool failed = std::any_of(r.measurements.begin(), r.measurements.end(),
                                  [](const auto& m) { return !m.passed; });
  r.status = r.measurements.empty() ? threshold_status::no_data
             : failed               ? threshold_status::failed
                                    : threshold_status::passed;
  r.decisive = decisive_of(t, r.measurements, failed);
  r.text = result_text(t, r, matched, time_limit_on_value && r.measurements.empty());
  return r;
}

}  // namespace

bool metric_selector::matches(std::string_view name, bool is_error) const {
  switch (what) {
    case kind::every_metric: return !is_error;
    case kind::prefix: return name.starts_with(text);
    case kind::exact: return name == text;
    case kind::all_requests: return false;
  }
  return false;
}

std::string metric_selector::to_string() const {
  switch (what) {
    case kind::all_requests: return {};
    case kind::every_metric: return "*";
    case kind::prefix: return text + "*";
    case kind::exact: return text;
  }
  return {};
}

std::string threshold::expression() const {
  return fmt::format("{} {} {}", statistic_name(*this), op_text(op), format_value(*this, limit));
}

std::string threshold::describe() const {
  const auto sel = selector.to_string();
  return sel.empty() ? expression() : sel + ": " + expression();
}

threshold_result evaluate(const threshold& t, const run_results& results) {
  return evaluate_maps(t, results.metrics, results.corrected,
                       static_cast<double>(results.duration_us) / 1e6);
}

threshold_result evaluate(const threshold& t, const interval& window, double seconds) {
  return evaluate_maps(t, window.metrics, window.corrected, seconds);
}

nlohmann::json to_json(const threshold& t, const threshold_result& r) {
  nlohmann::json j = {{"threshold", t.text},
                      {"selector", t.selector.to_string()},
                      {"expression", t.expression()},
                      {"abort_on_fail", t.abort_on_fail},
                      {"status", status_text(r.status)},
                      {"text", r.text}};
  if (r.decisive) {
    j["metric"] = r.measurements[*r.decisive].metric;
    j["value"] = r.measurements[*r.decisive].value;
  }
  auto ms = nlohmann::json::array();
  for (const auto& m : r.measurements)
    ms.push_back({{"metric", m.metric}, {"value", m.value}, {"passed", m.passed}});
  j["measurements"] = std::move(ms);
  return j;
}

std::vector<threshold_verdict> detail::threshold_verdicts(const std::vector<threshold>& thresholds,
                                                          const run_results& results,
                                                          std::optional<std::size_t> aborted_by) {
  std::vector<threshold_verdict> out;
  for (std::size_t i = 0; i < thresholds.size(); ++i) {
    const auto r = evaluate(thresholds[i], results);
    threshold_verdict v;
    v.threshold = thresholds[i].text;
    v.status = r.passed() ? "passed" : r.breached() ? "failed" : "no_data";
    v.text = r.text;
    if (r.decisive) {
      v.metric = r.measurements[*r.decisive].metric;
      v.value = r.measurements[*r.decisive].value;
    }
    if (aborted_by == i) {
      v.aborted_run = true;
      v.status = "failed";
      v.text += " (aborted the run)";
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace chaperon
