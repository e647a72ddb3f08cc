#pragma once
// Duration helpers named as in the original (seconds(2), minutes(1.5), ...), for users coming
// from it; std::chrono literals (2s, 150ms) work everywhere these do.

#include <chrono>
#include <cmath>

namespace chaperon {

namespace detail {
constexpr std::chrono::microseconds scaled_us(double amount, double us_per_unit) {
  return std::chrono::microseconds{static_cast<std::int64_t>(amount * us_per_unit + 0.5)};
}
}  // namespace detail

constexpr std::chrono::microseconds milliseconds(double n) { return detail::scaled_us(n, 1e3); }
constexpr std::chrono::microseconds seconds(double n) { return detail::scaled_us(n, 1e6); }
constexpr std::chrono::microseconds minutes(double n) { return detail::scaled_us(n, 60e6); }
constexpr std::chrono::microseconds hours(double n) { return detail::scaled_us(n, 3600e6); }
constexpr std::chrono::microseconds days(double n) { return detail::scaled_us(n, 86400e6); }
constexpr std::chrono::microseconds weeks(double n) { return detail::scaled_us(n, 604800e6); }

}  // namespace chaperon
