#pragma once
// The arithmetic of load models: targets that ramp linearly between stages, when the n-th
// arrival of a rate is due, and how a total is split over engine threads.

#include <cstddef>
#include <optional>
#include <vector>

#include "chaperon/load_test.hpp"

namespace chaperon::detail {

// A target that starts at `start` and moves linearly to each stage's target over the stage's
// duration. Times are seconds from the start of the model.
class stage_curve {
 public:
  stage_curve(double start, const std::vector<load_stage>& stages);

  // The target at t; the last target after the end, `start` before 0.
  double value_at(double t) const;
  // The length of all stages together.
  double end() const { return end_; }
  // The integral of the target from 0 to t (clamped to [0, end()]): for rates, the arrivals due.
  double integral_to(double t) const;
  // The whole integral: the number of arrivals of a rate curve.
  double total() const { return total_; }
  // When the integral reaches `amount`; nullopt when it never does within the stages.
  std::optional<double> time_of(double amount) const;

 private:
  struct segment {
    double begin;
    double length;
    double from;
    double to;
    double area_before;
  };
  std::vector<segment> segments_;
  double start_;
  double end_ = 0;
  double total_ = 0;
};

// The n-th arrival (0-based) of a rate curve is due when the curve has accumulated n + 1/2
// arrivals: a constant rate r gives (n + 1/2) / r, and a ramp from 0 does not fire at time 0.
// nullopt once the curve has no arrivals left.
std::optional<double> arrival_time(const stage_curve& rate, std::uint64_t n);
// The number of arrivals of a rate curve: the n with arrival_time(n) defined.
std::uint64_t arrival_count(const stage_curve& rate);

// Worker `index` of `count`'s part of `total`: the parts add up to total and differ by at most
// one (later shards get the extra ones).
std::size_t share_of(std::size_t total, std::size_t index, std::size_t count);

}  // namespace chaperon::detail
