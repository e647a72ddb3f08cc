#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "chaperon/metrics.hpp"

#include "metrics/recorder.hpp"

namespace chaperon {
namespace {

const metric_key get_x{"", "get", "http://h/x", ""};
const metric_key get_x_404{"", "get", "http://h/x", "HTTP 404"};
const metric_key post_y{"", "post", "http://h/y", ""};
const metric_key call_fn{"", "call", "MyScenario.fn", ""};
const metric_key custom{"", "my_custom_metric", "", ""};

TEST(metric_key, names_follow_the_reference_format) {
  EXPECT_EQ((metric_key{"", "get", "http://h/x?q=1", ""}.name()), "get(http://h/x?q=1)");
  EXPECT_EQ(get_x_404.name(), "Error HTTP 404 get(http://h/x)");
  EXPECT_EQ((metric_key{"", "get", "http://h/x", "timeout"}.name()),
            "Error timeout get(http://h/x)");
  EXPECT_EQ(call_fn.name(), "call(MyScenario.fn)");
  EXPECT_EQ(custom.name(), "my_custom_metric");
}

TEST(metric_key, row_labels_start_with_the_session) {
  EXPECT_EQ(get_x.row_label(), " get(http://h/x)");
  EXPECT_EQ((metric_key{"alice", "get", "http://h/x", "HTTP 404"}.row_label()),
            "alice Error HTTP 404 get(http://h/x)");
  EXPECT_TRUE(get_x_404.is_error());
  EXPECT_FALSE(get_x.is_error());
}

TEST(metric_key, keys_order_by_session_action_target_error) {
  EXPECT_LT(get_x, get_x_404);
  EXPECT_LT(call_fn, get_x);
  EXPECT_LT(get_x_404, (metric_key{"alice", "call", "", ""}));
}

TEST(session_counts, merge_adds_every_field) {
  session_counts a{1, 2, 3, 4, 5};
  a.merge({10, 20, 30, 40, 50});
  EXPECT_EQ(a, (session_counts{11, 22, 33, 44, 55}));
}

// Random results; `parts` receive disjoint shares of the same recordings that `whole` gets.
void record_randomly(run_results& whole, std::vector<run_results>& parts, std::uint64_t seed) {
  const std::vector<metric_key> keys{get_x,   get_x_404, post_y,
                                     call_fn, custom,    {"alice", "get", "http://h/x", ""}};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick_key(0, keys.size() - 1);
  std::uniform_int_distribution<std::size_t> pick_part(0, parts.size() - 1);
  std::lognormal_distribution<double> latency(8.0, 2.0);
  for (int i = 0; i < 20'000; ++i) {
    const auto& key = keys[pick_key(rng)];
    const auto value = static_cast<std::int64_t>(latency(rng));
    whole.metrics[key].record(value);
    parts[pick_part(rng)].metrics[key].record(value);
  }
}

TEST(run_results, merge_of_parts_equals_the_whole) {
  run_results whole;
  std::vector<run_results> parts(3);
  record_randomly(whole, parts, 42);

  parts[0].session_errors = {{"timeout", 2}};
  parts[1].session_errors = {{"timeout", 1}, {"aborted: no token", 4}};
  parts[0].sessions = {5, 4, 1, 0, 0};
  parts[2].sessions = {3, 1, 0, 1, 1};
  parts[0].start_unix_ms = 0;  // unknown start must not win
  parts[1].start_unix_ms = 1'700'000'000'500;
  parts[2].start_unix_ms = 1'700'000'000'200;
  parts[0].duration_us = 9'000'000;
  parts[2].duration_us = 10'000'000;
  parts[1].partial = true;
  parts[2].load_test = "MyLoadTest";

  whole.session_errors = {{"timeout", 3}, {"aborted: no token", 4}};
  whole.sessions = {8, 5, 1, 1, 1};
  whole.start_unix_ms = 1'700'000'000'200;
  whole.duration_us = 10'000'000;
  whole.partial = true;
  whole.load_test = "MyLoadTest";

  run_results merged;
  for (const auto& part : parts) merged.merge(part);
  EXPECT_EQ(merged, whole);

  run_results reversed;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) reversed.merge(*it);
  EXPECT_EQ(reversed, whole);
}

TEST(run_results, counts_requests_and_errors) {
  run_results r;
  r.metrics[get_x].record(100, 10);
  r.metrics[post_y].record(100, 5);
  r.metrics[metric_key{"", "head", "http://h/z", ""}].record(100, 1);
  r.metrics[get_x_404].record(100, 2);
  r.metrics[metric_key{"", "get", "http://h/x", "timeout"}].record(100, 1);
  r.metrics[call_fn].record(100, 7);
  r.metrics[custom].record(100, 3);
  EXPECT_EQ(r.total_requests(), 16u);
  EXPECT_EQ(r.error_count(), 3u);
  EXPECT_TRUE(is_http_method("delete"));
  EXPECT_FALSE(is_http_method("ws_recv"));
}

TEST(run_results, json_round_trip_is_lossless) {
  run_results r;
  std::vector<run_results> ignored(1);
  record_randomly(r, ignored, 7);
  r.session_errors = {{"timeout", 3}};
  r.sessions = {8, 5, 1, 1, 1};
  r.start_unix_ms = 1'700'000'000'200;
  r.duration_us = 12'345'678;
  r.partial = true;
  r.load_test = "MyApp.LoadTest";

  const auto back = run_results::from_json(nlohmann::json::parse(r.to_json().dump()));
  EXPECT_EQ(back, r);
  EXPECT_EQ(run_results::from_json(run_results{}.to_json()), run_results{});
}

TEST(run_results, malformed_json_is_rejected) {
  for (const char* text : {
           R"([])",
           R"({"duration_us":"long"})",
           R"({"sessions":{"started":-1}})",
           R"({"session_errors":{"timeout":"x"}})",
           R"({"metrics":[{"action":"get"}]})",
           R"({"metrics":[{"action":"get","histogram":{"min":1}}]})",
       }) {
    SCOPED_TRACE(text);
    const auto j = nlohmann::json::parse(text);
    EXPECT_FALSE(run_results::try_from_json(j).has_value());
    EXPECT_THROW(run_results::from_json(j), std::invalid_argument);
  }
}

TEST(metric_filter, default_lets_everything_pass) {
  const metric_filter all;
  EXPECT_TRUE(all.passes(get_x));
  EXPECT_TRUE(all.passes(custom));
  EXPECT_TRUE(metric_filter(std::function<bool(const metric_key&)>{}).passes(get_x));
}

TEST(metric_filter, types_match_the_action_including_its_errors) {
  const metric_filter only(std::vector<std::string>{"get", "my_custom_metric"});
  EXPECT_TRUE(only.passes(get_x));
  EXPECT_TRUE(only.passes(get_x_404));
  EXPECT_TRUE(only.passes(custom));
  EXPECT_FALSE(only.passes(post_y));
  EXPECT_FALSE(only.passes(call_fn));
  EXPECT_FALSE(metric_filter(std::vector<std::string>{}).passes(get_x));
}

TEST(metric_filter, predicate_decides) {
  const metric_filter calls_of_my_scenario([](const metric_key& key) {
    return key.action == "call" && key.target.starts_with("MyScenario.");
  });
  EXPECT_TRUE(calls_of_my_scenario.passes(call_fn));
  EXPECT_FALSE(calls_of_my_scenario.passes((metric_key{"", "call", "Other.fn", ""})));
  EXPECT_FALSE(calls_of_my_scenario.passes(get_x));
}

TEST(metrics_recorder, interns_each_key_once) {
  detail::metrics_recorder recorder;
  const auto a = recorder.intern(get_x);
  const auto b = recorder.intern(post_y);
  EXPECT_NE(a, b);
  EXPECT_EQ(recorder.intern(get_x), a);
  EXPECT_EQ(recorder.intern(metric_key{get_x}), a);
  EXPECT_EQ(recorder.size(), 2u);
  EXPECT_EQ(recorder.key(b), post_y);
}

TEST(metrics_recorder, filtered_keys_record_nothing) {
  int filter_calls = 0;
  detail::metrics_recorder recorder(metric_filter([&](const metric_key& key) {
    ++filter_calls;
    return key.action != "post";
  }));
  EXPECT_EQ(recorder.intern(post_y), detail::no_metric);
  EXPECT_EQ(recorder.intern(post_y), detail::no_metric);
  EXPECT_EQ(filter_calls, 1);
  recorder.record(detail::no_metric, 5);
  recorder.record(post_y, 5);
  recorder.record(get_x, 7);

  run_results out;
  recorder.merge_into(out);
  EXPECT_EQ(out.metrics.size(), 1u);
  EXPECT_EQ(out.metrics.at(get_x).count(), 1u);
}

TEST(metrics_recorder, drain_moves_everything_out_and_keeps_ids) {
  detail::metrics_recorder recorder;
  const auto id = recorder.intern(get_x);
  recorder.intern(call_fn);  // interned but never recorded: not exported
  recorder.record(id, 100);
  recorder.record(id, 300);
  recorder.record(custom, 5);

  run_results kept;
  recorder.merge_into(kept);
  run_results drained;
  recorder.drain_into(drained);
  EXPECT_EQ(drained, kept);
  EXPECT_EQ(drained.metrics.size(), 2u);
  EXPECT_EQ(drained.metrics.count(call_fn), 0u);

  run_results empty;
  recorder.drain_into(empty);
  EXPECT_TRUE(empty.metrics.empty());

  recorder.record(id, 200);
  recorder.drain_into(drained);
  EXPECT_EQ(drained.metrics.at(get_x).count(), 3u);
  EXPECT_EQ(drained.metrics.at(get_x).max(), 300);
  EXPECT_EQ(recorder.intern(get_x), id);
}

// Corrected histograms, arrivals and the generator report: merged exactly, round-tripped.
void add_load_model_figures(run_results& whole, std::vector<run_results>& parts) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> latency(7.0, 1.5);
  for (int i = 0; i < 5000; ++i) {
    const auto value = static_cast<std::int64_t>(latency(rng));
    auto& part = parts[static_cast<std::size_t>(i) % parts.size()];
    for (auto* r : {&whole, &part}) {
      r->corrected[get_x].record(value + 1000);
      r->generator.schedule_lag.record(value / 10);
      r->generator.loop_delay.record(value / 100);
    }
  }
  parts[0].arrivals = {100, 3};
  parts[1].arrivals = {50, 0};
  parts[0].generator.max_thread_cpu = 0.5;
  parts[1].generator.max_thread_cpu = 0.97;
  parts[0].generator.saturation = {"a", "b"};
  parts[1].generator.saturation = {"b", "c"};
  whole.arrivals = {150, 3};
  whole.generator.max_thread_cpu = 0.97;
  whole.generator.saturation = {"a", "b", "c"};
}

TEST(run_results, corrected_figures_merge_exactly) {
  run_results whole;
  std::vector<run_results> parts(2);
  record_randomly(whole, parts, 3);
  add_load_model_figures(whole, parts);
  run_results merged;
  for (const auto& part : parts) merged.merge(part);
  EXPECT_EQ(merged, whole);
  EXPECT_EQ(merged.corrected.at(get_x).count(), 5000u);
}

TEST(run_results, corrected_figures_round_trip_through_json) {
  run_results r;
  std::vector<run_results> parts(2);
  record_randomly(r, parts, 5);
  add_load_model_figures(r, parts);
  const auto back = run_results::from_json(nlohmann::json::parse(r.to_json().dump()));
  EXPECT_EQ(back, r);
  // Results written before these fields existed still read.
  auto old = r.to_json();
  old.erase("corrected");
  old.erase("arrivals");
  old.erase("generator");
  auto plain = run_results::from_json(old);
  EXPECT_EQ(plain.metrics, r.metrics);
  EXPECT_TRUE(plain.corrected.empty());
  EXPECT_FALSE(
      run_results::try_from_json(nlohmann::json::parse(R"({"arrivals":{"dropped":-1}})")));
  EXPECT_FALSE(run_results::try_from_json(
      nlohmann::json::parse(R"({"generator":{"saturation":[1]}})")));
}

TEST(assess_saturation, flags_lag_and_loop_delay_in_plain_words_and_not_cpu) {
  generator_report g;
  assess_saturation(g);
  EXPECT_FALSE(g.saturated());

  g.schedule_lag.record(100, 990);
  g.schedule_lag.record(20'000, 10);  // p99 is 100 us
  g.loop_delay.record(50, 100);
  g.max_thread_cpu = 0.9;
  assess_saturation(g);
  EXPECT_FALSE(g.saturated());

  g.schedule_lag.record(20'000, 20);  // now p99 is 20 ms
  assess_saturation(g);
  ASSERT_EQ(g.saturation.size(), 1u);
  EXPECT_NE(g.saturation[0].find("schedule lag p99 20.000 ms > 5.000 ms"), std::string::npos);

  g.loop_delay.record(9'000, 100);
  g.max_thread_cpu = 0.99;  // a busy thread whose loop still answers is no verdict
  assess_saturation(g, {.lag_us = 8000});
  ASSERT_EQ(g.saturation.size(), 2u);
  EXPECT_NE(g.saturation[1].find("event-loop delay p99"), std::string::npos);
}

TEST(metrics_recorder, corrected_values_go_to_their_own_set) {
  detail::metrics_recorder recorder;
  const auto plain = recorder.intern(post_y);
  const auto paced = recorder.intern(get_x);
  recorder.record(plain, 10);
  recorder.record_corrected(paced, 100, 5100);
  recorder.record_corrected(detail::no_metric, 1, 2);
  run_results kept;
  recorder.merge_into(kept);
  run_results out;
  recorder.drain_into(out);
  EXPECT_EQ(out, kept);
  EXPECT_EQ(out.metrics.at(get_x).max(), 100);
  EXPECT_EQ(out.corrected.at(get_x).max(), 5100);
  EXPECT_EQ(out.corrected.count(post_y), 0u);
  run_results empty;
  recorder.drain_into(empty);
  EXPECT_TRUE(empty.corrected.empty());
}

}  // namespace
}  // namespace chaperon
