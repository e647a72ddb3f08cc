// The runner handle against the demo target: snapshots while a run goes on, a graceful stop from
// outside, the interval series adding up to the final results, and shares adding up to the whole.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <chaperon/chaperon.hpp>

#include "integration/process_fixture.hpp"

namespace chaperon::itest {
namespace {

using namespace std::chrono_literals;

task<void> get_path(session& s) {
  const auto path = s.config_as<std::string>("path");
  const auto times = s.config_as<int>("times", 1);
  for (int i = 0; i < times; ++i) co_await s.get(path);
}

// Requests every 5 ms until `for` has passed (or the session is stopped).
task<void> keep_getting(session& s) {
  co_await s.loop("tick", s.config_duration("for"), [](session& t) -> task<void> {
    co_await t.get("/");
    co_await t.delay(5ms);
  });
}

std::uint64_t count_of(const run_results& r, const std::string& url) {
  auto it = r.metrics.find(metric_key{"", "get", url, ""});
  return it == r.metrics.end() ? 0 : it->second.count();
}

// Waits (bounded) until the run has measured something and returns that snapshot.
run_results first_measurements(load_test_run& run) {
  for (int i = 0; i < 200; ++i) {
    auto r = run.snapshot();
    if (r.total_requests() > 0) return r;
    if (run.wait_for(25ms)) break;
  }
  return run.snapshot();
}

run_options fast_intervals(std::size_t threads) {
  run_options o;
  o.threads = threads;
  o.interval = 100ms;
  return o;
}

TEST(Runner, SnapshotMidRunLiesBetweenNothingAndTheFinalResults) {
  demo_server demo;
  auto test = load_test{"Runner.Snapshot"}
                  .default_config({{"base_url", demo.url()}, {"for", "1500ms"}})
                  .scenario(4, make_scenario("Keep", keep_getting));
  auto run = start_load_test(test, fast_intervals(2));
  auto mid = first_measurements(run);
  EXPECT_TRUE(mid.partial) << "a snapshot of a running test is partial";
  auto final_results = run.wait();
  ASSERT_GT(mid.total_requests(), 0u);
  EXPECT_LT(mid.total_requests(), final_results.total_requests());
  for (const auto& [key, h] : mid.metrics) {
    ASSERT_TRUE(final_results.metrics.count(key)) << key.name();
    EXPECT_LE(h.count(), final_results.metrics.at(key).count()) << key.name();
  }
  EXPECT_FALSE(final_results.partial);
  EXPECT_EQ(run.snapshot(), final_results) << "after wait() a snapshot is the final result";
  EXPECT_EQ(count_of(final_results, demo.url() + "/"), demo.path_count("/"));
}

TEST(Runner, StopEndsTheRunWithinTwoSecondsAndKeepsWhatWasMeasured) {
  demo_server demo;
  auto test = load_test{"Runner.Stop"}
                  .default_config({{"base_url", demo.url()}, {"for", "60s"}})
                  .scenario(8, make_scenario("Keep", keep_getting));
  auto run = start_load_test(test, fast_intervals(2));
  ASSERT_GT(first_measurements(run).total_requests(), 0u);
  const auto asked = std::chrono::steady_clock::now();
  run.stop();
  ASSERT_TRUE(run.wait_for(2s)) << "the run did not end within 2 s of stop()";
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 2s);
  auto r = run.wait();
  EXPECT_TRUE(r.partial);
  EXPECT_EQ(r.sessions.started, 8u);
  EXPECT_EQ(r.sessions.timed_out, 8u) << "stopped sessions end as stopped";
  EXPECT_EQ(r.session_errors["stopped"], 8u);
  // A request in flight when the stop came is cancelled: the server may have answered it
  // already, but no more than one per session.
  const auto answered = demo.path_count("/");
  EXPECT_LE(count_of(r, demo.url() + "/"), answered);
  EXPECT_GE(count_of(r, demo.url() + "/") + 8, answered);
}

TEST(Runner, IntervalSeriesAddsUpToTheFinalResultsExactly) {
  demo_server demo;
  auto test = load_test{"Runner.Series"}
                  .default_config({{"base_url", demo.url()}, {"for", "700ms"}})
                  .scenario(3, make_scenario("Keep", keep_getting))
                  .scenario(make_scenario("Rate", get_path), {{"path", "/rate"}})
                  .with_model(load_model::constant_rate(300, 800ms));
  auto run = start_load_test(test, fast_intervals(2));
  auto r = run.wait();
  auto series = run.series();
  EXPECT_GE(series.size(), 7u) << "one point per 100 ms interval";
  EXPECT_LE(series.size(), 12u);
  EXPECT_EQ(series.intervals_per_point(), 1u);
  auto total = series.total();
  EXPECT_EQ(total.metrics, r.metrics);
  EXPECT_EQ(total.corrected, r.corrected);
  EXPECT_FALSE(r.corrected.empty()) << "rate-driven work has corrected figures";
  EXPECT_EQ(total.sessions, r.sessions);
  EXPECT_EQ(total.arrivals, r.arrivals);
  EXPECT_EQ(total.session_errors, r.session_errors);
  EXPECT_EQ(r.arrivals.started + r.arrivals.dropped, 240u);
  // Points are consecutive and the last one ends with the run.
  auto points = series.points();
  for (std::size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(points[i].start_us, static_cast<std::int64_t>(i) * 100'000);
    EXPECT_GT(points[i].length_us, 0);
  }
  EXPECT_NEAR(static_cast<double>(points.back().start_us + points.back().length_us),
              static_cast<double>(r.duration_us), 1000.0);
  EXPECT_EQ(run.intervals(points.size() - 2).size(), 2u);
}

load_test shared_test(const std::string& url) {
  return load_test{"Runner.Shares"}
      .default_config({{"base_url", url}})
      .scenario(7, make_scenario("A", get_path), {{"path", "/a"}, {"times", 3}})
      .scenario(1, make_scenario("B", get_path), {{"path", "/b"}, {"times", 2}})
      .scenario(make_scenario("C", get_path), {{"path", "/c"}})
      .with_model(load_model::constant_rate(400, 500ms, 400));
}

TEST(Runner, SharesTogetherRunExactlyTheWholeTest) {
  demo_server demo;
  run_options whole_options;
  whole_options.threads = 2;
  auto whole = run_load_test(shared_test(demo.url()), whole_options);
  EXPECT_EQ(count_of(whole, demo.url() + "/a"), 21u);
  EXPECT_EQ(count_of(whole, demo.url() + "/b"), 2u);
  EXPECT_EQ(whole.arrivals.started, 200u);

  run_results merged;
  const std::size_t threads_of_share[] = {1, 2, 3};
  std::uint64_t sessions_of_share[3] = {};
  for (std::size_t i = 0; i < 3; ++i) {
    run_options o;
    o.threads = threads_of_share[i];  // shares need not agree on their thread counts
    o.part = share{i, 3};
    auto part = run_load_test(shared_test(demo.url()), o);
    sessions_of_share[i] = count_of(part, demo.url() + "/a") / 3;
    merged.merge(part);
  }
  EXPECT_EQ(sessions_of_share[0] + sessions_of_share[1] + sessions_of_share[2], 7u);
  for (auto n : sessions_of_share) EXPECT_GE(n, 2u) << "sessions are spread over the shares";
  for (const auto& path : {"/a", "/b", "/c"}) {
    EXPECT_EQ(count_of(merged, demo.url() + path), count_of(whole, demo.url() + path)) << path;
  }
  EXPECT_EQ(merged.arrivals, whole.arrivals);
}

TEST(Runner, ABadShareIsASetupError) {
  run_options o;
  o.part = share{3, 3};
  auto test = load_test{"Runner.BadShare"}.scenario(make_scenario("A", get_path));
  EXPECT_THROW(start_load_test(test, o), std::invalid_argument);
  EXPECT_EQ(parse_share("3/8"), (share{3, 8}));
  EXPECT_FALSE(parse_share("8/8"));
  EXPECT_FALSE(parse_share("1/0"));
  EXPECT_FALSE(parse_share("x/2"));
  EXPECT_FALSE(parse_share("2"));
}

}  // namespace
}  // namespace chaperon::itest

namespace chaperon::itest {
namespace {

TEST(Runner, ThresholdsAreJudgedAtTheEnd) {
  demo_server demo;
  auto test = load_test{"Runner.Thresholds"}
                  .default_config({{"base_url", demo.url()}, {"path", "/"}, {"times", 20}})
                  .scenario(2, make_scenario("A", get_path))
                  .threshold("", "errors < 1%")
                  .threshold("get(" + demo.url() + "/)", "p(99) < 1us")
                  .threshold("get(" + demo.url() + "/nothing)", "count > 0");
  auto r = run_load_test(test);
  ASSERT_EQ(r.thresholds.size(), 3u);
  EXPECT_EQ(r.thresholds[0].status, "passed") << r.thresholds[0].text;
  EXPECT_EQ(r.thresholds[1].status, "failed") << r.thresholds[1].text;
  EXPECT_EQ(r.thresholds[1].metric, "get(" + demo.url() + "/)");
  EXPECT_EQ(r.thresholds[2].status, "no_data") << "a selector that matches nothing fails";
  EXPECT_FALSE(r.thresholds_passed());
  EXPECT_FALSE(r.partial);
}

task<void> get_errors(session& s) {
  co_await s.loop("fail", s.config_duration("for"), [](session& t) -> task<void> {
    co_await t.get("/status/500");
    co_await t.delay(5ms);
  });
}

TEST(Runner, AbortOnFailStopsTheRunAfterItsGracePeriod) {
  demo_server demo;
  auto test = load_test{"Runner.Abort"}
                  .default_config({{"base_url", demo.url()}, {"for", "60s"}})
                  .scenario(4, make_scenario("Fail", get_errors));
  run_options o = fast_intervals(2);
  o.thresholds.push_back(parse_threshold("errors<1%,abort_on_fail,grace=300ms"));
  const auto start = std::chrono::steady_clock::now();
  auto r = run_load_test(test, o);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 300ms) << "not before the grace period";
  EXPECT_LT(took, 3s);
  EXPECT_TRUE(r.partial);
  ASSERT_EQ(r.thresholds.size(), 1u);
  EXPECT_TRUE(r.thresholds[0].aborted_run);
  EXPECT_EQ(r.thresholds[0].status, "failed");
  EXPECT_EQ(r.session_errors["threshold errors<1%,abort_on_fail,grace=300ms"], 4u)
      << "sessions name what stopped them";
}

TEST(Runner, CliExitsWith99WhenAThresholdFailsAnd2ForAMalformedOne) {
  demo_server demo;
  temp_dir dir;
  auto quick = [&](std::string threshold) {
    return run_command({{CHAPERON_CLI_BINARY, "quick", demo.url() + "/", "-s", "2", "-d",
                         "300ms", "--no-progress", "-o", (dir.path() / "q").string(),
                         "--threshold", std::move(threshold)},
                        {}},
                       60s);
  };
  auto failed = quick("p99<1us");
  EXPECT_EQ(failed.exit_code, 99) << failed.err;
  EXPECT_NE(failed.out.find("THRESHOLDS FAILED"), std::string::npos) << failed.out;
  auto report = nlohmann::json::parse(read_text_file(dir.path() / "q.config.json"));
  EXPECT_EQ(report["thresholds"][0]["status"], "failed");
  auto passed = quick("errors<1%");
  EXPECT_EQ(passed.exit_code, 0) << passed.err << passed.out;
  auto malformed = quick("p99<200xs");
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("p99<200xs"), std::string::npos) << malformed.err;
  EXPECT_NE(malformed.err.find("column"), std::string::npos) << malformed.err;
}

}  // namespace
}  // namespace chaperon::itest

namespace chaperon::itest {
namespace {

task<void> hammer(session& s) {
  co_await s.loop("hammer", s.config_duration("for"), [](session& t) -> task<void> {
    co_await t.get("/");
  });
}

// A closed loop at full speed keeps its thread on CPU, but its event loop answers in time: its
// latencies are not distorted, so it is not flagged. (Runs alone: label integration-timing.)
TEST(Runner, SaturationIsNotFlaggedForAHealthyFullSpeedRun) {
  demo_server demo;
  auto test = load_test{"Runner.FullSpeed"}
                  // A generous lag limit: the claim is that CPU alone is no verdict, not that
                  // this machine never delays a loop by 5 ms.
                  .default_config({{"base_url", demo.url()},
                                   {"for", "1500ms"},
                                   {"saturation_lag", "50ms"}})
                  .scenario(20, make_scenario("Hammer", hammer));
  run_options o;
  o.threads = 1;
  auto r = run_load_test(test, o);
  EXPECT_GT(r.total_requests(), 1000u);
  // The thread shares two cores with the demo target, so how busy it gets depends on the
  // machine's load: a third of a core already rules out an idle run.
  EXPECT_GT(r.generator.max_thread_cpu, 0.3) << "the thread was busy";
  EXPECT_FALSE(r.generator.saturated())
      << (r.generator.saturation.empty() ? "" : r.generator.saturation.front());
}

// An arrival rate far beyond what one thread can start falls behind its schedule: flagged.
TEST(Runner, SaturationIsFlaggedForAnOpenModelBeyondTheGenerator) {
  demo_server demo;
  auto test = load_test{"Runner.Saturated"}
                  .default_config({{"base_url", demo.url()}, {"path", "/"}})
                  .scenario(make_scenario("Get", get_path))
                  .with_model(load_model::constant_rate(400'000, 1s, 10'000));
  run_options o;
  o.threads = 1;
  auto r = run_load_test(test, o);
  ASSERT_TRUE(r.generator.saturated());
  EXPECT_NE(r.generator.saturation.front().find("schedule lag p99"), std::string::npos)
      << r.generator.saturation.front();
}

}  // namespace
}  // namespace chaperon::itest
