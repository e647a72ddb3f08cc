// Fuzzes the HTTP response parser. Input layout: 4 control bytes, then the bytes a server sends.
//   byte 0: bit 0 HEAD request, bit 1 count the body without storing it, bit 2 small limits,
//           bit 3 move responses out with release() instead of copying them (the parser then
//           builds fresh header vectors instead of reusing the spare ones)
//   byte 1: small max_header_bytes; byte 2: small max_headers (low 4 bits) and max_body_bytes
//   byte 3: seed for the random split points
// The stream is parsed as a connection would (pipelined responses, then the peer's close), once in
// one piece, once byte by byte and once in random pieces: all three must agree.

#include "net/response_parser.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

using chaperon::net::parse_error_category;
using chaperon::net::response;
using chaperon::net::response_limits;
using chaperon::net::response_parser;
using status = response_parser::status;

struct run_options {
  bool head = false;
  bool store_body = true;
  bool use_release = false;
  response_limits limits;
};

struct outcome {
  std::vector<response> responses;
  std::error_code error;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  return std::string_view("\"(),/:;<=>?@[\\]{}").find(c) == std::string_view::npos;
}

void check_response(const response& r, const run_options& o) {
  check(r.status >= 100 && r.status <= 999, "status code in 100..999");
  check(r.status >= 200 || r.status == 101, "interim responses are skipped");
  check(r.version_minor == 0 || r.version_minor == 1, "HTTP/1.0 or HTTP/1.1");
  check(r.body_size <= o.limits.max_body_bytes, "body within max_body_bytes");
  check(r.headers.size() <= o.limits.max_headers, "header count within max_headers");
  if (o.store_body) {
    check(r.body.size() == r.body_size, "stored body matches body_size");
  } else {
    check(r.body.empty(), "body not stored when store_body is false");
  }
  if (o.head || r.status == 204 || r.status == 304 || r.status == 101) {
    check(r.body_size == 0, "no body for HEAD, 101, 204, 304");
  }
  if (r.status == 101) check(!r.keep_alive, "101 ends HTTP on the connection");
  std::size_t head_bytes = r.reason.size();
  for (const auto& [name, value] : r.headers) {
    check(!name.empty(), "header name not empty");
    for (char c : name) check(is_token_char(c), "header name is a token");
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      check(u >= 0x20 || u == '\t', "header value has no control characters");
      check(u != 0x7f, "header value has no DEL");
    }
    if (!value.empty()) {
      check(value.front() != ' ' && value.front() != '\t', "header value trimmed (front)");
      check(value.back() != ' ' && value.back() != '\t', "header value trimmed (back)");
    }
    head_bytes += name.size() + 1 + value.size() + 1;
  }
  check(head_bytes <= o.limits.max_header_bytes, "header bytes within max_header_bytes");
  if (!r.headers.empty()) {
    // header() must find the first field of a name, in any letter case.
    const std::string& first = r.headers.front().first;
    check(r.header(first).data() == r.headers.front().second.data(), "header() finds the first");
  }
}

outcome drive(const std::vector<std::string_view>& pieces, const run_options& o) {
  outcome out;
  response_parser p(o.limits);
  p.reset(o.head, o.store_body);
  check(p.idle(), "idle after reset");
  std::string pending;
  for (const std::string_view piece : pieces) {
    pending += piece;
    while (!pending.empty()) {
      std::size_t consumed = 0;
      const status st = p.feed(pending, consumed);
      check(consumed <= pending.size(), "consumed within the input");
      if (st == status::error) {
        check(p.error().category() == parse_error_category(), "error from the parser's category");
        check(p.feed(pending, consumed) == status::error, "an error is final");
        out.error = p.error();
        return out;
      }
      if (st == status::need_more) {
        check(consumed == pending.size(), "need_more consumes everything");
        check(!p.error(), "no error while more is needed");
        pending.clear();
        break;
      }
      check(!p.idle(), "a complete response is not idle");
      pending.erase(0, consumed);
      if (o.use_release) {
        out.responses.push_back(p.release());
      } else {
        out.responses.push_back(p.get());
      }
      check_response(out.responses.back(), o);
      p.reset(o.head, o.store_body);
    }
  }
  if (!p.idle()) {
    const status st = p.feed_eof();
    if (st == status::done) {
      out.responses.push_back(p.release());
      check_response(out.responses.back(), o);
      check(!out.responses.back().keep_alive, "a body ended by close is not keep-alive");
    } else {
      check(st == status::error && p.error(), "eof either completes or fails");
      out.error = p.error();
    }
  }
  return out;
}

void expect_same(const outcome& a, const outcome& b) {
  check(a.error == b.error, "same error whatever the split");
  // After an error, the partial response is not part of the outcome; everything before it is.
  check(a.responses.size() == b.responses.size(), "same number of responses whatever the split");
  for (std::size_t i = 0; i < a.responses.size(); ++i) {
    const response& x = a.responses[i];
    const response& y = b.responses[i];
    check(x.status == y.status && x.reason == y.reason && x.headers == y.headers &&
              x.body == y.body && x.body_size == y.body_size && x.keep_alive == y.keep_alive &&
              x.version_minor == y.version_minor,
          "same responses whatever the split");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  run_options o;
  o.head = (data[0] & 1) != 0;
  o.store_body = (data[0] & 2) == 0;
  o.use_release = (data[0] & 8) != 0;
  if ((data[0] & 4) != 0) {
    o.limits.max_header_bytes = 16 + std::size_t{data[1]} * 4;
    o.limits.max_headers = data[2] & 0x0f;
    o.limits.max_body_bytes = static_cast<std::size_t>(data[2] >> 4) * 97;
  }
  std::uint32_t seed = data[3] * 2654435761u + 1;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 4, size - 4);

  const outcome whole = drive({stream}, o);

  std::vector<std::string_view> bytes;
  bytes.reserve(stream.size());
  for (std::size_t i = 0; i < stream.size(); ++i) bytes.push_back(stream.substr(i, 1));
  expect_same(whole, drive(bytes, o));

  std::vector<std::string_view> pieces;
  for (std::size_t pos = 0; pos < stream.size();) {
    seed = seed * 1103515245u + 12345u;
    const std::size_t len = 1 + (seed >> 16) % 64;
    pieces.push_back(stream.substr(pos, len));
    pos += len;
  }
  expect_same(whole, drive(pieces, o));
  return 0;
}
