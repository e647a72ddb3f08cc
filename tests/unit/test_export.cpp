#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "chaperon/export.hpp"

#include <nlohmann/json.hpp>

namespace chaperon {
namespace {

const std::string csv_header =
    "session_action_name,total_count,max,mean,min,percentile_10.0,percentile_20.0,percentile_30.0,"
    "percentile_40.0,percentile_50.0,percentile_60.0,percentile_75.0,percentile_80.0,percentile_85."
    "0,"
    "percentile_90.0,percentile_95.0,percentile_99.0,percentile_99.9,percentile_99.99,percentile_"
    "99.999";

void record(run_results& r, const metric_key& key, std::initializer_list<std::int64_t> values) {
  for (const auto v : values) r.metrics[key].record(v);
}

// Small hand-made results whose numbers are worked out in the expectations below.
run_results sample_results() {
  run_results r;
  record(r, {"", "get", "http://h/x?q=1", ""}, {12, 37, 118});
  record(r, {"", "get", "http://h/x?q=1", "HTTP 404"}, {40});
  // 5001 and 9000 share counters of width 4 and 8: percentiles report the counter's top (5003),
  // capped at the exact max (9000); the mean uses the counters' midpoints (5002 + 9004) / 2.
  // Single values above 2047 would have a midpoint mean off the value: clamped to it.
  record(r, {"", "call", "MyScenario.fn", ""}, {5001, 9000});
  record(r, {"", "ws_recv", "", ""}, {7});
  record(r, {"", "get", "http://h/y", "timeout"}, {10'000'000});
  record(r, {"alice", "my_metric", "a,b", ""}, {2500});
  return r;
}

std::string repeated(const std::string& value, int times, const std::string& separator = ",") {
  std::string out;
  for (int i = 0; i < times; ++i) out += separator + value;
  return out;
}

TEST(export_csv, golden_layout_in_milliseconds) {
  const std::string expected =
      csv_header + "\n" + " call(MyScenario.fn),2,9.000,7.003,5.001" + repeated("5.003", 6) +
      repeated("9.000", 9) + "\n" + " get(http://h/x?q=1),3,0.118,0.056,0.012" +
      repeated("0.012", 4) + repeated("0.037", 4) + repeated("0.118", 7) + "\n" +
      " Error HTTP 404 get(http://h/x?q=1),1,0.040,0.040,0.040" + repeated("0.040", 15) + "\n" +
      " Error timeout get(http://h/y),1,10000.000,10000.000,10000.000" + repeated("10000.000", 15) +
      "\n" + " ws_recv,1,0.007,0.007,0.007" + repeated("0.007", 15) + "\n" +
      "\"alice my_metric(a,b)\",1,2.500,2.500,2.500" + repeated("2.500", 15) + "\n";
  EXPECT_EQ(export_csv(sample_results()), expected);
  EXPECT_EQ(export_results(sample_results()), expected);
}

TEST(export_csv, microseconds_with_custom_separator_and_delimiter) {
  run_results r;
  record(r, {"", "call", "MyScenario.fn", ""}, {5001, 9000});
  record(r, {"", "say \"hi\"", "", ""}, {1, 2});
  record(r, {"", "a;b", "", ""}, {3});
  export_options options;
  options.unit = time_unit::us;
  options.separator = ";";
  options.delimiter = "\r\n";

  std::string header = csv_header;
  std::replace(header.begin(), header.end(), ',', ';');
  const std::string expected = header + "\r\n" + "\" a;b\";1;3;3;3" + repeated("3", 15, ";") +
                               "\r\n" + " call(MyScenario.fn);2;9000;7003;5001" +
                               repeated("5003", 6, ";") + repeated("9000", 9, ";") + "\r\n" +
                               // mean 1.5 rounds to 2
                               "\" say \"\"hi\"\"\";2;2;2;1" + repeated("1", 6, ";") +
                               repeated("2", 9, ";") + "\r\n";
  EXPECT_EQ(export_csv(r, options), expected);
}

TEST(export_csv, empty_results_give_the_header_only) {
  EXPECT_EQ(export_csv(run_results{}), csv_header + "\n");
}

std::string json_metrics(const std::string& count, const std::string& max, const std::string& mean,
                         const std::string& min, const std::vector<std::string>& percentiles) {
  const std::vector<std::string> names{"10.0", "20.0", "30.0", "40.0",  "50.0",
                                       "60.0", "75.0", "80.0", "85.0",  "90.0",
                                       "95.0", "99.0", "99.9", "99.99", "99.999"};
  std::string out = R"("metrics":{"total_count":)" + count + R"(,"max":)" + max + R"(,"mean":)" +
                    mean + R"(,"min":)" + min;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += R"(,"percentile_)" + names[i] + R"(":)" + percentiles[i];
  return out + "}";
}

std::vector<std::string> times(const std::string& value, std::size_t n,
                               std::vector<std::string> before = {}) {
  before.insert(before.end(), n, value);
  return before;
}

TEST(export_json, golden_layout_in_milliseconds) {
  const std::string expected =
      "[" +
      (R"({"action":"call","module":"MyScenario","function":"fn",)" +
       json_metrics("2", "9.0", "7.003", "5.001", times("9.0", 9, times("5.003", 6))) + "},") +
      (R"({"action":"get","url":"http://h/x?q=1",)" +
       json_metrics("3", "0.118", "0.056", "0.012",
                    times("0.118", 7, times("0.037", 4, times("0.012", 4)))) +
       "},") +
      (R"({"error":{"http":404},"action":"get","url":"http://h/x?q=1",)" +
       json_metrics("1", "0.04", "0.04", "0.04", times("0.04", 15)) + "},") +
      (R"({"error":{"reason":"timeout"},"action":"get","url":"http://h/y",)" +
       json_metrics("1", "10000.0", "10000.0", "10000.0", times("10000.0", 15)) + "},") +
      (R"({"action":"ws_recv",)" +
       json_metrics("1", "0.007", "0.007", "0.007", times("0.007", 15)) + "},") +
      (R"({"session":"alice","action":"my_metric","target":"a,b",)" +
       json_metrics("1", "2.5", "2.5", "2.5", times("2.5", 15)) + "}") +
      "]\n";
  export_options options;
  options.format = export_format::json;
  EXPECT_EQ(export_json(sample_results()), expected);
  EXPECT_EQ(export_results(sample_results(), options), expected);
  EXPECT_TRUE(nlohmann::json::parse(expected).is_array());
}

TEST(export_json, microseconds_are_integers_and_urls_are_recognised) {
  run_results r;
  record(r, {"", "ws_recv", "ws://h/socket", ""}, {1, 2});
  record(r, {"", "call", "fn", ""}, {10});
  export_options options;
  options.unit = time_unit::us;
  const auto j = nlohmann::json::parse(export_json(r, options));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["function"], "fn");
  EXPECT_FALSE(j[0].contains("module"));
  EXPECT_EQ(j[1]["url"], "ws://h/socket");
  EXPECT_TRUE(j[1]["metrics"]["mean"].is_number_integer());
  EXPECT_EQ(j[1]["metrics"]["mean"], 2);
  EXPECT_EQ(j[1]["metrics"]["percentile_99.999"], 2);
}

TEST(export_format, parse_and_extension) {
  EXPECT_EQ(parse_export_format("csv"), "csv");
  EXPECT_EQ(parse_export_format("JSON"), "json");
  EXPECT_FALSE(parse_export_format("xml").has_value());
  EXPECT_FALSE(parse_export_format("").has_value());
  EXPECT_EQ(extension(export_format::csv), "csv");
  EXPECT_EQ(extension(export_format::json), "json");
  EXPECT_EQ(extension("Json"), "json");
}

TEST(output_path, tagged_path_uses_the_utc_date_and_name_folders) {
  const std::chrono::system_clock::time_point now{
      std::chrono::seconds{1'709'683'199}};  // 2024-03-05 23:59:59 UTC
  EXPECT_EQ(tagged_output_path("MyApp::LoadTest.Foo", "master", export_format::csv, now),
            std::filesystem::path("results/2024-03-05/MyApp/LoadTest/Foo/master-1709683199.csv"));
  EXPECT_EQ(tagged_output_path("Simple", "v1", export_format::json, now + std::chrono::seconds{1}),
            std::filesystem::path("results/2024-03-06/Simple/v1-1709683200.json"));
  EXPECT_EQ(tagged_output_path("/etc/..Bad", "a/b", export_format::csv, now),
            std::filesystem::path("results/2024-03-05/etc/Bad/a_b-1709683199.csv"));
  EXPECT_EQ(tagged_output_path("T", "", export_format::csv, now),
            std::filesystem::path("results/2024-03-05/T/1709683199.csv"));
}

TEST(output_path, extension_is_appended_once) {
  EXPECT_EQ(output_path_with_extension("metrics.csv", export_format::csv), "metrics.csv");
  EXPECT_EQ(output_path_with_extension("metrics", export_format::csv), "metrics.csv");
  EXPECT_EQ(output_path_with_extension("/dev/null", export_format::csv), "/dev/null");
  EXPECT_EQ(output_path_with_extension("out/M.JSON", export_format::json), "out/M.JSON");
  EXPECT_EQ(output_path_with_extension("out/metrics.json", export_format::csv),
            "out/metrics.json.csv");
  const auto once = output_path_with_extension("x", export_format::json);
  EXPECT_EQ(output_path_with_extension(once, export_format::json), once);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(summary_table, shows_metrics_errors_and_sessions) {
  auto r = sample_results();
  r.partial = true;
  r.sessions = {10, 7, 1, 1, 1};
  r.session_errors = {{"timeout", 1}};
  const auto text = summary_table(r, 2.0);
  const auto lines = lines_of(text);
  ASSERT_GE(lines.size(), 6u);

  EXPECT_NE(lines[0].find("PARTIAL"), std::string::npos);
  // Metric table: header plus four non-error metrics, columns right-aligned to equal width.
  EXPECT_EQ(lines[1].rfind("metric", 0), 0u);
  for (std::size_t i = 2; i <= 5; ++i) EXPECT_EQ(lines[i].size(), lines[1].size()) << lines[i];
  EXPECT_EQ(lines[1].substr(lines[1].size() - 3), "max");

  const std::string get_row = lines[3];
  EXPECT_EQ(get_row.rfind("get(http://h/x?q=1) ", 0), 0u);
  std::istringstream cells(get_row.substr(std::string("get(http://h/x?q=1)").size()));
  std::vector<std::string> values;
  for (std::string v; cells >> v;) values.push_back(v);
  EXPECT_EQ(values, (std::vector<std::string>{"3", "1", "1.50", "0.012", "0.056", "0.037", "0.118",
                                              "0.118", "0.118"}));
  EXPECT_EQ(lines[5].rfind("alice my_metric(a,b) ", 0), 0u);

  EXPECT_NE(text.find("Error HTTP 404 get(http://h/x?q=1)" + std::string(6, ' ') + "1\n"),
            std::string::npos);
  EXPECT_NE(text.find("Error timeout get(http://h/y)" + std::string(11, ' ') + "1\n"),
            std::string::npos);
  EXPECT_NE(text.find("sessions: 10 started, 7 completed, 1 failed, 1 aborted, 1 timed out\n"),
            std::string::npos);
  EXPECT_NE(text.find("requests: 3, errors: 2, rps: 1.50\n"), std::string::npos);
}

TEST(summary_table, complete_empty_run_has_no_partial_marker_and_no_rate) {
  const auto text = summary_table(run_results{}, 0.0);
  EXPECT_EQ(text.find("PARTIAL"), std::string::npos);
  EXPECT_EQ(text,
            "sessions: 0 started, 0 completed, 0 failed, 0 aborted, 0 timed out\n"
            "requests: 0, errors: 0, rps: 0.00\n");
}

// A rate-driven run: one metric measured both ways, a schedule lag, drops, a saturation reason.
run_results open_model_results() {
  run_results r;
  const metric_key get{"", "get", "http://h/x", ""};
  record(r, get, {1000, 1000, 1000, 1000});
  for (std::int64_t v : {1000, 1000, 301'000, 601'000}) r.corrected[get].record(v);
  r.generator.schedule_lag.record(40, 3);
  r.generator.schedule_lag.record(600'000);
  r.generator.loop_delay.record(70);
  r.generator.max_thread_cpu = 0.25;
  r.arrivals = {4, 2};
  r.generator.saturation = {"schedule lag p99 600.000 ms > 5.000 ms"};
  return r;
}

TEST(export_csv, corrected_and_schedule_lag_rows_follow_the_original_rows) {
  const auto lines = lines_of(export_csv(open_model_results()));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], csv_header);
  EXPECT_EQ(lines[1].rfind(" get(http://h/x),4,1.000,", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind(" get(http://h/x) corrected,4,601.000,", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind(" schedule_lag,4,600.000,", 0), 0u) << lines[3];
  // Runs without any of it keep exactly the original rows.
  EXPECT_EQ(lines_of(export_csv(sample_results())).size(), 7u);
}

// A saturated run with dropped arrivals: neither the verdict nor the drop count is a metric, so
// neither becomes a row that a script would read as one (the summary and JSON carry them).
TEST(export_csv, has_only_metric_rows_when_the_generator_is_saturated) {
  auto r = sample_results();
  r.arrivals = {10, 190};
  r.generator.max_thread_cpu = 0.99;
  r.generator.saturation = {
      "event-loop delay p99 9.000 ms > 5.000 ms: ready work waited for an engine thread"};
  EXPECT_EQ(export_csv(r), export_csv(sample_results()));

  auto lagging = open_model_results();
  const auto csv = export_csv(lagging);
  EXPECT_EQ(csv.find("saturated"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("dropped"), std::string::npos) << csv;
  lagging.generator.saturation.clear();
  lagging.arrivals.dropped = 0;
  EXPECT_EQ(export_csv(lagging), csv);
  EXPECT_NE(summary_table(open_model_results(), 1.0).find("GENERATOR SATURATED"),
            std::string::npos);
}

TEST(export_json, corrected_metrics_and_the_generator_object) {
  const auto j = nlohmann::json::parse(export_json(open_model_results()));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["action"], "get");
  EXPECT_EQ(j[0]["metrics"]["max"], 1.0);
  EXPECT_EQ(j[0]["corrected_metrics"]["max"], 601.0);
  EXPECT_EQ(j[0]["corrected_metrics"]["percentile_50.0"], 1.0);
  EXPECT_EQ(j[1]["action"], "schedule_lag");
  EXPECT_EQ(j[1]["metrics"]["total_count"], 4);
  const auto& g = j[1]["generator"];
  EXPECT_EQ(g["saturated"], true);
  EXPECT_EQ(g["saturation"].size(), 1u);
  EXPECT_EQ(g["arrivals_started"], 4);
  EXPECT_EQ(g["arrivals_dropped"], 2);
  EXPECT_EQ(g["max_thread_cpu"], 0.25);
  EXPECT_EQ(g["loop_delay"]["max"], 0.07);
  // No generator object for runs without rate-driven work.
  const auto plain = nlohmann::json::parse(export_json(sample_results()));
  for (const auto& entry : plain) EXPECT_FALSE(entry.contains("generator"));
}

TEST(summary_table, corrected_side_by_side_and_a_plain_saturation_warning) {
  const auto text = summary_table(open_model_results(), 2.0);
  const auto lines = lines_of(text);
  ASSERT_GE(lines.size(), 5u);
  EXPECT_EQ(lines[0].rfind("GENERATOR SATURATED", 0), 0u);
  EXPECT_EQ(lines[1], "  - schedule lag p99 600.000 ms > 5.000 ms");
  EXPECT_EQ(lines[2].rfind("metric", 0), 0u);
  EXPECT_NE(lines[2].find("max  corr p50  corr p99"), std::string::npos) << lines[2];
  std::istringstream cells(lines[3].substr(std::string("get(http://h/x)").size()));
  std::vector<std::string> values;
  for (std::string v; cells >> v;) values.push_back(v);
  EXPECT_EQ(values, (std::vector<std::string>{"4", "0", "2.00", "1.000", "1.000", "1.000", "1.000",
                                              "1.000", "1.000", "1.000", "601.000"}));
  EXPECT_NE(text.find("arrivals: 4 started, 2 dropped"), std::string::npos);
  EXPECT_NE(text.find("schedule lag: p50 0.040 ms, p99 600.000 ms"), std::string::npos);
  EXPECT_EQ(summary_table(sample_results(), 1.0).find("corr"), std::string::npos);
}

}  // namespace
}  // namespace chaperon
