// The interval series: exact sums, bounded points, packed histograms.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include <chaperon/series.hpp>

namespace chaperon {
namespace {

using namespace std::chrono_literals;

metric_key get_key(std::string url) { return metric_key{"", "get", std::move(url), ""}; }

// Interval k: k+1 requests to /a with values around k ms, one error every third interval.
interval make_interval(std::size_t k, std::int64_t length_us = 1'000'000) {
  interval i;
  i.start_us = static_cast<std::int64_t>(k) * length_us;
  i.length_us = length_us;
  for (std::size_t n = 0; n <= k; ++n)
    i.metrics[get_key("/a")].record(static_cast<std::int64_t>(k * 1000 + n * 37));
  if (k % 3 == 0) i.metrics[metric_key{"", "get", "/a", "HTTP 500"}].record(5000);
  i.corrected[get_key("/a")].record(static_cast<std::int64_t>(k * 2000));
  i.sessions.started = 1;
  i.arrivals.started = k;
  i.session_errors["x"] = 1;
  i.sessions_active = k;
  return i;
}

TEST(packed_histogram, UnpacksToAnEqualHistogram) {
  histogram h;
  for (std::int64_t v : {0, 1, 2047, 2048, 99'999, 100'000, 7'000'000}) h.record(v, 3);
  packed_histogram p(h);
  EXPECT_EQ(p.unpack(), h);
  EXPECT_EQ(p.count(), 21u);
  EXPECT_LE(p.heap_bytes(), 7u * 12u + 64u) << "only non-zero counters are kept";
  EXPECT_EQ(packed_histogram(histogram{}).unpack(), histogram{});
}

TEST(interval_series, TotalEqualsEverythingAppended) {
  interval_series series(1s, 1024);
  interval expected;
  for (std::size_t k = 0; k < 50; ++k) {
    auto i = make_interval(k);
    expected.merge(i);
    series.append(i);
  }
  auto total = series.total();
  EXPECT_EQ(total.metrics, expected.metrics);
  EXPECT_EQ(total.corrected, expected.corrected);
  EXPECT_EQ(total.sessions, expected.sessions);
  EXPECT_EQ(total.arrivals, expected.arrivals);
  EXPECT_EQ(total.session_errors, expected.session_errors);
  EXPECT_EQ(series.size(), 50u);
  EXPECT_EQ(series.point(7), make_interval(7));
  EXPECT_EQ(total.requests(), 50u * 51u / 2u);
  EXPECT_EQ(total.errors(), 17u);
}

TEST(interval_series, CompactsPairwiseAndStaysExact) {
  interval_series series(1s, 8);
  interval expected;
  for (std::size_t k = 0; k < 37; ++k) {
    auto i = make_interval(k);
    expected.merge(i);
    series.append(i);
    ASSERT_LE(series.size(), 8u);
  }
  EXPECT_EQ(series.intervals(), 37u);
  EXPECT_EQ(series.intervals_per_point(), 8u);  // 37 intervals in at most 8 points
  EXPECT_EQ(series.size(), 5u);                 // 4 full points of 8, one of 5
  auto points = series.points();
  for (std::size_t p = 0; p < points.size(); ++p) {
    EXPECT_EQ(points[p].start_us, static_cast<std::int64_t>(p) * 8'000'000);
  }
  EXPECT_EQ(points.back().length_us, 5'000'000);
  EXPECT_EQ(points.back().sessions_active, 36u) << "a point reports the sessions at its end";
  auto total = series.total();
  EXPECT_EQ(total.metrics, expected.metrics);
  EXPECT_EQ(total.corrected, expected.corrected);
  EXPECT_EQ(total.arrivals, expected.arrivals);
  // Point 1 holds intervals 8..15 exactly.
  interval second;
  for (std::size_t k = 8; k < 16; ++k) second.merge(make_interval(k));
  EXPECT_EQ(points[1].metrics, second.metrics);
}

TEST(interval_series, MemoryStaysBoundedOverADay) {
  // A day of 1 s intervals with two metrics: the points stop at the bound.
  interval_series series(1s, 1024);
  for (std::size_t k = 0; k < 86'400; ++k) {
    interval i;
    i.start_us = static_cast<std::int64_t>(k) * 1'000'000;
    i.length_us = 1'000'000;
    i.metrics[get_key("/a")].record(static_cast<std::int64_t>(1000 + k % 5000));
    i.metrics[get_key("/b")].record(static_cast<std::int64_t>(200 + k % 100));
    series.append(i);
  }
  EXPECT_LE(series.size(), 1024u);
  EXPECT_EQ(series.intervals_per_point(), 128u);
  EXPECT_EQ(series.total().requests(), 2u * 86'400u);
  EXPECT_LT(series.heap_bytes(), 16u << 20) << "a day of intervals in under 16 MiB";
}

// total() is read every interval by the live views. It is kept as intervals are appended, so it
// costs a copy of the totals; unpacking every point (what it did before) grows with the run. The
// timings are printed, not asserted: the machine is shared.
TEST(interval_series, TotalIsKeptNotRecomputed) {
  constexpr std::size_t metrics = 20;
  interval_series series(1s, 1024);
  interval expected;
  for (std::size_t k = 0; k < 512; ++k) {
    interval i;
    i.start_us = static_cast<std::int64_t>(k) * 1'000'000;
    i.length_us = 1'000'000;
    for (std::size_t m = 0; m < metrics; ++m)
      for (std::size_t n = 0; n < 20; ++n)
        i.metrics[get_key("/" + std::to_string(m))].record(
            static_cast<std::int64_t>(1000 + (k * 131 + n * 977 + m * 7919) % 90'000));
    i.sessions_active = k;
    expected.merge(i);
    series.append(i);
  }
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const auto total = series.total();
  const auto t1 = clock::now();
  interval unpacked;  // the former total(): every point unpacked and merged
  for (std::size_t p = 0; p < series.size(); ++p) unpacked.merge(series.point(p));
  const auto t2 = clock::now();
  EXPECT_EQ(total.metrics, expected.metrics);
  EXPECT_EQ(unpacked.metrics, expected.metrics);
  EXPECT_EQ(total.sessions_active, 511u) << "the sessions at the end";
  EXPECT_EQ(total.length_us, 512 * 1'000'000);
  const interval_series copy = series;
  EXPECT_EQ(copy.total().metrics, expected.metrics) << "a copy keeps the total";
  const auto us = [](auto d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  };
  std::printf("total() of %zu points x %zu metrics: %lld us; unpacking every point: %lld us\n",
              series.size(), metrics, static_cast<long long>(us(t1 - t0)),
              static_cast<long long>(us(t2 - t1)));
}

TEST(interval_series, RejectsAnIntervalOfZero) {
  EXPECT_THROW(interval_series(0us), std::invalid_argument);
}

}  // namespace
}  // namespace chaperon
