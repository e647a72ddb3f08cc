// Graceful abort: SIGINT / SIGTERM to a running `chaperon quick` stop it within 2 s, write the
// partial results, and exit with 128 + the signal; a second SIGINT exits at once.
#include <gtest/gtest.h>

#include <csignal>

#include <chrono>
#include <filesystem>
#include <string>

#include "integration/process_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using chaperon::itest::child_process;
using chaperon::itest::demo_server;
using chaperon::itest::process_options;
using chaperon::itest::read_text_file;
using chaperon::itest::temp_dir;
using steady = std::chrono::steady_clock;

// Starts a 60 s quick run of slow requests and returns once the demo target has seen one.
std::unique_ptr<child_process> start_long_run(const demo_server& demo, const temp_dir& dir) {
  process_options p;
  p.argv = {CHAPERON_CLI_BINARY, "quick",   demo.url() + "/delay/300", "-s", "4", "-d", "60s",
            "-o",                (dir.path() / "out.csv").string(),    "--no-progress"};
  auto child = std::make_unique<child_process>(p);
  for (int i = 0; i < 100 && demo.path_count("/delay/300") == 0; ++i) {
    child->wait_for_activity(100ms);  // bounded: at most ~10 s in all
  }
  return child;
}

TEST(AbortSignal, SigintWritesPartialResultsWithinTwoSeconds) {
  demo_server demo;
  temp_dir dir;
  auto child = start_long_run(demo, dir);
  ASSERT_GT(demo.path_count("/delay/300"), 0u) << child->stderr_text();

  auto sent = steady::now();
  ASSERT_EQ(::kill(child->pid(), SIGINT), 0);
  auto status = child->wait_exit(10s);
  auto took = steady::now() - sent;
  ASSERT_TRUE(status.has_value()) << "still running 10 s after SIGINT";
  EXPECT_EQ(*status, 128 + SIGINT) << child->stderr_text();
  EXPECT_LT(took, 2s);

  auto csv = read_text_file(dir.path() / "out.csv");
  EXPECT_NE(csv.find(" get(" + demo.url() + "/delay/300)"), std::string::npos) << csv;
  child->wait_output_closed(5s);
  EXPECT_NE(child->stderr_text().find("partial results"), std::string::npos);
}

TEST(AbortSignal, SigtermStopsTheRunTheSameWay) {
  demo_server demo;
  temp_dir dir;
  auto child = start_long_run(demo, dir);
  ASSERT_GT(demo.path_count("/delay/300"), 0u);
  ASSERT_EQ(::kill(child->pid(), SIGTERM), 0);
  auto status = child->wait_exit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 128 + SIGTERM);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "out.csv"));
}

TEST(AbortSignal, SecondSigintExitsAtOnce) {
  demo_server demo;
  temp_dir dir;
  auto child = start_long_run(demo, dir);
  ASSERT_GT(demo.path_count("/delay/300"), 0u);
  ASSERT_EQ(::kill(child->pid(), SIGINT), 0);
  ASSERT_EQ(::kill(child->pid(), SIGINT), 0);
  auto status = child->wait_exit(10s);
  ASSERT_TRUE(status.has_value());
  // Either the second signal cut the graceful stop short, or the stop had already finished.
  EXPECT_EQ(*status, 128 + SIGINT);
}

}  // namespace
