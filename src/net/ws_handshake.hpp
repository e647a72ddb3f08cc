#pragma once
// The client half of the WebSocket opening handshake (RFC 6455 4.1), without any I/O: building
// the upgrade request and checking the server's answer.

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

// Standard base64 (with padding) of `bytes`.
std::string ws_base64(std::string_view bytes);

// Appends the upgrade request: "GET <target> HTTP/1.1", Host, Upgrade: websocket,
// Connection: Upgrade, Sec-WebSocket-Key, Sec-WebSocket-Version: 13, then `extra` headers
// (name, value) as given, then the blank line.
void ws_write_upgrade_request(std::string& out, std::string_view target, std::string_view host,
                              std::string_view key,
                              const std::vector<std::pair<std::string, std::string>>& extra);

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
