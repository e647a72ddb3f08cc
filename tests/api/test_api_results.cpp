// The API's figures: an ended test's results in the export formats, the running test's live
// summary, and /metrics for Prometheus, over real HTTP on 127.0.0.1.
#include <chaperon/chaperon.hpp>

#include <chaperon/prometheus.hpp>

#include <algorithm>
#include <cstdio>

#include "api/api_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using chaperon::session;
using chaperon::task;
using chaperon::apitest::Api;
using chaperon::apitest::request;
using nlohmann::json;

task<> two_gets(session& s) {
  for (int i = 0; i < 2; ++i) co_await s.get("/api/messages");
}

// Requests until cancelled.
task<> steady(session& s) {
  for (int i = 0; i < 100000; ++i) {
    co_await s.get("/api/messages");
    co_await s.delay(std::chrono::milliseconds(5));
  }
}

const bool registered = chaperon::register_load_test([] {
  return chaperon::load_test{"Results.Gets"}.scenario(
      3, chaperon::make_scenario("TwoGets", two_gets));
}) && chaperon::register_load_test([] {
  return chaperon::load_test{"Results.Steady"}.scenario(
      2, chaperon::make_scenario("Steady", steady));
});

// A POST /load_tests body with the test's live figures merged every 100 ms.
std::string fast_body(const std::string& test, const std::string& base_url) {
  json options{{"config", {{"base_url", base_url}}}, {"threads", 1}, {"interval", "100ms"}};
  json item{{"test", test}, {"options", options}};
  return json{{"load_tests", {item}}}.dump();
}

std::vector<std::string> scheduled_ids(const chaperon::apitest::reply& r) {
  return json::parse(r.body).at("scheduled").get<std::vector<std::string>>();
}

TEST_F(Api, results_of_an_ended_test_in_every_format) {
  start();
  const auto ids = scheduled_ids(call("POST", "/load_tests", schedule_body("Results.Gets")));
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_TRUE(master_->queue().wait_idle(30s));

  const auto base = "/load_tests/" + ids[0] + "/results";
  auto r = call("GET", base);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  const auto metrics = json::parse(r.body);
  ASSERT_TRUE(metrics.is_array());
  std::int64_t gets = 0;
  for (const auto& m : metrics) {
    if (m.value("action", "") == "get" && !m.contains("error"))
      gets += m["metrics"]["total_count"].get<std::int64_t>();
  }
  EXPECT_EQ(gets, 6);  // 3 sessions of 2 requests

  r = call("GET", base + "?format=csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "text/csv; charset=utf-8");
  EXPECT_TRUE(r.body.starts_with("session_action_name,total_count,")) << r.body;
  EXPECT_NE(r.body.find(",6,"), std::string::npos) << r.body;
  EXPECT_EQ(call("GET", base + "?format=JSON").body, call("GET", base).body);
  r = call("GET", base + "?format=html");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<html"), std::string::npos);

  r = call("GET", base + "?format=xml");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body).at("error"), "unknown_format");
  EXPECT_NE(json::parse(r.body).at("message").get<std::string>().find("'xml'"), std::string::npos);

  EXPECT_EQ(call("POST", base).status, 405);
  EXPECT_EQ(request(port(), "GET", base).status, 401);
  r = call("GET", "/load_tests/test-999/results");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body).at("error"), "unknown_load_test_id");
}

TEST_F(Api, results_wait_for_the_end_and_live_figures_show_meanwhile) {
  start();
  const auto ids = scheduled_ids(call(
      "POST", "/load_tests",
      json{{"load_tests", {json::parse(fast_body("Results.Steady", demo_->url()))["load_tests"][0],
                           json::parse(schedule_body("Results.Gets"))["load_tests"][0]}}}
          .dump()));
  ASSERT_EQ(ids.size(), 2u);
  ASSERT_TRUE(wait_progress([](const chaperon::progress_snapshot& p) {
    return p.sessions_active == 2 && p.requests > 0;
  }));

  auto r = call("GET", "/load_tests/" + ids[0] + "/results");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(json::parse(r.body).at("error"), "load_test_running");
  r = call("GET", "/load_tests/" + ids[1] + "/results?format=csv");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(json::parse(r.body).at("error"), "load_test_scheduled");

  const auto status = json::parse(call("GET", "/load_tests/" + ids[0]).body);
  ASSERT_TRUE(status.contains("live")) << status.dump();
  const auto& live = status["live"];
  EXPECT_GT(live.at("requests").get<std::uint64_t>(), 0u);
  EXPECT_EQ(live.at("errors"), 0);
  EXPECT_EQ(live.at("sessions_active"), 2);
  EXPECT_EQ(live.at("sessions_done"), 0);
  EXPECT_GE(live.at("requests_per_second").get<double>(), 0.0);
  EXPECT_FALSE(json::parse(call("GET", "/load_tests/" + ids[1]).body).contains("live"));

  r = call("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), chaperon::prometheus_content_type);
  EXPECT_NE(r.body.find("chaperon_requests_total{"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("chaperon_sessions_active 2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("load_test=\"Results.Steady\""), std::string::npos) << r.body;
  EXPECT_EQ(request(port(), "GET", "/metrics").status, 401);
  EXPECT_EQ(call("POST", "/metrics").status, 405);

  // The cancelled test's results are what it measured until then; the next test runs.
  EXPECT_EQ(call("DELETE", "/load_tests/" + ids[0]).status, 202);
  ASSERT_TRUE(master_->queue().wait_idle(30s));
  EXPECT_FALSE(json::parse(call("GET", "/load_tests/" + ids[0]).body).contains("live"));
  r = call("GET", "/load_tests/" + ids[0] + "/results?format=csv");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("get("), std::string::npos) << r.body;
  // No test runs: /metrics shows the last one that ended.
  r = call("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("load_test=\"Results.Gets\""), std::string::npos) << r.body;
}

TEST_F(Api, results_of_the_last_tests_are_kept) {
  start();
  const auto kept = chaperon::cluster::master::ended_results_kept;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i <= kept; ++i)
    ids.push_back(scheduled_ids(call("POST", "/load_tests", schedule_body("Results.Gets")))[0]);
  ASSERT_TRUE(master_->queue().wait_idle(60s));
  auto r = call("GET", "/load_tests/" + ids.front() + "/results");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body).at("error"), "no_results");
  EXPECT_EQ(call("GET", "/load_tests/" + ids[1] + "/results").status, 200);
  EXPECT_EQ(call("GET", "/load_tests/" + ids.back() + "/results").status, 200);
}

// The data of the next event named `name` on a stream, skipping comments; null when none came.
json next_event(chaperon::apitest::connection& c, std::string_view name) {
  for (;;) {
    const auto event = c.read_until("\n\n");
    if (event.empty()) return nullptr;
    if (!event.starts_with("event: " + std::string(name) + "\n")) continue;
    const auto data = event.find("data: ");
    return data == std::string::npos ? json(nullptr) : json::parse(event.substr(data + 6));
  }
}

TEST_F(Api, events_stream_live_figures_until_the_end) {
  chaperon::api::api_options options;
  options.limits.max_streams = 1;
  options.limits.stream_poll = 20ms;
  start(options);
  const auto ids =
      scheduled_ids(call("POST", "/load_tests", fast_body("Results.Steady", demo_->url())));
  ASSERT_EQ(ids.size(), 1u);
  const auto path = "/load_tests/" + ids[0] + "/events";

  chaperon::apitest::connection c(port());
  ASSERT_TRUE(c.send(chaperon::apitest::request_text("GET", path, chaperon::apitest::bearer)));
  const auto head = c.read();
  ASSERT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-type"), "text/event-stream");
  // Each live event is a new merge of the figures: they grow.
  const auto first = next_event(c, "live");
  ASSERT_TRUE(first.is_object());
  json later;
  for (int i = 0; i < 50 && (later.is_null() || later.at("requests") == first.at("requests")); ++i)
    later = next_event(c, "live");
  ASSERT_TRUE(later.is_object());
  EXPECT_GT(later.at("requests").get<std::uint64_t>(), first.at("requests").get<std::uint64_t>());
  EXPECT_GT(later.at("elapsed_s").get<double>(), first.at("elapsed_s").get<double>());
  EXPECT_EQ(later.at("sessions_total"), 2);

  // Streams are bounded; unknown ids, other methods and missing tokens get the usual answers.
  auto r = call("GET", path);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body).at("error"), "too_many_streams");
  EXPECT_EQ(call("GET", "/load_tests/test-999/events").status, 404);
  EXPECT_EQ(call("POST", path).status, 405);
  EXPECT_EQ(request(port(), "GET", path).status, 401);

  EXPECT_EQ(call("DELETE", "/load_tests/" + ids[0]).status, 202);
  const auto end = next_event(c, "end");
  ASSERT_TRUE(end.is_object());
  EXPECT_EQ(end.at("state"), "cancelled");
  EXPECT_TRUE(c.closed_within(5s));
  ASSERT_TRUE(master_->queue().wait_idle(30s));

  // The stream of an ended test is its end at once; the bound counts only open streams.
  chaperon::apitest::connection again(port());
  ASSERT_TRUE(again.send(chaperon::apitest::request_text("GET", path, chaperon::apitest::bearer)));
  ASSERT_EQ(again.read().status, 200);
  EXPECT_EQ(next_event(again, "end").at("state"), "cancelled");
}

// The sum of a counter's series in Prometheus text.
double counter_sum(const std::string& text, const std::string& name) {
  double sum = 0;
  std::size_t at = 0;
  while ((at = text.find("\n" + name + "{", at)) != std::string::npos) {
    const auto end = text.find('\n', at + 1);
    const auto line = text.substr(at + 1, end - at - 1);
    sum += std::stod(line.substr(line.rfind(' ') + 1));
    at = end;
  }
  return sum;
}

// With a worker, the live figures and /metrics merge every node's latest report.
TEST_F(Api, live_figures_and_metrics_merge_the_workers_reports) {
  start({}, 1);
  const auto ids =
      scheduled_ids(call("POST", "/load_tests", fast_body("Results.Steady", demo_->url())));
  ASSERT_EQ(ids.size(), 1u);
  std::uint64_t requests = 0;
  ASSERT_TRUE(wait_progress([&](const chaperon::progress_snapshot& p) {
    requests = p.requests;
    return p.sessions_active == 2 && p.requests > 0;
  }));
  const auto status = json::parse(call("GET", "/load_tests/" + ids[0]).body);
  ASSERT_TRUE(status.contains("live")) << status.dump();
  EXPECT_EQ(status["live"].at("sessions_active"), 2);
  EXPECT_GE(status["live"].at("requests").get<std::uint64_t>(), requests);

  std::vector<double> ms;
  std::string text;
  for (int i = 0; i < 50; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = call("GET", "/metrics");
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                     .count());
    ASSERT_EQ(r.status, 200);
    text = r.body;
  }
  // Cumulative: the latest scrape counts at least what the merge before it did.
  EXPECT_GE(counter_sum(text, "chaperon_requests_total"), static_cast<double>(requests)) << text;
  EXPECT_NE(text.find("chaperon_sessions_active 2"), std::string::npos) << text;
  std::sort(ms.begin(), ms.end());
  std::printf("GET /metrics of a running test on 2 nodes: p50 %.3f ms, max %.3f ms\n",
              ms[ms.size() / 2], ms.back());

  EXPECT_EQ(call("DELETE", "/load_tests/" + ids[0]).status, 202);
  ASSERT_TRUE(master_->queue().wait_idle(30s));
  EXPECT_EQ(last_nodes().size(), 2u);
  const auto results = call("GET", "/load_tests/" + ids[0] + "/results?format=csv");
  EXPECT_EQ(results.status, 200);
}

}  // namespace
