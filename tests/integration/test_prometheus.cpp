// The Prometheus export against a real Prometheus server (Debian's `prometheus`): it scrapes our
// /metrics while a load test runs, or receives our remote writes, and a PromQL query through its
// HTTP API then returns the request count the run measured.
#include <gtest/gtest.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include <chaperon/chaperon.hpp>
#include <chaperon/prometheus.hpp>

#include "integration/process_fixture.hpp"
#include "export/prometheus/model.hpp"
#include "net/url.hpp"

namespace chaperon::itest {
namespace {

using namespace std::chrono_literals;

constexpr int metric_paths = 20;

// GET /bytes/0 .. /bytes/19 every 5 ms until `for` has passed: 20 metrics.
task<void> get_twenty(session& s) {
  co_await s.loop("tick", s.config_duration("for"), [](session& t) -> task<void> {
    const auto n = t.assigned("next", 0).get<int>();
    t.assign("next", (n + 1) % metric_paths);
    co_await t.get(fmt::format("/bytes/{}", n));
    co_await t.delay(5ms);
  });
}

std::int64_t cpu_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Prometheus on an ephemeral port with its own config and storage in a temp dir.
class prometheus_peer {
 public:
  static std::optional<std::filesystem::path> binary() {
    return find_program("prometheus", {"/usr/bin"});
  }

  prometheus_peer(const std::string& config, bool remote_write_receiver) {
    {
      std::ofstream(dir_.path() / "prometheus.yml") << config;
    }
    port_ = free_tcp_port();
    process_options options;
    options.argv = {binary()->string(),
                    "--config.file=" + (dir_.path() / "prometheus.yml").string(),
                    "--storage.tsdb.path=" + (dir_.path() / "data").string(),
                    fmt::format("--web.listen-address=127.0.0.1:{}", port_)};
    if (remote_write_receiver) options.argv.push_back("--web.enable-remote-write-receiver");
    process_ = std::make_unique<child_process>(options);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (http_request(port_, "GET", "/-/ready", {}, 2s).status != 200) {
      if (process_->exited() || std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("prometheus did not become ready: " + process_->stderr_text());
      }
      process_->wait_for_activity(200ms);
    }
  }

  // The value of an instant query whose result is one sample; nullopt when it has none.
  std::optional<double> query(const std::string& promql) const {
    const auto reply = http_request(port_, "GET", "/api/v1/query?query=" + net::percent_encode(promql));
    if (reply.status != 200) return std::nullopt;
    const auto j = nlohmann::json::parse(reply.body, nullptr, false);
    if (j.is_discarded() || j["data"]["result"].size() != 1) return std::nullopt;
    return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
  }

  // Queries until the value is `want` or `timeout` passes; returns the last value seen. Polls
  // because Prometheus gives no event for "this sample has been stored".
  std::optional<double> wait_for_value(const std::string& promql, double want,
                                       std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto value = query(promql);
    while ((!value || *value != want) && std::chrono::steady_clock::now() < deadline) {
      process_->wait_for_activity(250ms);
      value = query(promql);
    }
    return value;
  }

  std::uint16_t port() const { return port_; }
  std::string stderr_text() const { return process_->stderr_text(); }

 private:
  temp_dir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<child_process> process_;
};

load_test twenty_metrics_test(const demo_server& demo, const char* name, const char* length) {
  return load_test{name}
      .default_config({{"base_url", demo.url()}, {"for", length}})
      .scenario(4, make_scenario("Twenty", get_twenty));
}

run_options two_threads() {
  run_options options;
  options.threads = 2;
  return options;
}

const std::string requests_query = R"(sum(chaperon_requests_total{job="chaperon",action="get"}))";

TEST(Prometheus, ScrapesMetricsDuringTheRunAndCountsWhatTheRunCounted) {
  if (!prometheus_peer::binary()) GTEST_SKIP() << "prometheus is not installed (apt-get install prometheus)";
  demo_server demo;
  // Prometheus comes up before the run starts, so that it scrapes while the run lasts; until
  // then /metrics is empty.
  std::optional<load_test_run> run;
  std::atomic<load_test_run*> running{nullptr};
  std::atomic<std::int64_t> body_cpu_ns{0};
  std::atomic<std::uint64_t> measured_scrapes{0};
  std::atomic<std::uint64_t> live_scrapes{0};
  prometheus_server server("127.0.0.1:0", [&] {
    auto* r = running.load();
    if (r == nullptr) return std::string();
    const auto start = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
    auto text = prometheus_text(r->snapshot(), r->progress());
    body_cpu_ns += cpu_ns(CLOCK_THREAD_CPUTIME_ID) - start;
    ++measured_scrapes;
    if (!r->finished()) ++live_scrapes;
    return text;
  });
  prometheus_peer prometheus(fmt::format("global:\n  scrape_interval: 1s\nscrape_configs:\n"
                                         "  - job_name: chaperon\n    static_configs:\n"
                                         "      - targets: ['127.0.0.1:{}']\n",
                                         server.port()),
                             false);
  // Prometheus picks up new scrape targets in rounds of 5 s: the first scrape takes that long.
  ASSERT_EQ(prometheus.wait_for_value(R"(up{job="chaperon"})", 1, 20s), 1) << prometheus.stderr_text();
  run.emplace(start_load_test(twenty_metrics_test(demo, "Prometheus.Scrape", "4s"), two_threads()));
  running = &*run;
  const auto results = run->wait();
  const auto want = static_cast<double>(results.total_requests());
  ASSERT_GT(want, 0);
  const auto got = prometheus.wait_for_value(requests_query, want, 20s);
  ASSERT_TRUE(got) << prometheus.stderr_text();
  EXPECT_EQ(*got, want);
  EXPECT_EQ(*got, static_cast<double>(demo.stats()["requests"].get<std::uint64_t>()));
  EXPECT_GE(live_scrapes.load(), 2u) << "scraped while the run lasted";
  EXPECT_EQ(prometheus.query(R"(chaperon_generator_saturated{job="chaperon"})").value_or(-1),
            results.generator.saturated() ? 1 : 0);
  std::cout << "[prometheus] snapshot + text per scrape (20 metrics, live run): "
            << body_cpu_ns.load() / 1000 / std::max<std::uint64_t>(measured_scrapes.load(), 1)
            << " us CPU over " << measured_scrapes.load() << " scrapes\n";
}

TEST(Prometheus, RemoteWriteReachesTheReceiver) {
  if (!prometheus_peer::binary()) GTEST_SKIP() << "prometheus is not installed (apt-get install prometheus)";
  prometheus_peer prometheus("global:\n  scrape_interval: 15s\n", true);
  prometheus_remote_writer writer(
      {.url = fmt::format("http://127.0.0.1:{}/api/v1/write", prometheus.port()),
       .labels = {{"job", "chaperon"}, {"instance", "itest"}}});
  demo_server demo;
  auto run = start_load_test(twenty_metrics_test(demo, "Prometheus.RemoteWrite", "2s"), two_threads());
  while (!run.wait_for(500ms)) writer.push(run.snapshot(), run.progress());
  const auto results = run.wait();
  writer.push(results, run.progress());
  const auto stats = writer.finish(10s);
  EXPECT_EQ(stats.failed, 0u) << stats.last_error;
  EXPECT_GE(stats.sent, 3u);
  const auto want = static_cast<double>(results.total_requests());
  ASSERT_GT(want, 0);
  const auto got = prometheus.wait_for_value(requests_query, want, 10s);
  ASSERT_TRUE(got) << prometheus.stderr_text();
  EXPECT_EQ(*got, want);
  EXPECT_EQ(
      prometheus.query(R"(count(chaperon_latency_seconds{quantile="0.99",instance="itest",action="get"}))"),
      metric_paths);
}

TEST(Prometheus, RemoteWriteToAServerWithoutTheReceiverCountsFailures) {
  if (!prometheus_peer::binary()) GTEST_SKIP() << "prometheus is not installed (apt-get install prometheus)";
  prometheus_peer prometheus("global:\n  scrape_interval: 15s\n", false);
  prometheus_remote_writer writer(
      {.url = fmt::format("http://127.0.0.1:{}/api/v1/write", prometheus.port())});
  run_results r;
  r.metrics[{"", "get", "http://h/", ""}].record(100);
  writer.push(r);
  const auto stats = writer.finish(10s);
  EXPECT_EQ(stats.sent, 0u);
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_NE(stats.last_error.find("HTTP 404"), std::string::npos) << stats.last_error;
}

run_results twenty_metric_results() {
  run_results r;
  for (int i = 0; i < metric_paths; ++i) {
    auto& h = r.metrics[{"", "get", fmt::format("http://127.0.0.1:8080/bytes/{}", i), ""}];
    for (int v = 0; v < 5000; ++v) h.record(200 + (v * 37 + i * 101) % 50'000);
  }
  r.metrics[{"", "get", "http://127.0.0.1:8080/bytes/3", "HTTP 500"}].record(900);
  for (int v = 0; v < 1000; ++v) r.generator.loop_delay.record(v % 300);
  return r;
}

TEST(Prometheus, ServerAnswersMetricsOnlyAndCostsLittlePerScrape) {
  const auto results = twenty_metric_results();
  prometheus_server server("127.0.0.1:0", [&] { return prometheus_text(results); });
  ASSERT_NE(server.port(), 0);
  const auto reply = http_request(server.port(), "GET", "/metrics");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, prometheus_text(results));
  EXPECT_EQ(http_request(server.port(), "GET", "/").status, 404);
  EXPECT_EQ(http_request(server.port(), "POST", "/metrics", "x").status, 405);
  const auto head = http_request(server.port(), "HEAD", "/metrics");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());

  constexpr int scrapes = 200;
  const auto text_start = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
  for (int i = 0; i < scrapes; ++i) EXPECT_FALSE(prometheus_text(results).empty());
  const auto text_ns = cpu_ns(CLOCK_THREAD_CPUTIME_ID) - text_start;
  const auto process_start = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
  for (int i = 0; i < scrapes; ++i) ASSERT_EQ(http_request(server.port(), "GET", "/metrics").status, 200);
  const auto process_ns = cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - process_start;
  EXPECT_EQ(server.scrapes(), 2u + scrapes) << "GET and HEAD before";
  std::cout << "[prometheus] 20 metrics: " << reply.body.size() << " bytes; text "
            << text_ns / scrapes / 1000 << " us CPU per scrape; HTTP scrape (server and client) "
            << process_ns / scrapes / 1000 << " us CPU\n";
  std::size_t samples = 0;
  std::size_t body_bytes = 0;
  const auto encode_start = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
  for (int i = 0; i < scrapes; ++i) {
    body_bytes = prometheus_detail::encode_write_request(prometheus_detail::collect(results, {}),
                                                         {{"job", "chaperon"}}, 1, samples)
                     .size();
  }
  const auto encode_ns = cpu_ns(CLOCK_THREAD_CPUTIME_ID) - encode_start;
  std::cout << "[prometheus] remote write, 20 metrics: " << samples << " samples, " << body_bytes
            << " bytes compressed, " << encode_ns / scrapes / 1000 << " us CPU to build\n";
  // Far below what would matter to a load generator scraped once a second.
  EXPECT_LT(process_ns / scrapes, 20'000'000);
}

}  // namespace
}  // namespace chaperon::itest
