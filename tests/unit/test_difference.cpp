// Intervals cut from cumulative figures (how a cluster's master builds its series): what a
// histogram gained between two looks, and a run's results between two looks.
#include <gtest/gtest.h>

#include <chaperon/metrics.hpp>

#include "metrics/difference.hpp"

namespace chaperon {
namespace {

metric_key get_key(std::string url) { return metric_key{"", "get", std::move(url), ""}; }

TEST(Difference, a_histogram_since_an_earlier_one_holds_only_the_values_added) {
  histogram before;
  for (std::int64_t v = 1; v <= 5000; v += 7) before.record(v);
  histogram now = before;
  histogram added;
  for (std::int64_t v = 100'000; v <= 900'000; v += 1'001) {
    now.record(v);
    added.record(v);
  }
  const auto since = detail::histogram_since(now, before);
  EXPECT_EQ(since.count(), added.count());
  for (const double p : {10.0, 50.0, 90.0, 99.0, 99.9})
    EXPECT_EQ(since.value_at_percentile(p), added.value_at_percentile(p)) << p;
  // min and max as exact as their counters: within 0.1%.
  EXPECT_NEAR(static_cast<double>(since.min()), static_cast<double>(added.min()), added.min() / 1000.0);
  EXPECT_NEAR(static_cast<double>(since.max()), static_cast<double>(added.max()), added.max() / 1000.0);
  // Merged back onto the earlier one, the counts are the later one's.
  auto merged = before;
  merged.merge(since);
  EXPECT_EQ(merged.count(), now.count());
  EXPECT_EQ(merged.value_at_percentile(99), now.value_at_percentile(99));
}

TEST(Difference, nothing_added_and_shrunk_counters_give_nothing) {
  histogram h;
  h.record(1000, 10);
  EXPECT_TRUE(detail::histogram_since(h, h).empty());
  EXPECT_EQ(detail::histogram_since(h, histogram{}), h);
  histogram more = h;
  more.record(1000, 5);
  EXPECT_TRUE(detail::histogram_since(h, more).empty());  // a part went missing: not negative
}

TEST(Difference, an_interval_between_two_looks_at_a_run) {
  run_results before;
  before.metrics[get_key("/a")].record(2000, 3);
  before.session_errors["timeout"] = 1;
  before.sessions.started = 4;
  before.arrivals.started = 4;
  run_results now = before;
  now.metrics[get_key("/a")].record(3000, 2);
  now.metrics[get_key("/b")].record(500);
  now.corrected[get_key("/a")].record(9000);
  now.session_errors["timeout"] = 3;
  now.session_errors["closed"] = 1;
  now.sessions.started = 6;
  now.sessions.completed = 2;
  now.arrivals.dropped = 1;

  const auto i = detail::interval_since(now, before);
  ASSERT_EQ(i.metrics.size(), 2u);
  EXPECT_EQ(i.metrics.at(get_key("/a")).count(), 2u);
  EXPECT_EQ(i.metrics.at(get_key("/b")).count(), 1u);
  EXPECT_EQ(i.corrected.at(get_key("/a")).count(), 1u);
  EXPECT_EQ(i.session_errors, (std::map<std::string, std::uint64_t>{{"closed", 1}, {"timeout", 2}}));
  EXPECT_EQ(i.sessions.started, 2u);
  EXPECT_EQ(i.sessions.completed, 2u);
  EXPECT_EQ(i.arrivals.started, 0u);
  EXPECT_EQ(i.arrivals.dropped, 1u);
  EXPECT_TRUE(detail::interval_since(now, now).metrics.empty());
}

}  // namespace
}  // namespace chaperon
