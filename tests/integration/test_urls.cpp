// URLs of HTTP actions: a URL that cannot be requested is a recorded error, not a failed session;
// a malformed base_url is a setup error naming the key; the query string is part of the metric
// name for every method unless skip_query_params_in_metrics strips it, again for every method.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include <chaperon/chaperon.hpp>

#include "integration/process_fixture.hpp"

namespace chaperon::itest {
namespace {

metric_key metric(std::string action, std::string url, std::string error = {}) {
  return metric_key{"", std::move(action), std::move(url), std::move(error)};
}

std::uint64_t count_of(const run_results& r, const metric_key& key) {
  auto it = r.metrics.find(key);
  return it == r.metrics.end() ? 0 : it->second.count();
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// What the sessions' requests returned, in order (sessions run on engine threads).
struct outcomes {
  std::mutex mutex;
  std::vector<json> items;
  void add(json j) {
    std::lock_guard lock(mutex);
    items.push_back(std::move(j));
  }
  std::vector<json> take() {
    std::lock_guard lock(mutex);
    return std::exchange(items, {});
  }
};
outcomes g_outcomes;

json describe(const http_result& r) {
  return {{"url", r.url}, {"status", r.status}, {"error", std::string(to_string(r.error))}};
}

// Relative without base_url, bad port, empty host, unsupported scheme.
const std::vector<std::string> bad_urls = {"/relative", "http://127.0.0.1:99999/x", "http:///x",
                                           "ftp://h/x"};

// Each bad URL twice, then a good one: the session goes on after each. (Options are built before
// each co_await: GCC 12 mishandles braced lists and lambda temporaries inside one.)
task<void> bad_then_good(session& s) {
  for (const auto& bad : bad_urls) {
    for (int i = 0; i < 2; ++i) {
      int errors = 0;
      auto opts = http_options{}.on_error([&errors](session&, const http_result&) { ++errors; });
      auto r = co_await s.get(bad, std::move(opts));
      auto seen = describe(r);
      seen["callbacks"] = errors;
      g_outcomes.add(seen);
    }
  }
  auto body = http_options{}.json(json::object());
  auto posted = co_await s.post("/relative", std::move(body));
  g_outcomes.add(describe(posted));
  auto good = co_await s.get(s.config_as<std::string>("good_url"));
  g_outcomes.add(describe(good));
}

TEST(urls, bad_url_is_a_recorded_error_and_the_session_goes_on) {
  demo_server demo;
  const std::string good = demo.url() + "/status/200";
  auto test = load_test{"Urls.Bad"}
                  .default_config({{"good_url", good}})
                  .scenario(2, make_scenario("BadThenGood", &bad_then_good));
  g_outcomes.take();
  testing::internal::CaptureStderr();
  auto r = run_load_test(test);
  const std::string err = testing::internal::GetCapturedStderr();

  EXPECT_EQ(r.sessions.completed, 2u);
  EXPECT_EQ(r.sessions.failed, 0u);
  EXPECT_TRUE(r.session_errors.empty());
  for (const auto& bad : bad_urls) {
    EXPECT_EQ(count_of(r, metric("get", bad, "invalid_url")), 4u) << bad;
    // Nothing was sent, so there is no latency under the plain name.
    EXPECT_EQ(count_of(r, metric("get", bad)), 0u) << bad;
  }
  EXPECT_EQ(count_of(r, metric("post", "/relative", "invalid_url")), 2u);
  EXPECT_EQ(count_of(r, metric("get", good)), 2u);

  auto seen = g_outcomes.take();
  ASSERT_EQ(seen.size(), 20u);
  for (const auto& o : seen) {
    if (o["url"] == good) {
      EXPECT_EQ(o["status"], 200) << o;
      continue;
    }
    EXPECT_EQ(o["status"], 0) << o;
    EXPECT_EQ(o["error"], "invalid_url") << o;
    if (o.contains("callbacks")) {
      EXPECT_EQ(o["callbacks"], 1) << o;
    }
  }
  // One warning per session, naming the first bad URL and why it is bad.
  EXPECT_EQ(occurrences(err, "invalid URL"), 2u) << err;
  EXPECT_EQ(occurrences(err, "/relative"), 2u) << err;
  EXPECT_NE(err.find("base_url"), std::string::npos) << err;
}

task<void> spaced_path(session& s) {
  auto r = co_await s.get("/a b");
  g_outcomes.add(describe(r));
}

TEST(urls, joined_url_that_does_not_parse_is_recorded_under_the_joined_url) {
  auto test = load_test{"Urls.Joined"}
                  .default_config({{"base_url", "http://127.0.0.1:1"}})
                  .scenario(make_scenario("Spaced", &spaced_path));
  g_outcomes.take();
  testing::internal::CaptureStderr();
  auto r = run_load_test(test);
  testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.sessions.completed, 1u);
  EXPECT_EQ(count_of(r, metric("get", "http://127.0.0.1:1/a b", "invalid_url")), 1u);
  auto seen = g_outcomes.take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["url"], "http://127.0.0.1:1/a b");
  EXPECT_EQ(seen[0]["error"], "invalid_url");
}

task<void> get_root(session& s) { co_await s.get("/"); }

TEST(urls, malformed_base_url_is_a_setup_error_naming_the_key) {
  for (const char* base : {"127.0.0.1:8080", "http://127.0.0.1:99999", "gopher://h"}) {
    SCOPED_TRACE(base);
    auto test = load_test{"Urls.Base"}
                    .default_config({{"base_url", base}})
                    .scenario(make_scenario("Root", &get_root));
    testing::internal::CaptureStderr();
    auto r = run_load_test(test);
    testing::internal::GetCapturedStderr();
    EXPECT_EQ(r.sessions.failed, 1u);
    ASSERT_EQ(r.session_errors.size(), 1u);
    const auto& why = r.session_errors.begin()->first;
    EXPECT_NE(why.find("'base_url'"), std::string::npos) << why;
    EXPECT_NE(why.find(base), std::string::npos) << why;
    EXPECT_TRUE(r.metrics.empty());
  }
}

// ---- query strings in metric names --------------------------------------------------------------

task<void> every_way_of_a_query(session& s) {
  const auto with_q = http_options{}.param("q", "1");
  const auto text = http_options{}.body("x", "text/plain");
  const auto text_with_q = http_options{}.param("q", "1").body("x", "text/plain");
  const auto grouped = http_options{}.metrics_url("/echo?id=:id");
  co_await s.get("/echo?q=1");
  co_await s.get("/echo", with_q);
  co_await s.post("/echo?q=1", text);
  co_await s.post("/echo", text_with_q);
  co_await s.put("/echo", with_q);
  co_await s.del("/echo?q=1");
  co_await s.get("/echo?id=7", grouped);
}

TEST(urls, query_is_in_every_metric_name_unless_skipped_for_every_method) {
  demo_server demo;
  const auto url = demo.url() + "/echo";
  for (bool skip : {false, true}) {
    SCOPED_TRACE(skip ? "skipped" : "kept");
    json config{{"base_url", demo.url()}};
    if (skip) config["skip_query_params_in_metrics"] = true;
    auto test = load_test{"Urls.Query"}
                    .default_config(config)
                    .scenario(make_scenario("Query", &every_way_of_a_query));
    auto r = run_load_test(test);
    ASSERT_EQ(r.error_count(), 0u);
    if (skip) {
      EXPECT_EQ(count_of(r, metric("get", url)), 3u);
      EXPECT_EQ(count_of(r, metric("post", url)), 2u);
      EXPECT_EQ(count_of(r, metric("put", url)), 1u);
      EXPECT_EQ(count_of(r, metric("delete", url)), 1u);
      EXPECT_EQ(r.metrics.size(), 4u);
    } else {
      EXPECT_EQ(count_of(r, metric("get", url + "?q=1")), 2u);
      EXPECT_EQ(count_of(r, metric("post", url + "?q=1")), 2u);
      EXPECT_EQ(count_of(r, metric("put", url + "?q=1")), 1u);
      EXPECT_EQ(count_of(r, metric("delete", url + "?q=1")), 1u);
      EXPECT_EQ(count_of(r, metric("get", url + "?id=:id")), 1u);
      EXPECT_EQ(r.metrics.size(), 5u);
    }
  }
}

}  // namespace
}  // namespace chaperon::itest
