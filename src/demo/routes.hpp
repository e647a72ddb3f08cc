// HTTP endpoints of the demo target. Transport-neutral: the server turns Beast messages into
// `request`s and writes back the `response`s produced here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "demo/http_message.hpp"
#include "demo/message_store.hpp"
#include "demo/request_stats.hpp"
#include "demo/session_store.hpp"

namespace chaperon::demo {

inline constexpr std::size_t default_message_limit = 50;
// Bounds on stored text: 1000 kept messages and every session must fit in memory.
inline constexpr std::size_t max_message_bytes = 64 * 1024;
inline constexpr std::size_t max_user_bytes = 256;
inline constexpr std::uint64_t max_delay_ms = 60'000;
inline constexpr std::uint64_t max_payload_bytes = 16ull * 1024 * 1024;
inline constexpr unsigned min_status_code = 200;
inline constexpr unsigned max_status_code = 599;

class router {
 public:
  // Thread-safe: called concurrently from every I/O thread.
  [[nodiscard]] response handle(const request& req);

 private:
  [[nodiscard]] response dispatch(const request& req);
  [[nodiscard]] response list_messages(const request& req) const;
  [[nodiscard]] response post_message(const request& req);
  [[nodiscard]] response get_message(std::string_view arg) const;
  [[nodiscard]] response login(const request& req);
  [[nodiscard]] response account(const request& req) const;
  [[nodiscard]] response logout(const request& req);
  [[nodiscard]] response stats(const request& req);
  [[nodiscard]] std::optional<std::string> session_user(const request& req) const;

  message_store messages_;
  session_store sessions_;
  request_stats stats_;
};

}  // namespace chaperon::demo
