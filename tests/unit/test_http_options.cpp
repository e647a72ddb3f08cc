// http_options and ws_options: what a request built from options carries on the wire, the body
// setters (the last one wins), the default headers a user header replaces, and the builders'
// move and copy-sharing behaviour.
#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <utility>

#include "chaperon/http.hpp"
#include "chaperon/websocket.hpp"
#include "engine/http_option_fields.hpp"
#include "net/request_writer.hpp"

namespace {

using chaperon::http_options;
using chaperon::ws_options;
using chaperon::detail::request_builder;

// The request a POST to / with these options puts on the wire.
std::string wire(const http_options& o) {
  chaperon::net::request_head head;
  head.method = "POST";
  head.target = "/";
  head.host = "h";
  std::string storage;
  request_builder::fill(head, o, storage);
  std::string out;
  chaperon::net::write_request(out, head);
  return out;
}

std::string body_of(const std::string& request) {
  return request.substr(request.find("\r\n\r\n") + 4);
}

// How often a header line starting with `name: ` appears (names as chaperon writes them).
std::size_t count_header(const std::string& request, const std::string& line_start) {
  std::size_t n = 0;
  for (auto at = request.find("\r\n" + line_start); at != std::string::npos;
       at = request.find("\r\n" + line_start, at + 2)) {
    ++n;
  }
  return n;
}

TEST(http_options, json_field_builds_an_object_body) {
  const auto r = wire(http_options{}.json_field("message", "hi").json_field("n", 1));
  EXPECT_EQ(body_of(r), R"({"message":"hi","n":1})");
  EXPECT_NE(r.find("\r\nContent-Type: application/json\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\r\nAccept: application/json\r\n"), std::string::npos) << r;
}

TEST(http_options, json_field_adds_to_the_object_of_json) {
  const auto r = wire(http_options{}.json(nlohmann::json{{"a", 1}}).json_field("b", 2));
  EXPECT_EQ(body_of(r), R"({"a":1,"b":2})");
  // A JSON body that is not an object is replaced by a new one.
  EXPECT_EQ(body_of(wire(http_options{}.json(nlohmann::json::array()).json_field("b", 2))),
            R"({"b":2})");
}

TEST(http_options, form_field_is_repeatable_and_url_encoded) {
  const auto r = wire(http_options{}.form_field("user", "ann b").form_field("note", "1&2=3"));
  EXPECT_EQ(body_of(r), "user=ann+b&note=1%262%3D3");
  EXPECT_NE(r.find("\r\nContent-Type: application/x-www-form-urlencoded\r\n"), std::string::npos);
  EXPECT_NE(r.find("\r\nAccept: */*\r\n"), std::string::npos) << r;
  // form() and form_field() build the same body.
  EXPECT_EQ(r, wire(http_options{}.form({{"user", "ann b"}, {"note", "1&2=3"}})));
}

// Regression: form() then json() or body() sent the form body under the later content type.
TEST(http_options, the_last_body_setter_wins) {
  auto form_then_json = wire(http_options{}.form({{"a", "1"}}).json(nlohmann::json{{"b", 2}}));
  EXPECT_EQ(body_of(form_then_json), R"({"b":2})");
  EXPECT_NE(form_then_json.find("Content-Type: application/json"), std::string::npos);

  auto form_then_body = wire(http_options{}.form({{"a", "1"}}).body("raw", "text/plain"));
  EXPECT_EQ(body_of(form_then_body), "raw");
  EXPECT_NE(form_then_body.find("Content-Type: text/plain"), std::string::npos);
  EXPECT_NE(form_then_body.find("\r\nAccept: */*\r\n"), std::string::npos);

  auto json_then_form = wire(http_options{}.json_field("b", 2).form_field("a", "1"));
  EXPECT_EQ(body_of(json_then_form), "a=1");
  EXPECT_EQ(count_header(json_then_form, "Accept: "), 1u);
  EXPECT_NE(json_then_form.find("\r\nAccept: */*\r\n"), std::string::npos) << json_then_form;

  // A form_field after another body starts a new form.
  EXPECT_EQ(body_of(wire(http_options{}.body("x").form_field("a", "1"))), "a=1");
}

// Regression: a user Accept header plus json() sent two Accept headers.
TEST(http_options, a_user_header_replaces_the_default) {
  const auto r = wire(http_options{}.header("Accept", "application/vnd.x+json").json_field("a", 1));
  EXPECT_EQ(count_header(r, "Accept: "), 1u) << r;
  EXPECT_NE(r.find("\r\nAccept: application/vnd.x+json\r\n"), std::string::npos) << r;

  const auto typed = wire(http_options{}.json_field("a", 1).header("content-type", "text/json"));
  EXPECT_EQ(typed.find("Content-Type: application/json"), std::string::npos) << typed;
  EXPECT_NE(typed.find("\r\ncontent-type: text/json\r\n"), std::string::npos) << typed;
}

TEST(http_options, gzip_sets_content_encoding_once) {
  const auto r = wire(http_options{}.body("hello hello hello", "text/plain").gzip());
  EXPECT_EQ(count_header(r, "Content-Encoding: gzip"), 1u) << r;
  EXPECT_EQ(body_of(r).substr(0, 2), "\x1f\x8b");
  const auto own = wire(http_options{}.body("x").gzip().header("Content-Encoding", "gzip"));
  EXPECT_EQ(count_header(own, "Content-Encoding: "), 1u) << own;
}

TEST(http_options, setters_on_a_temporary_return_an_rvalue) {
  static_assert(std::is_same_v<decltype(http_options{}.header("a", "b")), http_options&&>);
  static_assert(std::is_same_v<decltype(http_options{}.json_field("a", 1).decode_json()),
                               http_options&&>);
  static_assert(std::is_same_v<decltype(ws_options{}.connection("c").timeout({})), ws_options&&>);
  http_options named;
  static_assert(std::is_same_v<decltype(named.header("a", "b")), http_options&>);
  // The temporary's fields move into the new object: the header list is the same one.
  http_options source;
  source.header("a", "b");
  const auto* list = &source.header_values();
  http_options moved = std::move(source).param("p", "1");
  EXPECT_EQ(&moved.header_values(), list);
}

TEST(http_options, copies_share_fields_until_one_changes) {
  const auto original = http_options{}.header("a", "1");
  http_options copy = original;
  EXPECT_EQ(&copy.header_values(), &original.header_values()) << "a copy allocates nothing";
  copy.header("b", "2");
  EXPECT_NE(&copy.header_values(), &original.header_values());
  EXPECT_EQ(original.header_values().size(), 1u);
  EXPECT_EQ(copy.header_values().size(), 2u);

  ws_options ws = ws_options{}.connection("feed");
  ws_options ws_copy = ws;
  ws_copy.connection("other");
  EXPECT_EQ(ws.connection_name(), "feed");
  EXPECT_EQ(ws_copy.connection_name(), "other");
}

TEST(failure, names_are_stable) {
  using chaperon::failure;
  EXPECT_EQ(to_string(failure::none), "");
  EXPECT_EQ(to_string(failure::timeout), "timeout");
  EXPECT_EQ(to_string(failure::connect_timeout), "connect_timeout");
  EXPECT_EQ(to_string(failure::decode), "decode");
  EXPECT_EQ(to_string(failure::not_connected), "not_connected");
  chaperon::http_result r;
  r.status = 200;
  EXPECT_TRUE(r.ok());
  r.error = failure::decode;
  EXPECT_FALSE(r.ok());
}

}  // namespace
