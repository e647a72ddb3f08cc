#include <gtest/gtest.h>

#include "chaperon/timing.hpp"

using namespace std::chrono_literals;

TEST(Timing, HelpersMatchChronoDurations) {
  static_assert(chaperon::seconds(2) == 2s);
  EXPECT_EQ(chaperon::milliseconds(1.5), 1500us);
  EXPECT_EQ(chaperon::minutes(1.5), 90s);
  EXPECT_EQ(chaperon::hours(1), 3600s);
  EXPECT_EQ(chaperon::days(1), 24h);
  EXPECT_EQ(chaperon::weeks(1), 168h);
}
