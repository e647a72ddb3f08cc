#include "net/cookie_jar.hpp"

#include "net/ascii.hpp"

#include <algorithm>
#include <array>

namespace chaperon::net {

namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

// Longest lifetime a cookie gets, whatever the server asks (RFC 6265bis section 5.6.1). It also
// keeps every expiry well inside the range of a nanosecond time_point.
constexpr seconds max_lifetime{400LL * 24 * 60 * 60};


constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// RFC 6265bis section 5.7 step 1: such a header is ignored as a whole. It also guarantees that
// nothing stored can break the Cookie header line it is later sent in.
bool has_control_char(std::string_view s) noexcept {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 6265 section 5.1.1 delimiter.
constexpr bool is_date_delimiter(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x09 || (u >= 0x20 && u <= 0x2f) || (u >= 0x3b && u <= 0x40) ||
         (u >= 0x5b && u <= 0x60) || (u >= 0x7b && u <= 0x7e);
}

// Reads min..max digits from the front of s, which must then end or continue with a non-digit.
bool take_number(std::string_view& s, std::size_t min, std::size_t max, int& value) {
  std::size_t n = 0;
  value = 0;
  while (n < s.size() && is_digit(s[n])) {
    if (n == max) return false;
    value = value * 10 + (s[n] - '0');
    ++n;
  }
  if (n < min) return false;
  s.remove_prefix(n);
  return true;
}

bool parse_time_token(std::string_view token, int& h, int& m, int& s) {
  if (!take_number(token, 1, 2, h) || token.empty() || token.front() != ':') return false;
  token.remove_prefix(1);
  if (!take_number(token, 1, 2, m) || token.empty() || token.front() != ':') return false;
  token.remove_prefix(1);
  return take_number(token, 1, 2, s);
}

int month_of(std::string_view token) {
  constexpr std::array<std::string_view, 12> names = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};
  if (token.size() < 3) return 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (iequals(token.substr(0, 3), names[i])) return static_cast<int>(i) + 1;
  }
  return 0;
}

struct date_parts {
  int hour = -1, minute = -1, second = -1, day = -1, month = 0, year = -1;
};

void classify_date_token(std::string_view token, date_parts& p) {
  int a = 0, b = 0, c = 0;
  if (p.hour < 0 && parse_time_token(token, a, b, c)) {
    p.hour = a;
    p.minute = b;
    p.second = c;
    return;
  }
  std::string_view t = token;
  if (p.day < 0 && take_number(t, 1, 2, a)) {
    p.day = a;
    return;
  }
  if (p.month == 0 && (a = month_of(token)) != 0) {
    p.month = a;
    return;
  }
  t = token;
  if (p.year < 0 && take_number(t, 2, 4, a)) p.year = a;
}

// Max-Age is "-"? 1*DIGIT; anything else makes the attribute ignored. Saturates instead of
// overflowing since everything past the lifetime cap means the same.
std::optional<seconds::rep> parse_max_age(std::string_view v) {
  const bool negative = !v.empty() && v.front() == '-';
  if (negative) v.remove_prefix(1);
  if (v.empty()) return std::nullopt;
  seconds::rep n = 0;
  for (char c : v) {
    if (!is_digit(c)) return std::nullopt;
    n = std::min(n * 10 + (c - '0'), max_lifetime.count() + 1);
  }
  return negative ? -n : n;
}

}  // namespace

std::optional<sys_seconds> parse_cookie_date(std::string_view text) {
  date_parts p;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_date_delimiter(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_date_delimiter(text[i])) ++i;
    if (i > start) classify_date_token(text.substr(start, i - start), p);
  }
  if (p.hour < 0 || p.day < 0 || p.month == 0 || p.year < 0) return std::nullopt;
  if (p.year >= 70 && p.year <= 99) p.year += 1900;
  if (p.year >= 0 && p.year <= 69) p.year += 2000;
  if (p.year < 1601 || p.hour > 23 || p.minute > 59 || p.second > 59) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{p.year},
                                         std::chrono::month{static_cast<unsigned>(p.month)},
                                         std::chrono::day{static_cast<unsigned>(p.day)}};
  if (!date.ok()) return std::nullopt;
  return sys_seconds{std::chrono::sys_days{date}} + std::chrono::hours{p.hour} +
         std::chrono::minutes{p.minute} + seconds{p.second};
}

namespace {

struct lifetime_attributes {
  std::optional<seconds::rep> max_age;
  std::optional<sys_seconds> expires;
};

// Only the attributes that decide a cookie's lifetime matter here; Domain, Path, Secure and the
// others are skipped because one session talks to one target.
lifetime_attributes parse_attributes(std::string_view attrs) {
  lifetime_attributes out;
  while (!attrs.empty()) {
    const std::size_t next = attrs.find(';');
    const std::string_view attr = attrs.substr(0, next);
    attrs = next == std::string_view::npos ? std::string_view{} : attrs.substr(next + 1);
    const std::size_t eq = attr.find('=');
    const std::string_view key = trim(attr.substr(0, eq));
    const std::string_view val =
        eq == std::string_view::npos ? std::string_view{} : trim(attr.substr(eq + 1));
    if (iequals(key, "max-age")) {
      if (auto v = parse_max_age(val)) out.max_age = v;
    } else if (iequals(key, "expires")) {
      if (auto d = parse_cookie_date(val)) out.expires = d;
    }
  }
  return out;
}

}  // namespace

bool cookie_jar::store(std::string_view set_cookie_value) {
  return store(set_cookie_value, clock::now());
}

bool cookie_jar::store(std::string_view set_cookie_value, clock::time_point now) {
  if (has_control_char(set_cookie_value)) return false;
  const std::size_t semi = set_cookie_value.find(';');
  const std::string_view pair = set_cookie_value.substr(0, semi);
  const std::size_t eq = pair.find('=');
  if (eq == std::string_view::npos) return false;
  const std::string_view name = trim(pair.substr(0, eq));
  const std::string_view value = trim(pair.substr(eq + 1));
  if (name.empty() || name.size() + value.size() > limits_.max_cookie_bytes) return false;

  const lifetime_attributes attrs = parse_attributes(
      semi == std::string_view::npos ? std::string_view{} : set_cookie_value.substr(semi + 1));
  const auto now_s = std::chrono::floor<seconds>(now);
  // Max-Age wins over Expires whatever their order (RFC 6265 section 5.3 step 3).
  std::optional<sys_seconds> expiry;
  if (attrs.max_age) {
    const seconds::rep age = *attrs.max_age;
    expiry = age <= 0 ? sys_seconds::min() : now_s + seconds{std::min(age, max_lifetime.count())};
  } else if (attrs.expires) {
    expiry = std::min(*attrs.expires, now_s + max_lifetime);
  }

  if (expiring_ > 0) remove_expired(now);
  auto it = std::find_if(cookies_.begin(), cookies_.end(),
                         [&](const entry& e) { return e.name == name; });
  if (expiry && *expiry <= now_s) {
    if (it != cookies_.end()) {
      if (it->expires) --expiring_;
      cookies_.erase(it);
    }
    return true;
  }
  std::optional<clock::time_point> expires_at;
  if (expiry) expires_at = std::chrono::time_point_cast<clock::duration>(*expiry);
  if (it == cookies_.end()) {
    if (limits_.max_cookies == 0) return true;
    if (cookies_.size() >= limits_.max_cookies) {
      if (cookies_.front().expires) --expiring_;
      cookies_.erase(cookies_.begin());
    }
    cookies_.push_back(entry{std::string(name), std::string(value), expires_at});
  } else {
    if (it->expires) --expiring_;
    it->value.assign(value);
    it->expires = expires_at;
  }
  if (expires_at) ++expiring_;
  return true;
}

void cookie_jar::remove_expired(clock::time_point now) {
  const auto dead = std::remove_if(cookies_.begin(), cookies_.end(),
                                   [&](const entry& e) { return !live(e, now); });
  cookies_.erase(dead, cookies_.end());
  expiring_ = static_cast<std::uint32_t>(std::count_if(
      cookies_.begin(), cookies_.end(), [](const entry& e) { return e.expires.has_value(); }));
}

std::string cookie_jar::header_value() const {
  // Without expiring cookies every entry is live and the clock need not be read.
  return header_value(expiring_ > 0 ? clock::now() : clock::time_point{});
}

std::string cookie_jar::header_value(clock::time_point now) const {
  std::string out;
  for (const entry& e : cookies_) {
    if (!live(e, now)) continue;
    if (!out.empty()) out += "; ";
    out += e.name;
    out += '=';
    out += e.value;
  }
  return out;
}

std::optional<std::string> cookie_jar::get(std::string_view name) const {
  return get(name, expiring_ > 0 ? clock::now() : clock::time_point{});
}

std::optional<std::string> cookie_jar::get(std::string_view name, clock::time_point now) const {
  for (const entry& e : cookies_) {
    if (e.name == name) {
      if (!live(e, now)) return std::nullopt;
      return e.value;
    }
  }
  return std::nullopt;
}

void cookie_jar::clear() {
  cookies_.clear();
  expiring_ = 0;
}

std::size_t cookie_jar::size() const { return cookies_.size(); }

bool cookie_jar::empty() const { return cookies_.empty(); }

}  // namespace chaperon::net
