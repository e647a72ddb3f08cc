#include "net/url.hpp"

#include <array>
#include <charconv>

namespace chaperon::net {

namespace {

constexpr std::uint16_t http_port = 80;
constexpr std::uint16_t https_port = 443;

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (ascii_lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

constexpr bool is_alnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

constexpr bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr std::array<bool, 256> unreserved_table = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = is_alnum(static_cast<char>(c));
  t['-'] = t['.'] = t['_'] = t['~'] = true;
  return t;
}();

std::uint16_t default_port(std::string_view scheme) noexcept {
  return (scheme == "https" || scheme == "wss") ? https_port : http_port;
}

bool valid_reg_name(std::string_view host) noexcept {
  for (char c : host) {
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_' && c != '~') return false;
  }
  return true;
}

bool valid_ipv6(std::string_view host) noexcept {
  if (host.find(':') == std::string_view::npos) return false;
  for (char c : host) {
    if (!is_hex(c) && c != ':' && c != '.') return false;
  }
  return true;
}

bool has_space_or_control(std::string_view s) noexcept {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return true;
  }
  return false;
}

std::optional<std::uint16_t> parse_port(std::string_view text) noexcept {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// Splits "host[:port]" / "[v6][:port]" into u.host and u.port. Returns an error text or "".
std::string parse_authority(std::string_view authority, url& u) {
  if (authority.empty()) return "missing host";
  if (authority.find('@') != std::string_view::npos) {
    return "user info (user@host) is not supported";
  }
  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return "unterminated IPv6 address";
    host = authority.substr(1, close - 1);
    if (!valid_ipv6(host)) return "invalid IPv6 address \"" + std::string(host) + "\"";
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "unexpected characters after the IPv6 address";
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (host.empty()) return "missing host";
    if (!valid_reg_name(host)) return "invalid character in host \"" + std::string(host) + "\"";
  }
  u.host = to_lower(host);
  u.port = default_port(u.scheme);
  // "host:" with an empty port means the default port (RFC 3986 section 3.2.3).
  if (has_port && !port_text.empty()) {
    const auto port = parse_port(port_text);
    if (!port) return "invalid port \"" + std::string(port_text) + "\" (expected 1..65535)";
    u.port = *port;
  }
  return {};
}

}  // namespace

bool url::tls() const { return scheme == "https" || scheme == "wss"; }

std::string url::host_header() const {
  std::string out;
  const bool v6 = host.find(':') != std::string::npos;
  out.reserve(host.size() + 8);
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  if (port != default_port(scheme)) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::string url::origin() const { return scheme + "://" + host_header(); }

std::string url::str() const { return origin() + target; }

std::optional<url> parse_url(std::string_view text, std::string* error) {
  const auto fail = [&](std::string_view why) -> std::optional<url> {
    if (error != nullptr) {
      *error = "invalid URL \"" + std::string(text) + "\": " + std::string(why);
    }
    return std::nullopt;
  };
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return fail("missing scheme (expected http://, https://, ws:// or wss://)");
  }
  url u;
  u.scheme = to_lower(text.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https" && u.scheme != "ws" && u.scheme != "wss") {
    return fail("unsupported scheme \"" + std::string(text.substr(0, sep)) +
                "\" (expected http, https, ws or wss)");
  }
  if (has_space_or_control(text)) return fail("contains whitespace or a control character");

  const std::string_view rest = text.substr(sep + 3);
  const std::size_t authority_end = rest.find_first_of("/?#");
  const std::string problem = parse_authority(rest.substr(0, authority_end), u);
  if (!problem.empty()) return fail(problem);

  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  // The fragment only matters to the client and is never sent.
  target = target.substr(0, target.find('#'));
  if (target.empty() || target.front() != '/') u.target = "/";
  u.target += target;
  return u;
}

bool is_absolute_url(std::string_view path) {
  return istarts_with(path, "http://") || istarts_with(path, "https://") ||
         istarts_with(path, "ws://") || istarts_with(path, "wss://");
}

std::string join_url(std::string_view base_url, std::string_view path) {
  if (base_url.empty() || is_absolute_url(path)) return std::string(path);
  if (path.empty()) return std::string(base_url);
  if (path.front() == '?') return std::string(base_url) + std::string(path);
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string out;
  out.reserve(base_url.size() + 1 + path.size());
  out += base_url;
  out += '/';
  out += path;
  return out;
}

std::string percent_encode(std::string_view text, bool form) {
  constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (unreserved_table[u]) {
      out += c;
    } else if (form && c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0x0f];
    }
  }
  return out;
}

namespace {

std::string encode_pairs(const std::vector<std::pair<std::string, std::string>>& pairs, bool form) {
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) out += '&';
    out += percent_encode(key, form);
    out += '=';
    out += percent_encode(value, form);
  }
  return out;
}

}  // namespace

std::string encode_query(const std::vector<std::pair<std::string, std::string>>& params) {
  return encode_pairs(params, false);
}

std::string encode_form(const std::vector<std::pair<std::string, std::string>>& fields) {
  return encode_pairs(fields, true);
}

std::string append_query(std::string_view url_or_path,
                         const std::vector<std::pair<std::string, std::string>>& params) {
  if (params.empty()) return std::string(url_or_path);
  const std::size_t hash = url_or_path.find('#');
  const std::string_view head = url_or_path.substr(0, hash);
  const std::string_view fragment =
      hash == std::string_view::npos ? std::string_view{} : url_or_path.substr(hash);
  std::string out(head);
  if (head.find('?') == std::string_view::npos) {
    out += '?';
  } else if (head.back() != '?' && head.back() != '&') {
    out += '&';
  }
  out += encode_query(params);
  out += fragment;
  return out;
}

std::string strip_query(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

}  // namespace chaperon::net
