// The cluster as a user runs it: real processes of the chaperon binary (a master and workers on
// 127.0.0.1, the clients schedule, cancel and status, the master's HTTP API through curl)
// against nginx, whose own request counter is the truth. Every wait is bounded: output lines,
// process exits, or status polled until a deadline.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "integration/cli_support.hpp"
#include "integration/process_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using chaperon::itest::child_process;
using chaperon::itest::command_result;
using chaperon::itest::describe;
using chaperon::itest::lines_of;
using chaperon::itest::nginx_server;
using chaperon::itest::process_options;
using chaperon::itest::read_text_file;
using chaperon::itest::temp_dir;
namespace fs = std::filesystem;

constexpr const char* token = "cluster-s3cret";

// Demo.Rest against nginx: 40 + 2 sessions; with rounds=2 and no think time each session of the
// first entry makes 9 requests and each of the second 2, 364 in all.
std::vector<std::string> rest_config(const std::string& url, int rounds, const char* think) {
  return {"-c", "base_url=" + url, "-c", fmt::format("rounds={}", rounds), "-c",
          std::string("think_time=") + think};
}

// "<label>,<count>" of every metric row of a CSV export, in file order.
std::vector<std::string> rows_and_counts(const std::string& csv) {
  std::vector<std::string> out;
  auto lines = lines_of(csv);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto label_end = lines[i].find(',');
    const auto count_end = lines[i].find(',', label_end + 1);
    if (count_end != std::string::npos) out.push_back(lines[i].substr(0, count_end));
  }
  return out;
}

std::uint64_t total_count(const std::vector<std::string>& rows) {
  std::uint64_t n = 0;
  for (const auto& row : rows) {
    if (row.find("Error ") != std::string::npos) continue;  // an error row repeats its request
    n += std::stoull(row.substr(row.rfind(',') + 1));
  }
  return n;
}

class ClusterCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { peers_.start(); }
  static void TearDownTestSuite() { peers_.nginx.reset(); }
  void SetUp() override {
    if (!peers_.skip_reason.empty()) GTEST_SKIP() << peers_.skip_reason;
    ASSERT_TRUE(peers_.setup_error.empty()) << peers_.setup_error;
  }

  static nginx_server& nginx() { return *peers_.nginx; }

  std::string master_address() const { return "127.0.0.1:" + std::to_string(master_port_); }

  static std::unique_ptr<child_process> spawn(std::vector<std::string> args) {
    args.insert(args.begin(), CHAPERON_CLI_BINARY);
    return std::make_unique<child_process>(process_options{std::move(args), {}});
  }

  // A master on a free port (picked anew when another process took it in the meantime), its
  // results under the test's directory; waits for its ready line.
  void start_master(std::vector<std::string> extra = {}) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (master_port_ == 0 || attempt > 0) master_port_ = chaperon::itest::free_tcp_port();
      std::vector<std::string> args{"master",   "--listen", master_address(), "--token", token,
                                    "--output", (dir_.path() / "cluster.csv").string(),
                                    "--no-progress"};
      args.insert(args.end(), extra.begin(), extra.end());
      master_ = spawn(args);
      if (master_->wait_for_line([](std::string_view l) { return l.find("listening on") !=
                                                                  std::string_view::npos; },
                                 15s))
        return;
    }
    FAIL() << "the master did not start: " << master_->stderr_text();
  }

  child_process& start_worker(const std::string& name, const std::string& with_token = token,
                              const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"worker",  "--master", master_address(), "--token", with_token,
                                  "--threads", "1",      "--name",         name};
    args.insert(args.end(), extra.begin(), extra.end());
    workers_.push_back(spawn(std::move(args)));
    return *workers_.back();
  }

  command_result cli(std::vector<std::string> args) const {
    args.insert(args.begin(), CHAPERON_CLI_BINARY);
    return run_command(process_options{std::move(args), dir_.path()},
                       chaperon::itest::cli_command_timeout);
  }
  // A client command against the master, with the token.
  command_result client(std::vector<std::string> args) const {
    args.insert(args.end(), {"--master", master_address(), "--token", token});
    return cli(std::move(args));
  }

  std::string schedule(const std::vector<std::string>& config) const {
    std::vector<std::string> args{"schedule", "Demo.Rest"};
    args.insert(args.end(), config.begin(), config.end());
    auto r = client(args);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return r.out.substr(0, r.out.find('\n'));
  }

  // Polls `chaperon status` until `done` holds for its output; the last output either way.
  std::string status_until(const std::function<bool(const std::string&)>& done,
                           std::chrono::milliseconds timeout = 20s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string out;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = client({"status"});
      out = r.out + r.err;
      if (r.exit_code == 0 && done(r.out)) return out;
      std::this_thread::sleep_for(50ms);  // the poll's period, not a guess at readiness
    }
    ADD_FAILURE() << "status never showed what was waited for:\n" << out;
    return out;
  }
  std::string wait_for_workers(std::size_t n) const {
    return status_until([n](const std::string& out) {
      auto from = out.find("workers:");
      return from != std::string::npos &&
             chaperon::itest::occurrences(out.substr(from), "capacity") == n;
    });
  }

  // The master's line that test `id` ended (finished, failed, cancelled).
  std::string wait_finished(const std::string& id, std::chrono::milliseconds timeout = 60s) {
    const std::string prefix = "test " + id + " ";
    auto line = master_->wait_for_line(
        [&](std::string_view l) { return l.starts_with(prefix) && !l.ends_with(" started"); },
        timeout);
    EXPECT_TRUE(line) << "test " << id << " did not finish:\n" << master_->stdout_text();
    return line.value_or("");
  }
  // The CSV the master exported for test `id` (the test id goes into the file name).
  fs::path export_of(const std::string& id) const {
    return dir_.path() / ("cluster-" + id + ".csv");
  }

  // Schedules Demo.Rest (about 2 s), kills worker `name` with SIGKILL mid-run and checks that
  // the master finishes in time with partial results that name it and its lost share, which it
  // returns (sessions; 0 after a failed check).
  std::uint64_t kill_mid_run(child_process& victim, const std::string& name) {
    // Each session: 20 rounds of 3 requests and 100 ms think time, about 2 s (+ up to 0.2 s of
    // random start delay).
    constexpr auto duration = 2200ms;
    const auto before = nginx().counters();
    const auto scheduled_at = std::chrono::steady_clock::now();
    const auto id = schedule(rest_config(nginx().url(), 20, "100ms"));
    // Mid-run: the test runs and nginx has seen its first requests.
    status_until([&](const std::string& s) {
      return s.find(id + "  Demo.Rest  running") != std::string::npos &&
             nginx().counters().requests > before.requests + 50;
    });
    EXPECT_EQ(::kill(victim.pid(), SIGKILL), 0);
    const auto line = wait_finished(id, 30s);
    EXPECT_LT(std::chrono::steady_clock::now() - scheduled_at, duration + 5s);
    EXPECT_NE(line.find("PARTIAL"), std::string::npos) << line;
    // The summary ends with the results line: then the whole report is out.
    EXPECT_TRUE(master_->wait_for_line(
        [](std::string_view l) { return l.starts_with("results: "); }, 10s))
        << master_->stdout_text();
    const auto out = master_->stdout_text();
    EXPECT_NE(out.find("lost node: " + name), std::string::npos) << out;

    const auto info = nlohmann::json::parse(
        read_text_file(dir_.path() / ("cluster-" + id + ".config.json")));
    EXPECT_TRUE(info["partial"].get<bool>()) << info.dump(2);
    const auto& cluster = info["cluster"];
    if (cluster["lost"].size() != 1 || cluster["lost_shares"].size() != 1) {
      ADD_FAILURE() << "not one lost node:\n" << info.dump(2);
      return 0;
    }
    EXPECT_TRUE(cluster["lost"][0].get<std::string>().starts_with(name)) << info.dump(2);
    // The lost share: the victim's part of the 42 sessions (no arrival rate here), none of
    // which is in the merged results, which hold the sessions of the other nodes.
    const auto lost = cluster["lost_sessions"].get<std::uint64_t>();
    EXPECT_GT(lost, 0u) << info.dump(2);
    EXPECT_LT(lost, 42u) << info.dump(2);
    EXPECT_EQ(cluster["lost_arrivals"].get<std::uint64_t>(), 0u) << info.dump(2);
    const auto share = cluster["lost_shares"][0].get<std::string>();
    EXPECT_TRUE(share.starts_with(fmt::format("{}: {} sessions, 0 arrivals missing", name, lost)))
        << share;
    EXPECT_NE(out.find(fmt::format("  lost share: {} sessions, 0 arrivals did not run", lost)),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("  lost share of " + share), std::string::npos) << out;
    EXPECT_NE(out.find(fmt::format("sessions: {} started", 42 - lost)), std::string::npos)
        << out;
    return lost;
  }

  // A master serving the API on a port of its choosing (from its ready line) with api_token.
  void start_api_master() {
    start_master({"--api-listen", "127.0.0.1:0", "--api-token", api_token});
    auto line = master_->wait_for_line(
        [](std::string_view l) { return l.find("api listening on http://") != l.npos; }, 10s);
    ASSERT_TRUE(line) << master_->stdout_text() << master_->stderr_text();
    api_url_ = line->substr(line->find("http://"));
  }

  struct http_reply {
    int status = 0;
    std::string body;
  };
  // curl against the API: `args` are curl's options before the URL, `path` follows api_url_.
  http_reply http(std::vector<std::string> args, const std::string& path) const {
    args.insert(args.begin(), {"/usr/bin/curl", "-s", "--max-time", "10", "-w", "\n%{http_code}"});
    args.push_back(api_url_ + path);
    auto r = run_command(process_options{std::move(args), dir_.path()},
                         chaperon::itest::cli_command_timeout);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    const auto last = r.out.rfind('\n');
    if (last == std::string::npos) return {};
    return {std::atoi(r.out.c_str() + last + 1), r.out.substr(0, last)};
  }

  static constexpr const char* api_token = "api-s3cret";
  std::string api_url_;
  static inline chaperon::itest::nginx_suite peers_;
  temp_dir dir_;
  std::uint16_t master_port_ = 0;
  std::unique_ptr<child_process> master_;
  std::vector<std::unique_ptr<child_process>> workers_;
};

TEST_F(ClusterCli, MergedCountsEqualNginxAndASingleProcessRun) {
  start_master();
  start_worker("one");
  start_worker("two");
  wait_for_workers(2);

  const auto config = rest_config(nginx().url(), 2, "0ms");
  const auto before = nginx().counters();
  const auto id = schedule(config);
  const auto line = wait_finished(id);
  const auto after = nginx().counters();
  EXPECT_NE(line.find("finished on"), std::string::npos) << line;
  for (const char* node : {"master", "one", "two"}) EXPECT_NE(line.find(node), std::string::npos);

  const auto cluster_rows = rows_and_counts(read_text_file(export_of(id)));
  EXPECT_EQ(total_count(cluster_rows), 364u);
  // nginx counts the request that read `after` too.
  EXPECT_EQ(after.requests - before.requests, total_count(cluster_rows) + 1);

  std::vector<std::string> args{"run", "Demo.Rest", "--no-progress", "--output", "single.csv"};
  args.insert(args.end(), config.begin(), config.end());
  auto single = cli(args);
  ASSERT_EQ(single.exit_code, 0) << describe(single);
  EXPECT_EQ(cluster_rows, rows_and_counts(read_text_file(dir_.path() / "single.csv")));
}

TEST_F(ClusterCli, QueueRunsInOrderAndEveryOperationWorks) {
  start_master();
  start_worker("one");
  wait_for_workers(1);

  const auto slow = rest_config(nginx().url(), 1000, "20ms");
  const auto quick = rest_config(nginx().url(), 1, "0ms");
  const auto first = schedule(slow);
  const auto second = schedule(quick);
  const auto third = schedule(quick);
  auto out = status_until([&](const std::string& s) {
    return s.find(first + "  Demo.Rest  running") != std::string::npos;
  });
  // Waiting in the order they were scheduled.
  EXPECT_LT(out.find(second + "  Demo.Rest  scheduled"), out.find(third + "  Demo.Rest  scheduled"))
      << out;

  auto r = client({"cancel", third});
  EXPECT_EQ(r.out, "cancelled 1\n") << describe(r);
  out = client({"status"}).out;
  EXPECT_EQ(out.find(third), std::string::npos) << out;

  EXPECT_TRUE(master_->wait_for_line(
      [&](std::string_view l) { return l == "test " + third + " (Demo.Rest) cancelled"; }, 10s))
      << master_->stdout_text();

  r = client({"cancel", first});
  EXPECT_EQ(r.out, "cancelled 1\n") << describe(r);
  EXPECT_NE(wait_finished(first).find("PARTIAL"), std::string::npos);
  EXPECT_NE(wait_finished(second).find("finished on"), std::string::npos);
  EXPECT_TRUE(fs::exists(export_of(first)));
  EXPECT_TRUE(fs::exists(export_of(second)));
  EXPECT_FALSE(fs::exists(export_of(third)));
  // Lines come in the order the tests ran.
  const auto text = master_->stdout_text();
  EXPECT_LT(text.find("test " + first + " "), text.find("test " + second + " "));

  const auto fourth = schedule(slow);
  const auto fifth = schedule(quick);
  status_until([&](const std::string& s) { return s.find(fourth + "  Demo.Rest  running") !=
                                                  std::string::npos; });
  EXPECT_EQ(client({"cancel", "--scheduled"}).out, "cancelled 1\n");
  EXPECT_EQ(client({"cancel", "--all"}).out, "cancelled 1\n");
  wait_finished(fourth);
  out = status_until([](const std::string& s) {
    return s.find("running: (none)") != std::string::npos &&
           s.find("scheduled: (none)") != std::string::npos;
  });
  EXPECT_EQ(out.find(fifth), std::string::npos) << out;

  r = client({"cancel", "test-999"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_NE(r.err.find("test-999"), std::string::npos) << describe(r);
}

TEST_F(ClusterCli, AWrongTokenIsRefusedOnBothSides) {
  start_master();
  auto& intruder = start_worker("intruder", "wrong");
  auto status = intruder.wait_exit(20s);
  ASSERT_TRUE(status) << "the worker with a wrong token kept running";
  EXPECT_NE(*status, 0);
  intruder.wait_output_closed(5s);
  EXPECT_NE(intruder.stderr_text().find("refused this worker: wrong cluster token"),
            std::string::npos)
      << intruder.stderr_text();
  EXPECT_NE(client({"status"}).out.find("workers: (none)"), std::string::npos);

  auto r = cli({"status", "--master", master_address(), "--token", "wrong"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_NE(r.err.find("wrong cluster token"), std::string::npos) << describe(r);
  // The token from the environment.
  r = run_command(process_options{{"/usr/bin/env", std::string("CHAPERON_CLUSTER_TOKEN=") + token,
                                   CHAPERON_CLI_BINARY, "status", "--master", master_address()},
                                  {}},
                  chaperon::itest::cli_command_timeout);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(ClusterCli, AWorkerKilledMidRunLeavesPartialResultsNamingIt) {
  start_master();
  start_worker("one");
  auto& victim = start_worker("two");
  wait_for_workers(2);
  // Three equal nodes: about a third of the sessions.
  const auto lost = kill_mid_run(victim, "two");
  EXPECT_GE(lost, 13u);
  EXPECT_LE(lost, 15u);
}

TEST_F(ClusterCli, TheMastersCapacityWeighsItsShare) {
  start_master({"--capacity", "1"});
  auto& victim = start_worker("big", token, {"--capacity", "3"});
  wait_for_workers(1);
  // The worker holds 3 of 4 parts, about 31 of the 42 sessions (an equal split: 21).
  const auto lost = kill_mid_run(victim, "big");
  EXPECT_GE(lost, 30u);
  EXPECT_LE(lost, 32u);
}

TEST_F(ClusterCli, AWorkerOutlivesItsMasterAndJoinsTheNextOne) {
  start_master();
  auto& worker = start_worker("one");
  wait_for_workers(1);

  ASSERT_EQ(::kill(master_->pid(), SIGKILL), 0);
  ASSERT_TRUE(master_->wait_exit(10s));
  // The worker notices (its heartbeat check: 3 s) and keeps trying to reconnect.
  EXPECT_FALSE(worker.wait_exit(5s)) << worker.stderr_text();

  const auto port = master_port_;
  start_master();
  ASSERT_EQ(master_port_, port) << "the master's port was taken in the meantime";
  wait_for_workers(1);
  EXPECT_FALSE(worker.exited());
}

TEST_F(ClusterCli, SharesAndMergeEqualTheWholeRun) {
  const auto config = rest_config(nginx().url(), 2, "0ms");
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"run", "Demo.Rest", "--no-progress"};
    args.insert(args.end(), config.begin(), config.end());
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = cli(args);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
  };
  const auto before = nginx().counters();
  std::vector<std::string> merge{"merge", "--output", "merged.csv"};
  for (int i = 0; i < 3; ++i) {
    const auto file = fmt::format("share-{}.json", i);
    run({"--share", fmt::format("{}/3", i), "--format", "raw", "--output", file});
    merge.push_back(file);
  }
  const auto after = nginx().counters();
  auto r = cli(merge);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  run({"--output", "whole.csv"});

  const auto merged = rows_and_counts(read_text_file(dir_.path() / "merged.csv"));
  EXPECT_EQ(merged, rows_and_counts(read_text_file(dir_.path() / "whole.csv")));
  EXPECT_EQ(after.requests - before.requests, total_count(merged) + 1);
}

TEST_F(ClusterCli, ATestNoNodeCanRunFailsWithItsReasonAndTheQueueGoesOn) {
  start_master({"--no-work"});
  const auto config = rest_config(nginx().url(), 1, "0ms");
  const auto first = schedule(config);
  EXPECT_NE(wait_finished(first, 20s).find("failed: master: no worker has joined"),
            std::string::npos)
      << master_->stdout_text();
  start_worker("late");
  wait_for_workers(1);
  const auto second = schedule(config);
  EXPECT_NE(wait_finished(second).find("finished on late"), std::string::npos)
      << master_->stdout_text();
}

TEST_F(ClusterCli, TheApiSchedulesATestThatRunsOnTheCluster) {
  start_api_master();
  start_worker("one");
  wait_for_workers(1);

  auto r = http({}, "/healthcheck");  // no auth
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.body.starts_with("Chaperon @ ")) << r.body;
  r = http({"-H", "Authorization: Bearer wrong"}, "/load_tests");
  EXPECT_EQ(r.status, 401) << r.body;
  r = http({}, "/load_tests");
  EXPECT_EQ(r.status, 401) << r.body;
  r = http({"-u", std::string("chaperon:") + api_token}, "/load_tests");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body),
            nlohmann::json::parse(R"({"running":[],"scheduled":[]})"));

  const auto body = nlohmann::json{
      {"load_tests",
       {{{"test", "Demo.Rest"},
         {"options",
          {{"config", {{"base_url", nginx().url()}, {"rounds", 2}, {"think_time", "0ms"}}}}}}}}};
  const auto before = nginx().counters();
  r = http({"-H", std::string("Authorization: Bearer ") + api_token, "-H",
            "Content-Type: application/json", "--data-binary", body.dump()},
           "/load_tests");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto scheduled = nlohmann::json::parse(r.body);
  ASSERT_EQ(scheduled["scheduled"].size(), 1u) << r.body;
  const auto id = scheduled["scheduled"][0].get<std::string>();
  const auto line = wait_finished(id);
  const auto after = nginx().counters();
  EXPECT_NE(line.find("finished on"), std::string::npos) << line;
  for (const char* node : {"master", "one"}) EXPECT_NE(line.find(node), std::string::npos);
  // As MergedCountsEqualNginxAndASingleProcessRun: 364 requests, and nginx's count agrees.
  const auto rows = rows_and_counts(read_text_file(export_of(id)));
  EXPECT_EQ(total_count(rows), 364u);
  EXPECT_EQ(after.requests - before.requests, total_count(rows) + 1);
}

TEST_F(ClusterCli, TheApiRefusesAPublicAddressWithoutAToken) {
  const auto listen = "127.0.0.1:" + std::to_string(chaperon::itest::free_tcp_port());
  auto r = cli({"master", "--listen", listen, "--api-listen", "0.0.0.0:0"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("refusing to serve 0.0.0.0:0 without a token"), std::string::npos)
      << describe(r);
  // The original's environment variables name the address the same way.
  r = run_command(process_options{{"/usr/bin/env", "CHAPERON_IP=0.0.0.0", "CHAPERON_PORT=0",
                                   CHAPERON_CLI_BINARY, "master", "--listen", listen},
                                  {}},
                  chaperon::itest::cli_command_timeout);
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("refusing to serve 0.0.0.0:0 without a token"), std::string::npos)
      << describe(r);
  r = run_command(process_options{{"/usr/bin/env", "CHAPERON_PORT=http", CHAPERON_CLI_BINARY,
                                   "master", "--listen", listen},
                                  {}},
                  chaperon::itest::cli_command_timeout);
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("CHAPERON_PORT: 'http'"), std::string::npos) << describe(r);
  // A taken port (nginx's).
  const auto taken = "127.0.0.1:" + std::to_string(nginx().port());
  r = cli({"master", "--listen", listen, "--api-listen", taken});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("api: cannot listen on " + taken), std::string::npos) << describe(r);
}

TEST_F(ClusterCli, MalformedInputNamesTheFlagAndExits2) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"master"}, "--listen"},
      {{"master", "--listen", "127.0.0.1:1", "--expect-workers-wait", "soon"},
       "--expect-workers-wait"},
      {{"worker", "--master", "127.0.0.1:1", "--capacity", "many"}, "--capacity"},
      {{"master", "--listen", "127.0.0.1:1", "--capacity", "-3"}, "--capacity"},
      {{"schedule", "Demo.Rest", "--master", "127.0.0.1:1", "--threshold", "p99<<1"},
       "--threshold"},
      {{"schedule", "Demo.Nope", "--master", "127.0.0.1:1"}, "Demo.Nope"},
      {{"schedule", "Demo.Rest", "--master", "127.0.0.1:1", "--rate", "fast", "--duration", "1s"},
       "--rate: 'fast'"},
      {{"schedule", "Demo.Rest", "--master", "127.0.0.1:1", "--rate", "5/s"}, "--duration"},
      {{"cancel", "--master", "127.0.0.1:1"}, "--all"},
      {{"status", "--master", "127.0.0.1:1", "--timeout", "never"}, "--timeout"},
  };
  for (const auto& [args, named] : cases) {
    auto r = cli(args);
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find(named), std::string::npos) << describe(r);
  }
}

}  // namespace
