#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "chaperon/metrics.hpp"

namespace chaperon {
namespace {

constexpr std::int64_t one_hour_us = 3'600'000'000;

histogram histogram_of(const std::vector<std::int64_t>& values) {
  histogram h;
  for (const auto v : values) h.record(v);
  return h;
}

// The value HDR semantics select: the smallest v with round(p/100 * n) values <= v.
std::int64_t brute_force_percentile(const std::vector<std::int64_t>& sorted, double p) {
  const auto wanted = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.5));
  return sorted[std::min<std::size_t>(wanted, sorted.size()) - 1];
}

std::vector<double> percentiles_to_check() {
  std::vector<double> ps(reported_percentiles.begin(), reported_percentiles.end());
  for (double p = 0.5; p < 100.0; p += 3.7) ps.push_back(p);
  ps.push_back(0.0);
  ps.push_back(100.0);
  return ps;
}

void expect_matches_brute_force(const std::vector<std::int64_t>& values) {
  const auto h = histogram_of(values);
  auto sorted = values;
  std::sort(sorted.begin(), sorted.end());

  ASSERT_EQ(h.count(), sorted.size());
  EXPECT_EQ(h.min(), sorted.front());
  EXPECT_EQ(h.max(), sorted.back());

  for (const double p : percentiles_to_check()) {
    const auto expected = p == 0.0 ? sorted.front() : brute_force_percentile(sorted, p);
    const auto actual = h.value_at_percentile(p);
    SCOPED_TRACE(testing::Message() << "percentile " << p << " expected " << expected);
    EXPECT_GE(actual, expected);
    EXPECT_LE(actual, h.max());
    if (expected < 2048)
      EXPECT_EQ(actual, expected);
    else
      EXPECT_LE(static_cast<double>(actual - expected), 0.001 * static_cast<double>(expected));
  }

  const double true_mean =
      std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(sorted.size());
  EXPECT_NEAR(h.mean(), true_mean, 0.001 * true_mean + 1e-9);
}

std::vector<std::int64_t> generate(std::size_t n,
                                   const std::function<std::int64_t(std::mt19937_64&)>& draw,
                                   std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> values(n);
  for (auto& v : values) v = draw(rng);
  return values;
}

std::int64_t log_uniform_up_to_an_hour(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> exponent(0.0, std::log(static_cast<double>(one_hour_us)));
  return static_cast<std::int64_t>(std::exp(exponent(rng)));
}

TEST(histogram, empty_histogram_reports_zeros_and_allocates_nothing) {
  const histogram h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.value_at_percentile(50), 0);
  EXPECT_EQ(h.value_at_percentile(100), 0);
  EXPECT_EQ(h.counts_length(), 0u);
}

TEST(histogram, small_values_are_exact) {
  histogram h;
  for (std::int64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.value_at_percentile(0), 1);
  EXPECT_EQ(h.value_at_percentile(50), 50);
  EXPECT_EQ(h.value_at_percentile(99), 99);
  EXPECT_EQ(h.value_at_percentile(99.999), 100);
  EXPECT_EQ(h.value_at_percentile(100), 100);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);

  std::vector<std::int64_t> all(2048);
  std::iota(all.begin(), all.end(), 0);
  expect_matches_brute_force(all);
}

TEST(histogram, record_with_count_equals_repeated_records) {
  histogram once;
  once.record(5000, 7);
  once.record(3, 0);  // a zero count records nothing, not even a new min
  histogram repeated;
  for (int i = 0; i < 7; ++i) repeated.record(5000);
  EXPECT_EQ(once, repeated);
  EXPECT_EQ(once.count(), 7u);
  EXPECT_EQ(once.min(), 5000);
}

TEST(histogram, negative_values_count_as_zero_and_huge_values_are_clamped) {
  histogram h;
  h.record(-5);
  h.record(std::int64_t{1} << 50);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), histogram::highest_trackable_value);
  EXPECT_EQ(h.value_at_percentile(100), histogram::highest_trackable_value);
  EXPECT_GE(histogram::highest_trackable_value, one_hour_us);
}

TEST(histogram, percentiles_match_brute_force_for_uniform_values) {
  expect_matches_brute_force(generate(
      20'000, [](auto& rng) { return std::uniform_int_distribution<std::int64_t>(0, 5'000)(rng); },
      1));
}

TEST(histogram, percentiles_match_brute_force_for_one_microsecond_to_one_hour) {
  expect_matches_brute_force(generate(50'000, log_uniform_up_to_an_hour, 2));
}

TEST(histogram, percentiles_match_brute_force_for_normal_latencies) {
  expect_matches_brute_force(generate(
      30'000,
      [](auto& rng) {
        const double v = std::normal_distribution<double>(50'000.0, 8'000.0)(rng);
        return std::max<std::int64_t>(1, static_cast<std::int64_t>(v));
      },
      3));
}

TEST(histogram, percentiles_match_brute_force_for_a_bimodal_tail) {
  expect_matches_brute_force(generate(
      25'000,
      [](auto& rng) {
        if (std::bernoulli_distribution(0.01)(rng))
          return std::uniform_int_distribution<std::int64_t>(2'000'000, 30'000'000)(rng);
        return std::uniform_int_distribution<std::int64_t>(200, 3'000)(rng);
      },
      4));
}

TEST(histogram, upper_values_share_counters_within_a_thousandth) {
  histogram h;
  h.record(1'000'001);
  h.record(2'000'000);
  const auto p50 = h.value_at_percentile(50);
  EXPECT_GE(p50, 1'000'001);
  EXPECT_GT(p50, 1'000'001);  // reported as the top of its counter range
  EXPECT_LE(p50, 1'001'001);
}

TEST(histogram, mean_uses_counter_midpoints_within_the_exact_extremes) {
  EXPECT_DOUBLE_EQ(histogram_of({5001, 9000}).mean(), (5002.0 + 9004.0) / 2);
  EXPECT_DOUBLE_EQ(histogram_of({2500}).mean(), 2500.0);
  EXPECT_DOUBLE_EQ(histogram_of({10'000'000}).mean(), 10'000'000.0);
}

TEST(histogram, counts_grow_lazily_with_the_largest_value) {
  histogram h;
  h.record(10);
  const auto small = h.counts_length();
  EXPECT_GT(small, 0u);
  EXPECT_LE(small, 2048u);
  h.record(500);
  EXPECT_EQ(h.counts_length(), small);
  h.record(one_hour_us);
  const auto hour = h.counts_length();
  EXPECT_GT(hour, small);
  h.record(histogram::highest_trackable_value);
  EXPECT_GT(h.counts_length(), hour);
  EXPECT_LE(h.counts_length() * sizeof(std::uint64_t), 256u * 1024u);
}

TEST(histogram, merge_equals_recording_everything_in_one) {
  const auto small = generate(
      5'000, [](auto& rng) { return std::uniform_int_distribution<std::int64_t>(0, 900)(rng); }, 5);
  const auto wide = generate(5'000, log_uniform_up_to_an_hour, 6);
  const auto mid = generate(
      5'000,
      [](auto& rng) { return std::uniform_int_distribution<std::int64_t>(2'000, 90'000)(rng); }, 7);

  std::vector<std::int64_t> all;
  for (const auto* part : {&small, &wide, &mid}) all.insert(all.end(), part->begin(), part->end());
  const auto whole = histogram_of(all);

  // Parts with different counter array sizes, merged in either direction.
  auto into_small = histogram_of(small);
  into_small.merge(histogram_of(wide));
  into_small.merge(histogram_of(mid));
  auto into_wide = histogram_of(wide);
  into_wide.merge(histogram_of(mid));
  into_wide.merge(histogram_of(small));
  histogram into_empty;
  into_empty.merge(into_small);
  into_empty.merge(histogram{});

  for (const auto* merged : {&into_small, &into_wide, &into_empty}) {
    EXPECT_EQ(*merged, whole);
    EXPECT_EQ(merged->count(), whole.count());
    EXPECT_EQ(merged->min(), whole.min());
    EXPECT_EQ(merged->max(), whole.max());
    EXPECT_DOUBLE_EQ(merged->mean(), whole.mean());
    for (const double p : reported_percentiles)
      EXPECT_EQ(merged->value_at_percentile(p), whole.value_at_percentile(p));
  }
}

TEST(histogram, equality_ignores_growth_but_not_exact_extremes) {
  histogram grown;
  grown.record(one_hour_us);
  grown.reset();
  grown.record(5);
  EXPECT_EQ(grown, histogram_of({5}));
  EXPECT_FALSE(histogram_of({5000}) == histogram_of({5001}));  // same counter, different max
  EXPECT_FALSE(histogram_of({5}) == histogram_of({5, 5}));
}

TEST(histogram, reset_empties_but_keeps_memory) {
  auto h = histogram_of({1, 200'000});
  const auto length = h.counts_length();
  h.reset();
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.counts_length(), length);
  EXPECT_EQ(h, histogram{});
  h.record(70);
  EXPECT_EQ(h, histogram_of({70}));
}

TEST(histogram, json_round_trip_is_lossless) {
  const auto h = histogram_of(generate(10'000, log_uniform_up_to_an_hour, 8));
  const auto j = h.to_json();
  const auto back = histogram::from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back, h);
  EXPECT_EQ(back.count(), h.count());
  EXPECT_EQ(back.min(), h.min());
  EXPECT_EQ(back.max(), h.max());
  EXPECT_EQ(back.value_at_percentile(99.9), h.value_at_percentile(99.9));

  EXPECT_EQ(histogram::from_json(histogram{}.to_json()), histogram{});
  EXPECT_EQ(histogram_of({3, 3, 5000}).to_json(),
            nlohmann::json::parse(R"({"min":3,"max":5000,"counts":[[3,2],[3298,1]]})"));
}

TEST(histogram, malformed_json_is_rejected) {
  for (const char* text : {
           R"([])",
           R"({"min":3,"max":3})",
           R"({"min":-1,"max":3,"counts":[[3,1]]})",
           R"({"min":3,"max":3,"counts":[[3]]})",
           R"({"min":3,"max":3,"counts":[[3,-1]]})",
           R"({"min":3,"max":3,"counts":[[99999999,1]]})",
           R"({"min":2,"max":3,"counts":[[3,1]]})",  // min outside the lowest counter
           R"({"min":3,"max":"3","counts":[[3,1]]})",
       }) {
    SCOPED_TRACE(text);
    const auto j = nlohmann::json::parse(text);
    EXPECT_FALSE(histogram::try_from_json(j).has_value());
    EXPECT_THROW(histogram::from_json(j), std::invalid_argument);
  }
}

TEST(histogram, ForEachCounterVisitsTheNonZeroCountersInOrder) {
  histogram h;
  for (std::int64_t v : {5, 5, 2047, 2048, 2049, 7'000'000}) h.record(v);
  nlohmann::json visited = nlohmann::json::array();
  h.for_each_counter([&](std::size_t index, std::uint64_t count) {
    visited.push_back({index, count});
  });
  EXPECT_EQ(visited, h.to_json().at("counts"));
  int calls = 0;
  histogram{}.for_each_counter([&](std::size_t, std::uint64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace chaperon
