// The HdrHistogram interval log: the V2 encoding (checked by a decoder written here from the
// format's description), the tags, and the log's lines.
#include <gtest/gtest.h>
#include <zlib.h>

#include <bit>
#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <chaperon/export.hpp>
#include <chaperon/series.hpp>

#include "export/hdr_encoding.hpp"

namespace chaperon {
namespace {

using namespace std::chrono_literals;
using detail::encode_hdr_base64;
using detail::encode_hdr_v2;
using detail::encode_hdr_v2_compressed;
using detail::hdr_log_name;
using detail::hdr_log_tag;

// ---- A decoder of our own, written from AbstractHistogram's description of the format. ----

struct reader {
  std::string_view data;
  std::size_t pos = 0;

  std::uint64_t be(int bytes) {
    if (pos + static_cast<std::size_t>(bytes) > data.size()) throw std::runtime_error("short");
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(data[pos++]);
    return v;
  }
  std::int64_t zigzag() {
    std::uint64_t v = 0;
    for (int i = 0; i < 9; ++i) {
      const auto b = static_cast<unsigned char>(data.at(pos++));
      if (i == 8) {
        v |= std::uint64_t{b} << 56;
        break;
      }
      v |= std::uint64_t{b & 0x7fu} << (7 * i);
      if ((b & 0x80) == 0) break;
    }
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }
};

struct decoded {
  std::uint32_t cookie = 0;
  std::int32_t normalizing_offset = -1;
  std::int32_t digits = 0;
  std::int64_t lowest = 0;
  std::int64_t highest = 0;
  double ratio = 0;
  std::size_t counts_length = 0;                    // counters written, zeros included
  nlohmann::json counts = nlohmann::json::array();  // [[index, count], ...] of non-zero ones
};

decoded decode_v2(std::string_view bytes) {
  reader r{bytes};
  decoded d;
  d.cookie = static_cast<std::uint32_t>(r.be(4));
  const auto payload = r.be(4);
  d.normalizing_offset = static_cast<std::int32_t>(r.be(4));
  d.digits = static_cast<std::int32_t>(r.be(4));
  d.lowest = static_cast<std::int64_t>(r.be(8));
  d.highest = static_cast<std::int64_t>(r.be(8));
  d.ratio = std::bit_cast<double>(r.be(8));
  if (r.pos + payload != bytes.size()) throw std::runtime_error("payload length mismatch");
  std::int64_t index = 0;
  while (r.pos < bytes.size()) {
    const std::int64_t v = r.zigzag();
    if (v < 0) {
      index += -v;
      continue;
    }
    if (v > 0) d.counts.push_back({index, v});
    ++index;
  }
  d.counts_length = static_cast<std::size_t>(index);
  return d;
}

std::string base64_decode(std::string_view text) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    if (c == '=') break;
    const auto v = alphabet.find(c);
    if (v == std::string::npos) throw std::runtime_error("not base64");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

decoded decode_compressed(std::string_view bytes) {
  reader r{bytes};
  EXPECT_EQ(r.be(4), 0x1c849314u);
  const auto length = r.be(4);
  EXPECT_EQ(8 + length, bytes.size());
  std::string plain(1 << 20, '\0');
  uLongf size = plain.size();
  if (uncompress(reinterpret_cast<Bytef*>(plain.data()), &size,
                 reinterpret_cast<const Bytef*>(bytes.data() + 8),
                 static_cast<uLong>(length)) != Z_OK)
    throw std::runtime_error("not a zlib stream");
  plain.resize(size);
  return decode_v2(plain);
}

histogram sample() {
  histogram h;
  for (std::int64_t v : {1, 2, 2, 900, 2047, 2048, 2049, 150'000, 150'001, 7'000'000}) h.record(v);
  h.record(40'000, 1000);
  return h;
}

// ---- The encoding ----

TEST(hdr_encoding, header_names_our_layout) {
  const decoded d = decode_v2(encode_hdr_v2(sample()));
  EXPECT_EQ(d.cookie, 0x1c849313u);
  EXPECT_EQ(d.normalizing_offset, 0);
  EXPECT_EQ(d.digits, 3);
  EXPECT_EQ(d.lowest, 1);
  EXPECT_EQ(d.highest, (std::int64_t{1} << 36) - 1);
  EXPECT_EQ(d.ratio, 1.0);
}

TEST(hdr_encoding, round_trips_the_counters_through_compression_and_base64) {
  for (const histogram& h : {sample(), histogram{}}) {
    const std::string text = encode_hdr_base64(h);
    EXPECT_EQ(text.substr(0, 5), "HISTF");
    const decoded d = decode_compressed(base64_decode(text));
    EXPECT_EQ(d.counts, h.to_json().at("counts"));
  }
}

TEST(hdr_encoding, writes_counters_up_to_the_maximum_and_zero_runs_as_java_does) {
  histogram h;
  h.record(1);
  h.record(4);
  // counter 0: a single zero (0x00); counter 1: 1 (zigzag 0x02); counters 2..3: a run of two
  // zeros (-2, zigzag 0x03); counter 4: 1. Nothing after the maximum.
  const std::string v2 = encode_hdr_v2(h);
  ASSERT_EQ(v2.size(), 40u + 4u);
  EXPECT_EQ(v2.substr(40), std::string("\x00\x02\x03\x02", 4));
  EXPECT_EQ(decode_v2(v2).counts_length, 5u);
  // An empty histogram is one zero counter, like Java's.
  EXPECT_EQ(encode_hdr_v2(histogram{}).substr(40), std::string("\x00", 1));
  // A value in a wide counter: the last counter written is the one holding it.
  histogram wide;
  wide.record(7'000'000);
  const decoded d = decode_v2(encode_hdr_v2(wide));
  EXPECT_EQ(d.counts_length, wide.to_json()["counts"][0][0].get<std::size_t>() + 1);
}

TEST(hdr_encoding, counts_that_need_nine_bytes_survive) {
  histogram h;
  h.record(3, std::uint64_t{1} << 62);
  h.record(5, 300);
  const std::string v2 = encode_hdr_v2(h);
  EXPECT_EQ(decode_v2(v2).counts, h.to_json().at("counts"));
  // zigzag(2^62) = 2^63: eight 7-bit bytes and a ninth with the top 8 bits.
  EXPECT_EQ(v2.size(), 40u + 1 + 9 + 1 + 2);
}

// ---- Tags ----

TEST(hdr_log_tag, escapes_what_readers_split_at_and_decodes_back) {
  EXPECT_EQ(hdr_log_tag("get(http://127.0.0.1:8080/a?b=1,2)"),
            "get(http://127.0.0.1:8080/a?b=1%2C2)");
  EXPECT_EQ(hdr_log_tag("Error HTTP 404 get(http://h/x)"), "Error%20HTTP%20404%20get(http://h/x)");
  EXPECT_EQ(hdr_log_tag("a%2Cb\tc\nd"), "a%252Cb%09c%0Ad");
  EXPECT_EQ(hdr_log_tag("call(My.fn)"), "call(My.fn)");
  for (std::string name :
       {"get(http://h/a?b=1,2)", "x %41 y", "tab\there", "%", "%zz", "%4", "%-1", ""}) {
    const std::string tag = hdr_log_tag(name);
    EXPECT_EQ(tag.find_first_of(", \t\r\n"), std::string::npos) << tag;
    EXPECT_EQ(hdr_log_name(tag), name);
  }
}

// ---- The log ----

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

metric_key get_key(std::string url) { return metric_key{"", "get", std::move(url), ""}; }

run_results two_interval_run(interval_series& series) {
  run_results r;
  r.start_unix_ms = 1'441'812'279'474;
  r.duration_us = 1'000'000;
  for (int k = 0; k < 2; ++k) {
    interval i;
    i.start_us = k * 500'000;
    i.length_us = 500'000;
    i.metrics[get_key("http://h/a?b=1,2")].record(1000 + k, 2);
    if (k == 1) i.metrics[metric_key{"", "get", "http://h/a", "HTTP 500"}].record(2500);
    i.metrics[metric_key{"", "call", "S.fn", ""}].record(3000);
    series.append(i);
    for (const auto& [key, h] : i.metrics) r.metrics[key].merge(h);
  }
  return r;
}

TEST(hdr_log, header_lines_are_javas) {
  const auto lines = lines_of(find_exporter("hdr-log").encode(run_results{}, {}));
  interval_series series(500ms);
  const run_results r = two_interval_run(series);
  const auto with_start = lines_of(find_exporter("hdr-log").encode(r, {}));
  ASSERT_GE(with_start.size(), 7u);
  EXPECT_EQ(with_start[0].rfind("#[Logged with chaperon ", 0), 0u);
  EXPECT_EQ(with_start[1], "#[Histogram log format version 1.3]");
  EXPECT_EQ(with_start[2],
            "#[StartTime: 1441812279.474 (seconds since epoch), Wed Sep 09 15:24:39 UTC 2015]");
  EXPECT_EQ(with_start[3], "#[BaseTime: 1441812279.474 (seconds since epoch)]");
  EXPECT_NE(with_start[4].find("Values are microseconds"), std::string::npos);
  EXPECT_EQ(with_start[6],
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
            "\"Interval_Compressed_Histogram\"");
  EXPECT_EQ(lines[2], "#[StartTime: 0.000 (seconds since epoch), Thu Jan 01 00:00:00 UTC 1970]");
}

struct data_line {
  std::string tag;  // "" untagged
  std::string start, length, max;
  decoded histogram;
};

std::vector<data_line> data_lines(const std::string& log) {
  std::vector<data_line> out;
  for (const auto& line : lines_of(log)) {
    if (line.empty() || line[0] == '#' || line[0] == '"') continue;
    std::vector<std::string> fields;
    std::istringstream in(line);
    for (std::string f; std::getline(in, f, ',');) fields.push_back(f);
    data_line d;
    if (fields.front().rfind("Tag=", 0) == 0) {
      d.tag = fields.front().substr(4);
      fields.erase(fields.begin());
    }
    EXPECT_EQ(fields.size(), 4u) << line;
    if (fields.size() != 4) continue;
    d.start = fields[0];
    d.length = fields[1];
    d.max = fields[2];
    d.histogram = decode_compressed(base64_decode(fields[3]));
    out.push_back(std::move(d));
  }
  return out;
}

TEST(hdr_log, one_line_per_interval_and_metric_with_lengths_and_max_in_ms) {
  interval_series series(500ms);
  const run_results r = two_interval_run(series);
  export_options options;
  options.series = &series;
  const auto lines = data_lines(find_exporter("hdr-log").encode(r, options));
  // Per interval: the untagged requests line, then the three metrics in key order (an error
  // metric sorts by its target first).
  ASSERT_EQ(lines.size(), 8u);
  const std::vector<std::string> tags{"", "call(S.fn)", "Error%20HTTP%20500%20get(http://h/a)",
                                      "get(http://h/a?b=1%2C2)"};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].tag, tags[i % 4]);
    EXPECT_EQ(lines[i].start, i < 4 ? "0.000" : "0.500");
    EXPECT_EQ(lines[i].length, "0.500") << "the second field is a length, not an end time";
  }
  EXPECT_EQ(lines[0].max, "1.000");
  EXPECT_EQ(lines[4].max, "1.001");
  EXPECT_EQ(lines[1].max, "3.000");
  EXPECT_EQ(lines[2].max, "0.000") << "no errors in the first interval: an empty histogram";
  EXPECT_EQ(lines[2].histogram.counts, nlohmann::json::array());
  EXPECT_EQ(lines[6].max, "2.500");
  EXPECT_EQ(lines[7].max, "1.001");
  // The untagged line holds the successful HTTP requests only; each tag its metric's counters.
  EXPECT_EQ(lines[4].histogram.counts,
            series.point(1).metrics.at(get_key("http://h/a?b=1,2")).to_json().at("counts"));
  EXPECT_EQ(lines[5].histogram.counts,
            series.point(1).metrics.at(metric_key{"", "call", "S.fn", ""}).to_json().at("counts"));
}

TEST(hdr_log, without_a_series_the_run_is_one_interval_and_corrected_figures_get_a_tag) {
  run_results r;
  r.duration_us = 2'500'000;
  r.metrics[get_key("http://h/x")].record(1234);
  r.corrected[get_key("http://h/x")].record(5678);
  r.metrics[metric_key{"s1", "get", "http://h/x", ""}].record(10);
  const auto lines = data_lines(find_exporter("hdr-log").encode(r, {}));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].tag, "");
  EXPECT_EQ(lines[0].length, "2.500");
  EXPECT_EQ(lines[0].max, "1.234");
  std::uint64_t untagged = 0;
  for (const auto& pair : lines[0].histogram.counts) untagged += pair[1].get<std::uint64_t>();
  EXPECT_EQ(untagged, r.total_requests()) << "the untagged line counts what the summary counts";
  EXPECT_EQ(lines[1].tag, "get(http://h/x)");
  EXPECT_EQ(lines[2].tag, "get(http://h/x)%20corrected");
  EXPECT_EQ(lines[2].max, "5.678");
  EXPECT_EQ(lines[3].tag, "s1%20get(http://h/x)");
  EXPECT_EQ(hdr_log_name(lines[3].tag), "s1 get(http://h/x)");
}

TEST(hdr_log, a_value_metric_keeps_its_values_and_its_max_is_not_in_ms) {
  run_results r;
  r.duration_us = 1'000'000;
  const metric_key bytes{"", "bytes", "", "", metric_unit::value};
  r.metrics[bytes].record(1500);
  r.metrics[bytes].record(1000);
  r.metrics[get_key("http://h/x")].record(1500);
  const auto log = find_exporter("hdr-log").encode(r, {});
  EXPECT_NE(log.find("\n#[Tags of plain values, not microseconds (Interval_Max as recorded): "
                     "bytes]\n"),
            std::string::npos)
      << log;
  const auto lines = data_lines(log);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].tag, "bytes");
  EXPECT_EQ(lines[1].max, "1500.000");
  EXPECT_EQ(lines[1].histogram.counts, r.metrics.at(bytes).to_json().at("counts"));
  EXPECT_EQ(lines[2].max, "1.500") << "a duration's max is still in ms";
  EXPECT_EQ(lines[0].histogram.counts, nlohmann::json::parse("[[1500,1]]"))
      << "a value is not a request";
}

}  // namespace
}  // namespace chaperon
