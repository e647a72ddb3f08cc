#include "net/connect_gate.hpp"

#include <gtest/gtest.h>

namespace {

using chaperon::net::connect_gate;
using ticket = connect_gate::ticket;

TEST(connect_gate, admits_up_to_the_limit_then_queues) {
  connect_gate gate;
  ticket a, b, c;
  EXPECT_TRUE(gate.try_enter(a, 2));
  EXPECT_TRUE(gate.try_enter(b, 2));
  EXPECT_FALSE(gate.try_enter(c, 2));
  EXPECT_EQ(gate.in_flight(), 2u);
  EXPECT_TRUE(a.admitted);
  EXPECT_FALSE(c.admitted);
}

TEST(connect_gate, a_freed_place_goes_to_the_first_in_line) {
  connect_gate gate;
  ticket a, b, c;
  ASSERT_TRUE(gate.try_enter(a, 1));
  ASSERT_FALSE(gate.try_enter(b, 1));
  gate.enqueue(b, {});
  ASSERT_FALSE(gate.try_enter(c, 1));
  gate.enqueue(c, {});
  EXPECT_EQ(gate.leave(a), &b);
  EXPECT_TRUE(b.admitted);
  EXPECT_FALSE(b.queued);
  EXPECT_EQ(gate.in_flight(), 1u);
  EXPECT_EQ(gate.leave(b), &c);
  EXPECT_EQ(gate.leave(c), nullptr);
  EXPECT_EQ(gate.in_flight(), 0u);
  EXPECT_FALSE(gate.anyone_waiting());
}

TEST(connect_gate, leaving_the_line_admits_nobody_and_keeps_the_order) {
  connect_gate gate;
  ticket a, b, c, d;
  ASSERT_TRUE(gate.try_enter(a, 1));
  for (ticket* t : {&b, &c, &d}) {
    ASSERT_FALSE(gate.try_enter(*t, 1));
    gate.enqueue(*t, {});
  }
  EXPECT_EQ(gate.leave(c), nullptr);  // a stop while in line
  EXPECT_FALSE(c.queued);
  EXPECT_EQ(gate.in_flight(), 1u);
  EXPECT_EQ(gate.leave(a), &b);
  EXPECT_EQ(gate.leave(b), &d);
  EXPECT_EQ(gate.leave(d), nullptr);
  EXPECT_EQ(gate.leave(d), nullptr) << "leaving twice gives nothing back twice";
  EXPECT_EQ(gate.in_flight(), 0u);
}

TEST(connect_gate, zero_is_no_bound_but_nobody_overtakes_the_line) {
  connect_gate gate;
  ticket a, b, c;
  for (int i = 0; i < 1000; ++i) {
    ticket t;
    ASSERT_TRUE(gate.try_enter(t, 0));
  }
  EXPECT_EQ(gate.in_flight(), 1000u);
  connect_gate bounded;
  ASSERT_TRUE(bounded.try_enter(a, 1));
  ASSERT_FALSE(bounded.try_enter(b, 1));
  bounded.enqueue(b, {});
  EXPECT_FALSE(bounded.try_enter(c, 0));
}

}  // namespace
