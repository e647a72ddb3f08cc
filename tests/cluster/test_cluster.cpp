// A master and two workers, in this process, joined over gRPC on 127.0.0.1, running a load test
// against the demo target: the merged results equal a single-process run's, a wrong token is
// refused, and a test the workers cannot run fails cleanly.
#include <gtest/gtest.h>

#include <chaperon/chaperon.hpp>

#include <thread>

#include "cluster/master.hpp"
#include "cluster/worker.hpp"
#include "integration/process_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using chaperon::session;
using chaperon::task;
using chaperon::cluster::master;
using chaperon::cluster::master_options;
using chaperon::cluster::run_spec;
using chaperon::cluster::worker_options;

task<> five_gets(session& s) {
  for (int i = 0; i < 5; ++i) co_await s.get("/api/messages");
  co_await s.get("/status/404");
}

const bool registered = chaperon::register_load_test([] {
  return chaperon::load_test{"Cluster.Gets"}.scenario(
      7, chaperon::make_scenario("FiveGets", five_gets));
});

class Cluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { demo_ = std::make_unique<chaperon::itest::demo_server>(); }
  static void TearDownTestSuite() { demo_.reset(); }

  // Starts a worker thread joined to `m` (or failing to); stopped and joined by the fixture.
  void start_worker(const master& m, std::string token, std::string name) {
    worker_options o;
    o.master = "127.0.0.1:" + std::to_string(m.port());
    o.token = std::move(token);
    o.name = std::move(name);
    o.threads = 1;
    o.heartbeat = 200ms;
    workers_.emplace_back([o, this](std::stop_token stop) {
      try {
        chaperon::cluster::run_worker(o, stop);
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex_);
        worker_errors_.push_back(e.what());
      }
    });
  }
  run_spec spec(std::string name) const {
    run_spec s;
    s.load_test = std::move(name);
    s.config = {{"base_url", demo_->url()}};
    s.threads = 1;
    return s;
  }

  static inline std::unique_ptr<chaperon::itest::demo_server> demo_;
  std::mutex mutex_;
  std::vector<std::string> worker_errors_;
  std::vector<std::jthread> workers_;  // last: stopped and joined first
};

master_options options(std::string token) {
  master_options o;
  o.token = std::move(token);
  o.heartbeat = 200ms;
  o.lost_after = 1s;
  return o;
}

TEST_F(Cluster, merged_results_equal_a_single_process_run) {
  master m(options("s3cret"));
  start_worker(m, "s3cret", "one");
  start_worker(m, "s3cret", "two");
  ASSERT_TRUE(m.wait_for_workers(2, 10s));

  const auto out = m.run(spec("Cluster.Gets"));
  EXPECT_TRUE(out.ok()) << (out.errors.empty() ? "" : out.errors.front());
  EXPECT_EQ(out.nodes.size(), 2u);
  EXPECT_FALSE(out.results.partial);

  auto alone_options = spec("Cluster.Gets").options({});
  const auto alone = chaperon::run_load_test(chaperon::find_load_test("Cluster.Gets"), alone_options);
  ASSERT_EQ(out.results.metrics.size(), alone.metrics.size());
  for (const auto& [key, h] : alone.metrics) {
    auto it = out.results.metrics.find(key);
    ASSERT_NE(it, out.results.metrics.end()) << key.action;
    EXPECT_EQ(it->second.count(), h.count()) << key.action << " " << key.target;
  }
  EXPECT_EQ(out.results.total_requests(), 7u * 6u);
  EXPECT_EQ(out.results.sessions.started, 7u);
}

TEST_F(Cluster, wrong_token_is_refused_with_a_clear_message) {
  master m(options("right"));
  start_worker(m, "wrong", "intruder");
  workers_.back().join();
  ASSERT_EQ(worker_errors_.size(), 1u);
  EXPECT_NE(worker_errors_[0].find("refused this worker: wrong cluster token"), std::string::npos)
      << worker_errors_[0];
  EXPECT_TRUE(m.nodes().empty());
}

TEST_F(Cluster, a_load_test_the_workers_lack_fails_cleanly) {
  master m(options("t"));
  start_worker(m, "t", "one");
  ASSERT_TRUE(m.wait_for_workers(1, 10s));
  const auto out = m.run(spec("No.Such.Test"));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_NE(out.errors[0].find("No.Such.Test"), std::string::npos) << out.errors[0];
  EXPECT_TRUE(out.results.partial);
  // The master goes on: the next test runs.
  EXPECT_TRUE(m.run(spec("Cluster.Gets")).ok());
}

}  // namespace
