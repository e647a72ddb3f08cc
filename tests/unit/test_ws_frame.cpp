#include "net/ws_frame.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using chaperon::net::ws_decoder;
using chaperon::net::ws_encode_close;
using chaperon::net::ws_encode_frame;
using chaperon::net::ws_opcode;
using chaperon::net::ws_valid_utf8;
using kind = ws_decoder::event_kind;

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s += static_cast<char>(b);
  return s;
}

// An unmasked server frame; `b0` carries FIN, RSV and opcode. `form` forces a length encoding
// (7, 16 or 64 bits) so that non-minimal lengths can be produced too.
std::string server_frame(std::uint8_t b0, std::string_view payload, int form = 0) {
  std::string s(1, static_cast<char>(b0));
  const std::uint64_t n = payload.size();
  if (form == 0) form = n < 126 ? 7 : n <= 0xFFFF ? 16 : 64;
  if (form == 7) {
    s += static_cast<char>(n);
  } else if (form == 16) {
    s += static_cast<char>(126);
    s += static_cast<char>(n >> 8);
    s += static_cast<char>(n & 0xFF);
  } else {
    s += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8) s += static_cast<char>((n >> shift) & 0xFF);
  }
  s.append(payload);
  return s;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string s;
  s += static_cast<char>(code >> 8);
  s += static_cast<char>(code & 0xFF);
  s.append(reason);
  return s;
}

struct seen {
  kind k = kind::need_more;
  bool binary = false;
  std::string payload;
  std::uint16_t code = 0;
  bool operator==(const seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const seen& s) {
  return os << "{kind " << static_cast<int>(s.k) << ", binary " << s.binary << ", " << s.payload.size()
            << " bytes, code " << s.code << "}";
}

// Feeds `data` the way a connection does and records every event up to the end or an error.
void drain(ws_decoder& d, std::string_view data, std::vector<seen>& out) {
  while (true) {
    std::size_t used = 0;
    const auto ev = d.feed(data, used);
    EXPECT_LE(used, data.size());
    if (ev.kind == kind::need_more) {
      EXPECT_EQ(used, data.size());
      return;
    }
    out.push_back({ev.kind, ev.binary, std::string(ev.payload), ev.close_code});
    if (ev.kind == kind::error) return;
    data.remove_prefix(used);
  }
}

std::vector<seen> decode_at_once(std::string_view data, ws_decoder::limits l = {}) {
  ws_decoder d(l);
  std::vector<seen> out;
  drain(d, data, out);
  return out;
}

std::vector<seen> decode_bytewise(std::string_view data, ws_decoder::limits l = {}) {
  ws_decoder d(l);
  std::vector<seen> out;
  for (std::size_t i = 0; i < data.size(); ++i) {
    drain(d, data.substr(i, 1), out);
    if (!out.empty() && out.back().k == kind::error) break;
  }
  return out;
}

seen message(std::string_view text, bool binary = false) { return {kind::message, binary, std::string(text), 0}; }

// Decodes one masked client frame by hand, independently of the encoder's code.
struct client_frame {
  bool fin = false;
  int opcode = -1;
  bool masked = false;
  std::size_t header = 0;
  std::string payload;
};

client_frame parse_client_frame(std::string_view f) {
  client_frame c;
  const auto at = [&](std::size_t i) { return static_cast<std::uint8_t>(f.at(i)); };
  c.fin = (at(0) & 0x80) != 0;
  c.opcode = at(0) & 0x0F;
  c.masked = (at(1) & 0x80) != 0;
  std::uint64_t n = at(1) & 0x7F;
  std::size_t pos = 2;
  if (n == 126) {
    n = (std::uint64_t{at(2)} << 8) | at(3);
    pos = 4;
  } else if (n == 127) {
    n = 0;
    for (std::size_t i = 0; i < 8; ++i) n = (n << 8) | at(2 + i);
    pos = 10;
  }
  std::uint8_t key[4] = {0, 0, 0, 0};
  if (c.masked) {
    for (std::size_t i = 0; i < 4; ++i) key[i] = at(pos + i);
    pos += 4;
  }
  c.header = pos;
  EXPECT_EQ(f.size(), pos + n);
  for (std::size_t i = 0; i < n; ++i) c.payload += static_cast<char>(at(pos + i) ^ key[i % 4]);
  return c;
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) & 0xFF);
  return s;
}

// --- RFC 6455 5.7 examples -----------------------------------------------------------------

TEST(ws_frame, rfc_unmasked_hello_is_a_zero_copy_text_message) {
  const std::string in = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  ws_decoder d;
  std::size_t used = 0;
  const auto ev = d.feed(in, used);
  ASSERT_EQ(ev.kind, kind::message);
  EXPECT_FALSE(ev.binary);
  EXPECT_EQ(ev.payload, "Hello");
  EXPECT_EQ(ev.payload.data(), in.data() + 2);
  EXPECT_EQ(used, in.size());
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(ws_frame, rfc_masked_hello_is_what_the_encoder_writes_and_the_decoder_refuses) {
  const std::string rfc = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  std::string out;
  ws_encode_frame(out, ws_opcode::text, "Hello", 0x37fa213d);
  EXPECT_EQ(out, rfc);

  const auto events = decode_at_once(rfc);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].k, kind::error);
}

TEST(ws_frame, rfc_fragmented_hello) {
  const std::string in = bytes({0x01, 0x03, 0x48, 0x65, 0x6c}) + bytes({0x80, 0x02, 0x6c, 0x6f});
  ws_decoder d;
  std::size_t used = 0;
  const auto ev = d.feed(in, used);
  ASSERT_EQ(ev.kind, kind::message);
  EXPECT_EQ(ev.payload, "Hello");
  EXPECT_EQ(used, in.size());
  EXPECT_EQ(d.buffered(), 0u);
  EXPECT_EQ(d.feed({}, used).kind, kind::need_more);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(ws_frame, rfc_ping_and_masked_pong) {
  const std::string ping = bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  ws_decoder d;
  std::size_t used = 0;
  const auto ev = d.feed(ping, used);
  ASSERT_EQ(ev.kind, kind::ping);
  EXPECT_EQ(ev.payload, "Hello");
  EXPECT_EQ(ev.payload.data(), ping.data() + 2);

  std::string out;
  ws_encode_frame(out, ws_opcode::pong, "Hello", 0x37fa213d);
  EXPECT_EQ(out, bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(ws_frame, rfc_256_byte_and_64k_binary_lengths) {
  const std::string p256 = pattern(256);
  const std::string f256 = bytes({0x82, 0x7E, 0x01, 0x00}) + p256;
  EXPECT_EQ(decode_at_once(f256), std::vector<seen>{message(p256, true)});
  EXPECT_EQ(decode_bytewise(f256), std::vector<seen>{message(p256, true)});

  const std::string p64k = pattern(65536);
  const std::string f64k = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0, 0}) + p64k;
  EXPECT_EQ(decode_at_once(f64k), std::vector<seen>{message(p64k, true)});

  std::string out;
  ws_encode_frame(out, ws_opcode::binary, p256, 0x01020304);
  EXPECT_EQ(out.substr(0, 4), bytes({0x82, 0xFE, 0x01, 0x00}));
  out.clear();
  ws_encode_frame(out, ws_opcode::binary, p64k, 0x01020304);
  EXPECT_EQ(out.substr(0, 10), bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0, 0}));
  EXPECT_EQ(parse_client_frame(out).payload, p64k);
}

// --- protocol errors -----------------------------------------------------------------------

struct error_case {
  const char* name;
  std::string input;
  std::string_view why;
  std::size_t max_message = 16 * 1024 * 1024;
};

std::vector<error_case> error_cases() {
  const std::string hello = "Hello";
  return {
      {"masked", bytes({0x81, 0x85, 1, 2, 3, 4}) + hello, "masked frame"},
      {"rsv1", server_frame(0xC1, hello), "reserved bits"},
      {"rsv2", server_frame(0xA1, hello), "reserved bits"},
      {"rsv3", server_frame(0x91, hello), "reserved bits"},
      {"opcode3", server_frame(0x83, hello), "bad opcode"},
      {"opcode7", server_frame(0x87, hello), "bad opcode"},
      {"opcode11", server_frame(0x8B, hello), "bad opcode"},
      {"opcode15", server_frame(0x8F, hello), "bad opcode"},
      {"ping126", server_frame(0x89, std::string(126, 'x')), "control frame too long"},
      {"ping_len16", server_frame(0x89, "x", 16), "control frame too long"},
      {"close_no_fin", server_frame(0x08, ""), "fragmented control frame"},
      {"ping_no_fin", server_frame(0x09, "x"), "fragmented control frame"},
      {"lone_continuation", server_frame(0x80, hello), "unexpected continuation"},
      {"lone_continuation_no_fin", server_frame(0x00, hello), "unexpected continuation"},
      {"text_inside_fragments", server_frame(0x01, "He") + server_frame(0x81, "llo"), "expected continuation"},
      {"binary_inside_fragments", server_frame(0x02, "He") + server_frame(0x02, "llo"), "expected continuation"},
      {"len64_top_bit", bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1}), "bad length"},
      {"too_big_frame", server_frame(0x82, std::string(11, 'x')), "message too big", 10},
      {"too_big_fragments", server_frame(0x02, "123456") + server_frame(0x80, "78901"), "message too big", 10},
      {"bad_utf8", server_frame(0x81, bytes({0xC3, 0x28})), "invalid utf-8"},
      {"bad_utf8_fragmented", server_frame(0x01, "ok") + server_frame(0x80, bytes({0xFF})), "invalid utf-8"},
      {"truncated_utf8", server_frame(0x81, bytes({0xE2, 0x82})), "invalid utf-8"},
      {"close_len1", server_frame(0x88, "x"), "bad close payload"},
      {"close_999", server_frame(0x88, close_payload(999, "")), "bad close code"},
      {"close_1004", server_frame(0x88, close_payload(1004, "")), "bad close code"},
      {"close_1005", server_frame(0x88, close_payload(1005, "")), "bad close code"},
      {"close_1006", server_frame(0x88, close_payload(1006, "")), "bad close code"},
      {"close_1015", server_frame(0x88, close_payload(1015, "")), "bad close code"},
      {"close_2000", server_frame(0x88, close_payload(2000, "")), "bad close code"},
      {"close_5000", server_frame(0x88, close_payload(5000, "")), "bad close code"},
      {"close_0", server_frame(0x88, close_payload(0, "")), "bad close code"},
      {"close_reason_utf8", server_frame(0x88, close_payload(1000, bytes({0xED, 0xA0, 0x80}))), "invalid utf-8"},
  };
}

TEST(ws_frame, every_protocol_error_is_reported_at_once_and_byte_by_byte) {
  for (const auto& c : error_cases()) {
    SCOPED_TRACE(c.name);
    const ws_decoder::limits l{c.max_message};
    for (const auto& events : {decode_at_once(c.input, l), decode_bytewise(c.input, l)}) {
      ASSERT_FALSE(events.empty());
      EXPECT_EQ(events.back().k, kind::error);
      for (std::size_t i = 0; i + 1 < events.size(); ++i) EXPECT_NE(events[i].k, kind::error);
    }
    ws_decoder d(l);
    std::vector<seen> events;
    drain(d, c.input, events);
    EXPECT_EQ(d.error(), c.why);
  }
}

TEST(ws_frame, decoder_stays_in_error_until_reset) {
  ws_decoder d;
  std::size_t used = 0;
  EXPECT_EQ(d.feed(server_frame(0xC1, "x"), used).kind, kind::error);
  const std::string good = server_frame(0x81, "fine");
  EXPECT_EQ(d.feed(good, used).kind, kind::error);
  EXPECT_EQ(used, 0u);
  EXPECT_EQ(d.error(), "reserved bits");
  d.reset();
  EXPECT_TRUE(d.error().empty());
  const auto ev = d.feed(good, used);
  ASSERT_EQ(ev.kind, kind::message);
  EXPECT_EQ(ev.payload, "fine");
}

TEST(ws_frame, hostile_length_fails_on_the_header_without_buffering) {
  ws_decoder d;
  std::size_t used = 0;
  const std::string header = bytes({0x82, 0x7F, 0, 0, 0, 0x10, 0, 0, 0, 0});  // 64 GiB
  EXPECT_EQ(d.feed(header, used).kind, kind::error);
  EXPECT_EQ(d.error(), "message too big");
  d.release_memory();
  EXPECT_LE(d.buffered(), 14u);
}

TEST(ws_frame, message_exactly_at_the_limit_is_accepted) {
  const ws_decoder::limits l{10};
  const std::string in = server_frame(0x02, "12345") + server_frame(0x80, "67890");
  EXPECT_EQ(decode_at_once(in, l), std::vector<seen>{message("1234567890", true)});
}

// --- close frames --------------------------------------------------------------------------

TEST(ws_frame, close_frames_report_code_and_reason) {
  EXPECT_EQ(decode_at_once(server_frame(0x88, "")), (std::vector<seen>{{kind::close, false, "", 1005}}));
  EXPECT_EQ(decode_at_once(server_frame(0x88, close_payload(1000, "bye"))),
            (std::vector<seen>{{kind::close, false, "bye", 1000}}));
  for (std::uint16_t code : {1001, 1002, 1003, 1007, 1011, 1012, 1013, 1014, 3000, 4999}) {
    EXPECT_EQ(decode_at_once(server_frame(0x88, close_payload(code, ""))),
              (std::vector<seen>{{kind::close, false, "", code}}));
  }
}

// --- streaming -----------------------------------------------------------------------------

TEST(ws_frame, ping_between_fragments_is_reported_at_once) {
  const std::string in = server_frame(0x01, "Hel") + server_frame(0x89, "hi") + server_frame(0x00, "") +
                         server_frame(0x8A, "po") + server_frame(0x80, "lo");
  const std::vector<seen> expected = {{kind::ping, false, "hi", 0}, {kind::pong, false, "po", 0}, message("Hello")};
  EXPECT_EQ(decode_at_once(in), expected);
  EXPECT_EQ(decode_bytewise(in), expected);
}

std::string mixed_stream() {
  const std::string euro = "\xE2\x82\xAC";
  std::string s;
  s += server_frame(0x81, "first");
  s += server_frame(0x81, "");
  s += server_frame(0x82, pattern(256));
  s += server_frame(0x01, "a" + euro.substr(0, 1));  // a character split across fragments
  s += server_frame(0x89, "ping!");
  s += server_frame(0x00, euro.substr(1));
  s += server_frame(0x80, "z");
  s += server_frame(0x82, pattern(70000));
  s += server_frame(0x81, "non-minimal", 64);
  s += server_frame(0x81, "len16", 16);
  s += server_frame(0x02, pattern(300));
  s += server_frame(0x80, pattern(5));
  s += server_frame(0x8A, "");
  s += server_frame(0x88, close_payload(1000, "done"));
  return s;
}

TEST(ws_frame, byte_by_byte_gives_the_same_events_as_at_once) {
  const std::string in = mixed_stream();
  const auto whole = decode_at_once(in);
  ASSERT_EQ(whole.size(), 11u);
  EXPECT_EQ(whole[0], message("first"));
  EXPECT_EQ(whole[1], message(""));
  EXPECT_EQ(whole[3], (seen{kind::ping, false, "ping!", 0}));
  EXPECT_EQ(whole[4], message("a\xE2\x82\xAC" "z"));
  EXPECT_EQ(whole[5], message(pattern(70000), true));
  EXPECT_EQ(whole[8], message(pattern(300) + pattern(5), true));
  EXPECT_EQ(whole[10], (seen{kind::close, false, "done", 1000}));
  EXPECT_EQ(decode_bytewise(in), whole);

  // Any split into two pieces gives the same events too (every header/payload boundary).
  for (std::size_t cut = 0; cut < 400; ++cut) {
    ws_decoder d;
    std::vector<seen> out;
    drain(d, std::string_view(in).substr(0, cut), out);
    drain(d, std::string_view(in).substr(cut), out);
    ASSERT_EQ(out, whole) << "cut at " << cut;
  }
}

TEST(ws_frame, zero_copy_only_for_whole_unfragmented_frames_in_the_input) {
  const std::string in = server_frame(0x82, pattern(1000)) + server_frame(0x01, "ab") + server_frame(0x80, "cd");
  ws_decoder d;
  std::size_t used = 0;
  auto ev = d.feed(in, used);
  ASSERT_EQ(ev.kind, kind::message);
  EXPECT_EQ(ev.payload.data(), in.data() + 4);
  const std::string_view rest = std::string_view(in).substr(used);
  ev = d.feed(rest, used);
  ASSERT_EQ(ev.kind, kind::message);
  EXPECT_EQ(ev.payload, "abcd");
  const bool inside = ev.payload.data() >= rest.data() && ev.payload.data() < rest.data() + rest.size();
  EXPECT_FALSE(inside);

  // A frame split across reads is copied and handed out once complete.
  const std::string split = server_frame(0x81, "split me");
  ev = d.feed(std::string_view(split).substr(0, 5), used);
  EXPECT_EQ(ev.kind, kind::need_more);
  EXPECT_EQ(d.buffered(), 3u);
  ev = d.feed(std::string_view(split).substr(5), used);
  ASSERT_EQ(ev.kind, kind::message);
  EXPECT_EQ(ev.payload, "split me");
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(ws_frame, buffered_counts_partial_headers_and_payloads_and_returns_to_zero) {
  const std::string f = server_frame(0x82, pattern(300));  // 4-byte header
  ws_decoder d;
  std::size_t used = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(d.feed(std::string_view(f).substr(i, 1), used).kind, kind::need_more);
    EXPECT_EQ(d.buffered(), i == 3 ? 0u : i + 1);  // once the header is whole it is not held
  }
  EXPECT_EQ(d.feed(std::string_view(f).substr(4, 100), used).kind, kind::need_more);
  EXPECT_EQ(d.buffered(), 100u);
  auto ev = d.feed(std::string_view(f).substr(104), used);
  ASSERT_EQ(ev.kind, kind::message);
  EXPECT_EQ(ev.payload, pattern(300));
  EXPECT_EQ(d.buffered(), 0u);

  d.release_memory();
  EXPECT_EQ(d.buffered(), 0u);
  const std::string ping = server_frame(0x89, "abc");
  EXPECT_EQ(d.feed(std::string_view(ping).substr(0, 3), used).kind, kind::need_more);
  EXPECT_EQ(d.buffered(), 1u);
  ev = d.feed(std::string_view(ping).substr(3), used);
  ASSERT_EQ(ev.kind, kind::ping);
  EXPECT_EQ(ev.payload, "abc");
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(ws_frame, release_memory_keeps_a_partial_message) {
  const std::string in = server_frame(0x01, "part one, ") + server_frame(0x80, "part two");
  ws_decoder d;
  std::size_t used = 0;
  // The whole first fragment (12 bytes) plus the next header and 2 payload bytes.
  EXPECT_EQ(d.feed(std::string_view(in).substr(0, 16), used).kind, kind::need_more);
  d.release_memory();
  EXPECT_EQ(d.buffered(), 12u);
  const auto ev = d.feed(std::string_view(in).substr(16), used);
  ASSERT_EQ(ev.kind, kind::message);
  EXPECT_EQ(ev.payload, "part one, part two");
}

// --- encoder -------------------------------------------------------------------------------

TEST(ws_frame, encode_then_unmask_round_trips_every_length_class) {
  std::uint32_t key = 0x9e3779b9;
  for (std::size_t n : {0, 1, 3, 7, 8, 9, 15, 16, 17, 125, 126, 127, 65535, 65536, 70001}) {
    SCOPED_TRACE(n);
    const std::string payload = pattern(n);
    std::string out = "prefix";  // appends, never overwrites
    ws_encode_frame(out, ws_opcode::binary, payload, key);
    ASSERT_EQ(out.substr(0, 6), "prefix");
    const auto c = parse_client_frame(std::string_view(out).substr(6));
    EXPECT_TRUE(c.fin);
    EXPECT_EQ(c.opcode, 2);
    EXPECT_TRUE(c.masked);
    EXPECT_EQ(c.header, n < 126 ? 6u : n <= 65535 ? 8u : 14u);
    EXPECT_EQ(c.payload, payload);
    if (n >= 8) {
      EXPECT_NE(out.substr(6 + c.header), payload);
    }

    // What the decoder makes of the same frame sent unmasked.
    EXPECT_EQ(decode_at_once(server_frame(0x82, c.payload)), std::vector<seen>{message(payload, true)});
    key = key * 2654435761u + 1;
  }
}

TEST(ws_frame, encode_close) {
  std::string out;
  ws_encode_close(out, 0, "ignored without a code", 0x11223344);
  EXPECT_EQ(out, bytes({0x88, 0x80, 0x11, 0x22, 0x33, 0x44}));

  out.clear();
  ws_encode_close(out, 1000, "bye", 0x11223344);
  auto c = parse_client_frame(out);
  EXPECT_EQ(c.opcode, 8);
  EXPECT_EQ(c.payload, close_payload(1000, "bye"));

  out.clear();
  ws_encode_close(out, 1001, std::string(200, 'r'), 0);
  c = parse_client_frame(out);
  EXPECT_EQ(c.payload, close_payload(1001, std::string(123, 'r')));

  // 122 ASCII bytes then a 3-byte character: cutting at 123 would split it, so it is dropped.
  out.clear();
  ws_encode_close(out, 1000, std::string(122, 'r') + "\xE2\x82\xAC", 0);
  c = parse_client_frame(out);
  EXPECT_EQ(c.payload, close_payload(1000, std::string(122, 'r')));
  EXPECT_TRUE(ws_valid_utf8(std::string_view(c.payload).substr(2)));
}

// --- UTF-8 ---------------------------------------------------------------------------------

TEST(ws_frame, utf8_validator) {
  EXPECT_TRUE(ws_valid_utf8(""));
  EXPECT_TRUE(ws_valid_utf8("plain ascii that is longer than eight bytes"));
  EXPECT_TRUE(ws_valid_utf8("\xC2\x80\xDF\xBF"));
  EXPECT_TRUE(ws_valid_utf8("\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"));
  EXPECT_TRUE(ws_valid_utf8("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"));
  EXPECT_TRUE(ws_valid_utf8("Hello-\xC2\xB5@\xC3\x9F\xC3\xB6\xC3\xA4\xC3\xBC\xC3\xA0\xC3\xA1-UTF-8!!"));
  EXPECT_FALSE(ws_valid_utf8("\x80"));
  EXPECT_FALSE(ws_valid_utf8("\xC0\x80"));            // overlong
  EXPECT_FALSE(ws_valid_utf8("\xC1\xBF"));            // overlong
  EXPECT_FALSE(ws_valid_utf8("\xE0\x9F\xBF"));        // overlong
  EXPECT_FALSE(ws_valid_utf8("\xED\xA0\x80"));        // surrogate
  EXPECT_FALSE(ws_valid_utf8("\xF0\x8F\xBF\xBF"));    // overlong
  EXPECT_FALSE(ws_valid_utf8("\xF4\x90\x80\x80"));    // above U+10FFFF
  EXPECT_FALSE(ws_valid_utf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(ws_valid_utf8("\xFF"));
  EXPECT_FALSE(ws_valid_utf8("abcdefgh\xE2\x82"));    // truncated after the fast path
  EXPECT_FALSE(ws_valid_utf8("\xE2\x28\xA1"));
  EXPECT_FALSE(ws_valid_utf8("\xF0\x90\x28\xBC"));
}

}  // namespace
