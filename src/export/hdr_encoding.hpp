#pragma once
// HdrHistogram's V2 serialisation of our histograms, and the tags of an interval log.
//
// Our histogram's counters are laid out as HdrHistogram's are for a lowest discernible value of 1,
// a highest trackable value of 2^36-1 and 3 significant digits (2048 sub-buckets, unit magnitude
// 0, 27 * 1024 counters): counter i here is counter i there. So the encoding copies counters
// one to one, and any HdrHistogram implementation decodes exactly the counts we hold, in
// microseconds.
#include <cstdint>
#include <string>
#include <string_view>

#include "chaperon/metrics.hpp"

namespace chaperon::detail {

// The parameters written into every encoding.
inline constexpr std::int64_t hdr_lowest_discernible_value = 1;
inline constexpr std::int32_t hdr_significant_digits = 3;
// Cookies of AbstractHistogram.java: V2 base | 0x10 (the word size of the V2 encoding).
inline constexpr std::uint32_t hdr_v2_cookie = 0x1c849313;
inline constexpr std::uint32_t hdr_v2_compressed_cookie = 0x1c849314;

// The uncompressed V2 encoding, big-endian: cookie, payload length, normalizing index offset (0),
// significant digits, lowest discernible value, highest trackable value, integer-to-double ratio
// (1.0), then the counters up to the one holding max() as ZigZag LEB128 varints, a run of n > 1
// zero counters written as -n (as Java writes them).
std::string encode_hdr_v2(const histogram& h);

// The compressed form: cookie, the zlib stream's length, then encode_hdr_v2() deflated with zlib.
// Throws std::runtime_error when zlib fails.
std::string encode_hdr_v2_compressed(const histogram& h);

// base64 of encode_hdr_v2_compressed(): the last field of a log line (it starts with "HISTF").
std::string encode_hdr_base64(const histogram& h);

// A metric's name as an interval log tag. Readers split a line at commas (Java's reader also at
// spaces), so '%', ',', space and the ASCII control characters (tabs, line breaks, ...) become
// "%XX" (upper-case hex of the byte); everything else stays, so a tag reads like the name:
//   "get(http://h/a?b=1,2)"     -> "get(http://h/a?b=1%2C2)"
//   "Error HTTP 404 get(http://h/x)" -> "Error%20HTTP%20404%20get(http://h/x)"
// Percent-decoding the tag gives the name back (hdr_log_name).
std::string hdr_log_tag(std::string_view name);
// The inverse of hdr_log_tag: every "%XX" becomes its byte; anything else is kept as it is.
std::string hdr_log_name(std::string_view tag);

}  // namespace chaperon::detail
