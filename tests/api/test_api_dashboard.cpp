// What the dashboard reads: its page, the load tests that may be scheduled, the ended tests, and
// a test's report data, live while it runs and final after, over real HTTP on 127.0.0.1. The
// page itself is tested in Chromium (tests/browser/dashboard.test.mjs).
#include <chaperon/chaperon.hpp>

#include "api/api_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using chaperon::apitest::Api;
using chaperon::apitest::request;
using nlohmann::json;

std::string one_test_body(const std::string& test, const std::string& base_url,
                          const std::string& interval) {
  json options{{"config", {{"base_url", base_url}}},
               {"threads", 1},
               {"interval", interval},
               {"thresholds", {"p(99)<10s", "errors<1"}}};
  return json{{"load_tests", {{{"test", test}, {"options", options}}}}}.dump();
}

std::string first_id(const chaperon::apitest::reply& r) {
  return json::parse(r.body).at("scheduled").at(0).get<std::string>();
}

TEST_F(Api, the_dashboard_page_is_served_whole_behind_the_token) {
  start();
  auto r = call("GET", "/dashboard");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.header("content-security-policy").find("connect-src 'self'"), std::string::npos);
  EXPECT_EQ(r.header("x-frame-options"), "DENY");
  EXPECT_NE(r.body.find("chaperon dashboard"), std::string::npos);
  EXPECT_NE(r.body.find("uPlot"), std::string::npos);           // the charting library
  EXPECT_NE(r.body.find("chaperonReport"), std::string::npos);  // the report's own code
  EXPECT_NE(r.body.find("id=\"chart-throughput\""), std::string::npos);
  EXPECT_EQ(r.body.find("/*@"), std::string::npos) << "a marker was left in the page";
  EXPECT_EQ(r.body.find("http://"), std::string::npos) << "the page loads nothing from elsewhere";

  r = request(port(), "GET", "/dashboard");
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.header("www-authenticate").starts_with("Basic ")) << r.header("www-authenticate");
  EXPECT_EQ(call("POST", "/dashboard").status, 405);

  r = call("GET", "/load_tests/registered");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto names = json::parse(r.body).at("load_tests").get<std::vector<std::string>>();
  EXPECT_NE(std::find(names.begin(), names.end(), "Results.Gets"), names.end()) << r.body;
  EXPECT_EQ(call("DELETE", "/load_tests/registered").status, 405);
  EXPECT_EQ(request(port(), "GET", "/load_tests/registered").status, 401);
}

TEST_F(Api, ended_tests_are_listed_latest_first_saying_whether_results_are_kept) {
  start();
  EXPECT_EQ(json::parse(call("GET", "/load_tests/ended").body), json::parse(R"({"ended":[]})"));
  // The first runs; the second is cancelled while it waits, so it never ran.
  const auto ran = first_id(call("POST", "/load_tests", schedule_body("Results.Steady")));
  const auto never = first_id(call("POST", "/load_tests", schedule_body("Results.Gets")));
  ASSERT_TRUE(wait_progress([](const chaperon::progress_snapshot& p) { return p.requests > 0; }));
  EXPECT_EQ(call("DELETE", "/load_tests/" + never).status, 202);
  EXPECT_EQ(call("DELETE", "/load_tests/" + ran).status, 202);
  ASSERT_TRUE(master_->queue().wait_idle(30s));

  const auto r = call("GET", "/load_tests/ended");
  ASSERT_EQ(r.status, 200);
  const auto ended = json::parse(r.body).at("ended");
  ASSERT_EQ(ended.size(), 2u) << r.body;
  EXPECT_EQ(ended[0], (json{{"name", "Results.Steady"}, {"id", ran}, {"state", "cancelled"},
                            {"results", true}}));
  EXPECT_EQ(ended[1], (json{{"name", "Results.Gets"}, {"id", never}, {"state", "cancelled"},
                            {"results", false}}));
  EXPECT_EQ(call("POST", "/load_tests/ended").status, 405);
  EXPECT_EQ(call("GET", "/load_tests/" + never + "/report").status, 404);
}

// A test on two nodes: its report data grows interval by interval with both nodes' figures,
// and once it has ended holds the final results and the whole series.
TEST_F(Api, a_report_is_live_while_the_test_runs_and_final_after) {
  start({}, 1);
  const auto id = first_id(call("POST", "/load_tests",
                                one_test_body("Results.Steady", demo_->url(), "100ms")));
  const auto waiting = first_id(call("POST", "/load_tests", schedule_body("Results.Gets")));
  auto r = call("GET", "/load_tests/" + waiting + "/report");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(json::parse(r.body).at("error"), "load_test_scheduled");
  ASSERT_TRUE(wait_progress([](const chaperon::progress_snapshot& p) {
    return p.sessions_active == 2 && p.elapsed >= 500ms;
  }));

  r = call("GET", "/load_tests/" + id + "/report");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto live = json::parse(r.body);
  EXPECT_EQ(live.at("id"), id);
  EXPECT_EQ(live.at("state"), "running");
  EXPECT_EQ(live.at("load_test"), "Results.Steady");
  ASSERT_TRUE(live.at("series").is_object()) << r.body;
  EXPECT_GE(live["series"].at("intervals").get<int>(), 3);
  EXPECT_EQ(live["series"].at("interval_s"), 0.1);
  EXPECT_GT(live.at("totals").at("requests").get<int>(), 0);
  const auto& nodes = live.at("live").at("nodes");
  ASSERT_EQ(nodes.size(), 2u) << r.body;
  std::uint64_t node_requests = 0;
  for (const auto& n : nodes) {
    EXPECT_EQ(n.at("sessions_active"), 1) << n.dump();
    node_requests += n.at("requests").get<std::uint64_t>();
  }
  EXPECT_EQ(node_requests, live.at("totals").at("requests").get<std::uint64_t>());
  // The thresholds' states on the figures so far.
  const auto& thresholds = live.at("thresholds");
  ASSERT_EQ(thresholds.size(), 2u) << r.body;
  EXPECT_EQ(thresholds[0].at("threshold"), "p(99)<10s");
  EXPECT_EQ(thresholds[0].at("status"), "passed");
  EXPECT_EQ(thresholds[1].at("status"), "passed");

  EXPECT_EQ(call("DELETE", "/load_tests/" + id).status, 202);
  ASSERT_TRUE(master_->queue().wait_idle(30s));
  r = call("GET", "/load_tests/" + id + "/report");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto final_data = json::parse(r.body);
  EXPECT_EQ(final_data.at("state"), "cancelled");
  EXPECT_FALSE(final_data.contains("live"));
  EXPECT_EQ(final_data.at("cluster").at("nodes").size(), 2u);
  EXPECT_GE(final_data.at("series").at("intervals"), live.at("series").at("intervals"));
  EXPECT_GE(final_data.at("totals").at("requests"), live.at("totals").at("requests"));
  EXPECT_EQ(final_data.at("thresholds").size(), 2u);
  // The same results as the HTML export: the report's data is what the report shows.
  const auto csv = call("GET", "/load_tests/" + id + "/results?format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_NE(call("GET", "/load_tests/" + id + "/results?format=html").body.find("\"intervals\":"),
            std::string::npos);

  EXPECT_EQ(call("GET", "/load_tests/test-999/report").status, 404);
  EXPECT_EQ(call("POST", "/load_tests/" + id + "/report").status, 405);
  EXPECT_EQ(request(port(), "GET", "/load_tests/" + id + "/report").status, 401);
}

}  // namespace
