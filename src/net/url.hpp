#pragma once
// URL handling for request targets: parsing absolute http(s)/ws(s) URLs, joining a base URL with
// a path, and percent-encoding query strings and form bodies.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chaperon::net {

struct url {
  std::string scheme;      // "http" | "https" | "ws" | "wss", lower case
  std::string host;        // lower case; IPv6 addresses without brackets
  std::uint16_t port = 0;  // explicit, or the scheme's default (80 / 443)
  std::string target;      // path and query, at least "/"; the fragment is dropped

  // https or wss.
  bool tls() const;
  // scheme://host, with ":port" only when it is not the scheme's default.
  std::string origin() const;
  // origin() + target.
  std::string str() const;
  // Value for the Host header: host, bracketed when IPv6, with ":port" when not the default.
  std::string host_header() const;
};

// Parses an absolute URL. On failure returns nullopt and, when `error` is given, stores a message
// that names the problem and quotes the input. User info ("user:pass@") is not supported.
std::optional<url> parse_url(std::string_view text, std::string* error = nullptr);

// True when `path` starts with http://, https://, ws:// or wss:// (in any case).
bool is_absolute_url(std::string_view path);

// base_url + path with exactly one '/' between them; an absolute `path` is returned unchanged and
// a path starting with '?' is appended as a query.
// Example: "http://h/api/" + "/x" -> "http://h/api/x".
std::string join_url(std::string_view base_url, std::string_view path);

// Percent-encodes everything except the RFC 3986 unreserved characters (ALPHA DIGIT - . _ ~).
// With form == true a space becomes '+' (application/x-www-form-urlencoded).
std::string percent_encode(std::string_view text, bool form = false);

// "a=1&b=x%20y"
std::string encode_query(const std::vector<std::pair<std::string, std::string>>& params);

// "a=1&b=x+y"
std::string encode_form(const std::vector<std::pair<std::string, std::string>>& fields);

// Appends the encoded params to a URL or path with '?' or '&' as needed, before any fragment.
std::string append_query(std::string_view url_or_path,
                         const std::vector<std::pair<std::string, std::string>>& params);

// The URL without its query string (and fragment).
std::string strip_query(std::string_view url);

}  // namespace chaperon::net
