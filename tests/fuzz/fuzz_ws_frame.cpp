// Fuzzes the WebSocket frame decoder. Input layout: 2 control bytes, then what a server sends.
//   byte 0: 0 = default limits, else max_message = byte * 7
//   byte 1: seed for the random split points
// The stream is decoded in one piece, byte by byte and in random pieces; the events must be the
// same. Every event is checked on its own, and every message is encoded again with the client
// encoder, unmasked, and decoded back to itself.

#include "net/ws_frame.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using chaperon::net::ws_decoder;
using chaperon::net::ws_opcode;
using kind = ws_decoder::event_kind;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

struct recorded {
  kind k;
  bool binary;
  std::string payload;
  std::uint16_t close_code;
  std::string_view error;
  bool operator==(const recorded&) const = default;
};

// A plain code point by code point validator, to compare against the word-at-a-time one.
bool utf8_ok(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    constexpr std::uint32_t min_for[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_for[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// Turns a masked client frame into the unmasked form a server would send.
std::string unmask(std::string_view frame) {
  check(frame.size() >= 6, "a client frame has a header and a mask");
  std::string out(frame.substr(0, 2));
  check((frame[1] & 0x80) != 0, "client frames are masked");
  out[1] = static_cast<char>(frame[1] & 0x7F);
  const std::size_t len7 = frame[1] & 0x7F;
  const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  out += frame.substr(2, ext);
  const std::string_view key = frame.substr(2 + ext, 4);
  const std::string_view payload = frame.substr(6 + ext);
  for (std::size_t i = 0; i < payload.size(); ++i) out += static_cast<char>(payload[i] ^ key[i & 3]);
  return out;
}

// Decodes one complete frame that must give exactly `expected`.
void expect_decodes_to(const std::string& frame, const recorded& expected) {
  ws_decoder d;
  std::size_t used = 0;
  const auto ev = d.feed(frame, used);
  check(used == frame.size(), "a re-encoded frame is consumed whole");
  check(ev.kind == expected.k && std::string(ev.payload) == expected.payload &&
            ev.close_code == expected.close_code && (ev.kind != kind::message || ev.binary == expected.binary),
        "encode then decode gives the same event");
  check(d.buffered() == 0, "nothing held after a whole frame");
}

void check_round_trip(const recorded& r, std::uint32_t mask) {
  std::string frame;
  switch (r.k) {
    case kind::message:
      chaperon::net::ws_encode_frame(frame, r.binary ? ws_opcode::binary : ws_opcode::text, r.payload, mask);
      break;
    case kind::ping:
      chaperon::net::ws_encode_frame(frame, ws_opcode::ping, r.payload, mask);
      break;
    case kind::pong:
      chaperon::net::ws_encode_frame(frame, ws_opcode::pong, r.payload, mask);
      break;
    case kind::close:
      if (r.close_code == chaperon::net::ws_close_no_status) return;  // not sendable as a code
      chaperon::net::ws_encode_close(frame, r.close_code, r.payload, mask);
      break;
    default:
      return;
  }
  expect_decodes_to(unmask(frame), r);
}

std::vector<recorded> drive(const std::vector<std::string_view>& pieces, ws_decoder::limits limits) {
  std::vector<recorded> out;
  ws_decoder d(limits);
  for (std::string_view rest : pieces) {
    for (;;) {
      std::size_t used = 0;
      const auto ev = d.feed(rest, used);
      check(used <= rest.size(), "used within the input");
      if (ev.kind == kind::need_more) {
        check(used == rest.size(), "need_more consumes everything");
        check(d.error().empty(), "no error name without an error");
        break;
      }
      if (ev.kind == kind::error) {
        check(!d.error().empty(), "an error has a name");
        std::size_t again = 1;
        check(d.feed(rest, again).kind == kind::error && again == 0, "an error is final");
        out.push_back({kind::error, false, {}, 0, d.error()});
        return out;
      }
      rest.remove_prefix(used);
      recorded r{ev.kind, ev.binary, std::string(ev.payload), ev.close_code, {}};
      switch (ev.kind) {
        case kind::message:
          check(r.payload.size() <= limits.max_message, "message within max_message");
          check(d.buffered() == 0, "nothing held right after a message");
          if (!r.binary) check(utf8_ok(r.payload), "text messages are UTF-8");
          break;
        case kind::close:
          check(chaperon::net::ws_valid_close_code(r.close_code) ||
                    r.close_code == chaperon::net::ws_close_no_status,
                "close code is valid");
          check(utf8_ok(r.payload), "close reason is UTF-8");
          [[fallthrough]];
        case kind::ping:
        case kind::pong:
          check(r.payload.size() <= chaperon::net::ws_max_control_payload, "control payload <= 125");
          break;
        default:
          check(false, "known event kind");
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  ws_decoder::limits limits;
  if (data[0] != 0) limits.max_message = std::size_t{data[0]} * 7;
  std::uint32_t seed = data[1] * 2654435761u + 1;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  check(chaperon::net::ws_valid_utf8(stream) == utf8_ok(stream), "UTF-8 validators agree");

  const auto whole = drive({stream}, limits);
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i) bytes.push_back(stream.substr(i, 1));
  check(drive(bytes, limits) == whole, "byte by byte gives the same events");
  std::vector<std::string_view> pieces;
  for (std::size_t pos = 0; pos < stream.size();) {
    seed = seed * 1103515245u + 12345u;
    const std::size_t len = 1 + (seed >> 16) % 40;
    pieces.push_back(stream.substr(pos, len));
    pos += len;
  }
  check(drive(pieces, limits) == whole, "random pieces give the same events");

  for (const recorded& r : whole) {
    check_round_trip(r, seed);
    if (r.k == kind::message) {
      check(chaperon::net::ws_valid_utf8(r.payload) == utf8_ok(r.payload), "UTF-8 validators agree");
    }
  }
  return 0;
}
