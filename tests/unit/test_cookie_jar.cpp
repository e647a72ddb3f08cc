#include "net/cookie_jar.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using chaperon::net::cookie_jar;
using chaperon::net::parse_cookie_date;
using namespace std::chrono_literals;

// A fixed "now": Tue, 14 Nov 2023 22:13:20 GMT.
const cookie_jar::clock::time_point now{std::chrono::seconds{1'700'000'000}};

TEST(cookie_jar, stores_name_value_without_attributes) {
  cookie_jar jar;
  EXPECT_TRUE(jar.empty());
  EXPECT_EQ(jar.header_value(), "");
  EXPECT_TRUE(jar.store("session=abc123; Path=/; HttpOnly; Secure; SameSite=Lax"));
  EXPECT_TRUE(jar.store(" theme = dark "));
  EXPECT_EQ(jar.size(), 2u);
  EXPECT_EQ(jar.header_value(), "session=abc123; theme=dark");
  EXPECT_EQ(jar.get("session"), "abc123");
  EXPECT_EQ(jar.get("theme"), "dark");
  EXPECT_FALSE(jar.get("Session").has_value());
}

TEST(cookie_jar, values_keep_equals_signs_and_quotes) {
  cookie_jar jar;
  EXPECT_TRUE(jar.store("token=a=b==; Path=/"));
  EXPECT_TRUE(jar.store("quoted=\"x y\""));
  EXPECT_TRUE(jar.store("empty="));
  EXPECT_EQ(jar.get("token"), "a=b==");
  EXPECT_EQ(jar.get("quoted"), "\"x y\"");
  EXPECT_EQ(jar.get("empty"), "");
  EXPECT_EQ(jar.header_value(), "token=a=b==; quoted=\"x y\"; empty=");
}

TEST(cookie_jar, merges_by_name_in_place) {
  cookie_jar jar;
  jar.store("a=1");
  jar.store("b=2");
  jar.store("c=3");
  jar.store("a=10");
  EXPECT_EQ(jar.size(), 3u);
  EXPECT_EQ(jar.header_value(), "a=10; b=2; c=3");
}

TEST(cookie_jar, invalid_input_is_ignored) {
  cookie_jar jar;
  jar.store("a=1");
  EXPECT_FALSE(jar.store("no_equals_sign"));
  EXPECT_FALSE(jar.store("=value"));
  EXPECT_FALSE(jar.store("  =value"));
  EXPECT_FALSE(jar.store(""));
  EXPECT_FALSE(jar.store("; a=2"));
  EXPECT_EQ(jar.header_value(), "a=1");
}

TEST(cookie_jar, max_age_removes_or_expires) {
  cookie_jar jar;
  jar.store("a=1", now);
  jar.store("b=2", now);
  EXPECT_TRUE(jar.store("a=gone; Max-Age=0", now));
  EXPECT_EQ(jar.header_value(now), "b=2");
  EXPECT_TRUE(jar.store("b=x; max-age=-5", now));
  EXPECT_TRUE(jar.empty());

  // Deleting an unknown cookie is valid and stores nothing.
  EXPECT_TRUE(jar.store("ghost=1; Max-Age=0", now));
  EXPECT_TRUE(jar.empty());

  jar.store("short=1; Max-Age=60", now);
  jar.store("plain=2", now);
  EXPECT_EQ(jar.header_value(now + 59s), "short=1; plain=2");
  EXPECT_EQ(jar.header_value(now + 60s), "plain=2");
  EXPECT_FALSE(jar.get("short", now + 61s).has_value());
  EXPECT_EQ(jar.get("short", now + 1s), "1");
  // Expired entries are dropped on the next store.
  jar.store("other=3", now + 120s);
  EXPECT_EQ(jar.size(), 2u);

  // A malformed Max-Age is ignored rather than treated as a deletion.
  jar.store("m=1; Max-Age=soon", now);
  EXPECT_EQ(jar.get("m", now + 1000h), "1");
}

TEST(cookie_jar, max_age_wins_over_expires) {
  cookie_jar jar;
  jar.store("a=1; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT", now);
  EXPECT_EQ(jar.get("a", now), "1");
  jar.store("b=1; Expires=Wed, 21 Oct 2099 07:28:00 GMT; Max-Age=0", now);
  EXPECT_FALSE(jar.get("b", now).has_value());
  EXPECT_EQ(jar.size(), 1u);
}

TEST(cookie_jar, expires_in_the_past_removes) {
  cookie_jar jar;
  jar.store("a=1", now);
  EXPECT_TRUE(jar.store("a=deleted; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/", now));
  EXPECT_TRUE(jar.empty());

  jar.store("soon=1; Expires=Tue, 14 Nov 2023 22:14:20 GMT", now);
  EXPECT_EQ(jar.get("soon", now + 59s), "1");
  EXPECT_FALSE(jar.get("soon", now + 60s).has_value());

  // Far future dates are capped at 400 days, and still valid long after now.
  jar.store("far=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT", now);
  EXPECT_EQ(jar.get("far", now + 24h * 399), "1");
  EXPECT_FALSE(jar.get("far", now + 24h * 401).has_value());

  // An unparsable date is ignored: the cookie lives for the session.
  jar.store("odd=1; Expires=someday", now);
  EXPECT_EQ(jar.get("odd", now + 24h * 1000), "1");
}

TEST(cookie_jar, clear_empties_the_jar) {
  cookie_jar jar;
  jar.store("a=1");
  jar.store("b=2; Max-Age=100");
  jar.clear();
  EXPECT_TRUE(jar.empty());
  EXPECT_EQ(jar.size(), 0u);
  EXPECT_EQ(jar.header_value(), "");
  jar.store("c=3");
  EXPECT_EQ(jar.header_value(), "c=3");
}

TEST(cookie_date, accepts_the_three_http_date_forms) {
  const std::chrono::sys_seconds expected{std::chrono::seconds{784111777}};
  EXPECT_EQ(parse_cookie_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_cookie_date("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_cookie_date("Sun Nov  6 08:49:37 1994"), expected);
  EXPECT_EQ(parse_cookie_date("06 november 1994 8:49:37"), expected);
  EXPECT_EQ(parse_cookie_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            std::chrono::sys_seconds{std::chrono::seconds{0}});
  EXPECT_EQ(parse_cookie_date("Mon, 01 Jan 2001 00:00:00 GMT"),
            parse_cookie_date("Mon, 01-Jan-01 00:00:00 GMT"));
}

TEST(cookie_date, rejects_invalid_dates) {
  EXPECT_FALSE(parse_cookie_date("").has_value());
  EXPECT_FALSE(parse_cookie_date("tomorrow").has_value());
  EXPECT_FALSE(parse_cookie_date("Sun, 06 Nov 1994").has_value());        // no time
  EXPECT_FALSE(parse_cookie_date("Sun, 06 Foo 1994 08:49:37").has_value());  // no month
  EXPECT_FALSE(parse_cookie_date("Sun, 30 Feb 1994 08:49:37").has_value());  // no such day
  EXPECT_FALSE(parse_cookie_date("Sun, 06 Nov 1994 24:00:00").has_value());
  EXPECT_FALSE(parse_cookie_date("Sun, 06 Nov 1994 08:60:00").has_value());
  EXPECT_FALSE(parse_cookie_date("Sun, 06 Nov 1500 08:49:37").has_value());
}

}  // namespace
