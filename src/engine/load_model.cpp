#include "engine/load_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace chaperon {

namespace {

using std::chrono::microseconds;

constexpr std::size_t min_default_cap = 100;
constexpr std::size_t max_default_cap = 10000;
constexpr double default_cap_seconds = 2.0;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<double> parse_number(std::string_view text) {
  text = trim(text);
  double scale = 1;
  if (!text.empty() && (text.back() == 'k' || text.back() == 'K')) {
    scale = 1000;
    text.remove_suffix(1);
  }
  if (text.empty()) return std::nullopt;
  std::string copy(text);
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  return v * scale;
}

}  // namespace

load_model load_model::ramping_sessions(std::vector<load_stage> stages, double start) {
  load_model m;
  m.kind = load_kind::ramping_sessions;
  m.start = start;
  m.stages = std::move(stages);
  m.validate();
  return m;
}

load_model load_model::constant_rate(double per_second, microseconds duration,
                                     std::size_t max_active) {
  return ramping_rate({load_stage{duration, per_second}}, per_second, max_active);
}

load_model load_model::ramping_rate(std::vector<load_stage> stages, double start,
                                    std::size_t max_active) {
  load_model m;
  m.kind = load_kind::arrival_rate;
  m.start = start;
  m.stages = std::move(stages);
  m.max_active = max_active;
  m.validate();
  return m;
}

microseconds load_model::duration() const {
  microseconds total{0};
  for (const auto& s : stages) total += s.duration;
  return total;
}

double load_model::peak() const {
  double p = start;
  for (const auto& s : stages) p = std::max(p, s.target);
  return p;
}

std::size_t load_model::effective_max_active() const {
  if (max_active > 0) return max_active;
  auto wanted = static_cast<std::size_t>(std::ceil(peak() * default_cap_seconds));
  return std::clamp(wanted, min_default_cap, max_default_cap);
}

void load_model::validate() const {
  if (kind == load_kind::at_once) return;
  const char* what = kind == load_kind::arrival_rate ? "rate" : "session";
  if (stages.empty()) throw std::invalid_argument(fmt::format("{} stages: none given", what));
  auto check_target = [&](double t, std::string_view where) {
    if (!std::isfinite(t) || t < 0)
      throw std::invalid_argument(fmt::format("{} stages: {} target {} is not a number >= 0",
                                              what, where, t));
    if (kind == load_kind::ramping_sessions && t != std::floor(t))
      throw std::invalid_argument(
          fmt::format("session stages: {} target {} is not a whole number", where, t));
  };
  check_target(start, "start");
  for (std::size_t i = 0; i < stages.size(); ++i) {
    check_target(stages[i].target, fmt::format("stage {}", i + 1));
    if (stages[i].duration.count() <= 0)
      throw std::invalid_argument(fmt::format("{} stages: stage {} has no duration", what, i + 1));
  }
  if (kind == load_kind::arrival_rate && peak() <= 0)
    throw std::invalid_argument("rate stages: the rate is 0 throughout, nothing would start");
}

std::optional<double> parse_rate(std::string_view text) {
  text = trim(text);
  double per = 1;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    auto unit = trim(text.substr(slash + 1));
    if (unit == "s" || unit == "sec") {
      per = 1;
    } else if (unit == "m" || unit == "min") {
      per = 60;
    } else if (unit == "h") {
      per = 3600;
    } else {
      return std::nullopt;
    }
    text = text.substr(0, slash);
  }
  auto v = parse_number(text);
  if (!v) return std::nullopt;
  return *v / per;
}

parsed_stages parse_stages(std::string_view text) {
  parsed_stages out;
  std::size_t index = 0;
  bool any_rate = false;
  bool any_count = false;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    ++index;
    auto fail = [&](std::string_view why) {
      return std::invalid_argument(fmt::format("stage {} '{}': {}", index, item, why));
    };
    auto colon = item.find(':');
    if (colon == std::string_view::npos) throw fail("expected <duration>:<target>, e.g. 30s:100");
    auto duration = parse_duration_text(trim(item.substr(0, colon)));
    if (!duration || duration->count() <= 0) throw fail("the duration is not a duration > 0");
    auto target_text = trim(item.substr(colon + 1));
    bool is_rate = target_text.find('/') != std::string_view::npos;
    auto target = is_rate ? parse_rate(target_text) : parse_number(target_text);
    if (!target) throw fail("the target is not a number >= 0 (or a rate such as 500/s)");
    if (!is_rate && *target != std::floor(*target)) throw fail("a session count must be whole");
    (is_rate ? any_rate : any_count) = true;
    out.stages.push_back(load_stage{*duration, *target});
  }
  if (out.stages.empty()) throw std::invalid_argument("no stages given");
  if (any_rate && any_count)
    throw std::invalid_argument("stages mix session counts and rates; give every target as a "
                                "rate (500/s) or none");
  out.rates = any_rate;
  return out;
}

namespace detail {

stage_curve::stage_curve(double start, const std::vector<load_stage>& stages) : start_(start) {
  double from = start;
  for (const auto& s : stages) {
    double length = std::chrono::duration<double>(s.duration).count();
    segments_.push_back(segment{end_, length, from, s.target, total_});
    end_ += length;
    total_ += length * (from + s.target) / 2;
    from = s.target;
  }
}

double stage_curve::value_at(double t) const {
  if (segments_.empty() || t < 0) return start_;
  for (const auto& s : segments_) {
    if (t < s.begin + s.length) return s.from + (s.to - s.from) * (t - s.begin) / s.length;
  }
  return segments_.back().to;
}

double stage_curve::integral_to(double t) const {
  for (const auto& s : segments_) {
    if (t < s.begin + s.length) {
      double u = std::max(0.0, t - s.begin);
      return s.area_before + s.from * u + (s.to - s.from) * u * u / (2 * s.length);
    }
  }
  return total_;
}

std::optional<double> stage_curve::time_of(double amount) const {
  for (const auto& s : segments_) {
    double area = s.length * (s.from + s.to) / 2;
    if (amount > s.area_before + area) continue;
    double m = amount - s.area_before;
    if (m <= 0) return s.begin;
    // from*u + slope*u^2/2 = m, solved in the form that stays exact for a flat segment.
    double slope = (s.to - s.from) / s.length;
    double root = std::sqrt(std::max(0.0, s.from * s.from + 2 * slope * m));
    double denominator = s.from + root;
    if (denominator <= 0) return s.begin + s.length;
    return s.begin + std::min(s.length, 2 * m / denominator);
  }
  return std::nullopt;
}

std::optional<double> arrival_time(const stage_curve& rate, std::uint64_t n) {
  double amount = static_cast<double>(n) + 0.5;
  if (amount >= rate.total()) return std::nullopt;
  return rate.time_of(amount);
}

std::uint64_t arrival_count(const stage_curve& rate) {
  // n is due while n + 1/2 < total.
  double total = rate.total();
  if (total <= 0.5) return 0;
  auto n = static_cast<std::uint64_t>(std::ceil(total - 0.5));
  return n;
}

std::size_t share_of(std::size_t total, std::size_t index, std::size_t count) {
  return (total + index) / count;
}

}  // namespace detail

}  // namespace chaperon
