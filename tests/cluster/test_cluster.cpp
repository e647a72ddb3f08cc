// A master and two workers, in this process, joined over gRPC on 127.0.0.1, running a load test
// against the demo target: the merged results equal a single-process run's, a wrong token is
// refused, and a test the workers cannot run fails cleanly.
#include <gtest/gtest.h>

#include <chaperon/chaperon.hpp>

#include <algorithm>
#include <thread>

#include "cluster/control.hpp"
#include "cluster/master.hpp"
#include "cluster/queue.hpp"
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

// Sessions of Cluster.Long that have made their first request (the workers run in this
// process, so the test can wait for them without polling the target).
struct {
  std::mutex mutex;
  std::condition_variable changed;
  int sessions = 0;
} long_test;

// Polls until stopped: the test that a cancel has to end.
task<> until_stopped(session& s) {
  for (int i = 0; i < 100000; ++i) {
    co_await s.get("/api/messages");
    if (i == 0) {
      std::lock_guard lock(long_test.mutex);
      ++long_test.sessions;
      long_test.changed.notify_all();
    }
    co_await s.delay(std::chrono::milliseconds(5));
  }
}

const bool registered = chaperon::register_load_test([] {
  return chaperon::load_test{"Cluster.Gets"}.scenario(
      7, chaperon::make_scenario("FiveGets", five_gets));
}) && chaperon::register_load_test([] {
  return chaperon::load_test{"Cluster.Long"}.scenario(
      4, chaperon::make_scenario("UntilStopped", until_stopped));
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
  // The two workers and the master itself, which takes a share too by default.
  auto nodes = out.nodes;
  std::sort(nodes.begin(), nodes.end());
  EXPECT_EQ(nodes, (std::vector<std::string>{"master", "one", "two"}));
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
  auto o = options("t");
  o.work = false;  // only the worker's error, then
  master m(o);
  start_worker(m, "t", "one");
  ASSERT_TRUE(m.wait_for_workers(1, 10s));
  const auto out = m.run(spec("No.Such.Test"));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_NE(out.errors[0].find("No.Such.Test"), std::string::npos) << out.errors[0];
  EXPECT_TRUE(out.results.partial);
  // The master goes on: the next test runs.
  EXPECT_TRUE(m.run(spec("Cluster.Gets")).ok());
}

TEST_F(Cluster, a_cancelled_test_stops_every_share_and_keeps_what_was_measured) {
  master m(options("t"));
  start_worker(m, "t", "one");
  start_worker(m, "t", "two");
  ASSERT_TRUE(m.wait_for_workers(2, 10s));
  {
    std::lock_guard lock(long_test.mutex);
    long_test.sessions = 0;
  }
  std::stop_source cancel;
  std::optional<chaperon::cluster::cluster_results> out;
  std::jthread run([&] { out = m.run(spec("Cluster.Long"), cancel.get_token()); });
  {
    std::unique_lock lock(long_test.mutex);
    ASSERT_TRUE(long_test.changed.wait_for(lock, 10s, [] { return long_test.sessions == 4; }));
  }
  const auto started = std::chrono::steady_clock::now();
  cancel.request_stop();
  run.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->results.partial);
  EXPECT_TRUE(out->lost.empty());
  EXPECT_GE(out->results.total_requests(), 4u);
  EXPECT_EQ(out->results.sessions.started, 4u);
}

TEST_F(Cluster, clients_schedule_list_and_cancel_over_grpc) {
  std::mutex mutex;
  std::condition_variable done;
  std::vector<std::pair<std::string, std::uint64_t>> exported;  // id, requests
  master m(options("t"), [&](const std::string& id, const run_spec&, const auto& out) {
    std::lock_guard lock(mutex);
    exported.emplace_back(id, out.results.total_requests());
    done.notify_all();
  });
  start_worker(m, "t", "one");
  ASSERT_TRUE(m.wait_for_workers(1, 10s));
  chaperon::cluster::control_client_options client{"127.0.0.1:" + std::to_string(m.port()), "t"};

  const auto id = chaperon::cluster::schedule_test(client, spec("Cluster.Gets"));
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(done.wait_for(lock, 10s, [&] { return !exported.empty(); }));
  }
  EXPECT_EQ(exported[0], (std::pair<std::string, std::uint64_t>{id, 7u * 6u}));
  ASSERT_TRUE(m.queue().wait_idle(10s));
  EXPECT_EQ(m.queue().status(id)->state, chaperon::cluster::test_state::finished);

  const auto status = chaperon::cluster::query_status(client);
  EXPECT_TRUE(status.running.empty());
  ASSERT_EQ(status.workers.size(), 1u);
  EXPECT_EQ(status.workers[0].name, "one");

  try {
    chaperon::cluster::cancel_tests(client, chaperon::cluster::cancel_scope::one, "test-77");
    ADD_FAILURE() << "cancelling an unknown id succeeded";
  } catch (const chaperon::error& e) {
    EXPECT_NE(std::string(e.what()).find("no running or scheduled test has the id test-77"),
              std::string::npos) << e.what();
  }
  client.token = "wrong";
  EXPECT_THROW(chaperon::cluster::query_status(client), chaperon::error);
}

// The queue alone, with a runner that the test releases one test at a time.
class ClusterQueue : public ::testing::Test {
 protected:
  chaperon::cluster::test_queue queue_{[this](const std::string& id, const run_spec& spec,
                                              std::stop_token stop) {
    std::unique_lock lock(mutex_);
    started_.push_back(spec.load_test);
    changed_.notify_all();
    changed_.wait(lock, stop, [&] { return released_ > 0; });
    if (!stop.stop_requested()) --released_;
    if (spec.load_test == "fails") throw std::runtime_error("the test failed");
  }};

  void release_one() {
    std::lock_guard lock(mutex_);
    ++released_;
    changed_.notify_all();
  }
  bool wait_started(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return started_.size() >= n; });
  }
  static run_spec named(std::string name) {
    run_spec s;
    s.load_test = std::move(name);
    return s;
  }

  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::vector<std::string> started_;
  int released_ = 0;
};

TEST_F(ClusterQueue, runs_one_at_a_time_in_order_and_goes_on_after_a_failure) {
  const auto a = queue_.schedule(named("fails"));
  const auto b = queue_.schedule(named("second"));
  ASSERT_TRUE(wait_started(1));
  ASSERT_EQ(queue_.running().size(), 1u);
  EXPECT_EQ(queue_.running()[0].id, a);
  ASSERT_EQ(queue_.scheduled().size(), 1u);
  EXPECT_EQ(queue_.scheduled()[0].id, b);
  release_one();
  ASSERT_TRUE(wait_started(2));
  release_one();
  ASSERT_TRUE(queue_.wait_idle(10s));
  EXPECT_EQ(queue_.status(a)->state, chaperon::cluster::test_state::failed);
  EXPECT_EQ(queue_.status(a)->error, "the test failed");
  EXPECT_EQ(queue_.status(b)->state, chaperon::cluster::test_state::finished);
  EXPECT_EQ(started_, (std::vector<std::string>{"fails", "second"}));
}

TEST_F(ClusterQueue, cancel_one_cancel_all_and_clear) {
  const auto a = queue_.schedule(named("a"));
  const auto b = queue_.schedule(named("b"));
  const auto c = queue_.schedule(named("c"));
  const auto d = queue_.schedule(named("d"));
  ASSERT_TRUE(wait_started(1));
  EXPECT_TRUE(queue_.cancel(b));  // waiting
  EXPECT_FALSE(queue_.cancel("test-999"));
  EXPECT_EQ(queue_.status(b)->state, chaperon::cluster::test_state::cancelled);
  EXPECT_TRUE(queue_.cancel(a));  // running: the runner sees the stop request
  ASSERT_TRUE(wait_started(2));
  EXPECT_EQ(queue_.status(a)->state, chaperon::cluster::test_state::cancelled);
  EXPECT_EQ(started_[1], "c");
  EXPECT_EQ(queue_.clear_scheduled(), 1u);  // d
  EXPECT_EQ(queue_.status(d)->state, chaperon::cluster::test_state::cancelled);
  const auto e = queue_.schedule(named("e"));
  EXPECT_EQ(queue_.cancel_all(), 2u);  // c running, e waiting
  ASSERT_TRUE(queue_.wait_idle(10s));
  EXPECT_EQ(queue_.status(c)->state, chaperon::cluster::test_state::cancelled);
  EXPECT_EQ(queue_.status(e)->state, chaperon::cluster::test_state::cancelled);
  EXPECT_EQ(started_.size(), 2u);
}

}  // namespace
