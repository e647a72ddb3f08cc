// Login sessions of the demo target: random token -> user name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chaperon::demo {

class session_store {
 public:
  // Every virtual user of a load test may log in; the oldest sessions go first past this.
  static constexpr std::size_t capacity = 100'000;

  session_store();

  // Creates a session and returns its token (32 hex digits, safe as a cookie value).
  std::string create(std::string user);
  [[nodiscard]] std::optional<std::string> user_of(std::string_view token) const;
  void remove(std::string_view token);

 private:
  struct entry {
    std::string user;
    std::uint64_t serial = 0;
  };

  mutable std::mutex mutex_;
  std::unordered_map<std::string, entry> sessions_;
  std::map<std::uint64_t, std::string> by_age_;  // serial -> token, for eviction
  std::uint64_t next_serial_ = 0;
  std::mt19937_64 random_;
};

}  // namespace chaperon::demo
