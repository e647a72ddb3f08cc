// The truth target: endpoints whose latency is known in advance, so that a load generator's
// measurements can be compared against what the server actually did.
//
//   GET  /truth/fixed/<us>                          answered <us> microseconds after arrival
//   GET  /truth/pattern?base=<us>&slow=<us>&every=<k>
//        the n-th request to the route (counted across connections from 1) waits `slow` when
//        n % k == 0, else `base`
//   GET  /truth/uniform?min=<us>&max=<us>&steps=<k>
//        the n-th request waits min + ((n-1) % k) * (max-min) / (k-1): k evenly spaced values,
//        cycled in order
//   POST /truth/stall?after_ms=<a>&for_ms=<f>
//        from a ms after this request until a+f ms after it no /truth/* answer is written; an
//        answer due in that window (whenever its request arrived) is written at the stall's end.
//        Answers {"stall_start_ms_from_now":a,"stall_ms":f}
//   POST /truth/reset                               restarts the counters, drops armed stalls
//
// "Arrival" is the moment the request was completely read and parsed; every answer is the
// two-byte body "ok", kept small so that writing it adds as little as possible to the delay.
// Delays above `max_delay` and malformed parameters are answered 400 at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "demo/http_message.hpp"

namespace chaperon::demo {

using truth_clock = std::chrono::steady_clock;

struct truth_stall {
  truth_clock::time_point start;
  truth_clock::time_point end;
};

// The n-th (from 1) delay of /truth/pattern; `every` must be positive.
[[nodiscard]] std::chrono::microseconds pattern_delay(std::uint64_t n,
                                                      std::chrono::microseconds base,
                                                      std::chrono::microseconds slow,
                                                      std::uint64_t every);
// The n-th (from 1) delay of /truth/uniform; `steps` must be positive and min <= max.
[[nodiscard]] std::chrono::microseconds uniform_delay(std::uint64_t n,
                                                      std::chrono::microseconds min,
                                                      std::chrono::microseconds max,
                                                      std::uint64_t steps);
// When an answer due at `due` is written: pushed to the end of every stall it falls into.
[[nodiscard]] truth_clock::time_point apply_stalls(truth_clock::time_point due,
                                                   std::vector<truth_stall> stalls);

class truth_target {
 public:
  static constexpr std::chrono::microseconds max_delay = std::chrono::seconds(60);
  static constexpr std::uint64_t max_stall_ms = 3'600'000;
  // Older stalls that have ended are forgotten first; beyond this many pending ones the
  // earliest is dropped.
  static constexpr std::size_t max_stalls = 64;

  // Thread-safe. The answer to a /truth/* request, or nullopt for any other path. The answer's
  // `delay` counts from `req.arrival` (from now when that is unset).
  [[nodiscard]] std::optional<response> handle(const request& req);

  // Thread-safe. Holds back /truth/* answers due in [start, start + length).
  void arm_stall(truth_clock::time_point start, truth_clock::duration length);
  void reset();

 private:
  [[nodiscard]] response answer_after(truth_clock::time_point arrival,
                                      std::chrono::microseconds delay) const;
  [[nodiscard]] response stall_route(const request& req, truth_clock::time_point arrival);

  std::atomic<std::uint64_t> pattern_count_{0};
  std::atomic<std::uint64_t> uniform_count_{0};
  mutable std::mutex stall_mutex_;
  std::vector<truth_stall> stalls_;
};

}  // namespace chaperon::demo
