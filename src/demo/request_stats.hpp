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
  // {"requests": N, "by_path": {"/": n, ...}}
  [[nodiscard]] nlohmann::ordered_json snapshot() const;
  void reset();

 private:
  std::atomic<std::uint64_t> total_{0};
  mutable std::shared_mutex mutex_;
  // unique_ptr keeps the atomics in place; the common case only takes the shared lock.
  std::map<std::string, std::unique_ptr<std::atomic<std::uint64_t>>, std::less<>> by_path_;
};

}  // namespace chaperon::demo
