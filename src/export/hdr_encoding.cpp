#include "export/hdr_encoding.hpp"

#include <zlib.h>

#include <bit>
#include <charconv>
#include <stdexcept>

#include "net/request_writer.hpp"

namespace chaperon::detail {
namespace {

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// ZigZagEncoding.putLong: 7 bits a byte with a continuation bit, the ninth byte carrying the
// last 8 bits whole.
void put_zigzag(std::string& out, std::int64_t value) {
  auto v = (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
  for (int i = 0; i < 8; ++i) {
    if ((v >> 7) == 0) {
      out.push_back(static_cast<char>(v));
      return;
    }
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// The counters, from the first up to the one holding max(): that one is the last non-zero
// counter, so the non-zero counters tell where to stop. An empty histogram has one zero counter,
// as Java's has (its max, 0, lives in counter 0).
std::string encode_counts(const histogram& h) {
  std::string out;
  std::size_t next = 0;  // the first counter not written yet
  h.for_each_counter([&](std::size_t index, std::uint64_t count) {
    const auto zeros = static_cast<std::int64_t>(index - next);
    if (zeros == 1) put_zigzag(out, 0);
    if (zeros > 1) put_zigzag(out, -zeros);
    put_zigzag(out, static_cast<std::int64_t>(count));
    next = index + 1;
  });
  if (next == 0) put_zigzag(out, 0);
  return out;
}

}  // namespace

std::string encode_hdr_v2(const histogram& h) {
  const std::string counts = encode_counts(h);
  std::string out;
  out.reserve(40 + counts.size());
  put_be(out, hdr_v2_cookie, 4);
  put_be(out, counts.size(), 4);
  put_be(out, 0, 4);  // normalizing index offset: our counters are never shifted
  put_be(out, hdr_significant_digits, 4);
  put_be(out, hdr_lowest_discernible_value, 8);
  put_be(out, histogram::highest_trackable_value, 8);
  put_be(out, std::bit_cast<std::uint64_t>(1.0), 8);  // integer-to-double conversion ratio
  out += counts;
  return out;
}

std::string encode_hdr_v2_compressed(const histogram& h) {
  const std::string plain = encode_hdr_v2(h);
  uLongf size = compressBound(static_cast<uLong>(plain.size()));
  std::string deflated(size, '\0');
  const int rc = compress2(reinterpret_cast<Bytef*>(deflated.data()), &size,
                           reinterpret_cast<const Bytef*>(plain.data()),
                           static_cast<uLong>(plain.size()), Z_DEFAULT_COMPRESSION);
  if (rc != Z_OK)
    throw std::runtime_error("zlib could not compress a histogram (code " + std::to_string(rc) +
                             ")");
  deflated.resize(size);
  std::string out;
  out.reserve(8 + deflated.size());
  put_be(out, hdr_v2_compressed_cookie, 4);
  put_be(out, deflated.size(), 4);
  out += deflated;
  return out;
}

std::string encode_hdr_base64(const histogram& h) {
  return net::base64_encode(encode_hdr_v2_compressed(h));
}

std::string hdr_log_tag(std::string_view name) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(name.size());
  for (const char c : name) {
    const auto b = static_cast<unsigned char>(c);
    const bool escape = c == '%' || c == ',' || c == ' ' || b < 0x20 || b == 0x7f;
    if (!escape) {
      out.push_back(c);
      continue;
    }
    out.push_back('%');
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 0xf]);
  }
  return out;
}

std::string hdr_log_name(std::string_view tag) {
  std::string out;
  out.reserve(tag.size());
  for (std::size_t i = 0; i < tag.size(); ++i) {
    unsigned byte = 0;
    const char* digits = tag.data() + i + 1;
    if (tag[i] == '%' && i + 2 < tag.size() &&
        std::from_chars(digits, digits + 2, byte, 16).ptr == digits + 2) {
      out.push_back(static_cast<char>(byte));
      i += 2;
      continue;
    }
    out.push_back(tag[i]);
  }
  return out;
}

}  // namespace chaperon::detail
