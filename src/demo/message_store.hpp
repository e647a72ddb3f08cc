// Bounded, thread-safe store of the demo target's chat messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace chaperon::demo {

struct message {
  std::uint64_t id = 0;
  std::string text;
  std::string author;
};

class message_store {
 public:
  // Older messages are dropped so a long load test cannot grow the target without bound.
  static constexpr std::size_t capacity = 1000;

  // Stores a message and returns it with its id; ids start at 1 and only increase.
  message add(std::string text, std::string author);
  // Up to `limit` most recent messages, oldest first.
  [[nodiscard]] std::vector<message> latest(std::size_t limit) const;
  [[nodiscard]] std::optional<message> find(std::uint64_t id) const;

 private:
  mutable std::mutex mutex_;
  std::deque<message> messages_;
  std::uint64_t next_id_ = 1;
};

}  // namespace chaperon::demo
