#include "api/auth.hpp"

#include <array>
#include <cctype>
#include <cstdint>

#include "cluster/token.hpp"

namespace chaperon::api {

namespace {

bool starts_with_scheme(std::string_view header, std::string_view scheme) {
  if (header.size() <= scheme.size() || header[scheme.size()] != ' ') return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    const auto c = static_cast<unsigned char>(header[i]);
    if (std::tolower(c) != std::tolower(static_cast<unsigned char>(scheme[i]))) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::array<int, 4> v{};
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      // Padding only at the end of the last group: "xx==" or "xxx=".
      if (c == '=' && last && k >= 2 && (k == 3 || text[i + 3] == '=')) {
        ++pad;
        v[k] = 0;
        continue;
      }
      if (pad > 0 || (v[k] = base64_value(c)) < 0) return std::nullopt;
    }
    const std::uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    // The bits beyond the last byte must be zero (RFC 4648, canonical encoding): one text per
    // value, so "/Eb=" is not a second spelling of "/EY=".
    if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0)) return std::nullopt;
    out.push_back(static_cast<char>(n >> 16));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
  }
  return out;
}

bool authorized(std::string_view authorization, std::string_view token) {
  if (token.empty()) return true;
  authorization = trim(authorization);
  if (starts_with_scheme(authorization, "Bearer"))
    return cluster::token_matches(trim(authorization.substr(7)), token);
  if (!starts_with_scheme(authorization, "Basic")) return false;
  const auto decoded = decode_base64(trim(authorization.substr(6)));
  if (!decoded) return false;
  // User and password compared as one string, so that neither leaks through timing.
  std::string expected(basic_auth_user);
  expected += ':';
  expected += token;
  return cluster::token_matches(*decoded, expected);
}

}  // namespace chaperon::api
