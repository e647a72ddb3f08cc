// The lifecycle of a scenario (init, run, teardown) as plain, nested and pooled sessions share
// it: errors of rate-driven sessions reach the corrected results.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include <chaperon/chaperon.hpp>

#include "integration/test_control_support.hpp"

namespace {

using namespace std::chrono_literals;
using chaperon::session;
using chaperon::task;
using chaperon::itest::control::count_of;
using chaperon::itest::control::key;

// ---- errors of rate-driven sessions are in the corrected results ------------------------------

task<> always_fails(session&) {
  throw std::runtime_error("never works");
  co_return;
}

task<> retry_once(session& s) {
  session::retry_options options;
  options.retries = 0;
  co_await s.retry_on_error("flaky", &always_fails, options);
}

TEST(ControlFlowLifecycle, ErrorsOfRateDrivenSessionsAreCorrectedToo) {
  chaperon::run_options options;
  options.threads = 1;
  auto test = chaperon::load_test{"RateErrors"}
                  .scenario(chaperon::make_scenario("RateErrors", &retry_once))
                  .with_model(chaperon::load_model::constant_rate(200, 100ms));
  auto r = chaperon::run_load_test(test, options);
  const auto k = key("retry", "RateErrors.flaky", "exception");
  ASSERT_EQ(count_of(r, k), 20u);
  auto it = r.corrected.find(k);
  ASSERT_NE(it, r.corrected.end()) << "the error is in the corrected set";
  EXPECT_EQ(it->second.count(), 20u);
}

}  // namespace
