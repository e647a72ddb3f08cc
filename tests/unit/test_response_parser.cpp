#include "net/response_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

using chaperon::net::parse_error;
using chaperon::net::response;
using chaperon::net::response_limits;
using chaperon::net::response_parser;
using status = chaperon::net::response_parser::status;

struct outcome {
  std::vector<response> responses;
  std::error_code error;
};

// Feeds the pieces in order the way a connection would: unconsumed bytes are kept and fed again
// after each completed response. At the end, a peer close is signalled when `eof` is set and a
// response is in progress.
outcome drive(const std::vector<std::string_view>& pieces, bool eof = true, bool head = false,
              response_limits limits = {}, bool store_body = true) {
  outcome out;
  response_parser p(limits);
  p.reset(head, store_body);
  std::string pending;
  for (std::string_view piece : pieces) {
    pending += piece;
    while (!pending.empty()) {
      std::size_t consumed = 0;
      const status st = p.feed(pending, consumed);
      EXPECT_LE(consumed, pending.size());
      if (st == status::error) {
        out.error = p.error();
        return out;
      }
      if (st == status::need_more) {
        // Partial lines are buffered inside, so need_more always takes everything.
        EXPECT_EQ(consumed, pending.size());
        pending.clear();
        break;
      }
      pending.erase(0, consumed);
      out.responses.push_back(p.release());
      p.reset(head, store_body);
    }
  }
  if (eof && !p.idle()) {
    const status st = p.feed_eof();
    if (st == status::done) {
      out.responses.push_back(p.release());
    } else {
      out.error = p.error();
    }
  }
  return out;
}

outcome drive_whole(std::string_view text, bool eof = true, bool head = false,
                    response_limits limits = {}) {
  return drive({text}, eof, head, limits);
}

void expect_same(const std::vector<response>& a, const std::vector<response>& b,
                 const std::string& label) {
  ASSERT_EQ(a.size(), b.size()) << label;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].status, b[i].status) << label;
    EXPECT_EQ(a[i].reason, b[i].reason) << label;
    EXPECT_EQ(a[i].headers, b[i].headers) << label;
    EXPECT_EQ(a[i].body, b[i].body) << label;
    EXPECT_EQ(a[i].body_size, b[i].body_size) << label;
    EXPECT_EQ(a[i].keep_alive, b[i].keep_alive) << label;
    EXPECT_EQ(a[i].version_minor, b[i].version_minor) << label;
  }
}

// The result must not depend on how the bytes are cut: try every split point, then byte by byte.
void expect_split_invariant(std::string_view text, bool head = false) {
  const outcome whole = drive_whole(text, true, head);
  ASSERT_FALSE(whole.error) << whole.error.message();
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const outcome split = drive({text.substr(0, i), text.substr(i)}, true, head);
    ASSERT_FALSE(split.error) << "split at " << i << ": " << split.error.message();
    expect_same(whole.responses, split.responses, "split at " + std::to_string(i));
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < text.size(); ++i) bytes.push_back(text.substr(i, 1));
  const outcome single = drive(bytes, true, head);
  ASSERT_FALSE(single.error) << single.error.message();
  expect_same(whole.responses, single.responses, "byte by byte");
}

std::error_code error_of(std::string_view text, response_limits limits = {}) {
  return drive_whole(text, true, false, limits).error;
}

constexpr std::string_view content_length_response =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
constexpr std::string_view chunked_response =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;name=value;flag\r\nhello\r\n"
    "a\r\n, world!!!\r\n"
    "1c \r\n and twenty-eight more bytes\r\n"
    "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n";

TEST(response_parser, content_length_body) {
  const outcome o = drive_whole(content_length_response, false);
  ASSERT_FALSE(o.error);
  ASSERT_EQ(o.responses.size(), 1u);
  const response& r = o.responses[0];
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.reason, "OK");
  EXPECT_EQ(r.version_minor, 1);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.body_size, 5u);
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].first, "Content-Type");
  EXPECT_EQ(r.headers[0].second, "text/plain");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("CONTENT-LENGTH"), "5");
  EXPECT_EQ(r.header("missing"), "");
}

TEST(response_parser, chunked_body_with_extensions_and_trailers) {
  const outcome o = drive_whole(chunked_response, false);
  ASSERT_FALSE(o.error) << o.error.message();
  ASSERT_EQ(o.responses.size(), 1u);
  EXPECT_EQ(o.responses[0].body, "hello, world!!! and twenty-eight more bytes");
  EXPECT_EQ(o.responses[0].body_size, 43u);
  EXPECT_TRUE(o.responses[0].keep_alive);
  // Trailers are consumed but not added to the headers.
  EXPECT_EQ(o.responses[0].header("X-Checksum"), "");
}

TEST(response_parser, no_body_for_204_and_304) {
  const outcome o = drive_whole(
      "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
      "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 3\r\n\r\n",
      false);
  ASSERT_FALSE(o.error);
  ASSERT_EQ(o.responses.size(), 2u);
  EXPECT_EQ(o.responses[0].status, 204);
  EXPECT_EQ(o.responses[0].body_size, 0u);
  EXPECT_EQ(o.responses[1].status, 304);
  EXPECT_EQ(o.responses[1].header("etag"), "\"x\"");
  EXPECT_TRUE(o.responses[1].body.empty());
}

TEST(response_parser, head_response_has_no_body) {
  constexpr std::string_view text = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nNEXT";
  response_parser p;
  p.reset(true);
  std::size_t consumed = 0;
  ASSERT_EQ(p.feed(text, consumed), status::done);
  EXPECT_EQ(text.substr(consumed), "NEXT");
  EXPECT_EQ(p.get().body_size, 0u);
  EXPECT_EQ(p.get().header("Content-Length"), "1234");
}

TEST(response_parser, interim_responses_are_skipped) {
  const outcome o = drive_whole(
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
      false);
  ASSERT_FALSE(o.error);
  ASSERT_EQ(o.responses.size(), 1u);
  EXPECT_EQ(o.responses[0].status, 201);
  EXPECT_EQ(o.responses[0].reason, "Created");
  ASSERT_EQ(o.responses[0].headers.size(), 1u);
  EXPECT_EQ(o.responses[0].body, "ok");
}

TEST(response_parser, switching_protocols_is_final) {
  constexpr std::string_view text =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
      "\x81\x02hi";
  response_parser p;
  std::size_t consumed = 0;
  ASSERT_EQ(p.feed(text, consumed), status::done);
  EXPECT_EQ(p.get().status, 101);
  EXPECT_FALSE(p.get().keep_alive);
  EXPECT_EQ(text.substr(consumed), "\x81\x02hi");
}

TEST(response_parser, close_delimited_body) {
  const outcome o = drive_whole("HTTP/1.1 200 OK\r\nServer: t\r\n\r\nuntil the end");
  ASSERT_FALSE(o.error);
  ASSERT_EQ(o.responses.size(), 1u);
  EXPECT_EQ(o.responses[0].body, "until the end");
  EXPECT_FALSE(o.responses[0].keep_alive);
}

TEST(response_parser, close_delimited_empty_body) {
  const outcome o = drive_whole("HTTP/1.0 200 OK\r\n\r\n");
  ASSERT_FALSE(o.error);
  ASSERT_EQ(o.responses.size(), 1u);
  EXPECT_EQ(o.responses[0].body_size, 0u);
  EXPECT_EQ(o.responses[0].version_minor, 0);
}

TEST(response_parser, pipelined_responses_in_one_buffer) {
  const std::string text = std::string(content_length_response) + std::string(chunked_response);
  response_parser p;
  std::size_t consumed = 0;
  ASSERT_EQ(p.feed(text, consumed), status::done);
  EXPECT_EQ(consumed, content_length_response.size());
  EXPECT_EQ(p.get().body, "hello");
  p.reset();
  std::size_t second = 0;
  ASSERT_EQ(p.feed(std::string_view(text).substr(consumed), second), status::done);
  EXPECT_EQ(consumed + second, text.size());
  EXPECT_EQ(p.get().body, "hello, world!!! and twenty-eight more bytes");
}

TEST(response_parser, every_split_point_gives_the_same_result) {
  expect_split_invariant(content_length_response);
  expect_split_invariant(chunked_response);
  expect_split_invariant("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n");
  expect_split_invariant("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", true);
  expect_split_invariant(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
  expect_split_invariant("HTTP/1.0 200 OK\r\nServer: t\r\n\r\nclose delimited body");
  expect_split_invariant(std::string(content_length_response) + std::string(chunked_response));
  expect_split_invariant(std::string(chunked_response) + "HTTP/1.1 304 Not Modified\r\n\r\n" +
                         std::string(content_length_response));
}

TEST(response_parser, status_line_variants) {
  auto first = [](std::string_view text) { return drive_whole(text).responses.at(0); };
  EXPECT_EQ(first("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").reason, "");
  EXPECT_EQ(first("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").reason, "");
  EXPECT_EQ(first("HTTP/1.1 404 Not  Found  \r\nContent-Length: 0\r\n\r\n").reason, "Not  Found  ");
  EXPECT_EQ(first("HTTP/1.1 599 x\r\nContent-Length: 0\r\n\r\n").status, 599);
  // Bare LF line endings and a stray empty line before the status line are accepted.
  const response lf = first("\r\nHTTP/1.1 200 OK\nContent-Length: 2\n\nhi");
  EXPECT_EQ(lf.status, 200);
  EXPECT_EQ(lf.body, "hi");
}

TEST(response_parser, header_whitespace) {
  const response r =
      drive_whole("HTTP/1.1 200 OK\r\nA:1\r\nB: \t two words \t\r\nC:\r\nContent-Length: 0\r\n\r\n")
          .responses.at(0);
  ASSERT_EQ(r.headers.size(), 4u);
  EXPECT_EQ(r.headers[0].second, "1");
  EXPECT_EQ(r.headers[1].second, "two words");
  EXPECT_EQ(r.headers[2].second, "");
}

TEST(response_parser, keep_alive_rules) {
  auto ka = [](std::string_view head) {
    return drive_whole(std::string(head) + "Content-Length: 0\r\n\r\n").responses.at(0).keep_alive;
  };
  EXPECT_TRUE(ka("HTTP/1.1 200 OK\r\n"));
  EXPECT_FALSE(ka("HTTP/1.1 200 OK\r\nConnection: close\r\n"));
  EXPECT_FALSE(ka("HTTP/1.1 200 OK\r\nconnection: Upgrade, CLOSE\r\n"));
  EXPECT_FALSE(ka("HTTP/1.0 200 OK\r\n"));
  EXPECT_TRUE(ka("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"));
  EXPECT_FALSE(ka("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n"));
}

TEST(response_parser, content_length_rules) {
  const outcome dup = drive_whole(
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3, 3\r\n\r\nabc", false);
  ASSERT_FALSE(dup.error);
  EXPECT_EQ(dup.responses.at(0).body, "abc");

  const auto bad = make_error_code(parse_error::bad_content_length);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabc"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n"), bad);
}

TEST(response_parser, transfer_encoding_rules) {
  // Chunked wins over Content-Length, even an invalid one.
  const outcome both = drive_whole(
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Length: x\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
      false);
  ASSERT_FALSE(both.error) << both.error.message();
  EXPECT_EQ(both.responses.at(0).body, "ok");

  const outcome gzip_chunked = drive_whole(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "1\r\nz\r\n0\r\n\r\n",
      false);
  ASSERT_FALSE(gzip_chunked.error);
  EXPECT_EQ(gzip_chunked.responses.at(0).body, "z");
  EXPECT_TRUE(gzip_chunked.responses.at(0).keep_alive);

  // Chunked not last: the body runs until the connection closes.
  const outcome not_last = drive_whole(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 1\r\n\r\nraw");
  ASSERT_FALSE(not_last.error);
  EXPECT_EQ(not_last.responses.at(0).body, "raw");
  EXPECT_FALSE(not_last.responses.at(0).keep_alive);

  const auto bad = make_error_code(parse_error::bad_transfer_encoding);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chun ked\r\n\r\n"), bad);
}

TEST(response_parser, malformed_status_lines) {
  EXPECT_EQ(error_of("HTTX/1.1 200 OK\r\n\r\n"), parse_error::bad_status_line);
  EXPECT_EQ(error_of("garbage\r\n\r\n"), parse_error::bad_status_line);
  EXPECT_EQ(error_of("HTTP/1.1200 OK\r\n\r\n"), parse_error::bad_status_line);
  EXPECT_EQ(error_of("HTTP/1.1\r\n\r\n"), parse_error::bad_status_line);
  EXPECT_EQ(error_of("HTTP/1.1 200 O\x01K\r\n\r\n"), parse_error::bad_status_line);
  EXPECT_EQ(error_of("HTTP/2.0 200 OK\r\n\r\n"), parse_error::bad_version);
  EXPECT_EQ(error_of("HTTP/1.2 200 OK\r\n\r\n"), parse_error::bad_version);
  EXPECT_EQ(error_of("HTTP/1 200 OK\r\n\r\n"), parse_error::bad_version);
  EXPECT_EQ(error_of("HTTP/x.y 200 OK\r\n\r\n"), parse_error::bad_version);
  EXPECT_EQ(error_of("HTTP/1.1 20 OK\r\n\r\n"), parse_error::bad_status_code);
  EXPECT_EQ(error_of("HTTP/1.1 2000 OK\r\n\r\n"), parse_error::bad_status_code);
  EXPECT_EQ(error_of("HTTP/1.1 abc OK\r\n\r\n"), parse_error::bad_status_code);
  EXPECT_EQ(error_of("HTTP/1.1 099 OK\r\n\r\n"), parse_error::bad_status_code);
  EXPECT_EQ(error_of("HTTP/1.1  200 OK\r\n\r\n"), parse_error::bad_status_code);
}

TEST(response_parser, malformed_headers) {
  const auto bad = make_error_code(parse_error::bad_header);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nX-A: one\r\n  folded\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nX-A: one\r\n\tfolded\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nX-A : one\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nX(A): v\r\n\r\n"), bad);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n"), bad);
  constexpr char with_nul[] = "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n";
  EXPECT_EQ(error_of(std::string_view(with_nul, sizeof with_nul - 1)), bad);
}

// Values are checked eight bytes at a time; every byte value at every place of a value that spans
// two words and a tail must be judged as the byte-by-byte rule does: controls other than HTAB,
// and DEL, are refused; visible ASCII, SP, HTAB and obs-text pass.
TEST(response_parser, every_byte_at_every_place_of_a_value) {
  for (int b = 0; b < 256; ++b) {
    if (b == '\r' || b == '\n') continue;  // these end the line instead
    const bool allowed = (b >= 0x20 && b != 0x7f) || b == '\t';
    for (std::size_t at = 0; at < 19; ++at) {
      std::string value(19, 'v');
      value[at] = static_cast<char>(b);
      const std::string text = "HTTP/1.1 200 OK\r\nX-A: " + value + "\r\nContent-Length: 0\r\n\r\n";
      const auto out = drive({text});
      EXPECT_EQ(!out.error, allowed) << "byte " << b << " at " << at;
    }
  }
}

TEST(response_parser, malformed_chunks) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(error_of(head + "zz\r\n"), parse_error::bad_chunk_size);
  EXPECT_EQ(error_of(head + "\r\n"), parse_error::bad_chunk_size);
  EXPECT_EQ(error_of(head + "5 x\r\nhello\r\n"), parse_error::bad_chunk_size);
  EXPECT_EQ(error_of(head + "-5\r\nhello\r\n"), parse_error::bad_chunk_size);
  EXPECT_EQ(error_of(head + "10000000000000000\r\n"), parse_error::bad_chunk_size);
  EXPECT_EQ(error_of(head + "FFFFFFFFFFFFFFFF\r\n"), parse_error::body_too_large);
  EXPECT_EQ(error_of(head + "5\r\nhelloXX"), parse_error::bad_chunk);
  EXPECT_EQ(error_of(head + "5\r\nhello\rX"), parse_error::bad_chunk);
  EXPECT_EQ(error_of(head + "2\r\nok\r\n0\r\nbad trailer\r\n\r\n"), parse_error::bad_header);
}

TEST(response_parser, unexpected_eof) {
  const auto eof = make_error_code(parse_error::unexpected_eof);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-"), eof);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"), eof);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"), eof);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"), eof);

  response_parser p;
  EXPECT_TRUE(p.idle());
  EXPECT_EQ(p.feed_eof(), status::error);
  EXPECT_EQ(p.error(), parse_error::unexpected_eof);
}

TEST(response_parser, header_limits) {
  response_limits limits;
  limits.max_header_bytes = 64;
  const std::string big = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(60, 'a') + "\r\n\r\n";
  EXPECT_EQ(error_of(big, limits), parse_error::header_too_large);
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < big.size(); ++i) bytes.push_back(std::string_view(big).substr(i, 1));
  EXPECT_EQ(drive(bytes, true, false, limits).error, parse_error::header_too_large);
  // A line without any newline cannot grow past the limit either.
  EXPECT_EQ(error_of(std::string(100, 'H'), limits), parse_error::header_too_large);

  // Exactly at the limit is fine; the limit counts every byte of the head, line endings included.
  const std::string exact = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: abcd\r\n\r\n";
  ASSERT_EQ(exact.size(), 51u);
  limits.max_header_bytes = 51;
  EXPECT_FALSE(error_of(exact, limits));
  limits.max_header_bytes = 50;
  EXPECT_EQ(error_of(exact, limits), parse_error::header_too_large);

  response_limits few;
  few.max_headers = 3;
  EXPECT_FALSE(error_of("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n", few));
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", few),
            parse_error::too_many_headers);

  response_limits small_trailers;
  small_trailers.max_header_bytes = 60;
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " +
                         std::string(40, 't') + "\r\n\r\n",
                     small_trailers),
            parse_error::header_too_large);
}

TEST(response_parser, body_limits) {
  response_limits limits;
  limits.max_body_bytes = 4;
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", limits),
            parse_error::body_too_large);
  EXPECT_FALSE(error_of("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhell", limits));
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                     limits),
            parse_error::body_too_large);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\n\r\nabcde", limits), parse_error::body_too_large);
}

TEST(response_parser, counting_without_storing) {
  const outcome o = drive({chunked_response}, false, false, {}, false);
  ASSERT_FALSE(o.error);
  ASSERT_EQ(o.responses.size(), 1u);
  EXPECT_TRUE(o.responses[0].body.empty());
  EXPECT_EQ(o.responses[0].body_size, 43u);
}

TEST(response_parser, reset_reuses_the_parser) {
  response_parser p;
  std::size_t consumed = 0;
  ASSERT_EQ(p.feed(chunked_response, consumed), status::done);
  const std::size_t capacity = p.get().body.capacity();
  p.reset();
  EXPECT_TRUE(p.get().headers.empty());
  EXPECT_TRUE(p.get().body.empty());
  EXPECT_EQ(p.get().body.capacity(), capacity);
  ASSERT_EQ(p.feed(content_length_response, consumed), status::done);
  EXPECT_EQ(p.get().body, "hello");
  ASSERT_EQ(p.get().headers.size(), 2u);
  EXPECT_EQ(p.get().headers[1].first, "Content-Length");

  // Feeding a finished parser consumes nothing.
  EXPECT_EQ(p.feed("HTTP/1.1", consumed), status::done);
  EXPECT_EQ(consumed, 0u);

  // An error sticks until the next reset.
  p.reset();
  EXPECT_EQ(p.feed("BAD\r\n", consumed), status::error);
  EXPECT_EQ(p.feed("HTTP/1.1 200 OK\r\n", consumed), status::error);
  p.reset();
  EXPECT_FALSE(p.error());
  EXPECT_EQ(p.feed(content_length_response, consumed), status::done);
}

TEST(response_parser, error_codes) {
  const std::error_code ec = parse_error::bad_chunk;
  EXPECT_EQ(&ec.category(), &chaperon::net::parse_error_category());
  EXPECT_STREQ(ec.category().name(), "chaperon.http_response");
  EXPECT_EQ(ec.message(), "malformed chunked body");
  for (int e = 1; e <= static_cast<int>(parse_error::unexpected_eof); ++e) {
    EXPECT_FALSE(make_error_code(static_cast<parse_error>(e)).message().empty());
  }
}

}  // namespace
