#include "net/ws_handshake.hpp"

#include "net/ascii.hpp"
#include "net/request_writer.hpp"

#include <openssl/sha.h>

#include <cstddef>

namespace chaperon::net {

namespace {

constexpr std::string_view accept_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

constexpr std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Header values such as "keep-alive, Upgrade" are token lists (RFC 9110 5.6.1).
bool has_token(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = trim(list.substr(0, comma));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

const std::string* find_header(const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view name) noexcept {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return &v;
  }
  return nullptr;
}

}  // namespace

std::string ws_make_key(std::uint64_t a, std::uint64_t b) {
  char raw[16];
  for (int i = 0; i < 8; ++i) {
    raw[i] = static_cast<char>(a >> (56 - 8 * i));
    raw[8 + i] = static_cast<char>(b >> (56 - 8 * i));
  }
  return base64_encode(std::string_view(raw, sizeof raw));
}

std::string ws_accept_for(std::string_view key) {
  std::string input;
  input.reserve(key.size() + accept_guid.size());
  input.append(key).append(accept_guid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string ws_check_upgrade_response(int status,
                                      const std::vector<std::pair<std::string, std::string>>& headers,
                                      std::string_view key) {
  if (status != 101) return "status " + std::to_string(status);
  const std::string* upgrade = find_header(headers, "Upgrade");
  if (upgrade == nullptr) return "missing upgrade header";
  if (!has_token(*upgrade, "websocket")) return "bad upgrade header";
  const std::string* connection = find_header(headers, "Connection");
  if (connection == nullptr) return "missing connection header";
  if (!has_token(*connection, "upgrade")) return "bad connection header";
  const std::string* accept = find_header(headers, "Sec-WebSocket-Accept");
  if (accept == nullptr) return "missing accept key";
  if (trim(*accept) != ws_accept_for(key)) return "bad accept key";
  const std::string* extensions = find_header(headers, "Sec-WebSocket-Extensions");
  if (extensions != nullptr && !trim(*extensions).empty()) return "unsupported extension";
  return {};
}

}  // namespace chaperon::net
