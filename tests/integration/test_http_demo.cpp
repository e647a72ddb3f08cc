// The engine against the demo target: cookies, headers, bodies, query strings, metric names,
// timeouts, abort, config errors, sequences, per-session rows and metric filters.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <chaperon/chaperon.hpp>

#include "integration/process_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using chaperon::http_options;
using chaperon::http_result;
using chaperon::json;
using chaperon::metric_key;
using chaperon::run_results;
using chaperon::session;
using chaperon::task;
using chaperon::itest::demo_server;

// What sessions saw, by topic; sessions run on engine threads, hence the lock.
class observations {
 public:
  void add(const std::string& topic, json value) {
    std::lock_guard lock(mutex_);
    items_[topic].push_back(std::move(value));
  }
  std::vector<json> take(const std::string& topic) {
    std::lock_guard lock(mutex_);
    auto out = std::move(items_[topic]);
    items_.erase(topic);
    return out;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    items_.clear();
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<json>> items_;
};

observations g_seen;
std::atomic<int> g_teardowns{0};

std::uint64_t count_of(const run_results& r, const metric_key& key) {
  auto it = r.metrics.find(key);
  return it == r.metrics.end() ? 0 : it->second.count();
}

metric_key metric(std::string action, std::string url, std::string error = {}) {
  return metric_key{"", std::move(action), std::move(url), std::move(error)};
}

// ---- scenarios -------------------------------------------------------------------------------------

http_options login_form() {
  return http_options{}.form({{"user", "ann"}, {"password", "secret"}});
}

task<> login_then_account(session& s) {
  auto login = co_await s.post("/login", login_form());
  g_seen.add("login", {{"status", login.status}, {"cookie", s.cookie_header()}});
  auto opts = http_options{}.decode_json();
  auto account = co_await s.get("/account", std::move(opts));
  g_seen.add("account", {{"status", account.status}, {"body", account.json}});
}

task<> account_only(session& s) {
  auto r = co_await s.get("/account");
  g_seen.add("anonymous", {{"status", r.status}, {"ok", r.ok()}});
}

task<> echo_with_headers(session& s) {
  auto opts = http_options{}.header("X-Custom", "42").json_field("a", 1).decode_json();
  if (s.has_config("user_agent")) opts.header("User-Agent", s.config_as<std::string>("user_agent"));
  if (s.has_config("accept")) opts.header("Accept", s.config_as<std::string>("accept"));
  auto r = co_await s.post("/echo", std::move(opts));
  g_seen.add(s.name(), r.json);
}

// Each body setter after another: the last one decides body and Content-Type.
task<> echo_body_setters_in_turn(session& s) {
  auto form_then_json = http_options{}.form({{"a", "1"}}).json(json{{"b", 2}}).decode_json();
  auto r = co_await s.post("/echo", std::move(form_then_json));
  g_seen.add("form_then_json", r.json);
  auto form_then_body = http_options{}.form({{"a", "1"}}).body("raw", "text/plain").decode_json();
  r = co_await s.post("/echo", std::move(form_then_body));
  g_seen.add("form_then_body", r.json);
}

task<> echo_plain_get(session& s) {
  auto opts = http_options{}.decode_json();
  auto r = co_await s.get("/echo", std::move(opts));
  g_seen.add("plain", r.json);
}

task<> post_and_read_message(session& s) {
  auto post = http_options{}.json(json{{"message", "hello from " + s.id()}}).decode_json();
  auto created = co_await s.post("/api/messages", std::move(post));
  if (!created.ok()) co_return;
  const std::string path = "/api/messages/" + std::to_string(created.json.at("id").get<long>());
  auto read = http_options{}.decode_json().metrics_url("/api/messages/:id");
  auto fetched = co_await s.get(path, std::move(read));
  g_seen.add("message", {{"status", created.status},
                         {"created", created.json},
                         {"fetched", fetched.json},
                         {"text", "hello from " + s.id()}});
}

task<> post_form(session& s) {
  // Brace-free setters compile inside a co_await, where GCC 12 rejects a braced list.
  auto r = co_await s.post(
      "/echo", http_options{}.form_field("user", "ann b").form_field("note", "1&2=3").decode_json());
  g_seen.add("form", r.json);
}

task<> get_with_params(session& s) {
  auto opts = http_options{}.param("q", "a b").param("n", "1").decode_json();
  auto r = co_await s.get("/echo", std::move(opts));
  g_seen.add("params", r.json);
}

// Bounded, so that a broken timeout fails the test after ~10 s instead of hanging it.
task<> loop_slow(session& s) {
  for (int i = 0; i < 100; ++i) co_await s.get("/delay/100");
  g_seen.add("loop_finished", true);
}

task<> abort_midway(session& s) {
  co_await s.get("/status/201");
  s.abort("enough");
  co_await s.get("/status/202");
  g_seen.add("after_abort", true);
}

task<> count_teardown(session&) {
  ++g_teardowns;
  co_return;
}

task<> login_then_forget(session& s) {
  co_await s.post("/login", login_form());
  co_await s.get("/account");
  s.delete_cookies();
  g_seen.add("cookie_after_delete", s.cookie_header());
  co_await s.get("/account");
}

task<> collect_cookies(session& s) {
  co_await s.get("/cookies/set?a=1");
  co_await s.get("/cookies/set?b=2");
  co_await s.get("/cookies/set?a=3");
  auto opts = http_options{}.decode_json();
  auto r = co_await s.get("/echo", std::move(opts));
  g_seen.add("cookies", {{"jar", s.cookie_header()}, {"sent", r.json["headers"].value("cookie", "")}});
}

task<> needs_token(session& s) {
  const auto token = s.config_as<std::string>("api.token");
  co_await s.get("/echo");
}

task<> seq_first(session& s) {
  s.assign("code", 203);
  s.assign("greeting", "hi");
  co_return;
}

task<> seq_second(session& s) {
  const std::string path = "/status/" + std::to_string(s.config_as<int>("code"));
  co_await s.get(path);
  g_seen.add("seq", {{"greeting", s.config("greeting")}, {"base_url", s.config("base_url")}});
}

task<> get_root(session& s) { co_await s.get("/"); }

task<> mixed_actions(session& s) {
  co_await s.get("/");
  co_await s.post("/status/404");
  co_await s.post("/echo");
  s.add_metric("custom", 5ms);
}

task<> callbacks(session& s) {
  int with = 0, ok = 0, err = 0;
  auto count_with = [&with](session&, const http_result&) { ++with; };
  auto count_ok = [&ok](session&, const http_result&) { ++ok; };
  auto count_err = [&err](session&, const http_result&) { ++err; };
  auto opts = http_options{}.with_result(count_with).on_ok(count_ok).on_error(count_err);
  co_await s.get("/", opts);
  co_await s.get("/status/404", opts);
  co_await s.get(s.config_as<std::string>("dead_url"), opts);
  g_seen.add("callbacks", {{"with", with}, {"ok", ok}, {"err", err}});
}

bool alphabet_body(const std::string& body) {
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != static_cast<char>('a' + i % 26)) return false;
  }
  return true;
}

// Responses without a body, chunked and large ones, all on one keep-alive connection.
task<> bodies_of_every_kind(session& s) {
  auto head = co_await s.head("/bytes/1000");
  auto after_head = co_await s.get("/bytes/10");
  auto no_content = co_await s.get("/status/204");
  auto chunked = co_await s.get("/chunked/100000");
  auto large = co_await s.get("/bytes/3000000");
  g_seen.add("bodies", {{"head_status", head.status},
                        {"head_body", head.body.size()},
                        {"head_length", std::string(head.header("Content-Length"))},
                        {"after_head", after_head.body},
                        {"no_content_status", no_content.status},
                        {"no_content_body", no_content.body.size()},
                        {"chunked_size", chunked.body.size()},
                        {"chunked_intact", alphabet_body(chunked.body)},
                        {"large_size", large.body.size()},
                        {"large_intact", alphabet_body(large.body)}});
}

// ---- fixture ---------------------------------------------------------------------------------------

class DemoTarget : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      demo_ = std::make_unique<demo_server>();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { demo_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    g_seen.clear();
  }

  static std::string url(const std::string& path) { return demo_->url() + path; }

  static chaperon::load_test demo_test(std::size_t sessions, chaperon::scenario_fn fn,
                                       json cfg = json::object()) {
    chaperon::load_test t("Demo.Test");
    t.default_config({{"base_url", demo_->url()}});
    t.scenario(sessions, chaperon::make_scenario("Demo", std::move(fn)), std::move(cfg));
    return t;
  }

  static inline std::unique_ptr<demo_server> demo_;
  static inline std::string setup_error_;
};

// ---- cookies ---------------------------------------------------------------------------------------

TEST_F(DemoTarget, LoginSetsACookieThatTheAccountPageAccepts) {
  constexpr std::size_t sessions = 3;
  auto results = chaperon::run_load_test(demo_test(sessions, login_then_account));

  EXPECT_EQ(count_of(results, metric("post", url("/login"))), sessions);
  EXPECT_EQ(count_of(results, metric("get", url("/account"))), sessions);
  EXPECT_EQ(count_of(results, metric("get", url("/account"), "HTTP 401")), 0u);
  EXPECT_EQ(results.error_count(), 0u);
  auto logins = g_seen.take("login");
  ASSERT_EQ(logins.size(), sessions);
  for (const auto& l : logins) {
    EXPECT_EQ(l["status"], 200);
    EXPECT_TRUE(l["cookie"].get<std::string>().starts_with("session=")) << l.dump();
  }
  for (const auto& a : g_seen.take("account")) {
    EXPECT_EQ(a["status"], 200);
    EXPECT_EQ(a["body"], json({{"user", "ann"}}));
  }
}

TEST_F(DemoTarget, AccountWithoutLoginIs401) {
  constexpr std::size_t sessions = 2;
  auto results = chaperon::run_load_test(demo_test(sessions, account_only));

  EXPECT_EQ(count_of(results, metric("get", url("/account"))), sessions);
  EXPECT_EQ(count_of(results, metric("get", url("/account"), "HTTP 401")), sessions);
  for (const auto& a : g_seen.take("anonymous")) {
    EXPECT_EQ(a["status"], 401);
    EXPECT_EQ(a["ok"], false);
  }
  EXPECT_EQ(results.sessions.completed, sessions);
}

TEST_F(DemoTarget, DeleteCookiesForgetsTheLogin) {
  constexpr std::size_t sessions = 2;
  auto results = chaperon::run_load_test(demo_test(sessions, login_then_forget));

  EXPECT_EQ(count_of(results, metric("get", url("/account"))), 2 * sessions);
  EXPECT_EQ(count_of(results, metric("get", url("/account"), "HTTP 401")), sessions);
  for (const auto& c : g_seen.take("cookie_after_delete")) EXPECT_EQ(c, "");
}

TEST_F(DemoTarget, CookiesMergeByName) {
  auto results = chaperon::run_load_test(demo_test(1, collect_cookies));
  auto seen = g_seen.take("cookies");
  ASSERT_EQ(seen.size(), 1u);
  const auto jar = seen[0]["jar"].get<std::string>();
  EXPECT_NE(jar.find("a=3"), std::string::npos) << jar;
  EXPECT_NE(jar.find("b=2"), std::string::npos) << jar;
  EXPECT_EQ(jar.find("a=1"), std::string::npos) << jar;
  EXPECT_EQ(seen[0]["sent"], jar);
  EXPECT_EQ(results.error_count(), 0u);
}

// ---- what goes on the wire -------------------------------------------------------------------------

TEST_F(DemoTarget, EchoShowsDefaultCustomAuthAndJsonHeaders) {
  chaperon::load_test t("Demo.Echo");
  t.default_config({{"base_url", demo_->url()}});
  auto echo = chaperon::make_scenario("Echo", echo_with_headers);
  t.scenario(1, echo, "auth-array", {{"basic_auth", {"ann", "pw"}}});
  t.scenario(1, echo, "auth-object",
             {{"basic_auth", {{"user", "bob"}, {"pass", "pw2"}}},
              {"user_agent", "custom/1"},
              {"accept", "application/vnd.test+json"}});
  auto results = chaperon::run_load_test(t);
  EXPECT_EQ(count_of(results, metric("post", url("/echo"))), 2u);

  auto array = g_seen.take("auth-array");
  ASSERT_EQ(array.size(), 1u);
  const auto& h = array[0]["headers"];
  EXPECT_EQ(array[0]["method"], "POST");
  EXPECT_EQ(array[0]["target"], "/echo");
  EXPECT_EQ(array[0]["body"], R"({"a":1})");
  EXPECT_EQ(h.value("user-agent", ""), "chaperon");
  EXPECT_EQ(h.value("x-custom", ""), "42");
  EXPECT_EQ(h.value("authorization", ""), "Basic YW5uOnB3");  // ann:pw
  EXPECT_EQ(h.value("content-type", ""), "application/json");
  EXPECT_EQ(h.value("accept", ""), "application/json");
  EXPECT_EQ(h.value("host", ""), "127.0.0.1:" + std::to_string(demo_->port()));

  auto object = g_seen.take("auth-object");
  ASSERT_EQ(object.size(), 1u);
  EXPECT_EQ(object[0]["headers"].value("authorization", ""), "Basic Ym9iOnB3Mg==");  // bob:pw2
  // A header of the scenario's own replaces the default instead of being sent twice.
  EXPECT_EQ(object[0]["headers"].value("user-agent", ""), "custom/1");
  // Regression: with json() a user Accept came on top of the default (the demo joins repeats).
  EXPECT_EQ(object[0]["headers"].value("accept", ""), "application/vnd.test+json");
}

// Regression: form() then json() or body() sent the form body under the later content type.
TEST_F(DemoTarget, TheLastBodySetterWins) {
  chaperon::run_load_test(demo_test(1, echo_body_setters_in_turn));
  auto json_body = g_seen.take("form_then_json");
  ASSERT_EQ(json_body.size(), 1u);
  EXPECT_EQ(json_body[0]["body"], R"({"b":2})");
  EXPECT_EQ(json_body[0]["headers"].value("content-type", ""), "application/json");
  auto raw = g_seen.take("form_then_body");
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0]["body"], "raw");
  EXPECT_EQ(raw[0]["headers"].value("content-type", ""), "text/plain");
  EXPECT_EQ(raw[0]["headers"].value("accept", ""), "*/*");
}

TEST_F(DemoTarget, PlainGetSendsDefaultAcceptAndNoBodyHeaders) {
  chaperon::run_load_test(demo_test(1, echo_plain_get));
  auto seen = g_seen.take("plain");
  ASSERT_EQ(seen.size(), 1u);
  const auto& h = seen[0]["headers"];
  EXPECT_EQ(seen[0]["method"], "GET");
  EXPECT_EQ(h.value("accept", ""), "*/*");
  EXPECT_EQ(h.value("user-agent", ""), "chaperon");
  EXPECT_FALSE(h.contains("content-type"));
  EXPECT_FALSE(h.contains("authorization"));
  EXPECT_FALSE(h.contains("cookie"));
  EXPECT_EQ(seen[0]["body"], "");
}

TEST_F(DemoTarget, PostJsonAndDecodeTheReply) {
  constexpr std::size_t sessions = 3;
  auto results = chaperon::run_load_test(demo_test(sessions, post_and_read_message));

  EXPECT_EQ(count_of(results, metric("post", url("/api/messages"))), sessions);
  // metrics_url groups every message id under one name.
  EXPECT_EQ(count_of(results, metric("get", url("/api/messages/:id"))), sessions);
  EXPECT_EQ(results.metrics.size(), 2u);
  auto seen = g_seen.take("message");
  ASSERT_EQ(seen.size(), sessions);
  for (const auto& m : seen) {
    EXPECT_EQ(m["status"], 201);
    EXPECT_EQ(m["created"]["message"], m["text"]);
    EXPECT_EQ(m["created"]["author"], "anonymous");
    EXPECT_TRUE(m["created"]["id"].is_number_integer());
    EXPECT_EQ(m["fetched"], m["created"]);
  }
}

TEST_F(DemoTarget, FormBodyIsUrlEncoded) {
  chaperon::run_load_test(demo_test(1, post_form));
  auto seen = g_seen.take("form");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["body"], "user=ann+b&note=1%262%3D3");
  EXPECT_EQ(seen[0]["headers"].value("content-type", ""), "application/x-www-form-urlencoded");
}

TEST_F(DemoTarget, QueryParamsAreEncodedAndNamedInMetricsUnlessSkipped) {
  chaperon::load_test t("Demo.Params");
  t.default_config({{"base_url", demo_->url()}});
  auto params = chaperon::make_scenario("Params", get_with_params);
  t.scenario(2, params, json::object());
  t.scenario(3, params, {{"skip_query_params_in_metrics", true}});
  auto results = chaperon::run_load_test(t);

  EXPECT_EQ(count_of(results, metric("get", url("/echo?q=a%20b&n=1"))), 2u);
  EXPECT_EQ(count_of(results, metric("get", url("/echo"))), 3u);
  EXPECT_EQ(results.metrics.size(), 2u);
  auto seen = g_seen.take("params");
  ASSERT_EQ(seen.size(), 5u);
  for (const auto& e : seen) EXPECT_EQ(e["target"], "/echo?q=a%20b&n=1");
}

TEST_F(DemoTarget, CallbacksSplitByOutcome) {
  const auto dead = "http://127.0.0.1:" + std::to_string(chaperon::itest::free_tcp_port()) + "/";
  chaperon::run_load_test(demo_test(1, callbacks, {{"dead_url", dead}}));
  auto seen = g_seen.take("callbacks");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], json({{"with", 3}, {"ok", 1}, {"err", 2}}));
}

TEST_F(DemoTarget, HeadNoContentChunkedAndLargeBodiesShareOneConnection) {
  auto results = chaperon::run_load_test(demo_test(1, bodies_of_every_kind));
  EXPECT_EQ(results.error_count(), 0u);
  EXPECT_EQ(count_of(results, metric("head", url("/bytes/1000"))), 1u);
  auto seen = g_seen.take("bodies");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], json({{"head_status", 200},
                           {"head_body", 0},
                           {"head_length", "1000"},
                           {"after_head", "abcdefghij"},
                           {"no_content_status", 204},
                           {"no_content_body", 0},
                           {"chunked_size", 100000},
                           {"chunked_intact", true},
                           {"large_size", 3000000},
                           {"large_intact", true}}));
}

// ---- stopping sessions -----------------------------------------------------------------------------

TEST_F(DemoTarget, ScenarioTimeoutStopsALoopingSession) {
  constexpr std::size_t sessions = 3;
  const auto start = std::chrono::steady_clock::now();
  auto results =
      chaperon::run_load_test(demo_test(sessions, loop_slow, {{"scenario_timeout", "300ms"}}));
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_LT(elapsed, 3s);
  EXPECT_EQ(results.sessions.started, sessions);
  EXPECT_EQ(results.sessions.timed_out, sessions);
  EXPECT_EQ(results.sessions.completed, 0u);
  EXPECT_EQ(results.session_errors["scenario_timeout"], sessions);
  // Each request takes at least 100 ms: no session can finish more than 3 in 300 ms.
  const auto done = count_of(results, metric("get", url("/delay/100")));
  EXPECT_GT(done, 0u);
  EXPECT_LE(done, sessions * 3);
  EXPECT_FALSE(results.partial);
  EXPECT_TRUE(g_seen.take("loop_finished").empty());
}

TEST_F(DemoTarget, LoadTestTimeoutStopsTheRunAndMarksItPartial) {
  constexpr std::size_t sessions = 3;
  chaperon::load_test t("Demo.Timeout");
  t.default_config({{"base_url", demo_->url()}, {"load_test_timeout", "400ms"}});
  t.scenario(sessions, chaperon::make_scenario("Loop", loop_slow));
  const auto start = std::chrono::steady_clock::now();
  auto results = chaperon::run_load_test(t);
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_LT(elapsed, 3s);
  EXPECT_TRUE(results.partial);
  EXPECT_EQ(results.sessions.started, sessions);
  EXPECT_EQ(results.sessions.timed_out, sessions);
  EXPECT_EQ(results.session_errors["load_test_timeout"], sessions);
  // What was measured before the stop is kept.
  const auto done = count_of(results, metric("get", url("/delay/100")));
  EXPECT_GT(done, 0u);
  EXPECT_LE(done, sessions * 4);
  EXPECT_LT(results.duration_us, 3'000'000);
  EXPECT_TRUE(g_seen.take("loop_finished").empty());
}

TEST_F(DemoTarget, AbortStopsTheSessionBeforeItsNextRequest) {
  constexpr std::size_t sessions = 3;
  demo_->reset_stats();
  g_teardowns = 0;
  chaperon::load_test t("Demo.Abort");
  t.default_config({{"base_url", demo_->url()}});
  t.scenario(sessions, chaperon::make_scenario("Abort", abort_midway, {}, count_teardown));
  auto results = chaperon::run_load_test(t);

  EXPECT_EQ(demo_->path_count("/status/201"), sessions);
  EXPECT_EQ(demo_->path_count("/status/202"), 0u);
  EXPECT_EQ(results.sessions.aborted, sessions);
  EXPECT_EQ(results.sessions.completed, 0u);
  EXPECT_EQ(results.session_errors["aborted: enough"], sessions);
  EXPECT_EQ(count_of(results, metric("get", url("/status/201"))), sessions);
  EXPECT_EQ(count_of(results, metric("get", url("/status/202"))), 0u);
  EXPECT_TRUE(g_seen.take("after_abort").empty());
  EXPECT_EQ(g_teardowns.load(), static_cast<int>(sessions));
}

// ---- config ----------------------------------------------------------------------------------------

TEST_F(DemoTarget, MissingRequiredConfigFailsTheSessionNamingTheKey) {
  chaperon::load_test t("Demo.Missing");
  t.default_config({{"base_url", demo_->url()}});
  auto scenario = chaperon::make_scenario("Needs", needs_token);
  t.scenario(2, scenario, "needs-token", json::object());
  t.scenario(3, scenario, json::object());
  auto results = chaperon::run_load_test(t);

  EXPECT_EQ(results.sessions.started, 5u);
  EXPECT_EQ(results.sessions.failed, 5u);
  EXPECT_EQ(results.sessions.completed, 0u);
  // One reason for every session missing the key (the session names go to the log), so that
  // thousands of failing sessions give one summary line, not thousands.
  ASSERT_EQ(results.session_errors.size(), 1u);
  EXPECT_EQ(results.session_errors.begin()->first, "required config key 'api.token' is missing");
  EXPECT_EQ(results.session_errors.begin()->second, 5u);
  EXPECT_EQ(count_of(results, metric("get", url("/echo"))), 0u);
}

TEST_F(DemoTarget, SequenceHandsAssignedValuesToTheNextScenarioAsConfig) {
  constexpr std::size_t sessions = 2;
  chaperon::load_test t("Demo.Sequence");
  t.default_config({{"base_url", demo_->url()}});
  t.sequence(sessions, {chaperon::make_scenario("First", seq_first),
                        chaperon::make_scenario("Second", seq_second)});
  EXPECT_EQ(t.entries().at(0).scenario_name(), "First -> Second");
  chaperon::run_options options;
  options.per_session = true;
  auto results = chaperon::run_load_test(t, options);

  EXPECT_EQ(results.sessions.completed, sessions);
  std::uint64_t status_203 = 0;
  for (const auto& [key, h] : results.metrics) {
    EXPECT_TRUE(key.session.starts_with("First -> Second ")) << key.session;
    if (key.action == "get" && key.target == url("/status/203") && key.error.empty()) {
      status_203 += h.count();
    }
  }
  EXPECT_EQ(status_203, sessions);
  auto seen = g_seen.take("seq");
  ASSERT_EQ(seen.size(), sessions);
  for (const auto& e : seen) {
    EXPECT_EQ(e["greeting"], "hi");
    EXPECT_EQ(e["base_url"], demo_->url());  // merged into the config, not replacing it
  }
}

// ---- results shape ---------------------------------------------------------------------------------

TEST_F(DemoTarget, PerSessionOptionGivesRowsWithTheSessionName) {
  chaperon::load_test t("Demo.PerSession");
  t.default_config({{"base_url", demo_->url()}});
  auto browse = chaperon::make_scenario("Browse", get_root);
  t.scenario(2, browse, "alice", json::object());
  t.scenario(1, browse, "bob", json::object());
  t.scenario(2, browse, json::object());
  chaperon::run_options options;
  options.per_session = true;
  auto results = chaperon::run_load_test(t, options);

  const metric_key alice{"alice", "get", url("/"), ""};
  EXPECT_EQ(count_of(results, alice), 2u);
  EXPECT_EQ(count_of(results, metric_key{"bob", "get", url("/"), ""}), 1u);
  EXPECT_EQ(count_of(results, metric("get", url("/"))), 0u);
  std::size_t unnamed = 0;
  for (const auto& [key, h] : results.metrics) {
    if (!key.session.starts_with("Browse ")) continue;
    ++unnamed;
    EXPECT_EQ(h.count(), 1u);
  }
  EXPECT_EQ(unnamed, 2u);
  EXPECT_EQ(alice.row_label(), "alice get(" + url("/") + ")");
  const auto csv = chaperon::export_csv(results);
  EXPECT_NE(csv.find("\nalice get(" + url("/") + "),2,"), std::string::npos) << csv;
}

TEST_F(DemoTarget, MetricFilterByTypesKeepsOnlyThoseTypes) {
  constexpr std::size_t sessions = 2;
  chaperon::run_options options;
  options.metrics = chaperon::metric_filter(std::vector<std::string>{"post", "custom"});
  auto results = chaperon::run_load_test(demo_test(sessions, mixed_actions), options);

  EXPECT_EQ(count_of(results, metric("post", url("/status/404"))), sessions);
  EXPECT_EQ(count_of(results, metric("post", url("/status/404"), "HTTP 404")), sessions);
  EXPECT_EQ(count_of(results, metric("post", url("/echo"))), sessions);
  ASSERT_EQ(count_of(results, metric("custom", "")), sessions);
  EXPECT_EQ(results.metrics.at(metric("custom", "")).min(), 5000);
  for (const auto& [key, h] : results.metrics) EXPECT_NE(key.action, "get") << key.name();
  EXPECT_EQ(results.metrics.size(), 4u);
  EXPECT_EQ(results.sessions.completed, sessions);
}

TEST_F(DemoTarget, MetricFilterPredicateAndEmptyList) {
  chaperon::run_options no_errors;
  no_errors.metrics =
      chaperon::metric_filter([](const metric_key& k) { return !k.is_error(); });
  auto filtered = chaperon::run_load_test(demo_test(1, mixed_actions), no_errors);
  EXPECT_EQ(filtered.error_count(), 0u);
  EXPECT_EQ(count_of(filtered, metric("post", url("/status/404"))), 1u);
  EXPECT_EQ(count_of(filtered, metric("get", url("/"))), 1u);

  chaperon::run_options nothing;
  nothing.metrics = chaperon::metric_filter(std::vector<std::string>{});
  auto empty = chaperon::run_load_test(demo_test(1, mixed_actions), nothing);
  EXPECT_TRUE(empty.metrics.empty());
  EXPECT_EQ(empty.sessions.completed, 1u);
}

}  // namespace
