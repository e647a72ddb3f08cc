#pragma once
// WebSocket (RFC 6455) framing for the client side, without any I/O: an encoder for masked client
// frames and an incremental decoder for server frames. No extension is ever negotiated, so any
// RSV bit set by the server is a protocol error.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace chaperon::net {

enum class ws_opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// Largest control frame payload (RFC 6455 5.5), and largest close reason (two bytes go to the code).
constexpr std::size_t ws_max_control_payload = 125;
constexpr std::size_t ws_max_close_reason = 123;
// Close code meaning "the close frame carried no code" (never sent on the wire).
constexpr std::uint16_t ws_close_no_status = 1005;

// Appends one complete client frame (FIN set, masked with mask_key as RFC 6455 requires). The
// four mask bytes are mask_key in network byte order.
void ws_encode_frame(std::string& out, ws_opcode op, std::string_view payload, std::uint32_t mask_key);

// Appends a close frame with status code (omit the code when code == 0, and then the reason too,
// since a reason cannot travel without a code) and reason (truncated to 123 bytes, backing off to
// a UTF-8 character boundary so that the peer does not reject it).
void ws_encode_close(std::string& out, std::uint16_t code, std::string_view reason, std::uint32_t mask_key);

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool ws_valid_utf8(std::string_view s) noexcept;

// True for a close code a peer may send (RFC 6455 7.4, plus the IANA-registered 1012..1014).
bool ws_valid_close_code(std::uint16_t code) noexcept;

// Incremental decoder of server -> client frames. Joins fragmented messages; control frames
// (ping/pong/close) may arrive between fragments and are reported at once.
//
// Error names (error()) are stable: "masked frame", "reserved bits", "bad opcode",
// "control frame too long", "fragmented control frame", "unexpected continuation",
// "expected continuation", "bad length", "message too big", "invalid utf-8",
// "bad close payload", "bad close code". Non-minimal length encodings are accepted.
class ws_decoder {
 public:
  struct limits {
    std::size_t max_message = 16 * 1024 * 1024;
  };
  enum class event_kind { need_more, message, ping, pong, close, error };
  struct event {
    event_kind kind = event_kind::need_more;
    bool binary = false;           // message: binary (else text)
    std::string_view payload;      // message/ping/pong payload, close reason; valid until the next
                                   // feed()/reset()/release_memory() and while `data` lives
    std::uint16_t close_code = 0;  // close: the code (1005 when the frame carried none)
  };

  // Two constructors rather than `limits l = {}`: GCC rejects a default argument that needs the
  // nested struct's member initializers before the enclosing class is complete.
  ws_decoder() : ws_decoder(limits{}) {}
  explicit ws_decoder(limits l);

  // Consumes bytes of `data` up to and including at most one event; `used` says how many.
  // Callers loop: feed(rest) until kind == need_more (then all of data was consumed and any
  // incomplete frame is held inside). A complete unfragmented data or control frame lying
  // entirely in `data` is reported as a view into `data`, without copying.
  // After `error`, the decoder stays in error: every later feed() returns `error` with used == 0.
  event feed(std::string_view data, std::size_t& used);

  // Why it failed (one of the names listed above); empty while there is no error.
  std::string_view error() const noexcept { return error_; }

  // Bytes held inside (partial header, frame or message); 0 between messages.
  std::size_t buffered() const noexcept;

  // Releases buffers (shrinks to nothing) so an idle connection costs no memory. A partial
  // message that is held is kept, in a buffer trimmed to its size.
  void release_memory();

  // Back to the initial state (error cleared), keeping buffer capacity.
  void reset();

 private:
  enum class header_status { incomplete, done, failed };

  header_status read_header(std::string_view data, std::size_t& used);
  std::string_view check_start(std::uint8_t b0, std::uint8_t b1) const noexcept;
  header_status parse_header(const std::uint8_t* h);
  event control_event(std::string_view payload);
  event message_event(std::string_view payload, bool binary);
  event fail(std::string_view why);
  static event error_event() noexcept;

  limits limits_;
  std::string msg_;                // payload of the message being assembled (or just delivered)
  std::string_view error_;         // points at a string literal
  std::uint64_t remaining_ = 0;    // payload bytes of the current frame not yet seen
  std::uint8_t hdr_buf_[14] = {};  // a header split across feed() calls
  std::uint8_t hdr_len_ = 0;
  std::uint8_t ctl_len_ = 0;
  // A control payload split across feed() calls. Allocated by the first such payload: an idle
  // connection does not carry it.
  std::unique_ptr<char[]> ctl_buf_;
  ws_opcode op_ = ws_opcode::continuation;     // opcode of the current frame
  bool fin_ = false;
  bool in_payload_ = false;     // header done, payload bytes still expected
  bool msg_open_ = false;       // a fragmented message has begun and awaits continuations
  bool msg_binary_ = false;
  bool msg_delivered_ = false;  // msg_ holds the last delivered message; clear on next feed()
};

}  // namespace chaperon::net
