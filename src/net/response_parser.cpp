#include "net/response_parser.hpp"

#include "net/ascii.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>

namespace chaperon::net {

namespace {

class parse_error_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "chaperon.http_response"; }

  std::string message(int ev) const override {
    switch (static_cast<parse_error>(ev)) {
      case parse_error::bad_status_line: return "malformed HTTP status line";
      case parse_error::bad_version: return "unsupported HTTP version";
      case parse_error::bad_status_code: return "malformed HTTP status code";
      case parse_error::bad_header: return "malformed HTTP header";
      case parse_error::header_too_large: return "HTTP response header too large";
      case parse_error::too_many_headers: return "too many HTTP response headers";
      case parse_error::bad_content_length: return "invalid Content-Length";
      case parse_error::bad_transfer_encoding: return "invalid Transfer-Encoding";
      case parse_error::bad_chunk_size: return "invalid chunk size";
      case parse_error::bad_chunk: return "malformed chunked body";
      case parse_error::body_too_large: return "HTTP response body too large";
      case parse_error::unexpected_eof: return "connection closed before the response was complete";
    }
    return "unknown HTTP response parse error";
  }
};

// RFC 9110 tchar, as a table because header names are checked byte by byte on the hot path.
constexpr std::array<bool, 256> token_table = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();


bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!token_table[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

// Field values and reason phrases may hold visible ASCII, SP, HTAB and obs-text, nothing else.
bool bytes_are_field_text(std::string_view s) noexcept {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return false;
  }
  return true;
}

// The same, eight bytes at a time: most values hold no control byte at all, and a word without
// one (no byte below 0x20, none equal to 0x7f) passes with a few instructions instead of eight
// compares. A word with one, HTAB included, is checked byte by byte.
bool is_field_text(std::string_view s) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, 8);
    // A byte below n sets its high bit in (w - n*ones) & ~w for n <= 0x80; a borrow out of such a
    // byte may mark its neighbour too, which only sends the word to the exact check.
    const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
    const std::uint64_t x = w ^ (ones * 0x7f);
    const std::uint64_t del = (x - ones) & ~x & highs;
    if ((below_space | del) != 0 && !bytes_are_field_text(s.substr(i, 8))) return false;
  }
  return bytes_are_field_text(s.substr(i));
}

constexpr std::uint64_t max_body_reserve = 256 * 1024;

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls fn for every element of a comma separated list, trimmed, skipping empty elements as
// RFC 9110 section 5.6.1 asks of recipients. Stops early when fn returns false.
template <typename Fn>
bool for_each_element(std::string_view list, Fn&& fn) {
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view item = trim_ows(list.substr(0, comma));
    if (!item.empty() && !fn(item)) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const std::error_category& parse_error_category() {
  static const parse_error_category_impl category;
  return category;
}

std::error_code make_error_code(parse_error e) {
  return {static_cast<int>(e), parse_error_category()};
}

std::string_view response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

response_parser::response_parser(response_limits limits) : limits_(limits) { reset(); }

void response_parser::reset(bool head_request, bool store_body) {
  start_message();
  res_.body.clear();
  res_.body_size = 0;
  partial_.clear();
  partial_done_ = false;
  state_ = state::status_line;
  error_ = {};
  head_request_ = head_request;
  store_body_ = store_body;
  started_ = false;
  remaining_ = 0;
}

void response_parser::start_message() {
  for (auto& h : res_.headers) spare_headers_.push_back(std::move(h));
  res_.headers.clear();
  res_.status = 0;
  res_.reason.clear();
  res_.keep_alive = true;
  res_.version_minor = 1;
  header_bytes_ = 0;
  field_count_ = 0;
  has_content_length_ = false;
  content_length_invalid_ = false;
  content_length_ = 0;
  has_transfer_encoding_ = false;
  transfer_encoding_invalid_ = false;
  chunked_count_ = 0;
  chunked_last_ = false;
  connection_close_ = false;
  connection_keep_alive_ = false;
}

response response_parser::release() {
  headers_seen_ = static_cast<std::uint16_t>(std::clamp<std::size_t>(res_.headers.size(), 1, 256));
  response out = std::move(res_);
  res_ = response{};
  state_ = state::done;
  return out;
}

response_parser::status response_parser::fail(parse_error e) {
  state_ = state::failed;
  error_ = make_error_code(e);
  return status::error;
}

std::size_t response_parser::header_budget() const noexcept {
  return header_bytes_ >= limits_.max_header_bytes ? 0 : limits_.max_header_bytes - header_bytes_;
}

response_parser::line_result response_parser::take_line(std::string_view data, std::size_t& pos,
                                                        std::size_t limit, std::string_view& line,
                                                        std::size_t& raw_size) {
  if (partial_done_) {
    partial_.clear();
    partial_done_ = false;
  }
  const char* begin = data.data() + pos;
  const std::size_t avail = data.size() - pos;
  const void* nl = std::memchr(begin, '\n', avail);
  if (nl == nullptr) {
    if (partial_.size() + avail > limit) return line_result::too_long;
    partial_.append(begin, avail);
    pos = data.size();
    return line_result::incomplete;
  }
  const auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - begin);
  raw_size = partial_.size() + len + 1;
  if (raw_size > limit) return line_result::too_long;
  if (partial_.empty()) {
    line = std::string_view(begin, len);
  } else {
    partial_.append(begin, len);
    line = partial_;
    partial_done_ = true;
  }
  pos += len + 1;
  // A bare LF is accepted as a line end (RFC 9112 section 2.2 allows it).
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line_result::complete;
}

response_parser::status response_parser::feed(std::string_view data, std::size_t& consumed) {
  std::size_t pos = 0;
  // Each step handles one line or one run of body bytes; lines are found with memchr and body
  // bytes are copied in bulk, so the cost per byte stays small.
  while (state_ != state::done && state_ != state::failed && pos < data.size()) {
    switch (state_) {
      case state::status_line:
      case state::header_line:
        feed_head(data, pos);
        break;
      case state::body_fixed: {
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(remaining_, data.size() - pos));
        add_body(data.substr(pos, n));
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = state::done;
        break;
      }
      case state::body_until_close: {
        const std::string_view rest = data.substr(pos);
        if (res_.body_size + rest.size() > limits_.max_body_bytes) {
          fail(parse_error::body_too_large);
          break;
        }
        add_body(rest);
        pos = data.size();
        break;
      }
      default:
        feed_chunked(data, pos);
        break;
    }
  }
  if (pos > 0) started_ = true;
  consumed = pos;
  if (state_ == state::done) return status::done;
  if (state_ == state::failed) return status::error;
  return status::need_more;
}

response_parser::status response_parser::feed_eof() {
  switch (state_) {
    case state::body_until_close:
      res_.keep_alive = false;
      state_ = state::done;
      return status::done;
    case state::done:
      return status::done;
    case state::failed:
      return status::error;
    default:
      return fail(parse_error::unexpected_eof);
  }
}

void response_parser::add_body(std::string_view bytes) {
  res_.body_size += bytes.size();
  if (!store_body_) return;
  auto& body = res_.body;
  const std::size_t needed = body.size() + bytes.size();
  if (needed > body.capacity()) {
    // Doubling, but never past the body limit: a body that grows toward the limit (chunked,
    // no length announced) then peaks at the limit, not at twice it.
    body.reserve(std::min(std::max(needed, body.capacity() * 2), limits_.max_body_bytes));
  }
  body.append(bytes);
}

void response_parser::feed_head(std::string_view data, std::size_t& pos) {
  std::string_view line;
  std::size_t raw_size = 0;
  const line_result r = take_line(data, pos, header_budget(), line, raw_size);
  if (r == line_result::too_long) {
    fail(parse_error::header_too_large);
    return;
  }
  if (r == line_result::incomplete) return;
  header_bytes_ += raw_size;

  if (state_ == state::status_line) {
    // Stray empty lines before a status line are tolerated; the header budget bounds them.
    if (line.empty()) return;
    if (parse_status_line(line)) state_ = state::header_line;
    return;
  }
  if (line.empty()) {
    finish_headers();
    return;
  }
  parse_header_line(line);
}

bool response_parser::parse_status_line(std::string_view line) {
  constexpr std::string_view prefix = "HTTP/";
  if (line.substr(0, prefix.size()) != prefix) return reject(parse_error::bad_status_line);
  // "HTTP/" DIGIT "." DIGIT SP
  if (line.size() < 8 || !is_digit(line[5]) || line[6] != '.' || !is_digit(line[7])) {
    return reject(parse_error::bad_version);
  }
  if (line[5] != '1' || (line[7] != '0' && line[7] != '1')) return reject(parse_error::bad_version);
  if (line.size() < 9 || line[8] != ' ') return reject(parse_error::bad_status_line);
  res_.version_minor = line[7] - '0';

  const std::string_view rest = line.substr(9);
  if (rest.size() < 3 || !is_digit(rest[0]) || !is_digit(rest[1]) || !is_digit(rest[2]) ||
      (rest.size() > 3 && rest[3] != ' ')) {
    return reject(parse_error::bad_status_code);
  }
  const int code = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
  if (code < 100) return reject(parse_error::bad_status_code);
  res_.status = code;

  const std::string_view reason = rest.size() > 4 ? rest.substr(4) : std::string_view{};
  if (!is_field_text(reason)) return reject(parse_error::bad_status_line);
  res_.reason.assign(reason);
  return true;
}

bool response_parser::parse_header_line(std::string_view line) {
  // Obsolete line folding (a line starting with whitespace) is rejected, as RFC 9112 permits.
  if (is_ows(line.front())) return reject(parse_error::bad_header);
  // One pass finds the colon and checks the name: ':' is not a token character.
  std::size_t colon = 0;
  while (colon < line.size() && token_table[static_cast<unsigned char>(line[colon])]) ++colon;
  if (colon == 0 || colon == line.size() || line[colon] != ':') {
    return reject(parse_error::bad_header);
  }
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = trim_ows(line.substr(colon + 1));
  if (!is_field_text(value)) return reject(parse_error::bad_header);
  if (++field_count_ > limits_.max_headers) return reject(parse_error::too_many_headers);
  if (state_ == state::trailer_line) return true;  // trailers are validated, not kept
  note_framing_header(name, value);

  // A released response took its vector along: size the next one as the last was, so that it
  // grows once, not once per doubling.
  if (res_.headers.capacity() == 0) res_.headers.reserve(headers_seen_);
  if (spare_headers_.empty()) {
    res_.headers.emplace_back(name, value);
  } else {
    res_.headers.push_back(std::move(spare_headers_.back()));
    spare_headers_.pop_back();
    res_.headers.back().first.assign(name);
    res_.headers.back().second.assign(value);
  }
  return true;
}

void response_parser::note_framing_header(std::string_view name, std::string_view value) {
  // Dispatch on length first: most headers are none of these and are ruled out by one compare.
  switch (name.size()) {
    case 10:
      if (iequals(name, "connection")) parse_connection(value);
      break;
    case 14:
      if (iequals(name, "content-length")) parse_content_length(value);
      break;
    case 17:
      if (iequals(name, "transfer-encoding")) parse_transfer_encoding(value);
      break;
    default:
      break;
  }
}

// Problems are only recorded here: when Transfer-Encoding is present it decides the framing and
// Content-Length is ignored, which is only known once all headers are in.
void response_parser::parse_content_length(std::string_view value) {
  bool any = false;
  const bool ok = for_each_element(value, [&](std::string_view item) {
    std::uint64_t v = 0;
    for (char c : item) {
      if (!is_digit(c)) return false;
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
      v = v * 10 + d;
    }
    if (has_content_length_ && v != content_length_) return false;
    has_content_length_ = true;
    content_length_ = v;
    any = true;
    return true;
  });
  if (!ok || !any) {
    has_content_length_ = true;
    content_length_invalid_ = true;
  }
}

void response_parser::parse_transfer_encoding(std::string_view value) {
  has_transfer_encoding_ = true;
  bool any = false;
  const bool ok = for_each_element(value, [&](std::string_view item) {
    const std::string_view coding = trim_ows(item.substr(0, item.find(';')));
    if (!is_token(coding)) return false;
    any = true;
    chunked_last_ = iequals(coding, "chunked");
    if (chunked_last_) ++chunked_count_;
    return true;
  });
  if (!ok || !any) transfer_encoding_invalid_ = true;
}

void response_parser::parse_connection(std::string_view value) {
  for_each_element(value, [&](std::string_view item) {
    if (iequals(item, "close")) connection_close_ = true;
    if (iequals(item, "keep-alive")) connection_keep_alive_ = true;
    return true;
  });
}

bool response_parser::finish_headers() {
  const int code = res_.status;
  if (code < 200 && code != 101) {
    // Interim response (100 Continue, 103 Early Hints, ...): the final one follows.
    start_message();
    state_ = state::status_line;
    return true;
  }
  if (res_.version_minor >= 1) {
    res_.keep_alive = !connection_close_;
  } else {
    res_.keep_alive = connection_keep_alive_ && !connection_close_;
  }

  if (code == 101) {
    // The connection now speaks another protocol and cannot carry further HTTP responses.
    res_.keep_alive = false;
    state_ = state::done;
    return true;
  }
  if (head_request_ || code == 204 || code == 304) {
    state_ = state::done;
    return true;
  }
  if (has_transfer_encoding_) {
    if (transfer_encoding_invalid_ || chunked_count_ > 1) {
      return reject(parse_error::bad_transfer_encoding);
    }
    // Chunked framing in an HTTP/1.0 message cannot be trusted to leave the connection clean.
    if (res_.version_minor == 0) res_.keep_alive = false;
    if (chunked_last_) {
      state_ = state::chunk_size;
    } else {
      res_.keep_alive = false;
      state_ = state::body_until_close;
    }
    return true;
  }
  if (has_content_length_) {
    if (content_length_invalid_) return reject(parse_error::bad_content_length);
    if (content_length_ > limits_.max_body_bytes) return reject(parse_error::body_too_large);
    remaining_ = content_length_;
    // The announced length is the peer's word, not bytes seen: reserving all of it would let one
    // header pin up to max_body_bytes per connection (kept across reset()) before any body byte
    // arrives. Beyond the cap the string grows as the bytes come in.
    if (store_body_) {
      res_.body.reserve(static_cast<std::size_t>(std::min(content_length_, max_body_reserve)));
    }
    state_ = remaining_ == 0 ? state::done : state::body_fixed;
    return true;
  }
  res_.keep_alive = false;
  state_ = state::body_until_close;
  return true;
}

bool response_parser::parse_chunk_size(std::string_view line) {
  std::uint64_t size = 0;
  std::size_t i = 0;
  for (; i < line.size(); ++i) {
    const int d = hex_value(line[i]);
    if (d < 0) break;
    if (size > (std::numeric_limits<std::uint64_t>::max() >> 4)) {
      return reject(parse_error::bad_chunk_size);
    }
    size = (size << 4) | static_cast<std::uint64_t>(d);
  }
  if (i == 0) return reject(parse_error::bad_chunk_size);
  while (i < line.size() && is_ows(line[i])) ++i;
  // Chunk extensions carry nothing we use; they only have to be introduced properly.
  if (i < line.size() && line[i] != ';') return reject(parse_error::bad_chunk_size);

  if (size == 0) {
    state_ = state::trailer_line;
    return true;
  }
  if (size > limits_.max_body_bytes || res_.body_size + size > limits_.max_body_bytes) {
    return reject(parse_error::body_too_large);
  }
  remaining_ = size;
  state_ = state::chunk_data;
  return true;
}

void response_parser::feed_chunked(std::string_view data, std::size_t& pos) {
  switch (state_) {
    case state::chunk_size: {
      std::string_view line;
      std::size_t raw_size = 0;
      const line_result r = take_line(data, pos, limits_.max_header_bytes, line, raw_size);
      if (r == line_result::too_long) {
        fail(parse_error::bad_chunk_size);
      } else if (r == line_result::complete) {
        parse_chunk_size(line);
      }
      return;
    }
    case state::chunk_data: {
      const auto n =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - pos));
      add_body(data.substr(pos, n));
      pos += n;
      remaining_ -= n;
      if (remaining_ == 0) state_ = state::chunk_data_cr;
      return;
    }
    case state::chunk_data_cr:
    case state::chunk_data_lf: {
      const char c = data[pos++];
      if (c == '\n') {
        state_ = state::chunk_size;  // a bare LF ends the chunk as well
      } else if (c == '\r' && state_ == state::chunk_data_cr) {
        state_ = state::chunk_data_lf;
      } else {
        fail(parse_error::bad_chunk);
      }
      return;
    }
    case state::trailer_line: {
      std::string_view line;
      std::size_t raw_size = 0;
      const line_result r = take_line(data, pos, header_budget(), line, raw_size);
      if (r == line_result::too_long) {
        fail(parse_error::header_too_large);
      } else if (r == line_result::complete) {
        header_bytes_ += raw_size;
        if (line.empty()) {
          state_ = state::done;
        } else {
          parse_header_line(line);
        }
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace chaperon::net
