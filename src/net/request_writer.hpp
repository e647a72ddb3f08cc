#pragma once
// Serialises an HTTP/1.1 request into a caller-owned buffer, so that a connection can reuse one
// buffer for all its requests without allocating once it has grown.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chaperon::net {

struct request_head {
  std::string_view method;  // "GET"
  std::string_view target;  // "/x?y=1"
  std::string_view host;    // Host header value (host[:port])
  // User headers, sent in order. One named like a header the writer adds (Host, User-Agent, Accept,
  // Content-Type, Content-Encoding, Cookie, Authorization; case-insensitive) replaces it.
  // Content-Length is always computed from `body`, so a user Content-Length is dropped.
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
  std::string_view cookie;            // "" for none
  std::string_view body;
  std::string_view content_type;      // "" for none
  std::string_view content_encoding;  // "" for none (e.g. "gzip")
  std::string_view accept = "*/*";
  std::string_view authorization;     // "" for none (e.g. "Basic ...")
};

// Appends to `out`: the request line, Host, "User-Agent: chaperon", Accept, Content-Type,
// Content-Encoding, Content-Length (when the body is non-empty or the method is POST, PUT or
// PATCH), Cookie, Authorization, the user headers, a blank line and the body.
void write_request(std::string& out, const request_head& head);

// Standard base64 with padding (RFC 4648 section 4).
std::string base64_encode(std::string_view data);

// "Basic " + base64("user:pass"), for the Authorization header.
std::string basic_auth_value(std::string_view user, std::string_view pass);

}  // namespace chaperon::net
