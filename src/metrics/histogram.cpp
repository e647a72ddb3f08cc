#include "chaperon/metrics.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "metrics/hdr_layout.hpp"

namespace chaperon {
namespace {

using detail::counts_index;
using detail::max_counts_length;
using detail::range_of;
using detail::sub_bucket_half_count;
using detail::sub_bucket_half_count_magnitude;

constexpr std::int64_t empty_min = std::numeric_limits<std::int64_t>::max();

std::optional<std::int64_t> read_value(const nlohmann::json& j, const char* field) {
  const auto it = j.find(field);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  const auto v = it->get<std::int64_t>();
  if (v < 0 || v > histogram::highest_trackable_value) return std::nullopt;
  return v;
}

}  // namespace

histogram::histogram() : min_(empty_min) {}

void histogram::record(std::int64_t value_us, std::uint64_t count) {
  if (count == 0) return;
  const std::int64_t v = std::clamp<std::int64_t>(value_us, 0, highest_trackable_value);
  const std::size_t index = counts_index(v);
  if (index >= counts_.size()) [[unlikely]]
    grow_to_fit(index);
  counts_[index] += count;
  total_ += count;
  if (v < min_) min_ = v;
  if (v > max_) max_ = v;
}

void histogram::grow_to_fit(std::size_t index) {
  // Whole 1024-counter blocks (one bucket each past the first), so a slowly rising maximum
  // reallocates once per doubling of the value rather than once per counter.
  const std::size_t blocks = (index >> sub_bucket_half_count_magnitude) + 1;
  counts_.resize(std::min(max_counts_length, blocks << sub_bucket_half_count_magnitude), 0);
}

void histogram::merge(const histogram& other) {
  if (other.total_ == 0) return;
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (std::size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void histogram::reset() {
  if (total_ == 0) return;
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
  min_ = empty_min;
  max_ = 0;
}

std::uint64_t histogram::count() const { return total_; }
bool histogram::empty() const { return total_ == 0; }
std::int64_t histogram::min() const { return total_ == 0 ? 0 : min_; }
std::int64_t histogram::max() const { return max_; }
std::size_t histogram::counts_length() const { return counts_.size(); }

double histogram::mean() const {
  if (total_ == 0) return 0.0;
  double sum = 0.0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    const auto r = range_of(i);
    sum += static_cast<double>(counts_[i]) * static_cast<double>(r.lowest + r.size / 2);
  }
  // A counter's midpoint can lie outside the exact extremes (one value of 2500 has midpoint 2501);
  // the true mean cannot.
  return std::clamp(sum / static_cast<double>(total_), static_cast<double>(min_),
                    static_cast<double>(max_));
}

std::int64_t histogram::value_at_percentile(double percentile) const {
  if (total_ == 0) return 0;
  const double p = std::clamp(percentile, 0.0, 100.0);
  if (p == 0.0) return min_;
  const auto wanted = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(total_) + 0.5));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) {
      const auto r = range_of(i);
      // The exact max is known, so the top of its counter range would only overstate it.
      return std::min(r.lowest + r.size - 1, max_);
    }
  }
  return max_;
}

nlohmann::json histogram::to_json() const {
  auto counts = nlohmann::json::array();
  for_each_counter([&](std::size_t i, std::uint64_t n) {
    counts.push_back(nlohmann::json::array({i, n}));
  });
  return {{"min", min()}, {"max", max_}, {"counts", std::move(counts)}};
}

namespace {
constexpr std::uint64_t max_total_count = std::uint64_t{1} << 53;
}  // namespace

std::optional<histogram> histogram::try_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto min = read_value(j, "min");
  const auto max = read_value(j, "max");
  const auto counts = j.find("counts");
  if (!min || !max || counts == j.end() || !counts->is_array()) return std::nullopt;

  histogram h;
  for (const auto& pair : *counts) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_unsigned() ||
        !pair[1].is_number_unsigned())
      return std::nullopt;
    const auto index = pair[0].get<std::uint64_t>();
    const auto count = pair[1].get<std::uint64_t>();
    if (index >= max_counts_length) return std::nullopt;
    if (count == 0) continue;
    // Totals beyond 2^53 cannot come from a real run, and would overflow or lose precision in
    // the percentile arithmetic: untrusted input is refused instead.
    if (count > max_total_count || h.total_ > max_total_count - count) return std::nullopt;
    if (index >= h.counts_.size()) h.grow_to_fit(index);
    h.counts_[index] += count;
    h.total_ += count;
  }
  if (h.total_ == 0) return h;
  if (*min > *max) return std::nullopt;

  // The exact extremes must lie in the lowest and highest non-zero counters.
  const auto first =
      std::find_if(h.counts_.begin(), h.counts_.end(), [](auto c) { return c != 0; });
  const auto last =
      std::find_if(h.counts_.rbegin(), h.counts_.rend(), [](auto c) { return c != 0; });
  if (counts_index(*min) != static_cast<std::size_t>(first - h.counts_.begin()) ||
      counts_index(*max) != static_cast<std::size_t>(h.counts_.rend() - last - 1))
    return std::nullopt;
  h.min_ = *min;
  h.max_ = *max;
  return h;
}

histogram histogram::from_json(const nlohmann::json& j) {
  auto h = try_from_json(j);
  if (!h) throw std::invalid_argument("malformed histogram JSON");
  return std::move(*h);
}

bool operator==(const histogram& a, const histogram& b) {
  if (a.total_ != b.total_ || a.min() != b.min() || a.max_ != b.max_) return false;
  const auto& shorter = a.counts_.size() <= b.counts_.size() ? a.counts_ : b.counts_;
  const auto& longer = a.counts_.size() <= b.counts_.size() ? b.counts_ : a.counts_;
  return std::equal(shorter.begin(), shorter.end(), longer.begin()) &&
         std::all_of(longer.begin() + static_cast<std::ptrdiff_t>(shorter.size()), longer.end(),
                     [](auto c) { return c == 0; });
}

packed_histogram::packed_histogram(const histogram& h)
    : total_(h.total_), min_(h.min_), max_(h.max_) {
  h.for_each_counter([&](std::size_t i, std::uint64_t n) {
    index_.push_back(static_cast<std::uint32_t>(i));
    counts_.push_back(n);
  });
  index_.shrink_to_fit();
  counts_.shrink_to_fit();
}

histogram packed_histogram::unpack() const {
  histogram h;
  if (total_ == 0) return h;
  h.grow_to_fit(index_.back());
  for (std::size_t i = 0; i < index_.size(); ++i) h.counts_[index_[i]] = counts_[i];
  h.total_ = total_;
  h.min_ = min_;
  h.max_ = max_;
  return h;
}

std::size_t packed_histogram::heap_bytes() const noexcept {
  return index_.capacity() * sizeof(std::uint32_t) + counts_.capacity() * sizeof(std::uint64_t);
}

}  // namespace chaperon
