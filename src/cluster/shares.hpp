#pragma once
// How the master splits a test over its nodes by capacity, and how much of the test one share
// holds (to say what a lost node's share was).

#include <cstdint>
#include <vector>

#include "chaperon/load_test.hpp"
#include "chaperon/run.hpp"

namespace chaperon::cluster {

// One share per node, in the order given, together covering parts 0..count-1 of the test exactly
// once: node i gets a width in proportion to capacities[i]. A capacity of 0 counts as the mean
// of the capacities given (an equal part when none is given). Widths are exact when the
// capacities, divided by their greatest common divisor, add up to at most 16 parts per node;
// beyond that they are rounded (largest remainder), every node keeping at least one part.
// Deterministic: the same capacities always give the same shares.
std::vector<share> weighted_shares(const std::vector<std::uint32_t>& capacities);

struct share_size {
  std::uint64_t sessions = 0;  // at-once sessions, plus the peak of ramping session targets
  std::uint64_t arrivals = 0;  // arrivals of rate models
};
// What `part` of the (prepared, see prepared_load_test) test runs.
share_size size_of(const load_test& test, const share& part);

}  // namespace chaperon::cluster
