// Config keys end to end: a key that nothing reads is reported once per run (a typo must not pass
// silently), and the original's keys `name`, `merge_scenario_sessions`, `interval` and
// `store_results` behave as the README says.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/config_reads.hpp"
#include "integration/cli_support.hpp"

namespace {

namespace fs = std::filesystem;
using chaperon::itest::describe;
using chaperon::itest::occurrences;
using chaperon::itest::read_text_file;
using chaperon::itest::row_count;
using chaperon::itest::temp_dir;
using json = nlohmann::json;

using ConfigKeys = chaperon::itest::cli_test;

constexpr std::string_view warning = "chaperon: warning: config key";

TEST_F(ConfigKeys, ATypoInAKeyIsReportedOnceWithASuggestion) {
  // Two sessions on two threads both see the key: still one warning.
  auto r = cli({"run", "Demo.CustomAction", "--sessions", "2", "--threads", "2", "--config",
                "rounds=1", "--config", "base_url=" + demo_->url(), "--config", "timout=5s",
                "--output", "-", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(occurrences(r.err, warning), 1u) << describe(r);
  EXPECT_NE(r.err.find("config key 'timout' (entry CustomAction) was read by no session and is "
                       "not an engine key; did you mean 'timeout'?"),
            std::string::npos)
      << describe(r);
}

TEST_F(ConfigKeys, KeysTheScenariosReadAndEngineKeysAreNotReported) {
  // Demo.Rest's think_time is read only by one of its two entries: read in the run, so not
  // reported for the other. store_results, ws.connect_timeout and ca_file are engine keys.
  auto r = cli({"run", "Demo.Rest", "--scale", "0.1", "--config", "base_url=" + demo_->url(),
                "--config", "rounds=1", "--config", "think_time=0", "--config",
                "store_results=true", "--config", "ws.connect_timeout=2s", "--config",
                "request_timeout=5s", "--output", "-", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.err.find(warning), std::string::npos) << describe(r);
}

TEST_F(ConfigKeys, ATypoBelowAnEngineKeyNamesTheDottedPath) {
  auto r = cli({"run", "Demo.CustomAction", "--sessions", "1", "--config", "rounds=1",
                "--config", "base_url=" + demo_->url(), "--config", "ws.conect_timeout=1s",
                "--output", "-", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("config key 'ws.conect_timeout' (entry CustomAction)"), std::string::npos)
      << describe(r);
  EXPECT_NE(r.err.find("did you mean 'ws.connect_timeout'?"), std::string::npos) << describe(r);
}

TEST_F(ConfigKeys, MergeScenarioSessionsFalseGivesPerSessionRows) {
  const auto base = demo_->url();
  auto r = cli({"run", "Demo.Rest", "--scale", "0.1", "--config", "base_url=" + base, "--config",
                "rounds=1", "--config", "think_time=0", "--config", "merge_scenario_sessions=false",
                "--output", "-", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  // The anonymous entry's one session has its own row; there is no aggregated one.
  EXPECT_EQ(row_count(r.out, "anonymous Error HTTP 401 get(" + base + "/account)"), 1u) << r.out;
  EXPECT_EQ(row_count(r.out, " Error HTTP 401 get(" + base + "/account)"), 0u) << r.out;
}

TEST_F(ConfigKeys, MergeScenarioSessionsMustBeABoolean) {
  auto r = cli({"run", "Demo.CustomAction", "--config", "merge_scenario_sessions=maybe",
                "--output", "-", "--no-progress"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("config key 'merge_scenario_sessions' (entry CustomAction) must be true or "
                       "false, not \"maybe\""),
            std::string::npos)
      << describe(r);
}

TEST_F(ConfigKeys, ConfigNameNamesTheSessionsOfAnEntryWithoutAName) {
  temp_dir dir;
  const auto out = dir.path() / "named.csv";
  const auto base = demo_->url();
  // Demo.Rest's anonymous entry has a session name of its own, which wins.
  auto r = cli({"run", "Demo.Rest", "--scale", "0.1", "--config", "base_url=" + base, "--config",
                "rounds=1", "--config", "think_time=0", "--config", "name=probe", "--per-session",
                "--output", out.string(), "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.err.find(warning), std::string::npos) << describe(r);
  const auto csv = read_text_file(out);
  EXPECT_EQ(row_count(csv, "probe post(" + base + "/login)"), 4u) << csv;
  EXPECT_EQ(row_count(csv, "anonymous Error HTTP 401 get(" + base + "/account)"), 1u) << csv;
  const auto config = json::parse(read_text_file(dir.path() / "named.config.json"));
  EXPECT_EQ(config["entries"].at(0)["session_name"], "probe");
  EXPECT_EQ(config["entries"].at(1)["session_name"], "anonymous");
}

TEST_F(ConfigKeys, AnIntervalObjectIsAnErrorPointingToSetInterval) {
  auto r = cli({"run", "Demo.CustomAction", "--config", R"(interval={"period":1000})",
                "--output", "-", "--no-progress"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("config key 'interval' (entry CustomAction) is an object"),
            std::string::npos)
      << describe(r);
  EXPECT_NE(r.err.find("session::set_interval(period, fn)"), std::string::npos) << describe(r);
}

TEST_F(ConfigKeys, AnIntervalDurationIsAcceptedAndKnown) {
  auto r = cli({"run", "Demo.CustomAction", "--sessions", "1", "--config", "rounds=1",
                "--config", "base_url=" + demo_->url(), "--config", "interval=250ms",
                "--format", "json", "--output", "-", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.err.find(warning), std::string::npos) << describe(r);
}

// Every key the engine looks up in the config by itself (find_path with a literal key, config_ms)
// must be in the known list, or runs that set it would be told it is unread.
TEST(EngineConfigKeys, EveryKeyTheEngineLooksUpIsKnown) {
  const std::regex lookup(
      R"re((?:find_path\([^,;]+,\s*config_path[{(]|config_ms\([^,;]+,\s*)"([^"]+)")re");
  const std::set<std::string> known(chaperon::detail::engine_config_keys().begin(),
                                    chaperon::detail::engine_config_keys().end());
  std::size_t found = 0;
  for (const char* dir : {"src/engine", "src/net", "src/cli", "src/export"}) {
    for (const auto& f : fs::recursive_directory_iterator(fs::path(CHAPERON_SOURCE_DIR) / dir)) {
      if (f.path().extension() != ".cpp") continue;
      const std::string text = read_text_file(f.path());
      for (std::sregex_iterator it(text.begin(), text.end(), lookup), end; it != end; ++it) {
        ++found;
        // config_path{"http", "timeout"} shows only its first name here.
        const std::string key = (*it)[1].str();
        const auto below = [&](const std::string& k) { return k.starts_with(key + "."); };
        const bool listed = known.contains(key) || std::any_of(known.begin(), known.end(), below);
        EXPECT_TRUE(listed) << key << " (" << f.path().filename().string() << ")";
      }
    }
  }
  EXPECT_GE(found, 10u);  // the pattern still matches how the engine reads its keys
}

}  // namespace
