// Small text helpers for the demo target: query strings, cookies, numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chaperon::demo {

using key_value_list = std::vector<std::pair<std::string, std::string>>;

[[nodiscard]] std::string to_lower(std::string_view text);
[[nodiscard]] bool iequals(std::string_view a, std::string_view b);

// Malformed escapes are kept literally: a load target should answer, not reject, odd input.
[[nodiscard]] std::string percent_decode(std::string_view text, bool plus_as_space);

// Parses `a=1&b=2` (also form bodies). A pair without `=` gets an empty value.
[[nodiscard]] key_value_list parse_query(std::string_view query);

// Digits only, no sign, no overflow.
[[nodiscard]] std::optional<std::uint64_t> parse_uint(std::string_view text);

// Value of cookie `name` in one `Cookie:` header value.
[[nodiscard]] std::optional<std::string> find_cookie(std::string_view cookie_header,
                                                     std::string_view name);

// RFC 9110 token, used for cookie names.
[[nodiscard]] bool is_token(std::string_view text);
// RFC 6265 cookie-octet*, so that a value can never break out of its Set-Cookie header.
[[nodiscard]] bool is_cookie_value(std::string_view text);

}  // namespace chaperon::demo
