// The HdrHistogram interval log (.hlog), written as Java's HistogramLogWriter writes it, so that
// HistogramLogProcessor, HistogramLogAnalyzer and the other HdrHistogram ports read it:
//
//   #[Logged with chaperon 0.1.0]
//   #[Histogram log format version 1.3]
//   #[StartTime: 1764435848.123 (seconds since epoch), Sat Nov 29 17:04:08 UTC 2025]
//   #[BaseTime: 1764435848.123 (seconds since epoch)]
//   #[Values are microseconds ...]
//   "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
//   0.000,0.500,12.345,HISTFAAAA...                       (all HTTP requests of the interval)
//   Tag=get(http://127.0.0.1:8080/a?b=1%2C2),0.000,0.500,12.345,HISTFAAAA...
//
// - Timestamps are seconds from BaseTime, which is the run's start (StartTime too), so readers
//   add them up to absolute times. The second field is the interval's length, as in Java (not
//   an end time, as the C library's hdr_log_write writes).
// - The histograms hold our counters unchanged, so their values are microseconds (converting to
//   nanoseconds would move values between counters); a comment line says so. Interval_Max is
//   the interval's exact maximum in milliseconds: Java divides nanoseconds by 1e6, we divide
//   microseconds by 1e3, so the column reads the same. HistogramLogProcessor prints milliseconds
//   with -outputValueUnitRatio 1000.
// - One tagged line per interval and metric of the results, in key order, every metric in every
//   interval (an empty histogram where it had no values), so each tag is a regular time series.
//   A metric with figures from the intended start adds the tag of "<name> corrected". Tags are
//   the metrics' names percent-encoded where readers would split them (see hdr_log_tag).
// - A value metric (session::add_value) holds plain numbers, not microseconds, in the same
//   counters; its Interval_Max is its maximum as recorded (not divided by 1000), and a comment
//   line before the column names lists these tags:
//     #[Tags of plain values, not microseconds (Interval_Max as recorded): bytes upload%20size]
// - One untagged line per interval merges all HTTP requests that did not fail (what the summary
//   counts as requests): what tools show when no tag is chosen. Runs without requests have none.
// - Without an interval series, the whole run is one interval.
#include <ctime>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "export/builtin.hpp"
#include "export/hdr_encoding.hpp"

namespace chaperon::detail {
namespace {

using histogram_map = std::map<metric_key, histogram>;

std::string metric_name(const metric_key& key) {
  return key.session.empty() ? key.name() : key.row_label();
}

bool counts_as_request(const metric_key& key) {
  return !key.is_error() && is_http_method(key.action);
}

// Java's Date.toString() in UTC: "Sat Nov 29 17:04:08 UTC 2025".
std::string date_text(std::int64_t unix_ms) {
  const std::time_t seconds = unix_ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  const auto n = std::strftime(text, sizeof text, "%a %b %d %H:%M:%S UTC %Y", &tm);
  return std::string(text, n);
}

void write_header(std::string& out, const run_results& results,
                  const std::vector<std::string>& value_tags) {
  const double start_s = static_cast<double>(results.start_unix_ms) / 1000.0;
  out += fmt::format("#[Logged with chaperon {}]\n", CHAPERON_VERSION);
  out += "#[Histogram log format version 1.3]\n";
  out += fmt::format("#[StartTime: {:.3f} (seconds since epoch), {}]\n", start_s,
                     date_text(results.start_unix_ms));
  out += fmt::format("#[BaseTime: {:.3f} (seconds since epoch)]\n", start_s);
  out += fmt::format(
      "#[Values are microseconds (lowest discernible value {}, highest trackable value {}, {} "
      "significant digits); Interval_Max is in milliseconds (max value unit ratio 1000)]\n",
      hdr_lowest_discernible_value, histogram::highest_trackable_value, hdr_significant_digits);
  out += "#[Tags are metric names with '%', ',', space and control characters as %XX]\n";
  if (!value_tags.empty())
    out += fmt::format("#[Tags of plain values, not microseconds (Interval_Max as recorded): {}]\n",
                       fmt::join(value_tags, " "));
  out +=
      "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
      "\"Interval_Compressed_Histogram\"\n";
}

struct span {
  std::int64_t start_us;
  std::int64_t length_us;
};

void write_line(std::string& out, const std::string* tag, span when, const histogram& h,
                metric_unit unit = metric_unit::duration) {
  if (tag != nullptr) out += fmt::format("Tag={},", *tag);
  const double max = unit == metric_unit::value ? static_cast<double>(h.max())
                                                : static_cast<double>(h.max()) / 1e3;
  out += fmt::format("{:.3f},{:.3f},{:.3f},{}\n", static_cast<double>(when.start_us) / 1e6,
                     static_cast<double>(when.length_us) / 1e6, max, encode_hdr_base64(h));
}

// What every interval writes: tags in key order, each metric before its corrected figures.
struct log_plan {
  struct entry {
    metric_key key;
    bool corrected;
    std::string tag;
  };
  std::vector<entry> entries;
  std::vector<std::string> value_tags;
  bool has_requests = false;
};

// The run's totals have every metric of every interval (the series sums to them).
log_plan plan_for(const run_results& results) {
  log_plan plan;
  for (const auto& [key, h] : results.metrics) {
    const std::string name = metric_name(key);
    plan.entries.push_back({key, false, hdr_log_tag(name)});
    if (key.is_value()) plan.value_tags.push_back(plan.entries.back().tag);
    if (results.corrected.contains(key)) {
      plan.entries.push_back({key, true, hdr_log_tag(name + " corrected")});
      if (key.is_value()) plan.value_tags.push_back(plan.entries.back().tag);
    }
    plan.has_requests = plan.has_requests || counts_as_request(key);
  }
  return plan;
}

void write_interval(std::string& out, const log_plan& plan, span when, const histogram_map& metrics,
                    const histogram_map& corrected) {
  static const histogram empty;
  if (plan.has_requests) {
    histogram requests;
    for (const auto& [key, h] : metrics)
      if (counts_as_request(key)) requests.merge(h);
    write_line(out, nullptr, when, requests);
  }
  for (const auto& e : plan.entries) {
    const histogram_map& source = e.corrected ? corrected : metrics;
    const auto it = source.find(e.key);
    write_line(out, &e.tag, when, it == source.end() ? empty : it->second, e.key.unit);
  }
}

class hdr_log_exporter final : public exporter {
 public:
  std::string_view name() const override { return "hdr-log"; }
  std::string_view extension() const override { return "hlog"; }

  std::string encode(const run_results& results, const export_options& options) const override {
    const log_plan plan = plan_for(results);
    std::string out;
    write_header(out, results, plan.value_tags);
    const interval_series* series = options.series;
    if (series == nullptr || series->size() == 0) {
      write_interval(out, plan, {0, results.duration_us}, results.metrics, results.corrected);
      return out;
    }
    // One point at a time: all of them unpacked at once would hold every interval's full
    // counter arrays (gigabytes for a long run with many metrics).
    for (std::size_t i = 0; i < series->size(); ++i) {
      const interval p = series->point(i);
      write_interval(out, plan, {p.start_us, p.length_us}, p.metrics, p.corrected);
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<const exporter> make_hdr_log_exporter() {
  return std::make_unique<hdr_log_exporter>();
}

}  // namespace chaperon::detail
