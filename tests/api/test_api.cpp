// The API's routes, bodies, status codes and auth, over real HTTP on 127.0.0.1 against a master
// that runs what is scheduled against the demo target.
#include <chaperon/chaperon.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "api/api_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using chaperon::session;
using chaperon::task;
using chaperon::apitest::Api;
using chaperon::apitest::basic;
using chaperon::apitest::bearer;
using chaperon::apitest::request;
using nlohmann::json;

task<> three_gets(session& s) {
  for (int i = 0; i < 3; ++i) co_await s.get("/api/messages");
}

// Counts the sessions of Api.Long that reached the target, so that a test waits for the load
// test to be running rather than for a time.
class session_counter {
 public:
  void add() {
    {
      std::lock_guard lock(mutex_);
      ++count_;
    }
    changed_.notify_all();
  }
  int count() {
    std::lock_guard lock(mutex_);
    return count_;
  }
  bool wait_for(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return count_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int count_ = 0;
};
session_counter long_sessions;
session_counter busy_sessions;

// Requests until cancelled.
task<> until_stopped(session& s) {
  co_await s.get("/api/messages");
  long_sessions.add();
  for (int i = 0; i < 100000; ++i) {
    co_await s.delay(std::chrono::milliseconds(5));
    co_await s.get("/api/messages");
  }
}

// As fast as the target answers, until cancelled: the load the API must not be slowed by.
task<> busy(session& s) {
  co_await s.get("/api/messages");
  busy_sessions.add();
  for (int i = 0; i < 10'000'000; ++i) co_await s.get("/api/messages");
}

const bool registered = chaperon::register_load_test([] {
  return chaperon::load_test{"Api.Gets"}.scenario(2, chaperon::make_scenario("ThreeGets", three_gets));
}) && chaperon::register_load_test([] {
  return chaperon::load_test{"Api.Long"}.scenario(
      2, chaperon::make_scenario("UntilStopped", until_stopped));
}) && chaperon::register_load_test([] {
  return chaperon::load_test{"Api.Busy"}.scenario(16, chaperon::make_scenario("Busy", busy));
});

TEST_F(Api, open_routes_need_no_token) {
  start();
  for (const auto* path : {"/", "/healthcheck"}) {
    const auto r = request(port(), "GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "Chaperon @ " CHAPERON_VERSION) << path;
  }
  const auto v = call("GET", "/version");
  EXPECT_EQ(v.status, 200);
  EXPECT_EQ(v.body, CHAPERON_VERSION);
}

TEST_F(Api, every_other_route_needs_the_token) {
  start();
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/version"},          {"GET", "/load_tests"},   {"POST", "/load_tests"},
      {"DELETE", "/load_tests"},    {"DELETE", "/load_tests/scheduled"},
      {"GET", "/load_tests/test-1"}, {"DELETE", "/load_tests/test-1"}};
  const std::vector<std::string> refused = {
      "", "Bearer wrong", "Bearer s3cre", "Basic " "Y2hhcGVyb246d3Jvbmc=",  // chaperon:wrong
      "Basic YWRtaW46czNjcmV0",                                             // admin:s3cret
      "Basic not-base64!", "Token s3cret", "s3cret"};
  for (const auto& [method, path] : routes) {
    for (const auto& auth : refused) {
      const auto r = request(port(), method, path, auth);
      EXPECT_EQ(r.status, 401) << method << " " << path << " with '" << auth << "'";
      EXPECT_NE(r.header("www-authenticate").find("Basic realm="), std::string::npos);
    }
  }
  EXPECT_EQ(request(port(), "GET", "/version", bearer).status, 200);
  EXPECT_EQ(request(port(), "GET", "/version", basic).status, 200);
  EXPECT_EQ(request(port(), "GET", "/version", "bearer s3cret").status, 200);
  // Nothing was scheduled or cancelled by the refused requests.
  EXPECT_EQ(json::parse(call("GET", "/load_tests").body),
            (json{{"running", json::array()}, {"scheduled", json::array()}}));
}

TEST_F(Api, requests_from_other_sites_pages_are_refused) {
  start();
  const auto with_origin = [&](const std::string& host, const std::string& origin,
                               const std::string& target = "/load_tests") {
    chaperon::apitest::connection c(port());
    c.send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: " + bearer +
           "\r\nOrigin: " + origin + "\r\n\r\n");
    return c.read();
  };
  const auto self = "127.0.0.1:" + std::to_string(port());
  EXPECT_EQ(with_origin(self, "http://" + self).status, 200);
  for (const auto& origin : {std::string("https://evil.example"), std::string("null"),
                             "http://localhost:" + std::to_string(port())}) {
    const auto r = with_origin(self, origin);
    EXPECT_EQ(r.status, 403) << origin;
    EXPECT_EQ(json::parse(r.body).at("error"), "cross_origin");
  }
  // The open routes stay open.
  EXPECT_EQ(with_origin(self, "https://evil.example", "/healthcheck").status, 200);
}

TEST_F(Api, without_a_token_loopback_is_open) {
  chaperon::api::api_options o;
  o.insecure = true;  // no token: the fixture would otherwise set one
  start(o);
  EXPECT_EQ(request(port(), "GET", "/load_tests").status, 200);
  const auto with_host = [&](const std::string& host) {
    chaperon::apitest::connection c(port());
    c.send("GET /load_tests HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    return c.read();
  };
  const auto p = std::to_string(port());
  for (const auto& host : {"127.0.0.1:" + p, "localhost:" + p, "[::1]:" + p, std::string("10.0.0.1")})
    EXPECT_EQ(with_host(host).status, 200) << host;
  // A name made to resolve to 127.0.0.1 by another site (DNS rebinding).
  const auto r = with_host("rebind.example:" + p);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json::parse(r.body).at("error"), "host_not_allowed");
}

TEST_F(Api, a_scheduled_test_runs_to_the_end) {
  start();
  const auto before = demo_->path_count("/api/messages");
  const auto r = call("POST", "/load_tests", schedule_body("Api.Gets"));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto ids = json::parse(r.body).at("scheduled");
  ASSERT_EQ(ids.size(), 1u);
  const auto id = ids[0].get<std::string>();
  ASSERT_TRUE(master_->queue().wait_idle(30s));

  const auto status = call("GET", "/load_tests/" + id);
  ASSERT_EQ(status.status, 200);
  EXPECT_EQ(json::parse(status.body),
            (json{{"name", "Api.Gets"}, {"id", id}, {"state", "finished"}}));
  // The test really ran: 2 sessions of 3 requests reached the target.
  EXPECT_EQ(demo_->path_count("/api/messages") - before, 6u);
  // An ended test cannot be cancelled.
  const auto again = call("DELETE", "/load_tests/" + id);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(json::parse(again.body).at("error"), "load_test_ended");
}

// The options under the command line's names reach the run as given.
TEST_F(Api, options_reach_the_run) {
  start();
  const json options{{"config", {{"base_url", demo_->url()}, {"x", {{"y", 1}}}}},
                     {"threads", 1},
                     {"per_session", true},
                     {"metrics", "get,post"},
                     {"thresholds", "get:p(99)<5s"},
                     {"interval", "250ms"}};
  const auto r = call("POST", "/load_tests",
                      json{{"load_tests", {{{"test", "Api.Gets"}, {"options", options}}}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(master_->queue().wait_idle(30s));
  const auto spec = last_spec();
  EXPECT_EQ(spec.load_test, "Api.Gets");
  EXPECT_EQ(spec.config, options["config"]);
  EXPECT_EQ(spec.threads, 1u);
  EXPECT_TRUE(spec.per_session);
  EXPECT_EQ(spec.metrics, (std::vector<std::string>{"get", "post"}));
  EXPECT_EQ(spec.thresholds, (std::vector<std::string>{"get:p(99)<5s"}));
  EXPECT_EQ(spec.interval, "250ms");
  const auto id = json::parse(r.body).at("scheduled").at(0).get<std::string>();
  EXPECT_EQ(json::parse(call("GET", "/load_tests/" + id).body).at("state"), "finished");
}

// The command line's load-model and count options, and a tag: a rate is the cluster's total.
TEST_F(Api, a_rate_and_a_tag_reach_the_run) {
  start({}, 1);
  const json options{{"config", {{"base_url", demo_->url()}}}, {"threads", 1},
                     {"rate", "40/s"}, {"duration", "500ms"}, {"max_active", 50},
                     {"tag", "nightly"}, {"format", "JSON"}};
  const auto r = call("POST", "/load_tests",
                      json{{"load_tests", {{{"test", "Api.Gets"}, {"options", options}}}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto id = json::parse(r.body).at("scheduled").at(0).get<std::string>();
  ASSERT_TRUE(master_->queue().wait_idle(30s));
  const auto spec = last_spec();
  EXPECT_EQ(spec.rate, "40/s");
  EXPECT_EQ(spec.duration, "500ms");
  EXPECT_EQ(spec.max_active, 50u);
  EXPECT_EQ(spec.tag, "nightly");
  EXPECT_EQ(spec.format, "json");
  const auto status = json::parse(call("GET", "/load_tests/" + id).body);
  EXPECT_EQ(status.at("tag"), "nightly") << status.dump();
  EXPECT_EQ(status.at("state"), "finished") << status.dump();
  // 40/s for 0.5 s: 20 arrivals over the two nodes, whatever the test's own model.
  const auto kept = master_->results(id);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->results.arrivals.started + kept->results.arrivals.dropped, 20u);
  EXPECT_EQ(kept->nodes.size(), 2u);
}

TEST_F(Api, a_scheduled_test_runs_on_the_workers_too) {
  start({}, 2);
  const auto before = demo_->path_count("/api/messages");
  const auto r = call("POST", "/load_tests",
                      R"({"load_tests":[{"test":"Api.Gets","options":{"threads":1,"config":{"base_url":")" +
                          demo_->url() + R"("}}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto id = json::parse(r.body).at("scheduled").at(0).get<std::string>();
  ASSERT_TRUE(master_->queue().wait_idle(30s));
  EXPECT_EQ(json::parse(call("GET", "/load_tests/" + id).body).at("state"), "finished");
  auto nodes = last_nodes();
  std::sort(nodes.begin(), nodes.end());
  EXPECT_EQ(nodes, (std::vector<std::string>{"master", "worker-1", "worker-2"}));
  // The shares together are the whole test: 2 sessions of 3 requests.
  EXPECT_EQ(demo_->path_count("/api/messages") - before, 6u);
}

TEST_F(Api, list_and_cancel_running_and_scheduled_tests) {
  start();
  const int seen = long_sessions.count();
  auto r = call("POST", "/load_tests",
                json{{"load_tests",
                      {{{"test", "Api.Long"},
                        {"options", {{"config", {{"base_url", demo_->url()}}}, {"threads", 1}}}},
                       {{"test", "Api.Gets"}},
                       {{"test", "Api.Gets"}, {"options", nullptr}}}}}
                    .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto ids = json::parse(r.body).at("scheduled").get<std::vector<std::string>>();
  ASSERT_EQ(ids.size(), 3u);
  ASSERT_TRUE(long_sessions.wait_for(seen + 1));

  auto list = json::parse(call("GET", "/load_tests").body);
  ASSERT_EQ(list.at("running").size(), 1u);
  EXPECT_EQ(list["running"][0], (json{{"name", "Api.Long"}, {"id", ids[0]}, {"state", "running"}}));
  ASSERT_EQ(list.at("scheduled").size(), 2u);
  EXPECT_EQ(list["scheduled"][0].at("id"), ids[1]);
  EXPECT_EQ(list["scheduled"][1].at("id"), ids[2]);

  // One waiting test by id, then the rest of the waiting ones, then the running one.
  r = call("DELETE", "/load_tests/" + ids[1]);
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(json::parse(r.body), (json{{"cancelled", ids[1]}}));
  r = call("DELETE", "/load_tests/scheduled");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(json::parse(r.body), (json{{"cancelled", 1}}));
  list = json::parse(call("GET", "/load_tests").body);
  EXPECT_TRUE(list.at("scheduled").empty());
  EXPECT_EQ(list.at("running").size(), 1u);
  r = call("DELETE", "/load_tests/" + ids[0]);
  EXPECT_EQ(r.status, 202);
  ASSERT_TRUE(master_->queue().wait_idle(30s));
  for (const auto& id : ids)
    EXPECT_EQ(json::parse(call("GET", "/load_tests/" + id).body).at("state"), "cancelled") << id;
  EXPECT_EQ(call("GET", "/load_tests/test-999").status, 404);
  EXPECT_EQ(call("DELETE", "/load_tests/test-999").status, 404);
}

TEST_F(Api, delete_all_cancels_the_running_test_and_the_queue) {
  start();
  const int seen = long_sessions.count();
  const auto body = json{{"load_tests",
                          {{{"test", "Api.Long"},
                            {"options", {{"config", {{"base_url", demo_->url()}}}}}},
                           {{"test", "Api.Gets"}}}}}
                        .dump();
  const auto r = call("POST", "/load_tests", body);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(long_sessions.wait_for(seen + 1));
  const auto all = call("DELETE", "/load_tests");
  EXPECT_EQ(all.status, 202);
  EXPECT_EQ(json::parse(all.body), (json{{"cancelled", 2}}));
  ASSERT_TRUE(master_->queue().wait_idle(30s));
  EXPECT_EQ(json::parse(call("GET", "/load_tests").body),
            (json{{"running", json::array()}, {"scheduled", json::array()}}));
}

// Each bad body gets 400 with the error word and a message naming the field or test; none of
// them queues anything.
TEST_F(Api, bad_schedule_requests_name_the_problem) {
  start();
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {R"({"load_tests":[]})", "no_load_tests_given", ""},
      {R"({"load_tests":)", "invalid_json", "not valid JSON"},
      {"", "invalid_json", "not valid JSON"},
      {R"([1,2])", "invalid_field", "body"},
      {R"({})", "invalid_field", "load_tests: is missing"},
      {R"({"load_tests":{}})", "invalid_field", "load_tests: must be an array"},
      {R"({"load_tests":[5]})", "invalid_field", "load_tests[0]: must be an object"},
      {R"({"load_tests":[{"options":{}}]})", "invalid_field", "load_tests[0].test: is missing"},
      {R"({"load_tests":[{"test":5}]})", "invalid_field", "load_tests[0].test"},
      {R"({"load_tests":[{"test":"Api.Gets","options":[]}]})", "invalid_field",
       "load_tests[0].options: must be an object"},
      {R"({"load_tests":[{"test":"Api.Gets"},{"test":"No.Such"}]})", "unknown_load_test",
       "'No.Such'"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"threads":"2"}}]})", "invalid_option",
       "load_tests[0].options.threads"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"threads":-1}}]})", "invalid_option",
       "load_tests[0].options.threads"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"rates":5}}]})", "invalid_option",
       "load_tests[0].options.rates: unknown option"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"rate":5}}]})", "invalid_option",
       "load_tests[0].options.rate: must be a rate string"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"rate":"fast","duration":"1s"}}]})",
       "invalid_option", "load_tests[0].options.rate: 'fast' is not a rate"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"rate":"5/s"}}]})", "invalid_option",
       "load_tests[0].options.duration: is needed with a rate"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"stages":"30s:x"}}]})", "invalid_option",
       "load_tests[0].options.stages: '30s:x'"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"sessions":0}}]})", "invalid_option",
       "load_tests[0].options.sessions: must be an integer > 0"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"scale":-1}}]})", "invalid_option",
       "load_tests[0].options.scale"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"tag":1}}]})", "invalid_option",
       "load_tests[0].options.tag"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"format":"xml"}}]})", "invalid_option",
       "load_tests[0].options.format: 'xml' is not an export format"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"config":1}}]})", "invalid_option",
       "load_tests[0].options.config"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"per_session":"yes"}}]})",
       "invalid_option", "load_tests[0].options.per_session"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"metrics":[1]}}]})", "invalid_option",
       "load_tests[0].options.metrics[0]"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"interval":"soon"}}]})",
       "invalid_option", "interval"},
      {R"({"load_tests":[{"test":"Api.Gets","options":{"thresholds":["p99 <<"]}}]})",
       "invalid_option", "load_tests[0].options"},
  };
  for (const auto& [body, code, field] : cases) {
    const auto r = call("POST", "/load_tests", body);
    EXPECT_EQ(r.status, 400) << body;
    const auto j = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    EXPECT_EQ(j.value("error", ""), code) << body;
    EXPECT_NE(j.value("message", "").find(field), std::string::npos) << body << " -> " << r.body;
  }
  EXPECT_EQ(call("POST", "/load_tests", R"({"load_tests":[]})").body,
            R"({"error":"no_load_tests_given"})");
  EXPECT_EQ(json::parse(call("GET", "/load_tests").body),
            (json{{"running", json::array()}, {"scheduled", json::array()}}));
}

TEST_F(Api, unknown_routes_and_wrong_methods) {
  start();
  EXPECT_EQ(call("GET", "/nope").status, 404);
  EXPECT_EQ(request(port(), "GET", "/nope").status, 404);
  EXPECT_EQ(call("GET", "/load_tests/test-1/results/x").status, 404);
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"POST", "/", "GET"},
      {"DELETE", "/healthcheck", "GET"},
      {"PUT", "/version", "GET"},
      {"PUT", "/load_tests", "GET, POST, DELETE"},
      {"GET", "/load_tests/scheduled", "DELETE"},
      {"POST", "/load_tests/test-1", "GET, DELETE"}};
  for (const auto& [method, path, allow] : cases) {
    const auto r = call(method, path);
    EXPECT_EQ(r.status, 405) << method << " " << path;
    EXPECT_EQ(r.header("allow"), allow) << method << " " << path;
  }
}

// The API runs on a thread of its own: a load test keeping the engine busy does not keep it
// from answering. The latencies are printed (the machine's load decides them), not asserted.
TEST_F(Api, answers_while_a_busy_test_runs) {
  start();
  const int seen = busy_sessions.count();
  const auto r = call("POST", "/load_tests", schedule_body("Api.Busy"));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(busy_sessions.wait_for(seen + 16));
  const auto before = demo_->path_count("/api/messages");
  chaperon::apitest::connection c(port());
  std::vector<double> ms;
  const auto begin = std::chrono::steady_clock::now();
  for (int i = 0; i < 2000; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(c.send(chaperon::apitest::request_text("GET", "/load_tests", bearer)));
    const auto reply = c.read();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                     .count());
    ASSERT_EQ(reply.status, 200);
    ASSERT_EQ(json::parse(reply.body).at("running").size(), 1u);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  const auto target_requests = demo_->path_count("/api/messages") - before;
  EXPECT_EQ(call("DELETE", "/load_tests").status, 202);
  ASSERT_TRUE(master_->queue().wait_idle(30s));
  std::sort(ms.begin(), ms.end());
  std::printf("GET /load_tests under load: p50 %.3f ms, p99 %.3f ms, max %.3f ms; the test made "
              "%.0f req/s meanwhile\n",
              ms[ms.size() / 2], ms[ms.size() * 99 / 100], ms.back(),
              static_cast<double>(target_requests) / seconds);
}

}  // namespace
