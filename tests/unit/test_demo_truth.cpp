// The demo target's truth endpoints: the latency schedule each request is promised.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

// The unit-test binary does not link the demo target, so the logic under test is compiled here.
// No other unit test may include these files.
#include "demo/http_message.cpp"  // NOLINT(bugprone-suspicious-include)
#include "demo/text_util.cpp"     // NOLINT(bugprone-suspicious-include)
#include "demo/truth.cpp"         // NOLINT(bugprone-suspicious-include)

namespace {

using namespace std::chrono_literals;
using chaperon::demo::apply_stalls;
using chaperon::demo::request;
using chaperon::demo::response;
using chaperon::demo::truth_clock;
using chaperon::demo::truth_stall;
using chaperon::demo::truth_target;
using std::chrono::microseconds;

// In the future, so that pruning of stalls that have already ended never applies.
const truth_clock::time_point t0 = truth_clock::now() + 1h;

request truth_request(std::string method, std::string target, truth_clock::time_point arrival) {
  request req;
  req.method = std::move(method);
  req.target = target;
  const auto query = target.find('?');
  req.path = target.substr(0, query);
  if (query != std::string::npos) req.query = target.substr(query + 1);
  req.arrival = arrival;
  return req;
}

response answer(truth_target& truth, const std::string& target,
                truth_clock::time_point arrival = t0, std::string method = "GET") {
  auto res = truth.handle(truth_request(std::move(method), target, arrival));
  EXPECT_TRUE(res.has_value()) << target;
  return res.value_or(response{});
}

TEST(DemoTruth, PatternIsSlowEveryKthRequest) {
  std::vector<microseconds> delays;
  for (std::uint64_t n = 1; n <= 7; ++n) {
    delays.push_back(chaperon::demo::pattern_delay(n, 100us, 900us, 3));
  }
  EXPECT_EQ(delays, (std::vector<microseconds>{100us, 100us, 900us, 100us, 100us, 900us, 100us}));
  EXPECT_EQ(chaperon::demo::pattern_delay(5, 1us, 2us, 1), 2us);
}

TEST(DemoTruth, UniformCyclesThroughEvenlySpacedValues) {
  std::vector<microseconds> delays;
  for (std::uint64_t n = 1; n <= 6; ++n) {
    delays.push_back(chaperon::demo::uniform_delay(n, 100us, 1000us, 4));
  }
  EXPECT_EQ(delays, (std::vector<microseconds>{100us, 400us, 700us, 1000us, 100us, 400us}));
  // Integer spread: ((n-1) % k) * (max-min) / (k-1), multiplied before dividing.
  EXPECT_EQ(chaperon::demo::uniform_delay(2, 0us, 10us, 4), 3us);
  EXPECT_EQ(chaperon::demo::uniform_delay(3, 0us, 10us, 4), 6us);
  EXPECT_EQ(chaperon::demo::uniform_delay(9, 250us, 900us, 1), 250us);
}

TEST(DemoTruth, StallsPushDueAnswersToTheirEnd) {
  const std::vector<truth_stall> stalls{{t0 + 100ms, t0 + 300ms}};
  EXPECT_EQ(apply_stalls(t0 + 99ms, stalls), t0 + 99ms);
  EXPECT_EQ(apply_stalls(t0 + 100ms, stalls), t0 + 300ms);
  EXPECT_EQ(apply_stalls(t0 + 299ms, stalls), t0 + 300ms);
  EXPECT_EQ(apply_stalls(t0 + 300ms, stalls), t0 + 300ms);
  EXPECT_EQ(apply_stalls(t0 + 301ms, stalls), t0 + 301ms);
}

TEST(DemoTruth, AdjacentStallsChainInAnyArmingOrder) {
  const std::vector<truth_stall> stalls{{t0 + 300ms, t0 + 400ms}, {t0 + 100ms, t0 + 300ms}};
  EXPECT_EQ(apply_stalls(t0 + 150ms, stalls), t0 + 400ms);
  EXPECT_EQ(apply_stalls(t0 + 50ms, stalls), t0 + 50ms);
}

TEST(DemoTruth, FixedDelayCountsFromArrival) {
  truth_target truth;
  const auto res = answer(truth, "/truth/fixed/1234");
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.body, "ok");
  EXPECT_EQ(res.delay, 1234us);
  EXPECT_EQ(answer(truth, "/truth/fixed/0").delay, 0us);
  EXPECT_EQ(answer(truth, "/truth/fixed/1234", t0, "HEAD").status, 200u);
}

TEST(DemoTruth, PatternAndUniformCountTheirOwnRequests) {
  truth_target truth;
  std::vector<microseconds> pattern;
  std::vector<microseconds> uniform;
  for (int i = 0; i < 4; ++i) {
    pattern.push_back(answer(truth, "/truth/pattern?base=10&slow=50&every=2").delay);
    uniform.push_back(answer(truth, "/truth/uniform?min=0&max=20&steps=3").delay);
  }
  EXPECT_EQ(pattern, (std::vector<microseconds>{10us, 50us, 10us, 50us}));
  EXPECT_EQ(uniform, (std::vector<microseconds>{0us, 10us, 20us, 0us}));
  EXPECT_EQ(answer(truth, "/truth/reset", t0, "POST").status, 200u);
  EXPECT_EQ(answer(truth, "/truth/pattern?base=10&slow=50&every=2").delay, 10us);
}

TEST(DemoTruth, RefusesBadParameters) {
  truth_target truth;
  for (const auto* target :
       {"/truth/fixed/abc", "/truth/fixed/60000001", "/truth/pattern?base=1&slow=2",
        "/truth/pattern?base=1&slow=2&every=0", "/truth/uniform?min=5&max=1&steps=2",
        "/truth/uniform?min=1&max=5&steps=0", "/truth/uniform?min=1&steps=2"}) {
    EXPECT_EQ(answer(truth, target).status, 400u) << target;
  }
  EXPECT_EQ(answer(truth, "/truth/stall?after_ms=1", t0, "POST").status, 400u);
  EXPECT_EQ(answer(truth, "/truth/fixed/1", t0, "POST").status, 405u);
  EXPECT_EQ(answer(truth, "/truth/stall?after_ms=1&for_ms=1").status, 405u);
  EXPECT_EQ(answer(truth, "/truth/nothing").status, 404u);
  EXPECT_FALSE(truth.handle(truth_request("GET", "/echo", t0)).has_value());
}

TEST(DemoTruth, StallHoldsAnswersDueInside) {
  truth_target truth;
  const auto armed = answer(truth, "/truth/stall?after_ms=100&for_ms=200", t0, "POST");
  EXPECT_EQ(armed.status, 200u);
  EXPECT_EQ(armed.body, R"({"stall_start_ms_from_now":100,"stall_ms":200})");
  // Arrives during the stall: answered at its end.
  EXPECT_EQ(answer(truth, "/truth/fixed/1000", t0 + 150ms).delay, 150ms);
  // Arrives during the stall but due after it: its own delay.
  EXPECT_EQ(answer(truth, "/truth/fixed/200000", t0 + 150ms).delay, 200ms);
  // Arrived before the stall, due inside it: held until the end.
  EXPECT_EQ(answer(truth, "/truth/fixed/150000", t0).delay, 300ms);
  // Before and after the stall: untouched.
  EXPECT_EQ(answer(truth, "/truth/fixed/1000", t0).delay, 1ms);
  EXPECT_EQ(answer(truth, "/truth/fixed/1000", t0 + 300ms).delay, 1ms);
  truth.reset();
  EXPECT_EQ(answer(truth, "/truth/fixed/1000", t0 + 150ms).delay, 1ms);
}

TEST(DemoTruth, StallArmedDirectly) {
  truth_target truth;
  truth.arm_stall(t0, 50ms);
  EXPECT_EQ(answer(truth, "/truth/fixed/10", t0 + 10ms).delay, 40ms);
  truth.arm_stall(t0 + 1s, 0ms);  // empty: ignored
  EXPECT_EQ(answer(truth, "/truth/fixed/10", t0 + 1s).delay, 10us);
}

}  // namespace
