#include "chaperon/config.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace chaperon {

namespace {

// Longest duration accepted, about 146 years. Durations end up as steady_clock (nanosecond) time
// points, now() + d: anything longer would overflow there, and llround() past 2^63 gives INT64_MIN,
// a negative duration.
constexpr double max_duration_us =
    static_cast<double>(std::numeric_limits<std::int64_t>::max() / 2 / 1000);

// nullopt for what is negative, NaN or too long.
std::optional<std::chrono::microseconds> to_microseconds(double us) {
  if (!(us >= 0 && us <= max_duration_us)) return std::nullopt;
  return std::chrono::microseconds{static_cast<std::int64_t>(std::llround(us))};
}

}  // namespace

config_path::config_path(std::string_view dotted) {
  std::size_t start = 0;
  while (start <= dotted.size()) {
    auto dot = dotted.find('.', start);
    if (dot == std::string_view::npos) dot = dotted.size();
    parts_.emplace_back(dotted.substr(start, dot - start));
    start = dot + 1;
  }
}

config_path::config_path(std::initializer_list<std::string_view> parts) {
  for (auto p : parts) parts_.emplace_back(p);
}

std::string config_path::str() const {
  std::string out;
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    // By position, not by out.empty(): a leading empty part (".a") must keep its dot.
    if (i > 0) out += '.';
    out += parts_[i];
  }
  return out;
}

required_config_missing::required_config_missing(std::string key, std::string session_name)
    : missing_key("required config key '" + key + "' is missing (session " + session_name + ")",
                  key),
      session_(std::move(session_name)) {}

assigned_value_missing::assigned_value_missing(std::string key, std::string session_name)
    : missing_key("assigned value '" + key + "' is not set (session " + session_name + ")", key),
      session_(std::move(session_name)) {}

const json* find_path(const json& root, const config_path& path) {
  const json* node = &root;
  for (const auto& part : path.parts()) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(part);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

void set_path(json& root, const config_path& path, json value) {
  json* node = &root;
  for (const auto& part : path.parts()) {
    if (!node->is_object()) *node = json::object();
    node = &(*node)[part];
  }
  *node = std::move(value);
}

bool erase_path(json& root, const config_path& path) {
  const auto& parts = path.parts();
  if (parts.empty()) return false;
  json* node = &root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!node->is_object()) return false;
    auto it = node->find(parts[i]);
    if (it == node->end()) return false;
    node = &*it;
  }
  return node->is_object() && node->erase(parts.back()) > 0;
}

void deep_merge(json& base, const json& overlay) {
  if (!base.is_object() || !overlay.is_object()) {
    if (!overlay.is_null() || !base.is_object()) base = overlay;
    return;
  }
  for (auto it = overlay.begin(); it != overlay.end(); ++it) {
    auto existing = base.find(it.key());
    if (existing != base.end() && existing->is_object() && it->is_object()) {
      deep_merge(*existing, *it);
    } else {
      base[it.key()] = *it;
    }
  }
}

json deep_merged(json base, const json& overlay) {
  deep_merge(base, overlay);
  return base;
}

void apply_assignment(json& root, std::string_view assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw config_error("config assignment '" + std::string(assignment) +
                       "' is not of the form key=value");
  }
  auto key = assignment.substr(0, eq);
  auto text = assignment.substr(eq + 1);
  json value = json::parse(text.begin(), text.end(), nullptr, false);
  if (value.is_discarded()) value = std::string(text);
  set_path(root, config_path(key), std::move(value));
}

std::optional<std::chrono::microseconds> parse_duration_text(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::size_t unit_pos = 0;
  while (unit_pos < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[unit_pos])) || text[unit_pos] == '.')) {
    ++unit_pos;
  }
  if (unit_pos == 0) return std::nullopt;
  double number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + unit_pos, number);
  if (ec != std::errc{} || ptr != text.data() + unit_pos || !std::isfinite(number)) {
    return std::nullopt;
  }
  auto unit = text.substr(unit_pos);
  double factor_us = 0;
  if (unit.empty() || unit == "ms") factor_us = 1e3;
  else if (unit == "us") factor_us = 1;
  else if (unit == "s") factor_us = 1e6;
  else if (unit == "m" || unit == "min") factor_us = 60e6;
  else if (unit == "h") factor_us = 3600e6;
  else return std::nullopt;
  return to_microseconds(number * factor_us);
}

std::chrono::microseconds parse_duration(const json& value, std::string_view key) {
  if (value.is_number()) {
    if (auto d = to_microseconds(value.get<double>() * 1e3)) return *d;
  } else if (value.is_string()) {
    if (auto d = parse_duration_text(value.get_ref<const std::string&>())) return *d;
  }
  // Replacing invalid UTF-8 keeps a command-line string in another encoding from turning the
  // config_error into a JSON exception.
  const std::string shown = value.dump(-1, ' ', false, json::error_handler_t::replace);
  throw config_error("config key '" + std::string(key) + "' has value " + shown +
                     ", which is not a duration (a number of milliseconds, or a string such as "
                     "\"250ms\", \"2s\", \"1m\")");
}

}  // namespace chaperon
