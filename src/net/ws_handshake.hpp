#pragma once
// The client half of the WebSocket opening handshake (RFC 6455 4.1), without any I/O: the key
// and the check of the server's answer. The request itself is an ordinary GET written by
// write_request (request_writer.hpp), so it carries the session's cookies and auth like any other.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chaperon::net {

// A Sec-WebSocket-Key: base64 of 16 bytes taken from a and b (each big-endian).
std::string ws_make_key(std::uint64_t a, std::uint64_t b);

// The Sec-WebSocket-Accept a server must answer for `key`:
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string ws_accept_for(std::string_view key);

// Checks an upgrade response: status 101, Upgrade: websocket and Connection: upgrade
// (case-insensitive, either may be a comma-separated list), Sec-WebSocket-Accept matching key,
// and no Sec-WebSocket-Extensions (none is supported, so a server that picks one would send
// frames this client cannot read). Returns "" when fine, else a short reason: "status <n>",
// "missing upgrade header", "bad upgrade header", "missing connection header",
// "bad connection header", "missing accept key", "bad accept key", "unsupported extension".
std::string ws_check_upgrade_response(int status,
                                      const std::vector<std::pair<std::string, std::string>>& headers,
                                      std::string_view key);

}  // namespace chaperon::net
