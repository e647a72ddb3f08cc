#include "net/url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using chaperon::net::append_query;
using chaperon::net::encode_form;
using chaperon::net::encode_query;
using chaperon::net::is_absolute_url;
using chaperon::net::join_url;
using chaperon::net::parse_url;
using chaperon::net::percent_encode;
using chaperon::net::strip_query;
using chaperon::net::url;

url must_parse(std::string_view text) {
  std::string error;
  auto u = parse_url(text, &error);
  EXPECT_TRUE(u.has_value()) << error;
  return u.value_or(url{});
}

std::string error_for(std::string_view text) {
  std::string error;
  EXPECT_FALSE(parse_url(text, &error).has_value()) << text;
  return error;
}

TEST(url, default_ports_and_targets) {
  const url a = must_parse("http://example.com");
  EXPECT_EQ(a.scheme, "http");
  EXPECT_EQ(a.host, "example.com");
  EXPECT_EQ(a.port, 80);
  EXPECT_EQ(a.target, "/");
  EXPECT_FALSE(a.tls());
  EXPECT_EQ(a.origin(), "http://example.com");
  EXPECT_EQ(a.str(), "http://example.com/");

  const url b = must_parse("HTTPS://Example.COM/a/b?x=1&y=%20#frag");
  EXPECT_EQ(b.scheme, "https");
  EXPECT_EQ(b.host, "example.com");
  EXPECT_EQ(b.port, 443);
  EXPECT_EQ(b.target, "/a/b?x=1&y=%20");
  EXPECT_TRUE(b.tls());
  EXPECT_EQ(b.str(), "https://example.com/a/b?x=1&y=%20");

  EXPECT_EQ(must_parse("ws://h/socket").port, 80);
  EXPECT_FALSE(must_parse("ws://h/socket").tls());
  EXPECT_EQ(must_parse("wss://h/socket").port, 443);
  EXPECT_TRUE(must_parse("wss://h/socket").tls());
  EXPECT_EQ(must_parse("http://h?q=1").target, "/?q=1");
  EXPECT_EQ(must_parse("http://h#top").target, "/");
}

TEST(url, explicit_ports) {
  const url a = must_parse("http://127.0.0.1:8080/api");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8080);
  EXPECT_EQ(a.origin(), "http://127.0.0.1:8080");
  EXPECT_EQ(a.host_header(), "127.0.0.1:8080");
  EXPECT_EQ(a.str(), "http://127.0.0.1:8080/api");

  // A default port given explicitly is not repeated.
  EXPECT_EQ(must_parse("https://h:443/").origin(), "https://h");
  EXPECT_EQ(must_parse("http://h:443/").origin(), "http://h:443");
  EXPECT_EQ(must_parse("http://h:/x").port, 80);
  EXPECT_EQ(must_parse("http://h:65535").port, 65535);
  EXPECT_EQ(must_parse("http://h:1").port, 1);
}

TEST(url, ipv6_hosts) {
  const url a = must_parse("http://[::1]:9000/x");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 9000);
  EXPECT_EQ(a.origin(), "http://[::1]:9000");
  EXPECT_EQ(a.host_header(), "[::1]:9000");

  const url b = must_parse("https://[2001:DB8::7]");
  EXPECT_EQ(b.host, "2001:db8::7");
  EXPECT_EQ(b.port, 443);
  EXPECT_EQ(b.str(), "https://[2001:db8::7]/");
  EXPECT_EQ(must_parse("http://[::ffff:127.0.0.1]/").host, "::ffff:127.0.0.1");
}

TEST(url, bad_inputs_have_messages) {
  auto expect_error = [](std::string_view text, std::string_view fragment) {
    const std::string message = error_for(text);
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
    EXPECT_NE(message.find(std::string(text)), std::string::npos) << message;
  };
  expect_error("example.com/path", "missing scheme");
  expect_error("ftp://example.com/", "unsupported scheme \"ftp\"");
  expect_error("http://", "missing host");
  expect_error("http:///path", "missing host");
  expect_error("http://:80/", "missing host");
  expect_error("http://h:0/", "invalid port \"0\"");
  expect_error("http://h:65536/", "invalid port");
  expect_error("http://h:123456/", "invalid port");
  expect_error("http://h:8o/", "invalid port");
  expect_error("http://h:-1/", "invalid port");
  expect_error("http://user:pw@h/", "user info");
  expect_error("http://[::1/", "unterminated IPv6");
  expect_error("http://[zz::1]/", "invalid IPv6");
  expect_error("http://[::1]x/", "after the IPv6");
  expect_error("http://ex ample.com/", "whitespace");
  expect_error("http://h/a b", "whitespace");
  expect_error("http://h/a\nb", "control");
  expect_error("http://h!/", "invalid character in host");
  // The message is optional.
  EXPECT_FALSE(parse_url("nope").has_value());
}

TEST(url, absolute_detection) {
  EXPECT_TRUE(is_absolute_url("http://h/x"));
  EXPECT_TRUE(is_absolute_url("HTTPS://h"));
  EXPECT_TRUE(is_absolute_url("ws://h"));
  EXPECT_TRUE(is_absolute_url("Wss://h"));
  EXPECT_FALSE(is_absolute_url("/http://h"));
  EXPECT_FALSE(is_absolute_url("ftp://h"));
  EXPECT_FALSE(is_absolute_url("http:/h"));
  EXPECT_FALSE(is_absolute_url(""));
}

TEST(url, join_rules) {
  EXPECT_EQ(join_url("http://h/api/", "/x"), "http://h/api/x");
  EXPECT_EQ(join_url("http://h/api", "/x"), "http://h/api/x");
  EXPECT_EQ(join_url("http://h/api/", "x"), "http://h/api/x");
  EXPECT_EQ(join_url("http://h/api", "x"), "http://h/api/x");
  EXPECT_EQ(join_url("http://h", "/x?y=1"), "http://h/x?y=1");
  EXPECT_EQ(join_url("http://h//", "//x"), "http://h/x");
  EXPECT_EQ(join_url("http://h/api", ""), "http://h/api");
  EXPECT_EQ(join_url("http://h/api", "?q=1"), "http://h/api?q=1");
  EXPECT_EQ(join_url("http://h/api", "https://other/z"), "https://other/z");
  EXPECT_EQ(join_url("http://h/api", "WS://other/z"), "WS://other/z");
  EXPECT_EQ(join_url("", "/x"), "/x");
}

TEST(url, percent_encoding) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode("a b&c=d/e?f"), "a%20b%26c%3Dd%2Fe%3Ff");
  EXPECT_EQ(percent_encode("a b+c", true), "a+b%2Bc");
  EXPECT_EQ(percent_encode("caf\xc3\xa9"), "caf%C3%A9");
  EXPECT_EQ(percent_encode(std::string_view("\0", 1)), "%00");
  EXPECT_EQ(percent_encode(""), "");
}

TEST(url, query_and_form_encoding) {
  EXPECT_EQ(encode_query({{"a", "1"}, {"b", "x y"}}), "a=1&b=x%20y");
  EXPECT_EQ(encode_form({{"a", "1"}, {"b", "x y"}}), "a=1&b=x+y");
  EXPECT_EQ(encode_query({{"k&", "=v"}, {"empty", ""}}), "k%26=%3Dv&empty=");
  EXPECT_EQ(encode_query({}), "");
  EXPECT_EQ(encode_form({{"q", "a+b"}}), "q=a%2Bb");
}

TEST(url, append_and_strip_query) {
  const std::vector<std::pair<std::string, std::string>> params = {{"a", "1"}, {"b", "x y"}};
  EXPECT_EQ(append_query("/path", params), "/path?a=1&b=x%20y");
  EXPECT_EQ(append_query("/path?z=0", params), "/path?z=0&a=1&b=x%20y");
  EXPECT_EQ(append_query("/path?", params), "/path?a=1&b=x%20y");
  EXPECT_EQ(append_query("/path?z=0&", params), "/path?z=0&a=1&b=x%20y");
  EXPECT_EQ(append_query("http://h/p#frag", params), "http://h/p?a=1&b=x%20y#frag");
  EXPECT_EQ(append_query("/path?z=0", {}), "/path?z=0");

  EXPECT_EQ(strip_query("http://h/api?q=1&r=2"), "http://h/api");
  EXPECT_EQ(strip_query("/api#x"), "/api");
  EXPECT_EQ(strip_query("/api"), "/api");
}

}  // namespace
