// Value metrics (session::add_value): plain numbers that keep their unit through recording, the
// series, the raw form and merge, and that every export writes as recorded, never as times.
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <chaperon/export.hpp>
#include <chaperon/prometheus.hpp>
#include <chaperon/series.hpp>
#include <chaperon/thresholds.hpp>

#include "export/html_data.hpp"
#include "metrics/recorder.hpp"

namespace chaperon {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const metric_key bytes_key{"", "bytes", "", "", metric_unit::value};
const metric_key get_key{"", "get", "http://127.0.0.1:8080/a", ""};

// bytes: 1000 and 1500; get: 1500 us and 2000 us.
run_results sample() {
  run_results r;
  r.metrics[bytes_key].record(1000);
  r.metrics[bytes_key].record(1500);
  r.metrics[get_key].record(1500);
  r.metrics[get_key].record(2000);
  r.duration_us = 1'000'000;
  return r;
}

std::string line_starting(const std::string& text, const std::string& start) {
  for (std::size_t at = 0; at < text.size();) {
    const auto end = text.find('\n', at);
    const auto line = text.substr(at, end - at);
    if (line.rfind(start, 0) == 0) return line;
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return {};
}

TEST(value_metrics, TheUnitIsPartOfTheKeyAndNamesStayTheSame) {
  EXPECT_EQ(bytes_key.name(), "bytes");
  EXPECT_TRUE(bytes_key.is_value());
  EXPECT_FALSE(get_key.is_value());
  const metric_key as_duration{"", "bytes", "", ""};
  EXPECT_NE(bytes_key, as_duration);
  EXPECT_EQ(to_string(metric_unit::value), "value");
  EXPECT_EQ(to_string(metric_unit::duration), "duration");
}

TEST(value_metrics, RecorderMergeKeepsTheUnit) {
  detail::metrics_recorder a, b;
  a.record(bytes_key, 1500);
  b.record(bytes_key, 1000);
  run_results r;
  a.drain_into(r);
  b.merge_into(r);
  ASSERT_EQ(r.metrics.size(), 1u);
  EXPECT_TRUE(r.metrics.begin()->first.is_value());
  EXPECT_EQ(r.metrics.begin()->second.count(), 2u);
}

TEST(value_metrics, RawFormReadsBackAndMerges) {
  const auto r = sample();
  const auto raw = json::parse(export_raw(r));
  const auto& entries = raw.at("metrics");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].at("action"), "bytes");
  EXPECT_EQ(entries[0].at("unit"), "value");
  EXPECT_FALSE(entries[1].contains("unit")) << "durations keep the former form";
  const auto back = run_results::from_json(raw);
  EXPECT_EQ(back, r);
  run_results merged = back;
  merged.merge(run_results::from_json(raw));
  EXPECT_EQ(merged.metrics.at(bytes_key).count(), 4u);
  EXPECT_EQ(merged.metrics.at(bytes_key).max(), 1500);

  auto bad = raw;
  bad["metrics"][0]["unit"] = "bytes";
  EXPECT_FALSE(run_results::try_from_json(bad)) << "an unknown unit is malformed input";
}

TEST(value_metrics, SeriesPointsAndTotalKeepTheUnit) {
  interval_series series(1s, 2);
  for (std::int64_t k = 0; k < 5; ++k) {  // compacts twice
    interval i;
    i.start_us = k * 1'000'000;
    i.length_us = 1'000'000;
    i.metrics[bytes_key].record(100 * (k + 1));
    series.append(i);
  }
  EXPECT_TRUE(series.point(0).metrics.begin()->first.is_value());
  const auto total = series.total();
  ASSERT_EQ(total.metrics.size(), 1u);
  EXPECT_TRUE(total.metrics.begin()->first.is_value());
  EXPECT_EQ(total.metrics.begin()->second.max(), 500);
  EXPECT_EQ(total.requests(), 0u) << "a value is not an HTTP request";
}

TEST(value_metrics, CsvWritesValuesAsRecorded) {
  const auto r = sample();
  for (const auto unit : {time_unit::ms, time_unit::us}) {
    export_options options;
    options.unit = unit;
    const auto csv = export_csv(r, options);
    const auto row = line_starting(csv, " bytes,");
    EXPECT_EQ(row.rfind(" bytes,2,1500,1250,1000,1000,", 0), 0u) << csv;
    EXPECT_EQ(row.find('.'), std::string::npos) << "no decimals: " << row;
    EXPECT_EQ(row.substr(row.rfind(',') + 1), "1500") << "percentile_99.999";
  }
  // Durations still convert.
  EXPECT_EQ(line_starting(export_csv(r), " get(").find(",2,2.000,1.750,1.500,"),
            std::string(" get(http://127.0.0.1:8080/a)").size())
      << export_csv(r);
}

TEST(value_metrics, JsonWritesValuesAsRecordedWithTheirUnit) {
  const auto out = json::parse(export_json(sample()));
  ASSERT_EQ(out.size(), 2u);
  const auto& bytes = out[0];
  EXPECT_EQ(bytes.at("action"), "bytes");
  EXPECT_EQ(bytes.at("unit"), "value");
  const auto& m = bytes.at("metrics");
  EXPECT_EQ(m.at("total_count"), 2);
  EXPECT_TRUE(m.at("max").is_number_integer());
  EXPECT_EQ(m.at("max"), 1500);
  EXPECT_EQ(m.at("mean"), 1250);
  EXPECT_EQ(m.at("min"), 1000);
  EXPECT_EQ(m.at("percentile_99.0"), 1500);
  EXPECT_FALSE(out[1].contains("unit"));
  EXPECT_DOUBLE_EQ(out[1].at("metrics").at("max").get<double>(), 2.0) << "durations in ms";
}

TEST(value_metrics, SummaryShowsValuesWithoutATimeUnit) {
  const auto text = summary_table(sample(), 1.0);
  std::istringstream row(line_starting(text, "bytes "));
  std::vector<std::string> cells;
  for (std::string cell; row >> cell;) cells.push_back(cell);
  // name, count, errors, rps, min, mean, p50, p90, p99, max
  const std::vector<std::string> expected{"bytes", "2",    "0",    "2.00", "1000",
                                          "1250",  "1000", "1500", "1500", "1500"};
  EXPECT_EQ(cells, expected) << text;
  EXPECT_NE(text.find("values (add_value) are shown as recorded"), std::string::npos);
}

TEST(value_metrics, HtmlReportDataHasValuesNotMilliseconds) {
  interval_series series(1s);
  interval i;
  i.length_us = 1'000'000;
  i.metrics = sample().metrics;
  series.append(i);
  export_options options;
  options.series = &series;
  const auto data = detail::html_report_data(sample(), options);
  const auto& bytes = data.at("metrics").at(0);
  EXPECT_EQ(bytes.at("label"), "bytes");
  EXPECT_EQ(bytes.at("unit"), "value");
  EXPECT_EQ(bytes.at("max"), 1500.0);
  EXPECT_EQ(bytes.at("p50"), 1000.0);
  EXPECT_EQ(bytes.at("spectrum").back().at(1), 1500.0);
  EXPECT_EQ(data.at("series").at("metrics").at(0).at("p99").at(0), 1500.0);
  const auto& get = data.at("metrics").at(1);
  EXPECT_FALSE(get.contains("unit"));
  EXPECT_EQ(get.at("max"), 2.0);
}

TEST(value_metrics, PrometheusKeepsValuesOutOfSeconds) {
  const auto text = prometheus_text(sample());
  const std::string labels = R"x(metric="bytes",action="bytes",target="")x";
  EXPECT_NE(text.find("# TYPE chaperon_value summary\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chaperon_value{" + labels + R"x(,quantile="0.99"} 1500)x" + "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("chaperon_value_sum{" + labels + "} 2500\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chaperon_requests_total{" + labels + "} 2\n"), std::string::npos);
  EXPECT_EQ(text.find("chaperon_latency_seconds_count{" + labels), std::string::npos)
      << "a value is not a latency";
  EXPECT_NE(text.find("chaperon_latency_seconds_count{metric=\"get("), std::string::npos);
}

TEST(value_metrics, ThresholdsComparePlainValues) {
  const auto r = sample();
  const auto passed = evaluate(parse_threshold("bytes:max<2000"), r);
  EXPECT_EQ(passed.status, threshold_status::passed) << passed.text;
  ASSERT_EQ(passed.measurements.size(), 1u);
  EXPECT_EQ(passed.measurements[0].value, 1500);
  EXPECT_TRUE(passed.measurements[0].plain);
  EXPECT_EQ(passed.text, "bytes: max = 1500, limit < 2000: PASSED");

  const auto failed = evaluate(parse_threshold("bytes:p(50)>=1200"), r);
  EXPECT_EQ(failed.status, threshold_status::failed) << failed.text;
  EXPECT_EQ(evaluate(parse_threshold("bytes:count==2"), r).status, threshold_status::passed);

  // A time has no meaning for a value.
  const auto timed = evaluate(parse_threshold("bytes:max<2s"), r);
  EXPECT_EQ(timed.status, threshold_status::no_data);
  EXPECT_NE(timed.text.find("value metric has no time unit"), std::string::npos) << timed.text;

  // A latency gate over every metric is about times only; a plain number stays ms there.
  const auto every = evaluate(parse_threshold("*:max<3"), r);
  EXPECT_EQ(every.status, threshold_status::passed) << every.text;
  ASSERT_EQ(every.measurements.size(), 1u);
  EXPECT_EQ(every.measurements[0].metric, get_key.name());
  EXPECT_EQ(evaluate(parse_threshold("by*:max<1400"), r).status, threshold_status::failed);
}

}  // namespace
}  // namespace chaperon
