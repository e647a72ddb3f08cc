// HTTP endpoints of the demo target. Transport-neutral: the server turns Beast messages into
// `request`s and writes back the `response`s produced here; for WebSocket upgrades it asks
// `route_upgrade` which endpoint runs on the upgraded connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "demo/channel_store.hpp"
#include "demo/http_message.hpp"
#include "demo/message_store.hpp"
#include "demo/request_stats.hpp"
#include "demo/session_store.hpp"
#include "demo/truth.hpp"

namespace chaperon::demo {

inline constexpr std::size_t default_message_limit = 50;
// Bounds on stored text: 1000 kept messages and every session must fit in memory.
inline constexpr std::size_t max_message_bytes = 64 * 1024;
inline constexpr std::size_t max_user_bytes = 256;
inline constexpr std::uint64_t max_delay_ms = 60'000;
inline constexpr std::uint64_t max_payload_bytes = 16ull * 1024 * 1024;
inline constexpr unsigned min_status_code = 200;
inline constexpr unsigned max_status_code = 599;

// Channels over HTTP: PUT /channels/<name> publishes the body and answers {"sequence":n};
// GET /channels/<name> answers {"sequence":n,"message":"<body>"} of the latest message, or 404.
// Known-latency endpoints: /truth/* (see truth.hpp).
//
// WebSocket endpoints (the paths are those of the upgrade request):
//   /ws/echo     every text or binary message is sent back unchanged, with the same type
//   /ws/headers  first one text message {"headers":{<lower-case name>:<value>,...},
//                "cookie":"<Cookie header or empty>"} of the upgrade request, then echo
//   /ws/ping     first a ping with payload "chaperon"; its pong is answered with the text
//                "pong chaperon"; then echo
//   /ws/close    the text "bye", then a close frame (1000, "done"), then the connection closes
//   /ws/drop     echoes the first message, then drops the TCP connection without a close frame
//   /ws/silent   never sends a message (but completes a close handshake)
//   /channels/<name>  subscriber of that channel (see channel_store.hpp): every message
//                published from the upgrade on arrives as {"sequence":n,"message":"<body>"};
//                the text {"last_message_sequence":k} first replays the retained ones above k
//   /ws/reject and any other path: the upgrade is refused with 403 "rejected"
enum class ws_endpoint { echo, headers, ping, close, drop, silent, channel, refused };

struct ws_route {
  ws_endpoint endpoint = ws_endpoint::refused;
  std::string channel;   // for ws_endpoint::channel
  std::string greeting;  // the first message, for ws_endpoint::headers
};

class router {
 public:
  // Thread-safe: called concurrently from every I/O thread.
  [[nodiscard]] response handle(const request& req);
  // Thread-safe. The endpoint for a WebSocket upgrade request, which is counted in the
  // statistics like any other request.
  [[nodiscard]] ws_route route_upgrade(const request& req);
  // The answer to an upgrade routed to ws_endpoint::refused.
  [[nodiscard]] static response refused_upgrade();

  // Shared with the WebSocket sessions; each is thread-safe.
  [[nodiscard]] channel_store& channels() { return channels_; }
  [[nodiscard]] request_stats& counters() { return stats_; }
  [[nodiscard]] truth_target& truth() { return truth_; }

 private:
  [[nodiscard]] response dispatch(const request& req);
  [[nodiscard]] response list_messages(const request& req) const;
  [[nodiscard]] response post_message(const request& req);
  [[nodiscard]] response get_message(std::string_view arg) const;
  [[nodiscard]] response login(const request& req);
  [[nodiscard]] response account(const request& req) const;
  [[nodiscard]] response logout(const request& req);
  [[nodiscard]] response stats(const request& req);
  [[nodiscard]] response channel_route(const request& req, std::string_view name);
  [[nodiscard]] std::optional<std::string> session_user(const request& req) const;

  message_store messages_;
  session_store sessions_;
  request_stats stats_;
  channel_store channels_;
  truth_target truth_;
};

}  // namespace chaperon::demo
