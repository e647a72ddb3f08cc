// The chaperon binary end to end: `quick`, `list` and `run` against the demo target, and the
// files they write.
#include <gtest/gtest.h>

#include <csignal>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "integration/cli_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using chaperon::itest::command_result;
using chaperon::itest::csv_row;
using chaperon::itest::describe;
using chaperon::itest::lines_of;
using chaperon::itest::row_count;
using chaperon::itest::process_options;
using chaperon::itest::read_text_file;
using chaperon::itest::run_command;
using chaperon::itest::temp_dir;
using json = nlohmann::json;

constexpr std::string_view csv_header =
    "session_action_name,total_count,max,mean,min,percentile_10.0,percentile_20.0,"
    "percentile_30.0,percentile_40.0,percentile_50.0,percentile_60.0,percentile_75.0,"
    "percentile_80.0,percentile_85.0,percentile_90.0,percentile_95.0,percentile_99.0,"
    "percentile_99.9,percentile_99.99,percentile_99.999";

std::string utc_date(std::chrono::system_clock::time_point t) {
  const std::chrono::year_month_day day{std::chrono::floor<std::chrono::days>(t)};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(day.year()),
                     static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// ---- the process fixture itself ------------------------------------------------------------------

TEST(ProcessFixture, ReportsExitStatusAndBothOutputs) {
  auto r = run_command({{"/bin/sh", "-c", "echo out; echo err >&2; exit 7"}, {}}, 10s);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(ProcessFixture, RunsInTheGivenDirectory) {
  temp_dir dir;
  auto r = run_command({{"/bin/sh", "-c", "pwd -P"}, dir.path()}, 10s);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, fs::canonical(dir.path()).string() + "\n");
}

TEST(ProcessFixture, StopsAProgramThatOutlivesItsTimeout) {
  const auto start = std::chrono::steady_clock::now();
  auto r = run_command({{"/bin/sh", "-c", "echo started; exec sleep 60"}, {}}, 300ms);
  EXPECT_TRUE(r.timed_out);
  EXPECT_TRUE(r.exit_code == 128 + SIGTERM || r.exit_code == 128 + SIGKILL) << r.exit_code;
  EXPECT_EQ(r.out, "started\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(ProcessFixture, MissingProgramIsAnError) {
  EXPECT_THROW(run_command({{"/nonexistent/program"}, {}}, 1s), std::system_error);
}

// ---- the CLI -------------------------------------------------------------------------------------

using Cli = chaperon::itest::cli_test;

TEST_F(Cli, QuickWritesCsvAndTheConfigBesideIt) {
  temp_dir dir;
  const auto target = demo_->url() + "/";
  const auto out = dir.path() / "out.csv";
  auto r = cli({"quick", target, "--sessions", "4", "--duration", "1s", "--threads", "2",
                "--output", out.string(), "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find(out.string()), std::string::npos) << describe(r);

  const auto csv = read_text_file(out);
  const auto lines = lines_of(csv);
  ASSERT_GE(lines.size(), 2u) << csv;
  EXPECT_EQ(lines[0], csv_header);
  const auto row = csv_row(csv, " get(" + target + ")");
  ASSERT_EQ(row.size(), 20u) << csv;
  EXPECT_GT(std::stoull(row[1]), 0u);
  // No error rows against a healthy target.
  EXPECT_EQ(csv.find("Error"), std::string::npos) << csv;

  const auto config = json::parse(read_text_file(dir.path() / "out.config.json"));
  EXPECT_EQ(config["load_test"], "Quick");
  ASSERT_EQ(config["entries"].size(), 1u);
  EXPECT_EQ(config["entries"][0]["count"], 4);
  EXPECT_EQ(config["entries"][0]["config"]["quick"]["url"], target);
}

TEST_F(Cli, QuickPrintsJsonToStdout) {
  const auto target = demo_->url() + "/";
  auto r = cli({"quick", target, "--sessions", "2", "--duration", "300ms", "--format", "json",
                "--output", "-", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto doc = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(doc.is_array()) << describe(r);
  bool found = false;
  for (const auto& m : doc) {
    if (m.value("action", "") != "get" || m.value("url", "") != target) continue;
    found = true;
    EXPECT_FALSE(m.contains("error"));
    EXPECT_GT(m["metrics"]["total_count"].get<std::uint64_t>(), 0u);
    EXPECT_TRUE(m["metrics"].contains("percentile_99.999"));
  }
  EXPECT_TRUE(found) << r.out;
}

TEST_F(Cli, QuickWithTagWritesUnderResultsByDateAndName) {
  temp_dir dir;
  const auto before = std::chrono::system_clock::now();
  auto r = cli({"quick", demo_->url() + "/", "--sessions", "1", "--duration", "200ms", "--tag",
                "t", "--no-progress"},
               dir.path());
  const auto after = std::chrono::system_clock::now();
  ASSERT_EQ(r.exit_code, 0) << describe(r);

  std::vector<fs::path> written;
  for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
    if (e.is_regular_file() && e.path().extension() == ".csv") written.push_back(e.path());
  }
  ASSERT_EQ(written.size(), 1u) << describe(r);
  const auto rel = fs::relative(written[0], dir.path());
  std::vector<std::string> parts(rel.begin(), rel.end());
  ASSERT_EQ(parts.size(), 4u) << rel;
  EXPECT_EQ(parts[0], "results");
  EXPECT_TRUE(parts[1] == utc_date(before) || parts[1] == utc_date(after)) << parts[1];
  EXPECT_EQ(parts[2], "Quick");
  ASSERT_TRUE(parts[3].starts_with("t-")) << parts[3];
  const auto stamp = std::stoll(parts[3].substr(2, parts[3].size() - 2 - 4));
  EXPECT_GE(stamp, unix_seconds(before));
  EXPECT_LE(stamp, unix_seconds(after));
  EXPECT_TRUE(fs::exists(written[0].parent_path() / ("t-" + std::to_string(stamp) +
                                                     ".config.json")));
}

TEST_F(Cli, QuickRejectsABadUrlNamingIt) {
  auto r = cli({"quick", "not-a-url", "--sessions", "1", "--duration", "100ms", "--output", "-"});
  EXPECT_NE(r.exit_code, 0) << describe(r);
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE((r.out + r.err).find("not-a-url"), std::string::npos) << describe(r);
}

TEST_F(Cli, ListNamesTheExampleLoadTests) {
  auto r = cli({"list"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto lines = lines_of(r.out);
  EXPECT_NE(std::find(lines.begin(), lines.end(), "Demo.Rest"), lines.end()) << r.out;
}

TEST_F(Cli, RunDemoRestAgainstTheDemoTarget) {
  temp_dir dir;
  const auto base = demo_->url();
  const auto out = dir.path() / "r.csv";
  auto r = cli({"run", "Demo.Rest", "--config", "base_url=" + base, "--config", "rounds=2",
                "--output", out.string(), "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);

  const auto csv = read_text_file(out);
  EXPECT_EQ(lines_of(csv).at(0), csv_header);
  // 40 logged-in sessions with 2 rounds each, 2 anonymous sessions with 2 rounds each.
  EXPECT_EQ(row_count(csv, " post(" + base + "/login)"), 40u) << csv;
  EXPECT_EQ(row_count(csv, " post(" + base + "/api/messages)"), 80u) << csv;
  EXPECT_EQ(row_count(csv, " get(" + base + "/api/messages?limit=10)"), 80u) << csv;
  EXPECT_EQ(row_count(csv, " get(" + base + "/account)"), 84u) << csv;
  EXPECT_EQ(row_count(csv, " Error HTTP 401 get(" + base + "/account)"), 4u) << csv;
  EXPECT_EQ(row_count(csv, " Error HTTP 404 get(" + base + "/status/404)"), 40u) << csv;
  EXPECT_EQ(row_count(csv, " post(" + base + "/logout)"), 40u) << csv;

  const auto config = json::parse(read_text_file(dir.path() / "r.config.json"));
  EXPECT_EQ(config["load_test"], "Demo.Rest");
  EXPECT_EQ(config["runtime_config"]["base_url"], base);
  EXPECT_EQ(config["runtime_config"]["rounds"], 2);
}

TEST_F(Cli, LoadTestTimeoutEndsTheRunWithStatus3AndStillWritesResults) {
  temp_dir dir;
  const auto target = demo_->url() + "/";
  const auto out = dir.path() / "partial.csv";
  const auto start = std::chrono::steady_clock::now();
  auto r = cli({"quick", target, "--sessions", "2", "--duration", "30s", "--config",
                "load_test_timeout=300ms", "--output", out.string(), "--no-progress"});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 3) << describe(r);
  EXPECT_LT(elapsed, 10s);
  EXPECT_NE(r.out.find("PARTIAL"), std::string::npos) << describe(r);
  EXPECT_GT(row_count(read_text_file(out), " get(" + target + ")"), 0u);
}

TEST_F(Cli, DottedConfigAssignmentSetsANestedKey) {
  temp_dir dir;
  const auto out = dir.path() / "nested.csv";
  auto r = cli({"quick", demo_->url() + "/", "--sessions", "1", "--duration", "100ms", "--config",
                "extra.nested=1", "--output", out.string(), "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto config = json::parse(read_text_file(dir.path() / "nested.config.json"));
  EXPECT_EQ(config["runtime_config"], json::parse(R"({"extra":{"nested":1}})"));
}

TEST_F(Cli, RunUnknownLoadTestFailsNamingIt) {
  auto r = cli({"run", "No.Such.Test", "--output", "-"});
  EXPECT_NE(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("No.Such.Test"), std::string::npos) << describe(r);
}

// ---- run-time session counts ------------------------------------------------------------------

TEST_F(Cli, RunHelpShowsSessionsAndScale) {
  auto r = cli({"run", "--help"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("--sessions"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--scale"), std::string::npos) << r.out;
}

TEST_F(Cli, RunSessionsSetsTheCountOfASingleEntryTest) {
  temp_dir dir;
  const auto out = dir.path() / "sessions.csv";
  // Demo.CustomAction: one entry of 5 sessions, each checking the home page twice per round.
  auto r = cli({"run", "Demo.CustomAction", "--sessions", "3", "--config", "rounds=2", "--config",
                "base_url=" + demo_->url(), "--output", out.string(), "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto csv = read_text_file(out);
  // 3 sessions x 2 rounds x 2 checks, one of which fails each round.
  EXPECT_EQ(row_count(csv, " expect_text(/)"), 12u) << csv;
  EXPECT_EQ(row_count(csv, " Error mismatch expect_text(/)"), 6u) << csv;
  EXPECT_EQ(row_count(csv, " get(" + demo_->url() + "/)"), 12u) << csv;
  const auto config = json::parse(read_text_file(dir.path() / "sessions.config.json"));
  EXPECT_EQ(config["entries"].at(0)["count"], 3);
}

TEST_F(Cli, RunScaleMultipliesEveryEntrysCountRoundedAtLeastOne) {
  temp_dir dir;
  const auto out = dir.path() / "scaled.csv";
  const auto base = demo_->url();
  // Demo.Rest: 40 logged-in sessions and 2 anonymous ones; 0.1 makes 4 and round(0.2) -> 1.
  auto r = cli({"run", "Demo.Rest", "--scale", "0.1", "--config", "base_url=" + base, "--config",
                "rounds=1", "--config", "think_time=0", "--output", out.string(),
                "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto csv = read_text_file(out);
  EXPECT_EQ(row_count(csv, " post(" + base + "/login)"), 4u) << csv;
  EXPECT_EQ(row_count(csv, " post(" + base + "/logout)"), 4u) << csv;
  EXPECT_EQ(row_count(csv, " Error HTTP 401 get(" + base + "/account)"), 1u) << csv;
  EXPECT_EQ(row_count(csv, " get(" + base + "/account)"), 5u) << csv;
  const auto config = json::parse(read_text_file(dir.path() / "scaled.config.json"));
  EXPECT_EQ(config["entries"].at(0)["count"], 4);
  EXPECT_EQ(config["entries"].at(1)["count"], 1);
}

TEST_F(Cli, RunSessionsOnATestWithSeveralEntriesFailsNamingThem) {
  auto r = cli({"run", "Demo.Rest", "--sessions", "3", "--output", "-", "--no-progress"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("RestScenario, AnonymousScenario \"anonymous\""), std::string::npos)
      << describe(r);
  EXPECT_NE(r.err.find("--scale"), std::string::npos) << describe(r);
}

TEST_F(Cli, RunSessionsWithARateModelIsAnError) {
  auto r = cli({"run", "Demo.CustomAction", "--sessions", "3", "--rate", "10/s", "--duration",
                "1s", "--output", "-", "--no-progress"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("--sessions"), std::string::npos) << describe(r);
}

// More sessions than the open-file limit allows: the error says what to do: a cluster of
// worker processes, or shares and merge.
TEST_F(Cli, OpenFilesErrorAdvisesSharesAndMerge) {
  const std::string command = fmt::format(
      "ulimit -n 256 && exec '{}' quick '{}/' --sessions 1000 --duration 1s --output - "
      "--no-progress",
      CHAPERON_CLI_BINARY, demo_->url());
  auto r = run_command(process_options{{"/bin/sh", "-c", command}, {}}, 60s);
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("256 files"), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("--share I/N"), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("chaperon merge"), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("chaperon worker"), std::string::npos) << describe(r);
}

}  // namespace
