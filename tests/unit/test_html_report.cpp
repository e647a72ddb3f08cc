// The HTML report: the page carries the run's data as one JSON object, strings from the run cannot
// end its script element, and it loads nothing from the network.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "chaperon/export.hpp"
#include "chaperon/series.hpp"

namespace chaperon {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::string_view data_open = "<script type=\"application/json\" id=\"chaperon-data\">";

const metric_key ok_key{"", "get", "http://127.0.0.1:8080/a", ""};
const metric_key error_key{"", "get", "http://127.0.0.1:8080/a", "HTTP 500"};

// Four 500 ms intervals; interval k has k+1 responses of (k+1) ms and one HTTP 500.
struct sample_run {
  run_results results;
  interval_series series{500ms};

  sample_run() {
    for (std::int64_t k = 0; k < 4; ++k) {
      interval i;
      i.start_us = k * 500'000;
      i.length_us = 500'000;
      i.metrics[ok_key].record((k + 1) * 1000, static_cast<std::uint64_t>(k + 1));
      i.metrics[error_key].record(200);
      i.corrected[ok_key].record((k + 1) * 1500, static_cast<std::uint64_t>(k + 1));
      i.sessions.started = 1;
      i.sessions_active = static_cast<std::uint64_t>(k + 1);
      series.append(i);
    }
    const auto total = series.total();
    results.metrics = total.metrics;
    results.corrected = total.corrected;
    results.sessions = total.sessions;
    results.duration_us = 2'000'000;
    results.start_unix_ms = 1'767'225'600'000;
    results.load_test = "sample";
  }
};

std::string report_of(const run_results& results, const interval_series* series,
                      const json* info = nullptr) {
  export_options options;
  options.series = series;
  options.run_info = info;
  return find_exporter("html").encode(results, options);
}

// The embedded data object, parsed.
json data_of(const std::string& page) {
  const auto begin = page.find(data_open);
  EXPECT_NE(begin, std::string::npos);
  const auto from = begin + data_open.size();
  const auto end = page.find("</script>", from);
  EXPECT_NE(end, std::string::npos);
  return json::parse(page.substr(from, end - from));
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(html_report, IsRegisteredUnderItsName) {
  EXPECT_EQ(find_exporter("HTML").extension(), "html");
  EXPECT_EQ(output_path_with_extension("out/r", "html"), "out/r.html");
}

TEST(html_report, CarriesTheSummaryFiguresAndTheSeries) {
  const sample_run run;
  const json info = {{"load_test", "sample"}, {"tag", "nightly"}, {"partial", false}};
  const auto page = report_of(run.results, &run.series, &info);
  ASSERT_EQ(page.rfind("<!doctype html>", 0), 0u);
  const auto data = data_of(page);

  EXPECT_EQ(data["load_test"], "sample");
  EXPECT_EQ(data["tag"], "nightly");
  EXPECT_EQ(data["start_unix_ms"], 1'767'225'600'000);
  EXPECT_EQ(data["info"], info);
  EXPECT_EQ(data["totals"]["requests"], 10);
  EXPECT_EQ(data["totals"]["errors"], 4);
  EXPECT_EQ(data["totals"]["rps"], 5.0);

  ASSERT_EQ(data["metrics"].size(), 1u) << "error metrics are not rows of their own";
  const auto& m = data["metrics"][0];
  EXPECT_EQ(m["label"], ok_key.name());
  EXPECT_EQ(m["count"], 10);
  EXPECT_EQ(m["errors"], 4);
  EXPECT_EQ(m["min"], 1.0);
  EXPECT_EQ(m["max"], 4.0);
  // As the summary table computes it: the top of the value's HDR counter range.
  const auto& h = run.results.metrics.at(ok_key);
  EXPECT_EQ(m["p50"], static_cast<double>(h.value_at_percentile(50)) / 1000.0);
  EXPECT_EQ(m["corrected"]["max"], 6.0);
  EXPECT_EQ(m["spectrum"].front(), json::array({0.0, 1.0}));
  EXPECT_EQ(m["spectrum"].back(), json::array({99.999, 4.0}));
  ASSERT_EQ(data["error_metrics"].size(), 1u);
  EXPECT_EQ(data["error_metrics"][0]["count"], 4);

  const auto& s = data["series"];
  EXPECT_EQ(s["t"], json::array({0.5, 1.0, 1.5, 2.0})) << "each point's end";
  EXPECT_EQ(s["requests"], json::array({2.0, 4.0, 6.0, 8.0}));
  EXPECT_EQ(s["errors"], json::array({2.0, 2.0, 2.0, 2.0}));
  EXPECT_EQ(s["sessions"], json::array({1, 2, 3, 4}));
  EXPECT_EQ(s["metrics"][0]["p99"], json::array({1.0, 2.0, 3.0, 4.0}));
  EXPECT_EQ(s["metrics"][0]["corrected_p99"], json::array({1.5, 3.0, 4.5, 6.0}));
}

TEST(html_report, WithoutASeriesHasTotalsOnly) {
  const sample_run run;
  const auto data = data_of(report_of(run.results, nullptr));
  EXPECT_TRUE(data["series"].is_null());
  EXPECT_TRUE(data["info"].is_null());
  EXPECT_EQ(data["metrics"][0]["count"], 10);
}

TEST(html_report, TextFromTheRunCannotEndTheScriptElement) {
  run_results results;
  const std::string url = "http://127.0.0.1/</script><script>alert(1)</script><!--&x=\"'";
  results.metrics[{"", "get", url, ""}].record(1000);
  const json info = {{"runtime_config", {{"note", "</SCRIPT> & <!-- -->"}}}};
  const auto page = report_of(results, nullptr, &info);

  const auto scripts = occurrences(page, "<script");
  EXPECT_EQ(scripts, 3u) << "the data, uPlot and the report's script";
  EXPECT_EQ(occurrences(page, "</script>"), scripts);
  const auto data = data_of(page);
  EXPECT_EQ(data["metrics"][0]["label"], "get(" + url + ")") << "the escapes decode to the text";
  EXPECT_EQ(data["info"], info);
}

TEST(html_report, LoadsNothingFromTheNetwork) {
  const sample_run run;
  const auto page = report_of(run.results, &run.series);
  // Everything is inline: no external script, style sheet, image or font.
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(<script[^>]*\ssrc\s*=)", std::regex::icase)));
  // A link only to a data: URL: the empty icon that keeps a browser from asking for one.
  EXPECT_FALSE(
      std::regex_search(page, std::regex(R"(<link\b(?![^>]*\shref="data:))", std::regex::icase)));
  EXPECT_NE(page.find(R"(<link rel="icon" href="data:,">)"), std::string::npos);
  EXPECT_FALSE(std::regex_search(
      page, std::regex(R"((src|href)\s*=\s*["']?\s*(https?:)?//)", std::regex::icase)));
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(@import|url\(\s*["']?(https?:)?//)")));
  EXPECT_NE(page.find("uPlot"), std::string::npos) << "the chart library is embedded";
}

TEST(html_report, WritesTheFile) {
  const sample_run run;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("chaperon-html-" + std::to_string(::getpid()));
  const auto path = dir / "nested" / "r.html";
  export_options options;
  options.series = &run.series;
  find_exporter("html").write(run.results, path, options);
  EXPECT_EQ(std::filesystem::file_size(path), find_exporter("html").encode(run.results, options).size());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chaperon
