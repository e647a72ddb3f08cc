#pragma once
// The histograms' counter layout (HdrHistogram's for 1 us .. highest_trackable_value at 3
// significant digits): which counter a value goes into, and which values a counter stands for.

#include <bit>
#include <cstddef>
#include <cstdint>

#include "chaperon/metrics.hpp"

namespace chaperon::detail {

// Layout for 3 significant digits with a unit of 1 us. Bucket 0 holds 0..2047 exactly, in 2048
// counters; every later bucket covers twice the range of the one before with 1024 counters (its
// lower half would duplicate the previous bucket). So counter index i >= 2048 stands for the
// values [(i % 1024 + 1024) << b, ... + (1 << b)) with b = i / 1024 - 1, a range at most 1/1024
// (< 0.1%) of its lowest value.
constexpr int sub_bucket_half_count_magnitude = 10;
constexpr std::int64_t sub_bucket_half_count = std::int64_t{1} << sub_bucket_half_count_magnitude;
constexpr std::uint64_t sub_bucket_mask =
    (std::uint64_t{1} << (sub_bucket_half_count_magnitude + 1)) - 1;

constexpr std::size_t counts_index(std::int64_t value) {
  const auto v = static_cast<std::uint64_t>(value);
  const int bucket = std::bit_width(v | sub_bucket_mask) - (sub_bucket_half_count_magnitude + 1);
  const auto sub_bucket = static_cast<std::int64_t>(v >> bucket);
  return static_cast<std::size_t>(((std::int64_t{bucket} + 1) << sub_bucket_half_count_magnitude) +
                                  sub_bucket - sub_bucket_half_count);
}

constexpr std::size_t max_counts_length = counts_index(histogram::highest_trackable_value) + 1;

struct counter_range {
  std::int64_t lowest;
  std::int64_t size;
};

constexpr counter_range range_of(std::size_t index) {
  auto bucket = static_cast<std::int64_t>(index >> sub_bucket_half_count_magnitude) - 1;
  auto sub_bucket =
      static_cast<std::int64_t>(index & (sub_bucket_half_count - 1)) + sub_bucket_half_count;
  if (bucket < 0) {
    sub_bucket -= sub_bucket_half_count;
    bucket = 0;
  }
  return {sub_bucket << bucket, std::int64_t{1} << bucket};
}

static_assert(counts_index(2047) == 2047);
static_assert(counts_index(2048) == 2048 && counts_index(2049) == 2048);
static_assert(range_of(counts_index(histogram::highest_trackable_value)).lowest +
                  range_of(counts_index(histogram::highest_trackable_value)).size ==
              histogram::highest_trackable_value + 1);
static_assert(max_counts_length == 27 * 1024);

}  // namespace chaperon::detail
