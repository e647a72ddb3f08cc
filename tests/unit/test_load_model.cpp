#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "chaperon/load_test.hpp"
#include "cli/cli_options.hpp"
#include "engine/load_model.hpp"

namespace chaperon {
namespace {

using namespace std::chrono_literals;
using detail::arrival_count;
using detail::arrival_time;
using detail::share_of;
using detail::stage_curve;

TEST(stage_curve, ramps_linearly_between_targets) {
  stage_curve c(0, {{30s, 100}, {60s, 100}, {30s, 0}});
  EXPECT_DOUBLE_EQ(c.end(), 120);
  EXPECT_DOUBLE_EQ(c.value_at(0), 0);
  EXPECT_DOUBLE_EQ(c.value_at(15), 50);
  EXPECT_DOUBLE_EQ(c.value_at(30), 100);
  EXPECT_DOUBLE_EQ(c.value_at(75), 100);
  EXPECT_DOUBLE_EQ(c.value_at(105), 50);
  EXPECT_DOUBLE_EQ(c.value_at(500), 0);
  // Area: 1500 + 6000 + 1500.
  EXPECT_DOUBLE_EQ(c.total(), 9000);
  EXPECT_DOUBLE_EQ(c.integral_to(30), 1500);
  EXPECT_DOUBLE_EQ(c.integral_to(15), 375);
}

TEST(stage_curve, time_of_inverts_the_integral) {
  stage_curve c(200, {{2s, 1000}, {1s, 1000}, {3s, 10}});
  for (double t = 0; t < c.end(); t += 0.0137) {
    auto back = c.time_of(c.integral_to(t));
    ASSERT_TRUE(back.has_value());
    EXPECT_NEAR(*back, t, 1e-9) << t;
  }
  EXPECT_FALSE(c.time_of(c.total() + 1).has_value());
}

TEST(arrivals, constant_rate_is_evenly_spaced_half_an_interval_in) {
  stage_curve c(1000, {{5s, 1000}});
  EXPECT_EQ(arrival_count(c), 5000u);
  EXPECT_NEAR(*arrival_time(c, 0), 0.0005, 1e-12);
  EXPECT_NEAR(*arrival_time(c, 1), 0.0015, 1e-12);
  EXPECT_NEAR(*arrival_time(c, 4999), 4.9995, 1e-9);
  EXPECT_FALSE(arrival_time(c, 5000).has_value());
}

TEST(arrivals, ramp_from_zero_accumulates_quadratically) {
  // 0 -> 100/s over 10 s: 500 arrivals, the n-th when 5 t^2 = n + 1/2.
  stage_curve c(0, {{10s, 100}});
  EXPECT_EQ(arrival_count(c), 500u);
  for (std::uint64_t n : {0u, 1u, 10u, 250u, 499u}) {
    EXPECT_NEAR(*arrival_time(c, n), std::sqrt((n + 0.5) / 5.0), 1e-9) << n;
  }
}

TEST(arrivals, fractional_totals_round_to_the_arrivals_that_fit) {
  EXPECT_EQ(arrival_count(stage_curve(3, {{1s, 3}})), 3u);
  EXPECT_EQ(arrival_count(stage_curve(2.2, {{1s, 2.2}})), 2u);   // 0.5, 1.5 < 2.2; 2.5 is not
  EXPECT_EQ(arrival_count(stage_curve(2.6, {{1s, 2.6}})), 3u);
  EXPECT_EQ(arrival_count(stage_curve(0.4, {{1s, 0.4}})), 0u);
}

TEST(arrivals, workers_interleave_into_the_whole_schedule) {
  // Worker i of W takes arrivals i, i+W, ...: together exactly the whole, each once.
  stage_curve c(0, {{1s, 900}, {1s, 300}});
  const std::uint64_t total = arrival_count(c);
  std::uint64_t seen = 0;
  for (std::size_t w = 0; w < 3; ++w) {
    double last = -1;
    for (std::uint64_t n = w; n < total; n += 3, ++seen) {
      double t = *arrival_time(c, n);
      EXPECT_GT(t, last);
      last = t;
    }
  }
  EXPECT_EQ(seen, total);
}

TEST(share_of, parts_add_up_and_differ_by_at_most_one) {
  for (std::size_t total : {0u, 1u, 7u, 100u, 1001u}) {
    for (std::size_t count : {1u, 2u, 3u, 8u}) {
      std::size_t sum = 0, lo = total, hi = 0;
      for (std::size_t i = 0; i < count; ++i) {
        auto s = share_of(total, i, count);
        sum += s;
        lo = std::min(lo, s);
        hi = std::max(hi, s);
      }
      EXPECT_EQ(sum, total);
      EXPECT_LE(hi - lo, 1u);
    }
  }
}

TEST(parse_rate, accepts_units_and_rejects_garbage) {
  EXPECT_EQ(parse_rate("2000/s"), 2000);
  EXPECT_EQ(parse_rate("2000"), 2000);
  EXPECT_EQ(parse_rate("120/m"), 2);
  EXPECT_EQ(parse_rate("1.5k/s"), 1500);
  EXPECT_EQ(parse_rate(" 10 / s "), 10);
  for (const char* bad : {"", "abc", "10/x", "-5/s", "/s", "1e999/s", "5/"}) {
    EXPECT_FALSE(parse_rate(bad).has_value()) << bad;
  }
}

TEST(parse_stages, session_and_rate_stages) {
  auto s = parse_stages("30s:100,60s:100,30s:0");
  EXPECT_FALSE(s.rates);
  EXPECT_EQ(s.stages, (std::vector<load_stage>{{30s, 100}, {60s, 100}, {30s, 0}}));
  auto r = parse_stages("500ms:10/s, 2s:2k/s");
  EXPECT_TRUE(r.rates);
  EXPECT_EQ(r.stages, (std::vector<load_stage>{{500ms, 10}, {2s, 2000}}));
}

TEST(parse_stages, errors_name_the_bad_stage) {
  auto message = [](const char* text) {
    try {
      parse_stages(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("30s:100,xs:5").find("stage 2 'xs:5'"), std::string::npos);
  EXPECT_NE(message("30s").find("stage 1"), std::string::npos);
  EXPECT_NE(message("30s:1.5").find("whole"), std::string::npos);
  EXPECT_NE(message("30s:10,10s:5/s").find("mix"), std::string::npos);
  EXPECT_NE(message("0s:10").find("duration"), std::string::npos);
  EXPECT_NE(message("").find("no stages"), std::string::npos);
}

TEST(load_model, constructors_validate) {
  auto m = load_model::constant_rate(2000, 60s);
  EXPECT_EQ(m.kind, load_kind::arrival_rate);
  EXPECT_EQ(m.duration(), 60s);
  EXPECT_EQ(m.peak(), 2000);
  EXPECT_THROW(load_model::constant_rate(0, 1s), std::invalid_argument);
  EXPECT_THROW(load_model::constant_rate(-1, 1s), std::invalid_argument);
  EXPECT_THROW(load_model::constant_rate(10, 0s), std::invalid_argument);
  EXPECT_THROW(load_model::ramping_sessions({}), std::invalid_argument);
  EXPECT_THROW(load_model::ramping_sessions({{1s, 2.5}}), std::invalid_argument);
  EXPECT_NO_THROW(load_model::ramping_sessions({{1s, 3}, {1s, 0}}));
}

TEST(load_model, default_cap_is_two_seconds_of_peak_arrivals_within_bounds) {
  EXPECT_EQ(load_model::constant_rate(10, 1s).effective_max_active(), 100u);
  EXPECT_EQ(load_model::constant_rate(2000, 1s).effective_max_active(), 4000u);
  EXPECT_EQ(load_model::constant_rate(50000, 1s).effective_max_active(), 10000u);
  EXPECT_EQ(load_model::constant_rate(50000, 1s, 7).effective_max_active(), 7u);
}

TEST(load_test, with_model_applies_to_the_last_entry) {
  auto a = make_scenario("A", [](session&) -> task<void> { co_return; });
  load_test t("T");
  EXPECT_THROW(t.with_model(load_model::constant_rate(1, 1s)), std::logic_error);
  t.scenario(3, a).scenario(a).with_model(load_model::constant_rate(100, 1s, 50));
  EXPECT_EQ(t.entries()[0].model.kind, load_kind::at_once);
  EXPECT_EQ(t.entries()[1].model.kind, load_kind::arrival_rate);
  EXPECT_EQ(t.session_count(), 53u);
}

std::string validation_error(const cli::model_options& o) {
  try {
    cli::make_load_model(o);
  } catch (const CLI::ValidationError& e) {
    return e.what();
  }
  return "no error";
}

TEST(cli_model, flags_build_models) {
  EXPECT_FALSE(cli::make_load_model({}).has_value());
  auto open = cli::make_load_model({"2000/s", "60s", "", 300});
  ASSERT_TRUE(open);
  EXPECT_EQ(*open, load_model::constant_rate(2000, 60s, 300));
  auto ramp = cli::make_load_model({"", "", "30s:100,60s:100,30s:0", 0});
  ASSERT_TRUE(ramp);
  EXPECT_EQ(*ramp, load_model::ramping_sessions({{30s, 100}, {60s, 100}, {30s, 0}}));
  auto rate_ramp = cli::make_load_model({"100/s", "", "10s:1000/s", 0});
  ASSERT_TRUE(rate_ramp);
  EXPECT_EQ(*rate_ramp, load_model::ramping_rate({{10s, 1000}}, 100));
}

TEST(cli_model, errors_name_the_flag_and_the_value) {
  EXPECT_NE(validation_error({"fast", "10s", "", 0}).find("--rate: 'fast'"), std::string::npos);
  EXPECT_NE(validation_error({"10/s", "", "", 0}).find("--duration"), std::string::npos);
  EXPECT_NE(validation_error({"10/s", "soon", "", 0}).find("'soon'"), std::string::npos);
  EXPECT_NE(validation_error({"", "", "30s:x", 0}).find("--stages"), std::string::npos);
  EXPECT_NE(validation_error({"", "", "30s:x", 0}).find("stage 1"), std::string::npos);
  EXPECT_NE(validation_error({"", "", "30s:10", 5}).find("--max-active"), std::string::npos);
  EXPECT_NE(validation_error({"", "10s", "", 0}).find("--duration"), std::string::npos);
  EXPECT_NE(validation_error({"10/s", "", "30s:10", 0}).find("--stages"), std::string::npos);
}

}  // namespace
}  // namespace chaperon
