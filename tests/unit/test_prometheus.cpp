// The Prometheus text exposition format of a run and the remote-write body, read back.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>
#include <string>

#include <chaperon/prometheus.hpp>

#include "export/prometheus/model.hpp"

namespace chaperon {
namespace {

void record(run_results& r, const metric_key& key, std::initializer_list<std::int64_t> values) {
  for (const auto v : values) r.metrics[key].record(v);
}

run_results sample_results() {
  run_results r;
  r.load_test = "Shop.Browse";
  record(r, {"", "get", "http://h/x?q=1", ""}, {100, 200, 300, 400});
  record(r, {"", "get", "http://h/x?q=1", "HTTP 404"}, {500, 700});
  record(r, {"", "post", "http://h/say \"hi\"\\\n", ""}, {250});
  r.corrected[{"", "get", "http://h/x?q=1", ""}].record(9000);
  r.arrivals = {40, 3};
  r.sessions.started = 12;
  r.generator.schedule_lag.record(1500);
  r.generator.saturation.push_back("schedule lag p99 above 5 ms");
  return r;
}

bool contains_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(prometheus_text, counters_carry_metric_action_and_target_labels) {
  const auto text = prometheus_text(sample_results());
  EXPECT_TRUE(contains_line(text, "# TYPE chaperon_requests_total counter")) << text;
  EXPECT_TRUE(contains_line(
      text, R"x(chaperon_requests_total{metric="get(http://h/x?q=1)",action="get",target="http://h/x?q=1"} 4)x"))
      << text;
  // An error is labelled with the metric it is an error of, and its kind.
  EXPECT_TRUE(contains_line(
      text,
      R"x(chaperon_errors_total{metric="get(http://h/x?q=1)",action="get",target="http://h/x?q=1",error="HTTP 404"} 2)x"))
      << text;
}

TEST(prometheus_text, label_values_are_escaped) {
  const auto text = prometheus_text(sample_results());
  EXPECT_TRUE(contains_line(
      text,
      R"x(chaperon_requests_total{metric="post(http://h/say \"hi\"\\\n)",action="post",target="http://h/say \"hi\"\\\n"} 1)x"))
      << text;
}

TEST(prometheus_text, latency_is_a_summary_in_seconds) {
  const auto text = prometheus_text(sample_results());
  const std::string labels = R"x(metric="get(http://h/x?q=1)",action="get",target="http://h/x?q=1")x";
  EXPECT_TRUE(contains_line(text, "# TYPE chaperon_latency_seconds summary"));
  EXPECT_TRUE(contains_line(text, "chaperon_latency_seconds{" + labels + R"x(,quantile="0.5"} 0.0002)x"))
      << text;
  EXPECT_TRUE(contains_line(text, "chaperon_latency_seconds{" + labels + R"x(,quantile="0.999"} 0.0004)x"));
  // Values below 2048 us are counted exactly, so the sum is too.
  EXPECT_TRUE(contains_line(text, "chaperon_latency_seconds_sum{" + labels + "} 0.001"));
  EXPECT_TRUE(contains_line(text, "chaperon_latency_seconds_count{" + labels + "} 4"));
  EXPECT_TRUE(contains_line(text, "chaperon_corrected_latency_seconds_count{" + labels + "} 1"));
  // Errors have no latency series of their own.
  EXPECT_EQ(text.find(R"x(chaperon_latency_seconds_count{metric="get(http://h/x?q=1)",action="get",target="http://h/x?q=1",error)x"),
            std::string::npos);
}

TEST(prometheus_text, generator_and_session_figures) {
  progress_snapshot live;
  live.sessions_active = 7;
  const auto text = prometheus_text(sample_results(), live);
  EXPECT_TRUE(contains_line(text, "chaperon_sessions_active 7")) << text;
  EXPECT_TRUE(contains_line(text, "chaperon_sessions_started_total 12"));
  EXPECT_TRUE(contains_line(text, "chaperon_arrivals_started_total 40"));
  EXPECT_TRUE(contains_line(text, "chaperon_arrivals_dropped_total 3"));
  EXPECT_TRUE(contains_line(text, R"x(chaperon_schedule_lag_seconds{quantile="0.99"} 0.0015)x"));
  EXPECT_TRUE(contains_line(text, "chaperon_generator_saturated 1"));
  EXPECT_TRUE(contains_line(text, R"x(chaperon_run_info{load_test="Shop.Browse"} 1)x"));
  // No loop delay was measured: quantiles are NaN, as Prometheus clients write them.
  EXPECT_TRUE(contains_line(text, R"x(chaperon_loop_delay_seconds{quantile="0.5"} NaN)x"));
  EXPECT_TRUE(contains_line(text, "chaperon_loop_delay_seconds_count 0"));
}

TEST(prometheus_text, every_line_is_well_formed_and_every_family_declared_once) {
  const auto text = prometheus_text(sample_results());
  const std::regex sample_line(
      R"re(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? (NaN|[+-]Inf|-?[0-9.e+-]+))re");
  const std::regex type_line(R"x(# TYPE ([a-z_]+) (counter|gauge|summary))x");
  std::istringstream lines(text);
  std::string line;
  std::vector<std::string> declared;
  std::string current;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (std::regex_match(line, m, type_line)) {
      EXPECT_EQ(std::count(declared.begin(), declared.end(), m[1].str()), 0) << line;
      declared.push_back(current = m[1].str());
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, sample_line)) << line;
    EXPECT_EQ(m[1].str().rfind(current, 0), 0u) << line << " is outside its family " << current;
  }
  EXPECT_GE(declared.size(), 10u);
}

TEST(prometheus_text, values_are_formatted_as_prometheus_reads_them) {
  using prometheus_detail::format_value;
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(0.0015), "0.0015");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
}

TEST(prometheus_remote_write, body_reads_back_with_sorted_labels_and_the_timestamp) {
  using namespace prometheus_detail;
  std::size_t samples = 0;
  const auto families = collect(sample_results(), {});
  const auto body =
      encode_write_request(families, {{"job", "chaperon"}, {"target", "overrides"}}, 1700000000123, samples);
  const auto series = decode_write_request(body);
  ASSERT_EQ(series.size(), samples);
  bool found = false;
  for (const auto& s : series) {
    EXPECT_TRUE(std::is_sorted(s.labels.begin(), s.labels.end())) << s.labels.front().second;
    ASSERT_EQ(s.samples.size(), 1u);
    EXPECT_EQ(s.samples[0].second, 1700000000123);
    for (const auto& [name, value] : s.labels) EXPECT_FALSE(value.empty()) << name;
    const label_list want{{"__name__", "chaperon_requests_total"}, {"action", "get"},
                          {"job", "chaperon"}, {"metric", "get(http://h/x?q=1)"},
                          {"target", "overrides"}};
    if (s.labels == want) {
      found = true;
      EXPECT_EQ(s.samples[0].first, 4);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_THROW(decode_write_request("not snappy"), std::invalid_argument);
}

TEST(prometheus_remote_write, bad_settings_are_named) {
  try {
    prometheus_remote_writer writer({.url = "https://h/api/v1/write"});
    FAIL() << "https accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("https://h/api/v1/write"), std::string::npos) << e.what();
  }
  try {
    prometheus_remote_writer writer({.url = "http://127.0.0.1:1/w", .labels = {{"bad-name", "x"}}});
    FAIL() << "bad label name accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bad-name"), std::string::npos) << e.what();
  }
}

TEST(prometheus_remote_write, an_unreachable_receiver_is_counted_not_thrown) {
  // Port 1 on the loopback: nothing listens, the connection is refused at once.
  prometheus_remote_writer writer({.url = "http://127.0.0.1:1/api/v1/write"});
  writer.push(sample_results(), {}, 1000);
  writer.push(sample_results(), {}, 2000);
  const auto stats = writer.finish(std::chrono::seconds(10));
  EXPECT_EQ(stats.sent, 0u);
  EXPECT_EQ(stats.failed + stats.dropped, 2u);
  EXPECT_GE(stats.failed, 1u);
  EXPECT_NE(stats.last_error.find("127.0.0.1:1"), std::string::npos) << stats.last_error;
}

TEST(prometheus_server, a_malformed_listen_address_is_named) {
  for (const std::string bad : {"9090", "example.com:9090", "127.0.0.1:70000", "[::1:9090"}) {
    try {
      prometheus_server server(bad, [] { return std::string(); });
      FAIL() << bad << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace chaperon
