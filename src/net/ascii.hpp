#pragma once
// ASCII case folding for protocol tokens (header names, cookie attributes). Locale-free on
// purpose: HTTP tokens are ASCII, and std::tolower is both slower and locale-dependent.

#include <cstddef>
#include <string_view>

namespace chaperon::net {

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace chaperon::net
