#include "chaperon/metrics.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

namespace chaperon {
namespace {

constexpr std::array<std::string_view, 6> http_methods{"get",   "post",   "put",
                                                       "patch", "delete", "head"};

template <typename T>
bool read_field(const nlohmann::json& j, const char* field, T& out) {
  const auto it = j.find(field);
  if (it == j.end()) return true;  // absent fields keep their defaults
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return false;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return false;
  } else if constexpr (std::is_unsigned_v<T>) {
    if (!it->is_number_unsigned()) return false;
  } else {
    if (!it->is_number_integer()) return false;
  }
  out = it->get<T>();
  return true;
}

nlohmann::json key_to_json(const metric_key& key) {
  nlohmann::json j = nlohmann::json::object();
  // Empty fields are left out: most keys have no session and no error.
  if (!key.session.empty()) j["session"] = key.session;
  j["action"] = key.action;
  if (!key.target.empty()) j["target"] = key.target;
  if (!key.error.empty()) j["error"] = key.error;
  if (key.is_value()) j["unit"] = to_string(key.unit);
  return j;
}

bool read_unit(const nlohmann::json& entry, metric_unit& out) {
  const auto it = entry.find("unit");
  if (it == entry.end()) return true;  // written before units existed: a duration
  if (!it->is_string()) return false;
  for (const auto unit : {metric_unit::duration, metric_unit::value}) {
    if (it->get_ref<const std::string&>() == to_string(unit)) {
      out = unit;
      return true;
    }
  }
  return false;
}

bool read_sessions(const nlohmann::json& j, session_counts& out) {
  if (!j.is_object()) return false;
  return read_field(j, "started", out.started) && read_field(j, "completed", out.completed) &&
         read_field(j, "failed", out.failed) && read_field(j, "aborted", out.aborted) &&
         read_field(j, "timed_out", out.timed_out);
}

bool read_metrics(const nlohmann::json& j, std::map<metric_key, histogram>& out) {
  if (!j.is_array()) return false;
  for (const auto& entry : j) {
    if (!entry.is_object()) return false;
    metric_key key;
    if (!read_field(entry, "session", key.session) || !read_field(entry, "action", key.action) ||
        !read_field(entry, "target", key.target) || !read_field(entry, "error", key.error) ||
        !read_unit(entry, key.unit))
      return false;
    const auto hist = entry.find("histogram");
    if (hist == entry.end()) return false;
    auto h = histogram::try_from_json(*hist);
    if (!h) return false;
    out[std::move(key)].merge(*h);
  }
  return true;
}

bool read_session_errors(const nlohmann::json& j, std::map<std::string, std::uint64_t>& out) {
  if (!j.is_object()) return false;
  for (const auto& [reason, count] : j.items()) {
    if (!count.is_number_unsigned()) return false;
    out[reason] += count.get<std::uint64_t>();
  }
  return true;
}

nlohmann::json metrics_to_json(const std::map<metric_key, histogram>& metrics) {
  auto out = nlohmann::json::array();
  for (const auto& [key, h] : metrics) {
    auto entry = key_to_json(key);
    entry["histogram"] = h.to_json();
    out.push_back(std::move(entry));
  }
  return out;
}

bool read_arrivals(const nlohmann::json& j, arrival_counts& out) {
  if (!j.is_object()) return false;
  return read_field(j, "started", out.started) && read_field(j, "dropped", out.dropped);
}

bool read_histogram(const nlohmann::json& j, const char* field, histogram& out) {
  const auto it = j.find(field);
  if (it == j.end()) return true;
  auto h = histogram::try_from_json(*it);
  if (!h) return false;
  out = std::move(*h);
  return true;
}

bool read_generator(const nlohmann::json& j, generator_report& out) {
  if (!j.is_object()) return false;
  if (!read_histogram(j, "schedule_lag", out.schedule_lag) ||
      !read_histogram(j, "loop_delay", out.loop_delay))
    return false;
  if (const auto it = j.find("max_thread_cpu"); it != j.end()) {
    if (!it->is_number()) return false;
    out.max_thread_cpu = it->get<double>();
  }
  if (const auto it = j.find("saturation"); it != j.end()) {
    if (!it->is_array()) return false;
    for (const auto& reason : *it) {
      if (!reason.is_string()) return false;
      out.saturation.push_back(reason.get<std::string>());
    }
  }
  return true;
}

std::string ms_text(std::int64_t us) {
  return fmt::format("{:.3f} ms", static_cast<double>(us) / 1000.0);
}

}  // namespace

void arrival_counts::merge(const arrival_counts& other) {
  started += other.started;
  dropped += other.dropped;
}

void generator_report::merge(const generator_report& other) {
  schedule_lag.merge(other.schedule_lag);
  loop_delay.merge(other.loop_delay);
  max_thread_cpu = std::max(max_thread_cpu, other.max_thread_cpu);
  for (const auto& reason : other.saturation)
    if (std::find(saturation.begin(), saturation.end(), reason) == saturation.end())
      saturation.push_back(reason);
}

void assess_saturation(generator_report& report, const saturation_thresholds& limits) {
  report.saturation.clear();
  const auto lag = report.schedule_lag.value_at_percentile(99);
  if (!report.schedule_lag.empty() && lag > limits.lag_us)
    report.saturation.push_back(fmt::format(
        "schedule lag p99 {} > {}: the generator started work later than planned", ms_text(lag),
        ms_text(limits.lag_us)));
  const auto loop = report.loop_delay.value_at_percentile(99);
  if (!report.loop_delay.empty() && loop > limits.lag_us)
    report.saturation.push_back(fmt::format(
        "event-loop delay p99 {} > {}: ready work waited for an engine thread", ms_text(loop),
        ms_text(limits.lag_us)));
}

std::string_view to_string(metric_unit unit) {
  return unit == metric_unit::value ? "value" : "duration";
}

bool is_http_method(std::string_view action) {
  return std::find(http_methods.begin(), http_methods.end(), action) != http_methods.end();
}

std::string metric_key::name() const {
  std::string base = target.empty() ? action : action + "(" + target + ")";
  if (error.empty()) return base;
  return "Error " + error + " " + base;
}

std::string metric_key::row_label() const { return session + " " + name(); }

void session_counts::merge(const session_counts& other) {
  started += other.started;
  completed += other.completed;
  failed += other.failed;
  aborted += other.aborted;
  timed_out += other.timed_out;
}

void run_results::merge(const run_results& other) {
  for (const auto& [key, h] : other.metrics) metrics[key].merge(h);
  for (const auto& [key, h] : other.corrected) corrected[key].merge(h);
  arrivals.merge(other.arrivals);
  generator.merge(other.generator);
  for (const auto& [reason, count] : other.session_errors) session_errors[reason] += count;
  sessions.merge(other.sessions);
  if (start_unix_ms == 0 || (other.start_unix_ms != 0 && other.start_unix_ms < start_unix_ms))
    start_unix_ms = other.start_unix_ms;
  duration_us = std::max(duration_us, other.duration_us);
  partial = partial || other.partial;
  thresholds.clear();
  if (load_test.empty()) load_test = other.load_test;
}

std::uint64_t run_results::total_requests() const {
  std::uint64_t total = 0;
  for (const auto& [key, h] : metrics)
    if (!key.is_error() && is_http_method(key.action)) total += h.count();
  return total;
}

std::uint64_t run_results::error_count() const {
  std::uint64_t total = 0;
  for (const auto& [key, h] : metrics)
    if (key.is_error()) total += h.count();
  return total;
}

nlohmann::json run_results::to_json() const {
  nlohmann::json generator_json = {
      {"schedule_lag", generator.schedule_lag.to_json()},
      {"loop_delay", generator.loop_delay.to_json()},
      {"max_thread_cpu", generator.max_thread_cpu},
      {"saturation", generator.saturation},
  };
  return {
      {"load_test", load_test},
      {"start_unix_ms", start_unix_ms},
      {"duration_us", duration_us},
      {"partial", partial},
      {"sessions",
       {{"started", sessions.started},
        {"completed", sessions.completed},
        {"failed", sessions.failed},
        {"aborted", sessions.aborted},
        {"timed_out", sessions.timed_out}}},
      {"session_errors", session_errors},
      {"metrics", metrics_to_json(metrics)},
      {"corrected", metrics_to_json(corrected)},
      {"arrivals", {{"started", arrivals.started}, {"dropped", arrivals.dropped}}},
      {"generator", std::move(generator_json)},
  };
}

std::optional<run_results> run_results::try_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  run_results r;
  if (!read_field(j, "load_test", r.load_test) ||
      !read_field(j, "start_unix_ms", r.start_unix_ms) ||
      !read_field(j, "duration_us", r.duration_us) || !read_field(j, "partial", r.partial))
    return std::nullopt;
  if (const auto it = j.find("sessions"); it != j.end() && !read_sessions(*it, r.sessions))
    return std::nullopt;
  if (const auto it = j.find("session_errors");
      it != j.end() && !read_session_errors(*it, r.session_errors))
    return std::nullopt;
  if (const auto it = j.find("metrics"); it != j.end() && !read_metrics(*it, r.metrics))
    return std::nullopt;
  if (const auto it = j.find("corrected"); it != j.end() && !read_metrics(*it, r.corrected))
    return std::nullopt;
  if (const auto it = j.find("arrivals"); it != j.end() && !read_arrivals(*it, r.arrivals))
    return std::nullopt;
  if (const auto it = j.find("generator"); it != j.end() && !read_generator(*it, r.generator))
    return std::nullopt;
  return r;
}

run_results run_results::from_json(const nlohmann::json& j) {
  auto r = try_from_json(j);
  if (!r) throw std::invalid_argument("malformed run results JSON");
  return std::move(*r);
}

metric_filter::metric_filter(std::vector<std::string> types) {
  std::sort(types.begin(), types.end());
  predicate_ = [types = std::move(types)](const metric_key& key) {
    return std::binary_search(types.begin(), types.end(), key.action);
  };
}

metric_filter::metric_filter(std::function<bool(const metric_key&)> predicate)
    : predicate_(std::move(predicate)) {}

bool metric_filter::passes(const metric_key& key) const { return !predicate_ || predicate_(key); }

bool run_results::thresholds_passed() const {
  return std::all_of(thresholds.begin(), thresholds.end(),
                     [](const threshold_verdict& v) { return v.passed(); });
}

}  // namespace chaperon
