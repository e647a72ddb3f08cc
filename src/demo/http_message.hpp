// Transport-neutral request and response of the demo target. Routes see only these types, so
// they compile without Beast and stay independent of the connection plumbing.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace chaperon::demo {

struct header_field {
  std::string name;
  std::string value;
};

struct request {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // path plus query, as sent
  std::string path;    // target up to '?'
  std::string query;   // after '?', without it
  std::vector<header_field> headers;  // in arrival order, names as sent
  std::string body;
  // When the transport finished reading and parsing it; response delays count from here.
  std::chrono::steady_clock::time_point arrival{};

  // First header with that name (case-insensitive), empty if absent.
  [[nodiscard]] std::string_view header(std::string_view name) const;
  // HEAD is answered like GET; the transport drops the body.
  [[nodiscard]] bool is_get() const { return method == "GET" || method == "HEAD"; }
};

enum class body_framing { content_length, chunked };

struct response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<header_field> headers;  // extra fields; repeated names allowed (Set-Cookie)
  std::string body;
  body_framing framing = body_framing::content_length;
  // The transport answers this long after the request's arrival, without holding a thread.
  std::chrono::microseconds delay{0};
};

}  // namespace chaperon::demo
