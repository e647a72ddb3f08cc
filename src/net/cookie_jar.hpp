#pragma once
// Per-session cookie storage. A session talks to one target, so Domain and Path are not matched:
// every stored cookie is sent on every request, as the original tool does. Cookies are merged by
// name and expire according to Max-Age / Expires, capped at 400 days as RFC 6265bis does.
// The jar is bounded, because every cookie is echoed on every later request: a server that hands
// out endless distinct cookies would otherwise grow both the session and its requests without end.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chaperon::net {

struct cookie_limits {
  // Longest name + value a cookie may have (RFC 6265bis section 5.7); longer ones are ignored.
  std::uint32_t max_cookie_bytes = 4096;
  // Most cookies kept; a new one beyond it drops the oldest (an update keeps its place).
  std::uint32_t max_cookies = 180;
};

class cookie_jar {
public:
  using clock = std::chrono::system_clock;

  cookie_jar() = default;
  explicit cookie_jar(cookie_limits limits) : limits_(limits) {}

  // Parses one Set-Cookie header value: name=value, attributes stripped. A cookie replaces an
  // earlier one of the same name in place; others are kept. Max-Age <= 0 or an Expires in the
  // past removes the cookie. Invalid input (no '=', empty name, a control character other than
  // HTAB, name + value over the size limit) is ignored and returns false.
  bool store(std::string_view set_cookie_value);
  // As above, with the current time given (Max-Age and Expires are relative to it).
  bool store(std::string_view set_cookie_value, clock::time_point now);

  // "a=1; b=2" in insertion order, "" when empty. Expired cookies are left out.
  std::string header_value() const;
  std::string header_value(clock::time_point now) const;

  std::optional<std::string> get(std::string_view name) const;
  std::optional<std::string> get(std::string_view name, clock::time_point now) const;

  void clear();
  // Stored cookies, including any that expired since they were stored.
  std::size_t size() const;
  bool empty() const;

private:
  struct entry {
    std::string name;
    std::string value;
    std::optional<clock::time_point> expires;
  };

  bool live(const entry& e, clock::time_point now) const {
    return !e.expires || *e.expires > now;
  }
  void remove_expired(clock::time_point now);

  cookie_limits limits_;
  std::vector<entry> cookies_;
  // Lets the common case (session cookies only) skip reading the clock.
  std::uint32_t expiring_ = 0;
};

// Parses a cookie date (RFC 6265 section 5.1.1); accepts the IMF-fixdate, RFC 850 and asctime
// forms. nullopt when the text is not a valid date. Seconds, because the valid range (years 1601
// to 9999) does not fit a nanosecond time_point.
std::optional<std::chrono::sys_seconds> parse_cookie_date(std::string_view text);

}  // namespace chaperon::net
