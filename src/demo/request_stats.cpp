#include "demo/request_stats.hpp"

#include <mutex>

namespace chaperon::demo {

void request_stats::record(std::string_view path) {
  total_.fetch_add(1, std::memory_order_relaxed);
  {
    std::shared_lock lock(mutex_);
    if (const auto it = by_path_.find(path); it != by_path_.end()) {
      it->second->fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  std::unique_lock lock(mutex_);
  const bool fits = by_path_.size() < max_paths && path.size() <= max_path_length;
  const std::string_view key = fits ? path : overflow_key;
  auto it = by_path_.find(key);
  if (it == by_path_.end()) {
    it = by_path_.emplace(std::string(key), std::make_unique<std::atomic<std::uint64_t>>(0)).first;
  }
  it->second->fetch_add(1, std::memory_order_relaxed);
}

nlohmann::ordered_json request_stats::snapshot() const {
  auto by_path = nlohmann::ordered_json::object();
  std::shared_lock lock(mutex_);
  for (const auto& [path, count] : by_path_) by_path[path] = count->load(std::memory_order_relaxed);
  return {{"requests", total_.load(std::memory_order_relaxed)},
          {"by_path", std::move(by_path)},
          {"ws_messages_in", ws_in_.load(std::memory_order_relaxed)},
          {"ws_messages_out", ws_out_.load(std::memory_order_relaxed)},
          {"ws_open", ws_open_.load(std::memory_order_relaxed)}};
}

void request_stats::reset() {
  std::unique_lock lock(mutex_);
  by_path_.clear();
  total_.store(0, std::memory_order_relaxed);
  ws_in_.store(0, std::memory_order_relaxed);
  ws_out_.store(0, std::memory_order_relaxed);
}

}  // namespace chaperon::demo
