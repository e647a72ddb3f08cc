// Load models against targets whose latency is known: the demo target's /truth/* endpoints.
//
// What is checked is the generator's truthfulness: percentiles against the analytic distribution
// of what the server did, corrected latency under a server stall against the queueing truth,
// arrival rates against their targets, and dropped arrivals counted exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <chaperon/chaperon.hpp>

#include "integration/process_fixture.hpp"
#include "integration/test_control_support.hpp"

namespace chaperon::itest {
namespace {

using namespace std::chrono_literals;
using control::clock_ticks;
using control::seen;

// The value at `percentile` of a sorted list, by the definition the histograms use: the smallest
// value with round(p/100 * n) values at or below it.
std::int64_t percentile_of(const std::vector<std::int64_t>& sorted, double percentile) {
  auto wanted = std::max<std::size_t>(
      1, static_cast<std::size_t>(percentile / 100.0 * static_cast<double>(sorted.size()) + 0.5));
  return sorted[std::min(wanted, sorted.size()) - 1];
}

const histogram& metric(const std::map<metric_key, histogram>& m, const std::string& action,
                        const std::string& target) {
  static const histogram none;
  auto it = m.find(metric_key{"", action, target, ""});
  return it == m.end() ? none : it->second;
}

void reset_truth(const demo_server& demo) {
  ASSERT_EQ(http_request(demo.port(), "POST", "/truth/reset").status, 200);
}

// ---- scenarios: everything they need comes from config --------------------------------------

task<void> get_truth_path(session& s) {
  co_await s.get(s.config_as<std::string>("truth_path"));
}

// Notes when each answer arrived, so that the test knows the true latency of every request from
// its intended start without modelling the server.
task<void> ping(session& s) {
  co_await s.get("/truth/fixed/100");
  seen().add("ping_done", clock_ticks());
}

task<void> paced_through_stall(session& s) {
  auto armed = co_await s.post("/truth/stall?after_ms=1000&for_ms=1000");
  if (!armed.ok()) throw std::runtime_error("cannot arm the stall: " + armed.body);
  seen().add("stall_armed", clock_ticks());
  seen().add("loop_start", clock_ticks());
  co_await s.loop("ping", 5s, session::pacing(200), &ping);
}

std::atomic<std::int64_t> first_start{std::numeric_limits<std::int64_t>::max()};
std::atomic<std::int64_t> last_start{0};

void note_start() {
  auto now = clock_ticks();
  auto lo = first_start.load();
  while (now < lo && !first_start.compare_exchange_weak(lo, now)) {
  }
  auto hi = last_start.load();
  while (now > hi && !last_start.compare_exchange_weak(hi, now)) {
  }
}

task<void> timed_iteration(session& s) {
  note_start();
  if (s.has_config("truth_path")) {
    co_await s.get(s.config_as<std::string>("truth_path"));
  } else {
    co_await s.delay(1ms);
  }
}

task<void> long_iteration(session& s) { co_await s.delay(1500ms); }

std::atomic<int> running{0};
std::atomic<int> starts{0};
std::atomic<int> most_running{0};

task<void> counted_until_stopped(session& s) {
  struct presence {
    presence() {
      int now = ++running;
      int hi = most_running.load();
      while (now > hi && !most_running.compare_exchange_weak(hi, now)) {
      }
    }
    ~presence() { --running; }
  } here;
  // Every other session finishes on its own and is replaced; the others run until stopped. (By
  // count, not at random: with six sessions, a coin comes up "run until stopped" for all of them
  // once in 64 runs, and then no session is replaced.)
  if (starts++ % 2 == 0) {
    co_await s.delay(40ms);
  } else {
    for (;;) co_await s.delay(20ms);
  }
}

std::atomic<int> iterations{0};

// Every other iteration asks the demo target for an answer far later than scenario_timeout.
task<void> fast_or_slow(session& s) {
  co_await s.get(iterations++ % 2 == 0 ? "/delay/1" : "/delay/3000");
}

task<void> tick(session& s) { co_await s.delay(1ms); }

task<void> paced_ticks(session& s) {
  co_await s.loop("tick", 500ms, session::pacing(100), &tick);
}

task<void> unpaced(session& s) { co_await s.loop("tick", 1s, session::pacing(0), &tick); }

// ---- truth ----------------------------------------------------------------------------------

// Delays of 100 ms and more: the tolerance max(1%, 50 us) then leaves room for the loopback and
// scheduling overhead of a loaded 2-core machine (0.2-0.5 ms measured), which a 20 ms delay's
// 200 us does not.
struct truth_case {
  std::string path;
  std::vector<std::int64_t> (*delays)(std::size_t n);
};

std::vector<std::int64_t> uniform_delays(std::size_t n) {
  std::vector<std::int64_t> out;
  for (std::size_t i = 1; i <= n; ++i) out.push_back(100'000 + ((i - 1) % 101) * 4000);
  return out;
}

std::vector<std::int64_t> pattern_delays(std::size_t n) {
  std::vector<std::int64_t> out;
  for (std::size_t i = 1; i <= n; ++i) out.push_back(i % 50 == 0 ? 1'000'000 : 100'000);
  return out;
}

void expect_truthful(const histogram& h, std::vector<std::int64_t> truth, const char* what) {
  std::sort(truth.begin(), truth.end());
  ASSERT_EQ(h.count(), truth.size()) << what;
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    auto expected = percentile_of(truth, p);
    auto tolerance = std::max<std::int64_t>(expected / 100, 50);
    EXPECT_NEAR(h.value_at_percentile(p), expected, tolerance) << what << " p" << p;
  }
}

TEST(load_models, open_model_percentiles_match_the_truth_target) {
  demo_server demo;
  for (const truth_case& c : {truth_case{"/truth/uniform?min=100000&max=500000&steps=101",
                                         &uniform_delays},
                              truth_case{"/truth/pattern?base=100000&slow=1000000&every=50",
                                         &pattern_delays}}) {
    SCOPED_TRACE(c.path);
    reset_truth(demo);
    auto test = load_test{"Truth"}
                    .default_config({{"base_url", demo.url()}, {"truth_path", c.path}})
                    .scenario(make_scenario("Truth", &get_truth_path))
                    .with_model(load_model::constant_rate(100, 3s));
    run_options options;
    options.threads = 2;
    auto r = run_load_test(test, options);
    ASSERT_EQ(r.arrivals.started, 300u);
    EXPECT_EQ(r.arrivals.dropped, 0u);
    const auto url = demo.url() + c.path;
    auto truth = c.delays(300);
    // Arrivals start on time, so measured and corrected both describe the server.
    expect_truthful(metric(r.metrics, "get", url), truth, "measured");
    expect_truthful(metric(r.corrected, "get", url), truth, "corrected");
    EXPECT_EQ(metric(r.metrics, "iteration", "Truth").count(), 300u);
  }
}

// A paced loop (one request every 5 ms on one connection) through a 1 s server stall. Corrected
// latency must equal the truth observed by the scenario (answer time minus due time) and follow
// the queue that a stall makes; measured latency must not show the stall.
TEST(load_models, stall_is_visible_in_corrected_latency_only) {
  demo_server demo;
  reset_truth(demo);
  auto test = load_test{"Stall"}
                  .default_config({{"base_url", demo.url()}})
                  .scenario(make_scenario("Stall", &paced_through_stall));
  run_options options;
  options.threads = 1;
  seen().clear();
  auto r = run_load_test(test, options);
  const auto url = demo.url() + "/truth/fixed/100";
  const auto& measured = metric(r.metrics, "get", url);
  const auto& corrected = metric(r.corrected, "get", url);
  ASSERT_EQ(measured.count(), 1000u);
  ASSERT_EQ(corrected.count(), 1000u);
  EXPECT_EQ(r.generator.schedule_lag.count(), 1000u);

  const std::int64_t loop_start = seen().only("loop_start").get<std::int64_t>();
  const std::int64_t stall_start = seen().only("stall_armed").get<std::int64_t>() + 1'000'000;
  const std::int64_t stall_end = stall_start + 1'000'000;
  // Observed truth: request k is due at loop_start + k * 5 ms (the pacing) and was answered when
  // the scenario noted it.
  const auto done_at = seen().take("ping_done");
  ASSERT_EQ(done_at.size(), 1000u);
  std::vector<std::int64_t> observed;
  for (std::size_t k = 0; k < done_at.size(); ++k) {
    observed.push_back(done_at[k].get<std::int64_t>() - (loop_start + std::int64_t(k) * 5000));
  }
  std::sort(observed.begin(), observed.end());
  // Analytic truth, a queue: request k is sent when due or when the one before it is answered,
  // and answered a service time later, or at the stall's end when its answer falls in the stall.
  // A paced request takes about the median; the ~200 that catch up after the stall run back to
  // back on a hot connection and take about the fastest tenth.
  const std::int64_t c = measured.value_at_percentile(50);
  const std::int64_t c_catch_up = measured.value_at_percentile(10);
  std::vector<std::int64_t> model;
  std::int64_t done = 0;
  for (std::int64_t k = 0; k < 1000; ++k) {
    std::int64_t due = loop_start + k * 5000;
    std::int64_t sent = std::max(due, done);
    bool stalled = sent + 100 >= stall_start && sent + 100 < stall_end;
    std::int64_t service = sent > due ? c_catch_up : c;
    done = stalled ? stall_end + (service - 100) : sent + service;
    model.push_back(done - due);
  }
  std::sort(model.begin(), model.end());
  for (double p : {50.0, 90.0, 99.0}) {
    std::printf("stall p%.0f: measured %.3f ms, corrected %.3f ms, observed %.3f ms, queue model "
                "%.3f ms\n", p, measured.value_at_percentile(p) / 1000.0,
                corrected.value_at_percentile(p) / 1000.0, percentile_of(observed, p) / 1000.0,
                percentile_of(model, p) / 1000.0);
  }
  // Corrected latency is the observed truth. The queue model only approximates the drain after
  // the stall (each catch-up request's own service time is not known), so it gets 5%: enough to
  // show the shape, not to fail when a busy machine slows the drain.
  for (double p : {90.0, 95.0, 99.0, 99.9}) {
    auto expected = percentile_of(observed, p);
    EXPECT_NEAR(corrected.value_at_percentile(p), expected, expected * 0.02) << "p" << p;
    auto modelled = percentile_of(model, p);
    EXPECT_NEAR(corrected.value_at_percentile(p), modelled, modelled * 0.05) << "model p" << p;
  }
  EXPECT_NEAR(corrected.value_at_percentile(50), percentile_of(observed, 50), 1000);
  // Measured from the actual send, the stall is one slow request among fast ones.
  EXPECT_GT(percentile_of(observed, 90), 300'000);
  EXPECT_LT(measured.value_at_percentile(90), 10'000);
  EXPECT_LT(measured.value_at_percentile(99), 10'000);
  EXPECT_GT(measured.max(), 800'000);
  // The generator itself was late only because the server made it wait.
  EXPECT_GT(r.generator.schedule_lag.max(), 800'000);
}

// ---- rates and caps ------------------------------------------------------------------------

void expect_rate(double rate, json config, std::size_t threads) {
  first_start = std::numeric_limits<std::int64_t>::max();
  last_start = 0;
  auto test = load_test{"Rate"}
                  .default_config(std::move(config))
                  .scenario(make_scenario("Rate", &timed_iteration))
                  .with_model(load_model::constant_rate(rate, 5s, 2000));
  run_options options;
  options.threads = threads;
  auto r = run_load_test(test, options);
  const auto expected = static_cast<std::uint64_t>(rate * 5);
  EXPECT_EQ(r.arrivals.started, expected);
  EXPECT_EQ(r.arrivals.dropped, 0u);
  EXPECT_EQ(metric(r.metrics, "iteration", "Rate").count(), expected);
  double span_s = static_cast<double>(last_start - first_start) / 1e6;
  double achieved = static_cast<double>(expected - 1) / span_s;
  EXPECT_NEAR(achieved, rate, rate * 0.01) << "span " << span_s << " s";
}

TEST(load_models, achieved_arrival_rate_within_one_percent_at_1k_per_second) {
  demo_server demo;
  expect_rate(1000, {{"base_url", demo.url()}, {"truth_path", "/truth/fixed/1000"}}, 1);
}

TEST(load_models, achieved_arrival_rate_within_one_percent_at_10k_per_second) {
  expect_rate(10000, json::object(), 2);
}

TEST(load_models, arrivals_beyond_the_cap_are_dropped_and_counted_exactly) {
  auto test = load_test{"Cap"}
                  .scenario(make_scenario("Cap", &long_iteration))
                  .with_model(load_model::constant_rate(200, 1s, 10));
  run_options options;
  options.threads = 2;
  auto r = run_load_test(test, options);
  EXPECT_EQ(r.arrivals.started, 10u);
  EXPECT_EQ(r.arrivals.dropped, 190u);
  EXPECT_EQ(r.sessions.started, 10u);
  EXPECT_EQ(r.sessions.completed, 10u);
  EXPECT_EQ(metric(r.metrics, "iteration", "Cap").count(), 10u);
  // Dropped arrivals are not a histogram: the JSON carries them, the CSV has metric rows only.
  EXPECT_EQ(nlohmann::json::parse(export_json(r)).back()["generator"]["arrivals_dropped"], 190);
  EXPECT_EQ(export_csv(r).find("dropped"), std::string::npos);
}

// Each arrival's iteration is a run of the scenario, bounded by scenario_timeout: a late one is
// stopped and counted as timed out, the others complete, and the run does not wait for the slow
// answers.
TEST(load_models, scenario_timeout_stops_late_arrival_iterations) {
  demo_server demo;
  iterations = 0;
  auto test = load_test{"Late"}
                  .default_config({{"base_url", demo.url()}, {"scenario_timeout", "200ms"}})
                  .scenario(make_scenario("Late", &fast_or_slow))
                  .with_model(load_model::constant_rate(20, 1s));
  run_options options;
  options.threads = 1;
  const auto start = std::chrono::steady_clock::now();
  auto r = run_load_test(test, options);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.arrivals.started, 20u);
  EXPECT_EQ(r.arrivals.dropped, 0u);
  EXPECT_EQ(r.sessions.timed_out, 10u);
  EXPECT_EQ(r.sessions.failed, 0u);
  EXPECT_EQ(r.session_errors, (std::map<std::string, std::uint64_t>{{"scenario_timeout", 10}}));
  EXPECT_EQ(metric(r.metrics, "iteration", "Late").count(), 20u);
  auto late = r.metrics.find(metric_key{"", "iteration", "Late", "timeout"});
  ASSERT_NE(late, r.metrics.end());
  EXPECT_EQ(late->second.count(), 10u);
  // Stopped at its timeout, not at the answer 3 s later.
  EXPECT_GE(late->second.min(), 190'000);
  EXPECT_LT(late->second.max(), 1'000'000);
  EXPECT_EQ(metric(r.metrics, "get", demo.url() + "/delay/1").count(), 10u);
  EXPECT_LT(took, 2500ms);
}

TEST(load_models, ramping_sessions_follow_the_target_and_end_as_completed) {
  running = 0;
  most_running = 0;
  starts = 0;
  auto test = load_test{"Ramp"}
                  .scenario(make_scenario("Ramp", &counted_until_stopped))
                  .with_model(load_model::ramping_sessions({{200ms, 6}, {400ms, 6}, {200ms, 0}}));
  run_options options;
  options.threads = 2;
  auto r = run_load_test(test, options);
  EXPECT_EQ(running.load(), 0);
  EXPECT_EQ(most_running.load(), 6);
  // Sessions that finished during the plateau were replaced.
  EXPECT_GT(r.sessions.started, 6u);
  EXPECT_EQ(r.sessions.completed, r.sessions.started);
  EXPECT_EQ(r.sessions.timed_out + r.sessions.aborted + r.sessions.failed, 0u);
  EXPECT_TRUE(r.session_errors.empty());
}

TEST(load_models, paced_loop_runs_every_due_iteration_and_records_its_lag) {
  run_options options;
  options.threads = 1;
  auto r = run_load_test(load_test{"Paced"}.scenario(make_scenario("Paced", &paced_ticks)),
                         options);
  EXPECT_EQ(metric(r.metrics, "call", "Paced.tick").count(), 50u);
  EXPECT_EQ(metric(r.corrected, "call", "Paced.tick").count(), 50u);
  EXPECT_EQ(r.generator.schedule_lag.count(), 50u);

  auto bad = run_load_test(load_test{"Bad"}.scenario(make_scenario("Bad", &unpaced)), options);
  EXPECT_EQ(bad.sessions.failed, 1u);
  ASSERT_EQ(bad.session_errors.size(), 1u);
  EXPECT_NE(bad.session_errors.begin()->first.find("pacing"), std::string::npos);
}

TEST(load_models, quick_takes_the_rate_flags) {
  demo_server demo;
  temp_dir dir;
  const auto out = dir.path() / "quick.csv";
  auto r = run_command({{CHAPERON_CLI_BINARY, "quick", demo.url() + "/truth/fixed/500", "--rate",
                         "100/s", "--duration", "1s", "--threads", "1", "--no-progress",
                         "--output", out.string()},
                        {}},
                       30s);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("arrivals: 100 started, 0 dropped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("corr p99"), std::string::npos) << r.out;
  const auto csv = read_text_file(out);
  EXPECT_NE(csv.find("\n iteration(Quick),100,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(" iteration(Quick) corrected,100,"), std::string::npos) << csv;

  auto bad = run_command({{CHAPERON_CLI_BINARY, "quick", demo.url() + "/", "--rate", "fast"}, {}},
                         30s);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE((bad.out + bad.err).find("--rate: 'fast'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace chaperon::itest
