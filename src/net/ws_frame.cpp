#include "net/ws_frame.hpp"

#include <algorithm>
#include <cstring>

namespace chaperon::net {

namespace {

constexpr std::uint8_t fin_bit = 0x80;
constexpr std::uint8_t rsv_bits = 0x70;
constexpr std::uint8_t opcode_bits = 0x0F;
constexpr std::uint8_t mask_bit = 0x80;
constexpr std::uint8_t len7_bits = 0x7F;
constexpr std::uint8_t len16_marker = 126;
constexpr std::uint8_t len64_marker = 127;
constexpr std::uint64_t ascii_word_mask = 0x8080808080808080ULL;

constexpr bool is_control(ws_opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x08) != 0; }

constexpr bool is_known_opcode(std::uint8_t op) noexcept {
  return op <= 2 || (op >= 8 && op <= 10);
}

// Extended length bytes that follow the first two header bytes (masked frames never get this far).
constexpr std::size_t header_size(std::uint8_t b1) noexcept {
  const std::uint8_t len7 = b1 & len7_bits;
  return 2 + (len7 == len16_marker ? 2 : len7 == len64_marker ? 8 : 0);
}

// XORs 8 bytes at a time: the mask repeats every 4 bytes, so a word holding it twice lines up
// with any 8-aligned offset of the payload, whatever the machine's byte order.
void apply_mask(char* p, std::size_t n, const std::uint8_t key[4]) noexcept {
  const std::uint8_t twice[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
  std::uint64_t m = 0;
  std::memcpy(&m, twice, sizeof m);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p + i, sizeof w);
    w ^= m;
    std::memcpy(p + i, &w, sizeof w);
  }
  for (; i < n; ++i) p[i] = static_cast<char>(p[i] ^ key[i & 3]);
}

// A UTF-8 truncation point at or below `n` that does not split a character.
std::size_t utf8_cut(std::string_view s, std::size_t n) noexcept {
  if (n >= s.size()) return s.size();
  while (n > 0 && (static_cast<std::uint8_t>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

void ws_encode_frame(std::string& out, ws_opcode op, std::string_view payload, std::uint32_t mask_key) {
  std::uint8_t hdr[14];
  std::size_t h = 0;
  const std::uint64_t n = payload.size();
  hdr[h++] = static_cast<std::uint8_t>(fin_bit | static_cast<std::uint8_t>(op));
  if (n < len16_marker) {
    hdr[h++] = static_cast<std::uint8_t>(mask_bit | n);
  } else if (n <= 0xFFFF) {
    hdr[h++] = mask_bit | len16_marker;
    hdr[h++] = static_cast<std::uint8_t>(n >> 8);
    hdr[h++] = static_cast<std::uint8_t>(n);
  } else {
    hdr[h++] = mask_bit | len64_marker;
    for (int shift = 56; shift >= 0; shift -= 8) hdr[h++] = static_cast<std::uint8_t>(n >> shift);
  }
  const std::uint8_t* key = hdr + h;
  for (int shift = 24; shift >= 0; shift -= 8) hdr[h++] = static_cast<std::uint8_t>(mask_key >> shift);

  const std::size_t start = out.size() + h;
  out.append(reinterpret_cast<const char*>(hdr), h);
  out.append(payload);
  apply_mask(out.data() + start, payload.size(), key);
}

void ws_encode_close(std::string& out, std::uint16_t code, std::string_view reason, std::uint32_t mask_key) {
  char buf[ws_max_control_payload];
  std::size_t n = 0;
  if (code != 0) {
    buf[0] = static_cast<char>(code >> 8);
    buf[1] = static_cast<char>(code & 0xFF);
    const std::size_t r = utf8_cut(reason, ws_max_close_reason);
    if (r > 0) std::memcpy(buf + 2, reason.data(), r);
    n = 2 + r;
  }
  ws_encode_frame(out, ws_opcode::close, std::string_view(buf, n), mask_key);
}

bool ws_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (end - p >= 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, p, sizeof w);
      if ((w & ascii_word_mask) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    // The second byte's range carries the rules against overlong forms, surrogates and > U+10FFFF.
    std::ptrdiff_t more = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      more = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (end - p <= more) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (std::ptrdiff_t i = 2; i <= more; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
    }
    p += more + 1;
  }
  return true;
}

bool ws_valid_close_code(std::uint16_t code) noexcept {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

ws_decoder::ws_decoder(limits l) : limits_(l) {}

std::size_t ws_decoder::buffered() const noexcept {
  return hdr_len_ + ctl_len_ + (msg_delivered_ ? 0 : msg_.size());
}

void ws_decoder::release_memory() {
  if (ctl_len_ == 0) ctl_buf_.reset();
  if (msg_delivered_ || msg_.empty()) {
    std::string().swap(msg_);
    msg_delivered_ = false;
  } else {
    msg_.shrink_to_fit();
  }
}

void ws_decoder::reset() {
  msg_.clear();
  error_ = {};
  remaining_ = 0;
  hdr_len_ = 0;
  ctl_len_ = 0;
  op_ = ws_opcode::continuation;
  fin_ = false;
  in_payload_ = false;
  msg_open_ = false;
  msg_binary_ = false;
  msg_delivered_ = false;
}

ws_decoder::event ws_decoder::error_event() noexcept {
  event ev;
  ev.kind = event_kind::error;
  return ev;
}

ws_decoder::event ws_decoder::fail(std::string_view why) {
  error_ = why;
  return error_event();
}

std::string_view ws_decoder::check_start(std::uint8_t b0, std::uint8_t b1) const noexcept {
  const std::uint8_t op = b0 & opcode_bits;
  if ((b0 & rsv_bits) != 0) return "reserved bits";
  if (!is_known_opcode(op)) return "bad opcode";
  if ((b1 & mask_bit) != 0) return "masked frame";
  if (is_control(static_cast<ws_opcode>(op))) {
    if ((b0 & fin_bit) == 0) return "fragmented control frame";
    if ((b1 & len7_bits) > ws_max_control_payload) return "control frame too long";
  } else if (op == static_cast<std::uint8_t>(ws_opcode::continuation)) {
    if (!msg_open_) return "unexpected continuation";
  } else if (msg_open_) {
    return "expected continuation";
  }
  return {};
}

ws_decoder::header_status ws_decoder::parse_header(const std::uint8_t* h) {
  const std::uint8_t len7 = h[1] & len7_bits;
  std::uint64_t len = len7;
  if (len7 == len16_marker) {
    len = (std::uint64_t{h[2]} << 8) | h[3];
  } else if (len7 == len64_marker) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | h[2 + i];
    if ((len >> 63) != 0) {
      error_ = "bad length";
      return header_status::failed;
    }
  }
  op_ = static_cast<ws_opcode>(h[0] & opcode_bits);
  fin_ = (h[0] & fin_bit) != 0;
  if (!is_control(op_)) {
    // Checked before any byte is buffered, so a hostile length cannot make us allocate.
    const std::size_t so_far = op_ == ws_opcode::continuation ? msg_.size() : 0;
    if (len > limits_.max_message || so_far > limits_.max_message - len) {
      error_ = "message too big";
      return header_status::failed;
    }
    if (op_ != ws_opcode::continuation) msg_binary_ = op_ == ws_opcode::binary;
  }
  remaining_ = len;
  return header_status::done;
}

ws_decoder::header_status ws_decoder::read_header(std::string_view data, std::size_t& used) {
  const auto* in = reinterpret_cast<const std::uint8_t*>(data.data());
  const std::size_t avail = data.size() - used;
  if (hdr_len_ == 0 && avail >= 2) {
    // Fast path: the whole header is in `data`, parse it in place.
    if (auto why = check_start(in[used], in[used + 1]); !why.empty()) {
      error_ = why;
      return header_status::failed;
    }
    const std::size_t size = header_size(in[used + 1]);
    if (avail >= size) {
      const std::uint8_t* h = in + used;
      used += size;
      return parse_header(h);
    }
  }
  while (hdr_len_ < 2 && used < data.size()) hdr_buf_[hdr_len_++] = in[used++];
  if (hdr_len_ < 2) return header_status::incomplete;
  if (auto why = check_start(hdr_buf_[0], hdr_buf_[1]); !why.empty()) {
    error_ = why;
    return header_status::failed;
  }
  const std::size_t size = header_size(hdr_buf_[1]);
  const std::size_t take = std::min(size - hdr_len_, data.size() - used);
  std::memcpy(hdr_buf_ + hdr_len_, in + used, take);
  hdr_len_ = static_cast<std::uint8_t>(hdr_len_ + take);
  used += take;
  if (hdr_len_ < size) return header_status::incomplete;
  hdr_len_ = 0;
  return parse_header(hdr_buf_);
}

ws_decoder::event ws_decoder::control_event(std::string_view payload) {
  event ev;
  if (op_ == ws_opcode::ping) {
    ev.kind = event_kind::ping;
    ev.payload = payload;
    return ev;
  }
  if (op_ == ws_opcode::pong) {
    ev.kind = event_kind::pong;
    ev.payload = payload;
    return ev;
  }
  ev.kind = event_kind::close;
  if (payload.empty()) {
    ev.close_code = ws_close_no_status;
    return ev;
  }
  if (payload.size() == 1) return fail("bad close payload");
  const auto* b = reinterpret_cast<const std::uint8_t*>(payload.data());
  ev.close_code = static_cast<std::uint16_t>((b[0] << 8) | b[1]);
  if (!ws_valid_close_code(ev.close_code)) return fail("bad close code");
  ev.payload = payload.substr(2);
  if (!ws_valid_utf8(ev.payload)) return fail("invalid utf-8");
  return ev;
}

ws_decoder::event ws_decoder::message_event(std::string_view payload, bool binary) {
  if (!binary && !ws_valid_utf8(payload)) return fail("invalid utf-8");
  event ev;
  ev.kind = event_kind::message;
  ev.binary = binary;
  ev.payload = payload;
  return ev;
}

ws_decoder::event ws_decoder::feed(std::string_view data, std::size_t& used) {
  used = 0;
  if (!error_.empty()) return error_event();
  if (msg_delivered_) {
    msg_.clear();
    msg_delivered_ = false;
  }
  for (;;) {
    if (!in_payload_) {
      const header_status st = read_header(data, used);
      if (st == header_status::failed) return error_event();
      if (st == header_status::incomplete) return {};
      if (remaining_ <= data.size() - used) {
        const std::string_view p = data.substr(used, remaining_);
        if (is_control(op_)) {
          used += p.size();
          remaining_ = 0;
          return control_event(p);
        }
        if (fin_ && op_ != ws_opcode::continuation) {
          used += p.size();
          remaining_ = 0;
          return message_event(p, msg_binary_);
        }
      }
      in_payload_ = true;
    }
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - used));
    if (is_control(op_)) {
      if (!ctl_buf_) ctl_buf_ = std::make_unique_for_overwrite<char[]>(ws_max_control_payload);
      std::memcpy(ctl_buf_.get() + ctl_len_, data.data() + used, take);
      ctl_len_ = static_cast<std::uint8_t>(ctl_len_ + take);
    } else {
      msg_.append(data.data() + used, take);
    }
    used += take;
    remaining_ -= take;
    if (remaining_ > 0) return {};
    in_payload_ = false;
    if (is_control(op_)) {
      const std::string_view p(ctl_buf_.get(), ctl_len_);
      ctl_len_ = 0;
      return control_event(p);
    }
    if (!fin_) {
      msg_open_ = true;
      continue;
    }
    msg_open_ = false;
    msg_delivered_ = true;
    return message_event(msg_, msg_binary_);
  }
}

}  // namespace chaperon::net
