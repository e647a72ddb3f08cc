#include "chaperon/series.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace chaperon {

void interval::merge(const interval& other) {
  for (const auto& [key, h] : other.metrics) metrics[key].merge(h);
  for (const auto& [key, h] : other.corrected) corrected[key].merge(h);
  for (const auto& [reason, n] : other.session_errors) session_errors[reason] += n;
  sessions.merge(other.sessions);
  arrivals.merge(other.arrivals);
  sessions_active += other.sessions_active;
}

std::uint64_t interval::requests() const {
  std::uint64_t n = 0;
  for (const auto& [key, h] : metrics)
    if (!key.is_error() && is_http_method(key.action)) n += h.count();
  return n;
}

std::uint64_t interval::errors() const {
  std::uint64_t n = 0;
  for (const auto& [key, h] : metrics)
    if (key.is_error()) n += h.count();
  return n;
}

namespace {

using key_id = std::uint32_t;
using packed_metrics = std::vector<std::pair<key_id, packed_histogram>>;

// One point: its histograms packed, its metric keys as indexes into the series' key table (a
// key's four strings would otherwise be repeated in every point).
struct packed_point {
  std::int64_t start_us = 0;
  std::int64_t length_us = 0;
  packed_metrics metrics;
  packed_metrics corrected;
  std::map<std::string, std::uint64_t> session_errors;
  session_counts sessions;
  arrival_counts arrivals;
  std::uint64_t sessions_active = 0;
};

}  // namespace

struct interval_series::state {
  std::int64_t interval_us;
  std::size_t max_points;
  std::size_t per_point = 1;
  std::size_t appended = 0;
  std::vector<metric_key> keys;
  std::map<metric_key, key_id> key_ids;
  std::vector<packed_point> points;
  // Everything appended, merged as it comes: total() is read every interval by live views
  // (progress, thresholds, Prometheus), and unpacking every point for it grew with the run.
  interval sum;

  key_id id_of(const metric_key& key) {
    auto [it, fresh] = key_ids.try_emplace(key, static_cast<key_id>(keys.size()));
    if (fresh) keys.push_back(key);
    return it->second;
  }

  packed_metrics pack(const std::map<metric_key, histogram>& in) {
    packed_metrics out;
    out.reserve(in.size());
    for (const auto& [key, h] : in) out.emplace_back(id_of(key), packed_histogram(h));
    return out;
  }

  std::map<metric_key, histogram> unpack(const packed_metrics& in) const {
    std::map<metric_key, histogram> out;
    for (const auto& [id, h] : in) out.emplace(keys[id], h.unpack());
    return out;
  }

  packed_point pack(const interval& i) {
    return {i.start_us, i.length_us,   pack(i.metrics), pack(i.corrected), i.session_errors,
            i.sessions, i.arrivals,    i.sessions_active};
  }

  interval unpack(const packed_point& p) const {
    return {p.start_us,   p.length_us, unpack(p.metrics), unpack(p.corrected),
            p.session_errors, p.sessions, p.arrivals,     p.sessions_active};
  }

  // `later` follows `earlier` in time: counts add up, the span grows, and the sessions running
  // at the end are the later one's.
  packed_point joined(const packed_point& earlier, const interval& later) {
    interval i = unpack(earlier);
    i.merge(later);
    i.length_us = later.start_us + later.length_us - earlier.start_us;
    i.sessions_active = later.sessions_active;
    return pack(i);
  }

  void compact() {
    std::vector<packed_point> halved;
    halved.reserve((points.size() + 1) / 2);
    for (std::size_t i = 0; i < points.size(); i += 2) {
      if (i + 1 < points.size()) {
        halved.push_back(joined(points[i], unpack(points[i + 1])));
      } else {
        halved.push_back(std::move(points[i]));
      }
    }
    points = std::move(halved);
    per_point *= 2;
  }
};

interval_series::interval_series(std::chrono::microseconds interval, std::size_t max_points)
    : state_(std::make_unique<state>()) {
  if (interval.count() <= 0) throw std::invalid_argument("interval series: interval must be > 0");
  state_->interval_us = interval.count();
  state_->max_points = std::max<std::size_t>(2, max_points);
}

interval_series::interval_series(const interval_series& other)
    : state_(std::make_unique<state>(*other.state_)) {}
interval_series::interval_series(interval_series&& other) noexcept = default;
interval_series& interval_series::operator=(const interval_series& other) {
  if (this != &other) state_ = std::make_unique<state>(*other.state_);
  return *this;
}
interval_series& interval_series::operator=(interval_series&& other) noexcept = default;
interval_series::~interval_series() = default;

void interval_series::append(const interval& next) {
  auto& s = *state_;
  // Points cover whole groups of per_point intervals, so a new group starts a new point.
  if (s.points.empty() || s.appended % s.per_point == 0) {
    s.points.push_back(s.pack(next));
  } else {
    s.points.back() = s.joined(s.points.back(), next);
  }
  ++s.appended;
  if (s.points.size() > s.max_points) s.compact();
  s.sum.merge(next);
  s.sum.sessions_active = next.sessions_active;
  s.sum.length_us = next.start_us + next.length_us;
}

std::size_t interval_series::size() const noexcept { return state_->points.size(); }

interval interval_series::point(std::size_t index) const {
  return state_->unpack(state_->points.at(index));
}

std::vector<interval> interval_series::points(std::size_t from) const {
  std::vector<interval> out;
  for (std::size_t i = from; i < state_->points.size(); ++i)
    out.push_back(state_->unpack(state_->points[i]));
  return out;
}

std::size_t interval_series::intervals() const noexcept { return state_->appended; }
std::size_t interval_series::intervals_per_point() const noexcept { return state_->per_point; }
std::chrono::microseconds interval_series::interval_length() const noexcept {
  return std::chrono::microseconds{state_->interval_us};
}

interval interval_series::total() const { return state_->sum; }

std::size_t interval_series::heap_bytes() const noexcept {
  std::size_t n = state_->points.capacity() * sizeof(packed_point);
  for (const auto& p : state_->points) {
    n += (p.metrics.capacity() + p.corrected.capacity()) *
         sizeof(std::pair<key_id, packed_histogram>);
    for (const auto& [id, h] : p.metrics) n += h.heap_bytes();
    for (const auto& [id, h] : p.corrected) n += h.heap_bytes();
  }
  return n;
}

}  // namespace chaperon
