#include "net/request_writer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using chaperon::net::base64_encode;
using chaperon::net::basic_auth_value;
using chaperon::net::request_head;
using chaperon::net::write_request;
using header_list = std::vector<std::pair<std::string, std::string>>;

std::string write(const request_head& head) {
  std::string out;
  write_request(out, head);
  return out;
}

TEST(request_writer, plain_get) {
  request_head head;
  head.method = "GET";
  head.target = "/x?y=1";
  head.host = "127.0.0.1:8080";
  EXPECT_EQ(write(head),
            "GET /x?y=1 HTTP/1.1\r\n"
            "Host: 127.0.0.1:8080\r\n"
            "User-Agent: chaperon\r\n"
            "Accept: */*\r\n"
            "\r\n");
}

TEST(request_writer, post_with_everything) {
  const header_list headers = {{"X-Trace", "abc"}, {"Accept", "application/json"}};
  request_head head;
  head.method = "POST";
  head.target = "/api/items";
  head.host = "localhost";
  head.headers = &headers;
  head.cookie = "a=1; b=2";
  head.body = R"({"n":1})";
  head.content_type = "application/json";
  head.authorization = "Basic dTpw";
  EXPECT_EQ(write(head),
            "POST /api/items HTTP/1.1\r\n"
            "Host: localhost\r\n"
            "User-Agent: chaperon\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 7\r\n"
            "Cookie: a=1; b=2\r\n"
            "Authorization: Basic dTpw\r\n"
            "X-Trace: abc\r\n"
            "Accept: application/json\r\n"
            "\r\n"
            R"({"n":1})");
}

TEST(request_writer, content_length_rules) {
  request_head head;
  head.host = "h";
  head.target = "/";
  for (const char* method : {"POST", "PUT", "PATCH"}) {
    head.method = method;
    EXPECT_NE(write(head).find("\r\nContent-Length: 0\r\n"), std::string::npos) << method;
  }
  for (const char* method : {"GET", "DELETE", "HEAD"}) {
    head.method = method;
    EXPECT_EQ(write(head).find("Content-Length"), std::string::npos) << method;
  }
  head.method = "DELETE";
  head.body = "gone";
  EXPECT_EQ(write(head),
            "DELETE / HTTP/1.1\r\nHost: h\r\nUser-Agent: chaperon\r\nAccept: */*\r\n"
            "Content-Length: 4\r\n\r\ngone");
}

TEST(request_writer, user_headers_override_by_name) {
  const header_list headers = {{"user-agent", "custom/1.0"},
                               {"ACCEPT", "text/html"},
                               {"host", "virtual.example"},
                               {"content-type", "text/plain"},
                               {"Cookie", "mine=1"},
                               {"authorization", "Bearer t"},
                               {"Content-Length", "999"},
                               {"X-Keep", "yes"}};
  request_head head;
  head.method = "PUT";
  head.target = "/r";
  head.host = "h:81";
  head.headers = &headers;
  head.cookie = "jar=1";
  head.body = "data";
  head.content_type = "application/octet-stream";
  head.authorization = "Basic x";
  EXPECT_EQ(write(head),
            "PUT /r HTTP/1.1\r\n"
            "Content-Length: 4\r\n"
            "user-agent: custom/1.0\r\n"
            "ACCEPT: text/html\r\n"
            "host: virtual.example\r\n"
            "content-type: text/plain\r\n"
            "Cookie: mine=1\r\n"
            "authorization: Bearer t\r\n"
            "X-Keep: yes\r\n"
            "\r\n"
            "data");
}

TEST(request_writer, accept_and_content_encoding_defaults_yield_to_user_headers) {
  request_head head;
  head.method = "POST";
  head.target = "/";
  head.host = "h";
  head.body = "z";
  head.accept = "application/json";
  head.content_encoding = "gzip";
  EXPECT_EQ(write(head),
            "POST / HTTP/1.1\r\nHost: h\r\nUser-Agent: chaperon\r\nAccept: application/json\r\n"
            "Content-Encoding: gzip\r\nContent-Length: 1\r\n\r\nz");
  const header_list mine = {{"accept", "text/csv"}, {"content-encoding", "br"}};
  head.headers = &mine;
  EXPECT_EQ(write(head),
            "POST / HTTP/1.1\r\nHost: h\r\nUser-Agent: chaperon\r\nContent-Length: 1\r\n"
            "accept: text/csv\r\ncontent-encoding: br\r\n\r\nz");
}

TEST(request_writer, appends_to_the_buffer) {
  request_head head;
  head.method = "GET";
  head.target = "/";
  head.host = "h";
  std::string out = "previous";
  write_request(out, head);
  EXPECT_EQ(out.rfind("previousGET / HTTP/1.1\r\n", 0), 0u);
  // A reused buffer keeps its capacity, so steady-state writes do not allocate.
  out.clear();
  const std::size_t capacity = out.capacity();
  write_request(out, head);
  EXPECT_EQ(out.capacity(), capacity);
}

TEST(request_writer, base64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string_view("\xff\xfe\x00", 3)), "//4A");
}

TEST(request_writer, basic_auth) {
  EXPECT_EQ(basic_auth_value("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(basic_auth_value("chaperon", ""), "Basic Y2hhcGVyb246");
}

}  // namespace
