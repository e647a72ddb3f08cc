// Request counters of the demo target, read back by tests through GET /stats.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace chaperon::demo {

class request_stats {
 public:
  // Distinct paths kept; /api/messages/<id> and /delay/<ms> would otherwise grow the map
  // with every id a load test uses. Later (and overlong) paths are counted under `overflow_key`.
  static constexpr std::size_t max_paths = 1000;
  static constexpr std::size_t max_path_length = 256;
  static constexpr std::string_view overflow_key = "(other)";

  void record(std::string_view path);
  // Data frames (text or binary) of all WebSockets; control frames are not counted.
  void ws_message_in() { ws_in_.fetch_add(1, std::memory_order_relaxed); }
  void ws_message_out() { ws_out_.fetch_add(1, std::memory_order_relaxed); }
  void ws_opened() { ws_open_.fetch_add(1, std::memory_order_relaxed); }
  void ws_closed() { ws_open_.fetch_sub(1, std::memory_order_relaxed); }
  // {"requests": N, "by_path": {"/": n, ...}, "ws_messages_in": i, "ws_messages_out": o,
  //  "ws_open": w}
  [[nodiscard]] nlohmann::ordered_json snapshot() const;
  // Zeroes the counters; "ws_open" is a gauge of live connections and stays.
  void reset();

 private:
  std::atomic<std::uint64_t> total_{0};
  std::atomic<std::uint64_t> ws_in_{0};
  std::atomic<std::uint64_t> ws_out_{0};
  std::atomic<std::int64_t> ws_open_{0};
  mutable std::shared_mutex mutex_;
  // unique_ptr keeps the atomics in place; the common case only takes the shared lock.
  std::map<std::string, std::unique_ptr<std::atomic<std::uint64_t>>, std::less<>> by_path_;
};

}  // namespace chaperon::demo
