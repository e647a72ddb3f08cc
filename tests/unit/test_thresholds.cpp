#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "chaperon/thresholds.hpp"

namespace chaperon {
namespace {

using namespace std::chrono_literals;
using kind = metric_selector::kind;
using stat = threshold_statistic;

// ---- grammar -----------------------------------------------------------------------------------

TEST(threshold_grammar, every_statistic) {
  struct case_t {
    const char* text;
    stat statistic;
    double percentile;
  };
  const case_t cases[] = {
      {"count>0", stat::count, 0},
      {"rate>0", stat::rate, 0},
      {"rps>0", stat::rate, 0},
      {"errors>0.5", stat::error_rate, 0},
      {"error_rate>0.5", stat::error_rate, 0},
      {"min>0", stat::min, 0},
      {"max>0", stat::max, 0},
      {"mean>0", stat::mean, 0},
      {"avg>0", stat::mean, 0},
      {"med>0", stat::percentile, 50},
      {"p99>0", stat::percentile, 99},
      {"p(99)>0", stat::percentile, 99},
      {"p99.9>0", stat::percentile, 99.9},
      {"p(99.99)>0", stat::percentile, 99.99},
      {"p0>0", stat::percentile, 0},
      {"p100>0", stat::percentile, 100},
      {"cp99>0", stat::corrected_percentile, 99},
      {"cp(50)>0", stat::corrected_percentile, 50},
      {"corrected_p99.9>0", stat::corrected_percentile, 99.9},
      {"corrected_p(90)>0", stat::corrected_percentile, 90},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto t = parse_threshold(c.text);
    EXPECT_EQ(t.statistic, c.statistic);
    EXPECT_DOUBLE_EQ(t.percentile, c.percentile);
    EXPECT_EQ(t.selector.what, kind::all_requests);
    EXPECT_EQ(t.op, threshold_op::gt);
    EXPECT_EQ(t.text, c.text);
  }
}

TEST(threshold_grammar, every_comparison) {
  EXPECT_EQ(parse_threshold("p99<1").op, threshold_op::lt);
  EXPECT_EQ(parse_threshold("p99<=1").op, threshold_op::le);
  EXPECT_EQ(parse_threshold("p99>1").op, threshold_op::gt);
  EXPECT_EQ(parse_threshold("p99>=1").op, threshold_op::ge);
  EXPECT_EQ(parse_threshold("p99==1").op, threshold_op::eq);
  EXPECT_EQ(parse_threshold("p99===1").op, threshold_op::eq);
  EXPECT_EQ(parse_threshold("p99!=1").op, threshold_op::ne);
}

TEST(threshold_grammar, units_convert_to_the_statistics_unit) {
  EXPECT_DOUBLE_EQ(parse_threshold("p99<250us").limit, 250);
  EXPECT_DOUBLE_EQ(parse_threshold("p99<250\u00b5s").limit, 250);
  EXPECT_DOUBLE_EQ(parse_threshold("p99<200ms").limit, 200e3);
  EXPECT_DOUBLE_EQ(parse_threshold("p99<1.5s").limit, 1.5e6);
  EXPECT_DOUBLE_EQ(parse_threshold("max<2m").limit, 120e6);
  EXPECT_DOUBLE_EQ(parse_threshold("p99<200").limit, 200e3) << "plain latencies are ms, as in k6";
  EXPECT_DOUBLE_EQ(parse_threshold("errors<1%").limit, 0.01);
  EXPECT_DOUBLE_EQ(parse_threshold("errors<0.01").limit, 0.01);
  EXPECT_DOUBLE_EQ(parse_threshold("errors<=12.5%").limit, 0.125);
  EXPECT_DOUBLE_EQ(parse_threshold("rps>=1000").limit, 1000);
  EXPECT_DOUBLE_EQ(parse_threshold("max<0.5h").limit, 1800e6);
  EXPECT_DOUBLE_EQ(parse_threshold("rate>=1000/s").limit, 1000);
  EXPECT_DOUBLE_EQ(parse_threshold("rate>=1000 /sec").limit, 1000);
  EXPECT_DOUBLE_EQ(parse_threshold("rate>=120/m").limit, 2);
  EXPECT_DOUBLE_EQ(parse_threshold("rate>=120/min").limit, 2);
  EXPECT_DOUBLE_EQ(parse_threshold("rate>=7200/h").limit, 2);
  EXPECT_DOUBLE_EQ(parse_threshold("count==42").limit, 42);
}

TEST(threshold_grammar, spaces_between_tokens) {
  const auto t =
      parse_threshold("get(http://h/a):  p(99)  <  200 ms , abort_on_fail , grace = 5s ");
  EXPECT_EQ(t.selector.text, "get(http://h/a)");
  EXPECT_DOUBLE_EQ(t.percentile, 99);
  EXPECT_DOUBLE_EQ(t.limit, 200e3);
  EXPECT_TRUE(t.abort_on_fail);
  EXPECT_EQ(t.grace, 5s);
}

TEST(threshold_grammar, selector_forms) {
  auto t = parse_threshold("get(http://host/api):p99<200ms");
  EXPECT_EQ(t.selector.what, kind::exact);
  EXPECT_EQ(t.selector.text, "get(http://host/api)");
  t = parse_threshold("*:p95<500ms");
  EXPECT_EQ(t.selector.what, kind::every_metric);
  EXPECT_EQ(t.selector.to_string(), "*");
  t = parse_threshold("get(http://host/*:p95<500ms");
  EXPECT_EQ(t.selector.what, kind::prefix);
  EXPECT_EQ(t.selector.text, "get(http://host/");
  EXPECT_EQ(t.selector.to_string(), "get(http://host/*");
  t = parse_threshold("Error HTTP 500 get(http://host/api):count<10");
  EXPECT_EQ(t.selector.what, kind::exact);
  EXPECT_EQ(t.selector.text, "Error HTTP 500 get(http://host/api)");
  t = parse_threshold("my_custom_metric:max<1s");
  EXPECT_EQ(t.selector.text, "my_custom_metric");
  t = parse_threshold(" get(http://h/a b) : p99<1s");
  EXPECT_EQ(t.selector.text, "get(http://h/a b)");
  EXPECT_EQ(parse_threshold(" * :p99<1s").selector.what, kind::every_metric);
  EXPECT_EQ(parse_threshold("get(http://h/", "count>0").selector.what, kind::exact);
  EXPECT_EQ(parse_threshold(" get(http://h/* ", "count>0").selector.text, "get(http://h/");
  t = parse_threshold("errors<1%");
  EXPECT_EQ(t.selector.what, kind::all_requests);
  EXPECT_EQ(t.selector.to_string(), "");
}

TEST(threshold_grammar, selector_matching) {
  const metric_selector every{kind::every_metric, {}};
  EXPECT_TRUE(every.matches("get(http://h/a)", false));
  EXPECT_FALSE(every.matches("Error HTTP 500 get(http://h/a)", true));
  const metric_selector prefix{kind::prefix, "get(http://h/"};
  EXPECT_TRUE(prefix.matches("get(http://h/a)", false));
  EXPECT_FALSE(prefix.matches("post(http://h/a)", false));
  const metric_selector errors{kind::prefix, "Error "};
  EXPECT_TRUE(errors.matches("Error timeout get(http://h/a)", true));
  const metric_selector exact{kind::exact, "get(http://h/a)"};
  EXPECT_TRUE(exact.matches("get(http://h/a)", false));
  EXPECT_FALSE(exact.matches("get(http://h/ab)", false));
}

TEST(threshold_grammar, nasty_urls_split_at_the_last_colon_before_an_expression) {
  struct case_t {
    const char* text;
    const char* selector;
  };
  const case_t cases[] = {
      {"get(http://h:8080/a?x=1:2,3):p99<1s", "get(http://h:8080/a?x=1:2,3)"},
      {"get(http://h/a?q=:p99<5):p(99)<1s", "get(http://h/a?q=:p99<5)"},
      {"get(http://h/a?t=12:30&u=count>1):count>0", "get(http://h/a?t=12:30&u=count>1)"},
      {"get(http://[::1]:80/x):max<=2s", "get(http://[::1]:80/x)"},
      {"get(http://h/a,b;c=(d):errors<1%,abort_on_fail", "get(http://h/a,b;c=(d)"},
      {"post(https://u:pw@h/p?a=b,c):rps>1", "post(https://u:pw@h/p?a=b,c)"},
      {"count:rate<5", "count"},
      {"get(http://h/p99:p99<1", "get(http://h/p99"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto t = parse_threshold(c.text);
    EXPECT_EQ(t.selector.to_string(), c.selector);
  }
  const auto t = parse_threshold("get(http://h/a,b;c=(d):errors<1%,abort_on_fail");
  EXPECT_EQ(t.statistic, stat::error_rate);
  EXPECT_TRUE(t.abort_on_fail);
  EXPECT_EQ(parse_threshold("get(http://h/a*:p99<1").selector.what, kind::prefix);
}

TEST(threshold_grammar, options) {
  auto t = parse_threshold("p99<200ms");
  EXPECT_FALSE(t.abort_on_fail);
  EXPECT_EQ(t.grace, 0s);
  EXPECT_TRUE(parse_threshold("p99<200ms,abort_on_fail").abort_on_fail);
  t = parse_threshold("p99<200ms,abortOnFail,delayAbortEval=1m");
  EXPECT_TRUE(t.abort_on_fail);
  EXPECT_EQ(t.grace, 60s);
  t = parse_threshold("p99<200ms,grace=1500ms,abort_on_fail");
  EXPECT_EQ(t.grace, 1500ms);
  EXPECT_FALSE(t.aborts_at(1s));
  EXPECT_TRUE(t.aborts_at(1500ms));
  EXPECT_FALSE(parse_threshold("p99<200ms").aborts_at(1h));
}

TEST(threshold_grammar, code_form_takes_selector_and_expression_apart) {
  auto t = parse_threshold("get(http://host/api)", "p(99) < 200ms");
  EXPECT_EQ(t.selector.what, kind::exact);
  EXPECT_EQ(t.selector.text, "get(http://host/api)");
  EXPECT_DOUBLE_EQ(t.limit, 200e3);
  EXPECT_EQ(t.text, "get(http://host/api):p(99) < 200ms");
  // No split is searched for: the selector may end in anything.
  t = parse_threshold("get(http://h/a?x=:p99<1)", "count > 0, abort_on_fail");
  EXPECT_EQ(t.selector.text, "get(http://h/a?x=:p99<1)");
  EXPECT_TRUE(t.abort_on_fail);
  EXPECT_EQ(parse_threshold("", "errors<1%").selector.what, kind::all_requests);
  EXPECT_EQ(parse_threshold("  ", "errors<1%").selector.what, kind::all_requests);
}

TEST(threshold_grammar, describe_prints_a_canonical_form) {
  EXPECT_EQ(parse_threshold("get(http://h/a):p(99)<200").describe(),
            "get(http://h/a): p99 < 200 ms");
  EXPECT_EQ(parse_threshold("errors<1%").describe(), "errors < 1%");
  EXPECT_EQ(parse_threshold("rps>=1000").describe(), "rate >= 1000/s");
  EXPECT_EQ(parse_threshold("*:cp99.9<=1.5s").describe(), "*: corrected_p99.9 <= 1.5 s");
  EXPECT_EQ(parse_threshold("count!=0").expression(), "count != 0");
  EXPECT_EQ(parse_threshold("med<250us").expression(), "p50 < 250 us");
}

// ---- errors ------------------------------------------------------------------------------------

// The column of the error parse_threshold(text) throws, and checks the message quotes the text.
std::size_t error_column(const std::string& text, const std::string& problem_part) {
  try {
    parse_threshold(text);
  } catch (const threshold_error& e) {
    EXPECT_EQ(e.text(), text);
    EXPECT_NE(std::string(e.what()).find("\"" + text + "\""), std::string::npos) << e.what();
    EXPECT_NE(e.problem().find(problem_part), std::string::npos) << e.problem();
    return e.column();
  }
  ADD_FAILURE() << "no error for " << text;
  return 0;
}

TEST(threshold_errors, name_the_problem_and_its_column) {
  EXPECT_EQ(error_column("p99<200xs", "unknown unit \"xs\""), 8u);
  EXPECT_EQ(error_column("get(http://h/a):p98x<1", "expected a comparison"), 20u);
  EXPECT_EQ(error_column("get(http://h/a)", "no expression"), 1u);
  EXPECT_EQ(error_column("p(99<1", "expected \")\""), 5u);
  EXPECT_EQ(error_column("p101<1", "between 0 and 100"), 2u);
  EXPECT_EQ(error_column("p(x)<1", "expected a percentile"), 3u);
  EXPECT_EQ(error_column("errors<5", "fraction from 0 to 1"), 8u);
  EXPECT_EQ(error_column("errors<5ms", "does not fit"), 9u);
  EXPECT_EQ(error_column("count<5ms", "a count takes a plain number"), 8u);
  EXPECT_EQ(error_column("rps>=10/d", "a rate takes /s"), 8u);
  EXPECT_EQ(error_column("p99<", "expected a number"), 5u);
  EXPECT_EQ(error_column("p99 =< 1", "expected a comparison"), 5u);
  EXPECT_EQ(error_column("p99 200ms", "expected a comparison"), 5u);
  EXPECT_EQ(error_column("foo<1", "unknown statistic \"foo\""), 1u);
  EXPECT_EQ(error_column("*:foo<1", "unknown statistic \"foo\""), 3u);
  EXPECT_EQ(error_column("p99<200ms,abort", "unknown option \"abort\""), 11u);
  EXPECT_EQ(error_column("p99<200ms,", "expected an option"), 11u);
  EXPECT_EQ(error_column("p99<200ms;x", "expected \",\""), 10u);
  EXPECT_EQ(error_column("p99<200ms, grace=10s", "needs abort_on_fail"), 12u);
  EXPECT_EQ(error_column("p99<1,abort_on_fail,grace=10", "expected a unit"), 29u);
  EXPECT_EQ(error_column("p99<1,abort_on_fail,grace 10s", "expected \"=\""), 27u);
  EXPECT_EQ(error_column(":p99<1", "empty selector"), 1u);
  EXPECT_EQ(error_column("  ", "empty threshold"), 1u);
}

TEST(threshold_errors, carry_a_caret_line_and_are_invalid_arguments) {
  try {
    parse_threshold("get(http://h/a):p99<200xs");
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "invalid threshold \"get(http://h/a):p99<200xs\": unknown unit \"xs\" (use us, ms, "
              "s, m or h) at column 24\n"
              "  get(http://h/a):p99<200xs\n"
              "                         ^");
  }
}

TEST(threshold_errors, code_form_columns_count_within_the_expression) {
  try {
    parse_threshold("get(http://h/a)", "p(99) < 200 xs");
    FAIL() << "no error";
  } catch (const threshold_error& e) {
    EXPECT_EQ(e.text(), "p(99) < 200 xs");
    EXPECT_EQ(e.column(), 13u);
  }
  EXPECT_THROW(parse_threshold("get(http://h/a)", ""), threshold_error);
}

TEST(threshold_config, reads_k6s_options_form) {
  const auto config = nlohmann::json::parse(R"j({
    "get(http://h:8080/a?x=1,2)": ["p(99)<200", {"threshold": "p(95) < 100ms",
                                                 "abortOnFail": true, "delayAbortEval": "10s"}],
    "": "errors<1%",
    "*": [{"threshold": "max<1s", "abort_on_fail": true, "grace": "1m"}]
  })j");
  const auto ts = parse_thresholds(config);
  ASSERT_EQ(ts.size(), 4u);  // in selector order
  EXPECT_EQ(ts[0].selector.what, kind::all_requests);
  EXPECT_EQ(ts[0].statistic, stat::error_rate);
  EXPECT_EQ(ts[1].selector.what, kind::every_metric);
  EXPECT_EQ(ts[1].grace, 60s);
  EXPECT_EQ(ts[2].selector.text, "get(http://h:8080/a?x=1,2)");
  EXPECT_DOUBLE_EQ(ts[2].limit, 200e3);
  EXPECT_FALSE(ts[2].abort_on_fail);
  EXPECT_DOUBLE_EQ(ts[3].percentile, 95);
  EXPECT_TRUE(ts[3].abort_on_fail);
  EXPECT_EQ(ts[3].grace, 10s);
}

TEST(threshold_config, errors_name_the_selector_or_the_expression) {
  const auto message = [](const char* text) {
    try {
      parse_thresholds(nlohmann::json::parse(text));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(R"(["p99<1"])"),
            "thresholds: expected an object of selector -> expressions");
  EXPECT_EQ(message(R"j({"get(u)": [{"threshold": "p99<1", "abortOnFail": "yes"}]})j"),
            "thresholds[\"get(u)\"]: \"abortOnFail\" must be true or false");
  EXPECT_EQ(message(R"j({"get(u)": [{"threshold": "p99<1", "delayAbortEval": "1s"}]})j"),
            "thresholds[\"get(u)\"]: \"delayAbortEval\" needs \"abortOnFail\": true");
  EXPECT_EQ(message(R"j({"get(u)": [{"threshold": "p99<1", "abortOnFail": true, "x": 1}]})j"),
            "thresholds[\"get(u)\"]: unknown field \"x\"");
  EXPECT_EQ(message(R"j({"get(u)": [{"abortOnFail": true}]})j"),
            "thresholds[\"get(u)\"]: \"threshold\" must be an expression string");
  EXPECT_EQ(message(R"j({"get(u)": [42]})j").rfind("thresholds[\"get(u)\"]: expected", 0), 0u);
  EXPECT_EQ(message(R"j({"get(u)": "p99<1xs"})j").rfind("invalid threshold \"p99<1xs\"", 0), 0u);
  try {
    parse_thresholds(nlohmann::json::parse(
        R"j({"get(u)": {"threshold": "p99<1", "abortOnFail": true, "delayAbortEval": "10"}})j"));
    FAIL() << "no error";
  } catch (const threshold_error& e) {
    EXPECT_EQ(e.text(), "10");
    EXPECT_EQ(e.column(), 3u);
  }
}

// ---- evaluation --------------------------------------------------------------------------------

const metric_key get_a{"", "get", "http://h/a", ""};
const metric_key get_a_500{"", "get", "http://h/a", "HTTP 500"};
const metric_key get_a_timeout{"", "get", "http://h/a", "timeout"};
const metric_key post_c{"", "post", "http://h/c?x=1:2,3", ""};
const metric_key call_fn{"", "call", "Scenario.fn", ""};

// Values below 2048 us are counted exactly, so the expected statistics are exact too.
run_results sample_run() {
  run_results r;
  for (int i = 1; i <= 100; ++i) r.metrics[get_a].record(i * 10);  // 10 .. 1000 us
  r.metrics[get_a_500].record(700, 5);         // responses: also among get_a's 100
  r.metrics[get_a_timeout].record(30000, 5);   // no response: only here
  r.metrics[post_c].record(5000, 50);
  r.metrics[call_fn].record(1500, 20);
  for (int i = 1; i <= 100; ++i) r.corrected[get_a].record(i * 10 + 1000);  // 1010 .. 2000 us
  r.duration_us = 10'000'000;
  return r;
}

threshold_result eval(const std::string& text, const run_results& r = sample_run()) {
  return evaluate(parse_threshold(text), r);
}

double value_of(const std::string& text, const run_results& r = sample_run()) {
  const auto result = eval(text, r);
  EXPECT_TRUE(result.decisive) << text << ": " << result.text;
  return result.decisive ? result.measurements[*result.decisive].value : -1;
}

TEST(threshold_evaluation, latency_statistics_of_one_metric) {
  const std::string a = "get(http://h/a):";
  EXPECT_DOUBLE_EQ(value_of(a + "p99<1s"), 990);
  EXPECT_DOUBLE_EQ(value_of(a + "p(50)<1s"), 500);
  EXPECT_DOUBLE_EQ(value_of(a + "med<1s"), 500);
  EXPECT_DOUBLE_EQ(value_of(a + "p100<1s"), 1000);
  EXPECT_DOUBLE_EQ(value_of(a + "min<1s"), 10);
  EXPECT_DOUBLE_EQ(value_of(a + "max<1s"), 1000);
  EXPECT_DOUBLE_EQ(value_of(a + "mean<1s"), 505);
  EXPECT_DOUBLE_EQ(value_of(a + "cp99<1s"), 1990);
  EXPECT_DOUBLE_EQ(value_of(a + "corrected_p(100)<1s"), 2000);
  // Without corrected values the measured ones stand in.
  EXPECT_DOUBLE_EQ(value_of("post(http://h/c?x=1:2,3):cp99<1s"), 5000);
  // An error metric's latency is its own.
  EXPECT_DOUBLE_EQ(value_of("Error timeout get(http://h/a):max<1s"), 30000);
}

TEST(threshold_evaluation, limits_and_comparisons) {
  auto r = eval("get(http://h/a):p99<1ms");
  EXPECT_TRUE(r.passed());
  EXPECT_EQ(r.text, "get(http://h/a): p99 = 990 us, limit < 1 ms: PASSED");
  r = eval("get(http://h/a):p99<990us");
  EXPECT_EQ(r.status, threshold_status::failed);
  EXPECT_TRUE(r.breached());
  EXPECT_EQ(r.text, "get(http://h/a): p99 = 990 us, limit < 990 us: FAILED");
  EXPECT_TRUE(eval("get(http://h/a):p99<=990us").passed());
  EXPECT_TRUE(eval("get(http://h/a):p99>=0.99ms").passed());
  EXPECT_FALSE(eval("get(http://h/a):p99>990us").passed());
  EXPECT_TRUE(eval("get(http://h/a):count==100").passed());
  EXPECT_TRUE(eval("get(http://h/a):count===100").passed());
  EXPECT_FALSE(eval("get(http://h/a):count!=100").passed());
  EXPECT_EQ(eval("post(http://h/c?x=1:2,3):mean<2").text,
            "post(http://h/c?x=1:2,3): mean = 5 ms, limit < 2 ms: FAILED");
}

TEST(threshold_evaluation, counts_and_rates_divide_by_the_runs_duration) {
  EXPECT_DOUBLE_EQ(value_of("get(http://h/a):count>0"), 100);
  EXPECT_DOUBLE_EQ(value_of("get(http://h/a):rate>0"), 10);
  EXPECT_DOUBLE_EQ(value_of("call(Scenario.fn):rps>0"), 2);
  // Without a selector: HTTP responses, as run_results::total_requests() counts them.
  EXPECT_DOUBLE_EQ(value_of("count>0"), 150);
  EXPECT_DOUBLE_EQ(value_of("rps>0"), 15);
  EXPECT_TRUE(eval("rps>=15").passed());
  EXPECT_EQ(eval("rps>15").text, "rate = 15/s, limit > 15/s: FAILED");
  auto no_duration = sample_run();
  no_duration.duration_us = 0;
  EXPECT_EQ(eval("rps>0", no_duration).status, threshold_status::no_data);
}

TEST(threshold_evaluation, error_shares_count_responses_once) {
  // get(http://h/a): 100 responses (5 of them HTTP 500) + 5 timeouts = 105 attempts, 10 failed.
  EXPECT_DOUBLE_EQ(value_of("get(http://h/a):errors<1"), 10.0 / 105);
  EXPECT_EQ(eval("get(http://h/a):errors<1%").text,
            "get(http://h/a): errors = 9.524%, limit < 1%: FAILED");
  EXPECT_DOUBLE_EQ(value_of("Error HTTP 500 get(http://h/a):errors<1"), 5.0 / 105);
  EXPECT_DOUBLE_EQ(value_of("Error timeout get(http://h/a):error_rate<1"), 5.0 / 105);
  // All HTTP requests: 150 responses + 5 timeouts.
  EXPECT_DOUBLE_EQ(value_of("errors<1"), 10.0 / 155);
  EXPECT_TRUE(eval("errors<6.5%").passed());
  EXPECT_FALSE(eval("errors<6.4%").passed());
  EXPECT_DOUBLE_EQ(value_of("post(http://h/c?x=1:2,3):errors<1"), 0);
}

TEST(threshold_evaluation, failures_without_any_response_are_still_selected) {
  run_results r;
  r.metrics[{"", "get", "http://h/down", "connect"}].record(100, 4);
  r.metrics[get_a].record(100, 4);
  r.duration_us = 1'000'000;
  const auto all = eval("*:errors<50%", r);
  EXPECT_EQ(all.status, threshold_status::failed);
  ASSERT_EQ(all.measurements.size(), 2u);
  EXPECT_EQ(all.measurements[0].metric, "get(http://h/a)");
  EXPECT_EQ(all.measurements[1].metric, "get(http://h/down)");
  EXPECT_DOUBLE_EQ(all.measurements[1].value, 1);
  EXPECT_DOUBLE_EQ(value_of("errors<1", r), 0.5);
  EXPECT_DOUBLE_EQ(value_of("get(http://h/down):count>0", r), 0);
  // Nothing measured for its latency: no value, but the selector matched.
  const auto latency = eval("get(http://h/down):p99<1s", r);
  EXPECT_EQ(latency.status, threshold_status::no_data);
  EXPECT_EQ(latency.text, "get(http://h/down): p99 < 1 s: NO DATA (nothing measured)");
}

TEST(threshold_evaluation, every_metric_is_checked_on_its_own) {
  auto r = eval("*:p99<1ms");
  EXPECT_EQ(r.status, threshold_status::failed);
  ASSERT_EQ(r.measurements.size(), 3u);  // error metrics are not selected by "*"
  EXPECT_EQ(r.measurements[0].metric, "call(Scenario.fn)");
  EXPECT_FALSE(r.measurements[0].passed);
  EXPECT_EQ(r.measurements[1].metric, "get(http://h/a)");
  EXPECT_TRUE(r.measurements[1].passed);
  EXPECT_EQ(r.measurements[2].metric, "post(http://h/c?x=1:2,3)");
  ASSERT_TRUE(r.decisive);
  EXPECT_EQ(*r.decisive, 2u);
  EXPECT_EQ(r.text,
            "*: p99 < 1 ms: FAILED (2 of 3 metrics), worst post(http://h/c?x=1:2,3): p99 = 5 ms");
  // For ">" the smallest value is the worst.
  r = eval("*:count>30");
  EXPECT_EQ(r.text, "*: count > 30: FAILED (1 of 3 metrics), worst call(Scenario.fn): count = 20");
  r = eval("*:count>10");
  EXPECT_EQ(r.text, "*: count > 10: PASSED (3 metrics), closest call(Scenario.fn): count = 20");
}

TEST(threshold_evaluation, prefixes_select_by_name) {
  auto r = eval("get(http://h/*:p99<1ms");
  EXPECT_TRUE(r.passed());
  EXPECT_EQ(r.text, "get(http://h/*: p99 < 1 ms: PASSED (1 metric), closest get(http://h/a): "
                    "p99 = 990 us");
  r = eval("Error *:count<=5");
  EXPECT_TRUE(r.passed());
  EXPECT_EQ(r.measurements.size(), 2u);
  EXPECT_FALSE(eval("Error *:count<5").passed());
}

TEST(threshold_evaluation, all_requests_merge_the_http_metrics) {
  // 100 values up to 1 ms and 50 of 5 ms (the call is not an HTTP request).
  EXPECT_DOUBLE_EQ(value_of("p99<1s"), 5000);
  EXPECT_DOUBLE_EQ(value_of("min<1s"), 10);
  EXPECT_DOUBLE_EQ(value_of("p(60)<1s"), 900);
  // Corrected where there is a correction (get), measured elsewhere (post).
  EXPECT_DOUBLE_EQ(value_of("cp(60)<1s"), 1900);
  EXPECT_EQ(eval("p99<1s").text, "p99 = 5 ms, limit < 1 s: PASSED");
}

TEST(threshold_evaluation, no_data_fails_at_the_end_but_does_not_abort) {
  const auto r = eval("get(http://h/zzz):p99<1s,abort_on_fail");
  EXPECT_EQ(r.status, threshold_status::no_data);
  EXPECT_FALSE(r.passed());
  EXPECT_TRUE(r.failed_at_end());
  EXPECT_FALSE(r.breached());
  EXPECT_FALSE(r.decisive);
  EXPECT_EQ(r.text, "get(http://h/zzz): p99 < 1 s: NO DATA (no metric matches)");
  EXPECT_EQ(eval("get(http://h/zzz):count<1").status, threshold_status::no_data);
  EXPECT_EQ(eval("*:p99<1s", run_results{}).status, threshold_status::no_data);
  EXPECT_EQ(eval("nope*:count<1").status, threshold_status::no_data);

  run_results calls_only;
  calls_only.metrics[call_fn].record(1500, 20);
  calls_only.duration_us = 1'000'000;
  EXPECT_EQ(eval("errors<1%", calls_only).status, threshold_status::no_data);
  EXPECT_EQ(eval("p99<1s", calls_only).status, threshold_status::no_data);
  // Zero requests is a value.
  EXPECT_TRUE(eval("count==0", calls_only).passed());
  EXPECT_FALSE(eval("rps>=1", calls_only).passed());
}

TEST(threshold_evaluation, per_session_rows_merge_unless_aggregated_rows_exist) {
  run_results sessions;
  sessions.metrics[{"alice", "get", "http://h/a", ""}].record(100, 10);
  sessions.metrics[{"bob", "get", "http://h/a", ""}].record(300, 10);
  sessions.duration_us = 1'000'000;
  EXPECT_DOUBLE_EQ(value_of("get(http://h/a):count>0", sessions), 20);
  EXPECT_DOUBLE_EQ(value_of("get(http://h/a):max>0", sessions), 300);
  EXPECT_DOUBLE_EQ(value_of("count>0", sessions), 20);
  sessions.metrics[get_a].record(200, 20);
  EXPECT_DOUBLE_EQ(value_of("get(http://h/a):count>0", sessions), 20);
  EXPECT_DOUBLE_EQ(value_of("get(http://h/a):max>0", sessions), 200);
}

interval window_of(std::int64_t start_s, std::uint64_t requests, std::int64_t latency_us) {
  interval w;
  w.start_us = start_s * 1'000'000;
  w.length_us = 1'000'000;
  if (requests > 0) w.metrics[get_a].record(latency_us, requests);
  return w;
}

TEST(threshold_evaluation, windows_divide_by_their_own_length) {
  const auto t = parse_threshold("get(http://h/a):rps>=100,abort_on_fail,grace=2s");
  EXPECT_TRUE(evaluate(t, window_of(0, 100, 500), 1.0).passed());
  const auto slow = evaluate(t, window_of(0, 100, 500), 2.0);
  EXPECT_TRUE(slow.breached());
  EXPECT_DOUBLE_EQ(slow.measurements.at(0).value, 50);
  // A quiet window has no data: no reason to abort.
  const auto quiet = evaluate(t, window_of(0, 0, 0), 1.0);
  EXPECT_EQ(quiet.status, threshold_status::no_data);
  EXPECT_FALSE(quiet.breached());

  // What a runner checks each interval: everything so far, once the grace period is over.
  interval_series series;
  // Cumulative rates: 50/s (breached, but within the grace period), 150/s, 100/s, 75/s.
  const std::uint64_t per_second[] = {50, 250, 0, 0, 500};
  bool aborted = false;
  std::int64_t aborted_at_s = 0;
  for (std::int64_t s = 0; s < 5 && !aborted; ++s) {
    series.append(window_of(s, per_second[s], 500));
    const auto elapsed = std::chrono::seconds(s + 1);
    const auto r = evaluate(t, series.total(), static_cast<double>(s + 1));
    if (r.breached() && t.aborts_at(elapsed)) {
      aborted = true;
      aborted_at_s = s + 1;
    }
  }
  EXPECT_TRUE(aborted);
  EXPECT_EQ(aborted_at_s, 4);
}

TEST(threshold_evaluation, json_carries_the_verdict_and_the_value) {
  const auto t = parse_threshold("*:p99<1ms,abort_on_fail");
  const auto j = to_json(t, evaluate(t, sample_run()));
  EXPECT_EQ(j["threshold"], "*:p99<1ms,abort_on_fail");
  EXPECT_EQ(j["selector"], "*");
  EXPECT_EQ(j["expression"], "p99 < 1 ms");
  EXPECT_EQ(j["abort_on_fail"], true);
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["metric"], "post(http://h/c?x=1:2,3)");
  EXPECT_EQ(j["value"], 5000.0);
  ASSERT_EQ(j["measurements"].size(), 3u);
  EXPECT_EQ(j["measurements"][1]["metric"], "get(http://h/a)");
  EXPECT_EQ(j["measurements"][1]["passed"], true);
  const auto none = to_json(t, evaluate(t, run_results{}));
  EXPECT_EQ(none["status"], "no_data");
  EXPECT_FALSE(none.contains("value"));
}

}  // namespace
}  // namespace chaperon
