// Fuzzes Set-Cookie handling and cookie dates. Input layout: 4 bytes that move "now" (seconds,
// signed, around 2023-11-14), then lines, each one Set-Cookie value; a line "@<digits>" instead
// moves the clock forward by that many seconds. Small limits are used so that the bounds of the
// jar are reached quickly.

#include "net/cookie_jar.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <string_view>

namespace {

using chaperon::net::cookie_jar;
using chaperon::net::cookie_limits;
using chaperon::net::parse_cookie_date;
using namespace std::chrono;

constexpr cookie_limits limits{.max_cookie_bytes = 64, .max_cookies = 8};

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The Cookie header must split back into distinct, well-formed pairs within the limits.
void check_header(const std::string& header, std::size_t live_count) {
  check(header.size() <= limits.max_cookies * (limits.max_cookie_bytes + 3),
        "Cookie header within the jar's limits");
  std::size_t pairs = 0;
  std::set<std::string_view> names;
  std::string_view rest = header;
  while (!rest.empty()) {
    const std::size_t semi = rest.find(';');
    std::string_view pair = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    if (pairs > 0) {
      check(!pair.empty() && pair.front() == ' ', "pairs are separated by \"; \"");
      pair.remove_prefix(1);
    }
    const std::size_t eq = pair.find('=');
    check(eq != std::string_view::npos && eq > 0, "each pair has a name and '='");
    check(pair.size() - 1 <= limits.max_cookie_bytes, "each cookie within max_cookie_bytes");
    check(names.insert(pair.substr(0, eq)).second, "names are unique");
    for (char c : pair) {
      const auto u = static_cast<unsigned char>(c);
      check((u >= 0x20 && u != 0x7f) || u == '\t', "no control characters in the header");
    }
    ++pairs;
  }
  check(pairs == live_count, "one pair per live cookie");
}

// A valid date printed in IMF-fixdate form must parse back to itself.
void check_date(std::string_view text) {
  const auto date = parse_cookie_date(text);
  if (!date) return;
  const auto days = floor<std::chrono::days>(*date);
  const year_month_day ymd{days};
  const hh_mm_ss hms{*date - days};
  check(ymd.ok() && int(ymd.year()) >= 1601 && int(ymd.year()) <= 9999, "date in 1601..9999");
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "Mon, %02u %s %04d %02ld:%02ld:%02lld GMT",
                unsigned(ymd.day()), months[unsigned(ymd.month()) - 1], int(ymd.year()),
                long(hms.hours().count()), long(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  check(parse_cookie_date(buf) == date, "a parsed date round-trips through IMF-fixdate");
}

std::size_t live_count(const cookie_jar& jar, const std::set<std::string>& names,
                       cookie_jar::clock::time_point now) {
  std::size_t n = 0;
  for (const auto& name : names) n += jar.get(name, now).has_value() ? 1 : 0;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  std::int32_t shift = 0;
  std::memcpy(&shift, data, sizeof shift);
  cookie_jar::clock::time_point now = sys_seconds{seconds{1'700'000'000LL + shift}};
  std::string_view input(reinterpret_cast<const char*>(data) + 4, size - 4);

  cookie_jar jar(limits);
  // Every name ever offered, to count the live cookies independently of header_value().
  std::set<std::string> names;
  while (!input.empty()) {
    const std::size_t nl = input.find('\n');
    const std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);

    if (line.size() > 1 && line.front() == '@') {
      long long step = 0;
      for (char c : line.substr(1, 6)) step = step * 10 + ((c >= '0' && c <= '9') ? c - '0' : 0);
      now += seconds{step};
      continue;
    }
    check_date(line);

    const std::string before = jar.header_value(now);
    const bool stored = jar.store(line, now);
    if (!stored) {
      check(jar.header_value(now) == before, "a rejected Set-Cookie changes nothing");
      continue;
    }
    const std::string_view pair = line.substr(0, line.find(';'));
    const std::size_t eq = pair.find('=');
    check(eq != std::string_view::npos, "an accepted cookie has '='");
    const std::string name(trim(pair.substr(0, eq)));
    const std::string_view value = trim(pair.substr(eq + 1));
    check(!name.empty(), "an accepted cookie has a name");
    names.insert(name);
    if (const auto got = jar.get(name, now)) check(*got == value, "get() returns the stored value");

    check(jar.size() <= limits.max_cookies, "cookie count within max_cookies");
    const std::string header = jar.header_value(now);
    check_header(header, live_count(jar, names, now));
    // The same header again at the same moment changes nothing.
    jar.store(line, now);
    check(jar.header_value(now) == header, "storing a Set-Cookie twice is idempotent");
  }
  jar.clear();
  check(jar.empty() && jar.header_value(now).empty(), "clear() empties the jar");
  return 0;
}
