// A master and workers, in this process, joined over gRPC on 127.0.0.1 (plain or TLS), running
// load tests against the demo target: merged results (final and live) equal a single-process
// run's, shares by capacity add up to the whole test, lost shares and refusals are reported.
#include <gtest/gtest.h>

#include <chaperon/chaperon.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cluster/control.hpp"
#include "cluster/live.hpp"
#include "cluster/master.hpp"
#include "cluster/queue.hpp"
#include "cluster/shares.hpp"
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

// Results too large for gRPC's default message limit (4 MB): 300 value metrics of 2000
// distinct values each (small values, each in a counter of its own).
task<> many_metrics(session& s) {
  for (int m = 0; m < 300; ++m) {
    const auto name = "value_metric_" + std::to_string(m);
    for (std::int64_t v = 1; v <= 2000; ++v) s.add_value(name, v);
  }
  co_return;
}

const bool registered = chaperon::register_load_test([] {
  return chaperon::load_test{"Cluster.Big"}.scenario(1, chaperon::make_scenario("Many", many_metrics));
}) && chaperon::register_load_test([] {
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
  void start_worker(const master& m, std::string token, std::string name,
                    const std::function<void(worker_options&)>& adjust = {}) {
    worker_options o;
    o.master = "127.0.0.1:" + std::to_string(m.port());
    o.token = std::move(token);
    o.name = std::move(name);
    o.threads = 1;
    o.heartbeat = 200ms;
    if (adjust) adjust(o);
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

  // Cluster.Long running on a master in a thread of its own until end() (or destruction).
  struct long_run {
    std::stop_source cancel;
    std::optional<chaperon::cluster::cluster_results> out;
    std::jthread thread;
    ~long_run() { cancel.request_stop(); }
    const std::optional<chaperon::cluster::cluster_results>& end() {
      cancel.request_stop();
      if (thread.joinable()) thread.join();
      return out;
    }
  };
  // Starts it; true once all of its 4 sessions have made their first request.
  bool start_long(master& m, long_run& run) {
    {
      std::lock_guard lock(long_test.mutex);
      long_test.sessions = 0;
    }
    run.thread = std::jthread([&] { run.out = m.run(spec("Cluster.Long"), run.cancel.get_token()); });
    std::unique_lock lock(long_test.mutex);
    return long_test.changed.wait_for(lock, 10s, [] { return long_test.sessions == 4; });
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
  long_run run;
  ASSERT_TRUE(start_long(m, run));
  const auto started = std::chrono::steady_clock::now();
  const auto& out = run.end();
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
  chaperon::cluster::control_client_options client;
  client.master = "127.0.0.1:" + std::to_string(m.port());
  client.token = "t";

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

TEST_F(Cluster, live_figures_are_merged_and_an_abort_threshold_stops_every_node) {
  std::mutex mutex;
  std::vector<chaperon::progress_snapshot> seen;
  auto o = options("t");
  o.on_progress = [&](const chaperon::progress_snapshot& p) {
    std::lock_guard lock(mutex);
    seen.push_back(p);
  };
  master m(o);
  start_worker(m, "t", "one");
  start_worker(m, "t", "two");
  ASSERT_TRUE(m.wait_for_workers(2, 10s));
  auto s = spec("Cluster.Long");
  s.interval = "100ms";
  // Every share alone stays below the limit for a while; the nodes together pass it sooner.
  // Either way only the master can stop the whole test, and it does.
  s.thresholds = {"count<60,abort_on_fail"};
  s.config["load_test_timeout"] = "20s";  // bounds the wait should the abort not come
  const auto started = std::chrono::steady_clock::now();
  const auto out = m.run(s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_TRUE(out.ok());
  EXPECT_TRUE(out.results.partial);
  EXPECT_GE(out.results.total_requests(), 60u);
  EXPECT_EQ(out.results.sessions.started, 4u);
  ASSERT_EQ(out.results.thresholds.size(), 1u);
  EXPECT_TRUE(out.results.thresholds[0].aborted_run);
  EXPECT_EQ(out.results.thresholds[0].status, "failed");
  // Live reports came from every node, and the figures were merged over the nodes.
  EXPECT_GE(out.reports, 3u);
  // The series the master cut from them adds up to the merged results exactly.
  ASSERT_TRUE(out.series);
  EXPECT_GE(out.series->intervals(), 2u);  // a look or more, and the end
  const auto total = out.series->total();
  for (const auto& [key, h] : out.results.metrics)
    EXPECT_EQ(total.metrics.contains(key) ? total.metrics.at(key).count() : 0u, h.count());
  EXPECT_EQ(total.sessions, out.results.sessions);
  std::printf("master: %zu live reports, %.1f us CPU each to read and merge\n", out.reports,
              std::chrono::duration<double, std::micro>(out.report_cpu).count() /
                  static_cast<double>(out.reports));
  std::lock_guard lock(mutex);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().sessions_total, 4u);
  EXPECT_GE(seen.back().requests, 60u);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i].requests, seen[i - 1].requests);
}

// The master's cost per worker: reading and merging one live report of a realistic size.
TEST_F(Cluster, the_cost_of_merging_a_live_report) {
  const auto measured = chaperon::run_load_test(chaperon::find_load_test("Cluster.Gets"),
                                                spec("Cluster.Gets").options({}));
  // A test of 20 URLs: each measured metric under 10 targets.
  chaperon::run_results one = measured;
  for (const auto& [key, h] : measured.metrics) {
    for (int t = 1; t < 10; ++t) {
      auto other = key;
      other.target += "/" + std::to_string(t);
      one.metrics[other] = h;
    }
  }
  const auto json = one.to_json().dump();
  chaperon::cluster::live_view view({}, std::chrono::system_clock::now(), 1s);
  constexpr int workers = 100;
  std::vector<std::string> running;
  for (int i = 0; i < workers; ++i) {
    running.push_back("w" + std::to_string(i));
    view.report(running.back(), json);
  }
  const auto now = view.evaluate({}, running, {});
  EXPECT_EQ(now.progress.requests, workers * one.total_requests());
  EXPECT_EQ(view.reports(), static_cast<std::size_t>(workers));
  const auto per_report = view.cpu() / workers;
  std::printf("live report: %zu metrics, %zu bytes of JSON, %.1f us CPU to read and merge one "
              "(%d workers)\n", one.metrics.size(), json.size(), std::chrono::duration<double, std::micro>(per_report).count(), workers);
  EXPECT_LT(per_report, 50ms);
}

TEST_F(Cluster, a_test_waits_for_the_expected_workers_or_fails_naming_how_many_joined) {
  auto o = options("t");
  o.expect_workers = 2;
  o.expect_workers_wait = 300ms;
  master m(o);
  start_worker(m, "t", "one");
  ASSERT_TRUE(m.wait_for_workers(1, 10s));
  try {
    m.run(spec("Cluster.Gets"));
    ADD_FAILURE() << "a test ran with one of two expected workers";
  } catch (const chaperon::error& e) {
    EXPECT_NE(std::string(e.what()).find("1 of 2 expected workers joined"), std::string::npos)
        << e.what();
  }
  // In the queue: the test fails with that error and the next one runs.
  const auto failed = m.queue().schedule(spec("Cluster.Gets"));
  ASSERT_TRUE(m.queue().wait_idle(10s));
  EXPECT_EQ(m.queue().status(failed)->state, chaperon::cluster::test_state::failed);
  EXPECT_NE(m.queue().status(failed)->error.find("1 of 2"), std::string::npos);

  // A test started before the second worker joins waits for it.
  std::optional<chaperon::cluster::cluster_results> out;
  auto waiting = o;
  waiting.expect_workers_wait = 10s;
  master patient(waiting);
  std::jthread run([&] { out = patient.run(spec("Cluster.Gets")); });
  start_worker(patient, "t", "three");
  start_worker(patient, "t", "four");
  run.join();
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->ok());
  EXPECT_EQ(out->nodes.size(), 3u);
  EXPECT_EQ(out->results.total_requests(), 7u * 6u);
}

task<> one_get(session& s) { co_await s.get("/api/messages"); }

// At-once sessions and a rate model: 7 sessions and 120 arrivals.
chaperon::load_test mixed_test(const std::string& url) {
  return chaperon::load_test{"Cluster.Mixed"}
      .default_config({{"base_url", url}})
      .scenario(7, chaperon::make_scenario("AtOnce", one_get), "AtOnce", chaperon::json::object())
      .scenario(1, chaperon::make_scenario("Rate", one_get), "Rate", chaperon::json::object())
      .with_model(chaperon::load_model::constant_rate(300, 400ms, 300));
}

// Requests made by the sessions called `name` (one per at-once session of the mixed test).
std::uint64_t requests_of(const chaperon::run_results& r, const std::string& name) {
  std::uint64_t n = 0;
  for (const auto& [key, h] : r.metrics) {
    if (key.session == name && key.error.empty()) n += h.count();
  }
  return n;
}

TEST_F(Cluster, shares_by_capacity_together_run_exactly_the_whole_test) {
  using chaperon::share;
  using chaperon::cluster::weighted_shares;
  EXPECT_EQ(weighted_shares({0, 0, 0}),
            (std::vector<share>{{0, 3, 1}, {1, 3, 1}, {2, 3, 1}}));
  // 0 counts as the mean of the capacities given; the common divisor goes.
  const auto shares = weighted_shares({1000, 3000, 0});
  ASSERT_EQ(shares, (std::vector<share>{{0, 6, 1}, {1, 6, 3}, {4, 6, 2}}));
  // Too many parts for exact widths: rounded, each node keeping one at least.
  EXPECT_EQ(weighted_shares({1, 1000}), (std::vector<share>{{0, 32, 1}, {1, 32, 31}}));

  const auto test = mixed_test(demo_->url());
  chaperon::run_options whole_options;
  whole_options.threads = 2;
  const auto whole = chaperon::run_load_test(test, whole_options);
  ASSERT_EQ(whole.arrivals.started + whole.arrivals.dropped, 120u);

  chaperon::run_results merged;
  std::vector<std::uint64_t> at_once;  // at-once sessions of each share
  chaperon::cluster::share_size sizes;
  for (std::size_t i = 0; i < shares.size(); ++i) {
    chaperon::run_options o;
    o.threads = i + 1;  // shares need not agree on their thread counts
    o.part = shares[i];
    o.per_session = true;  // rows by session name, to tell the entries apart
    const auto part = chaperon::run_load_test(test, o);
    at_once.push_back(requests_of(part, "AtOnce"));
    merged.merge(part);
    const auto size = chaperon::cluster::size_of(test, shares[i]);
    EXPECT_EQ(size.sessions, at_once.back()) << "share " << i;
    sizes.sessions += size.sessions;
    sizes.arrivals += size.arrivals;
  }
  EXPECT_EQ(at_once, (std::vector<std::uint64_t>{2, 3, 2}));
  EXPECT_EQ(sizes.sessions, 7u);
  EXPECT_EQ(sizes.arrivals, 120u);
  EXPECT_EQ(merged.arrivals.started + merged.arrivals.dropped, 120u);
  EXPECT_EQ(requests_of(merged, "AtOnce"), 7u);
  EXPECT_EQ(merged.total_requests(), whole.total_requests());
  EXPECT_EQ(merged.total_requests(), 7u + 120u - whole.arrivals.dropped);
}

TEST_F(Cluster, a_lost_worker_s_share_is_reported) {
  master m(options("t"));
  // One at a time: their ids, and so their shares, follow the order they joined in.
  start_worker(m, "t", "one");
  ASSERT_TRUE(m.wait_for_workers(1, 10s));
  start_worker(m, "t", "two");
  ASSERT_TRUE(m.wait_for_workers(2, 10s));
  long_run run;
  ASSERT_TRUE(start_long(m, run));
  workers_[1].request_stop();  // "two" leaves: its stream ends with its share unreported
  workers_[1].join();
  ASSERT_TRUE(m.wait_for_workers(1, 10s));
  const auto& out = run.end();
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->lost.size(), 1u);
  // Sessions 0..3 by part of 3: one has 0 and 3, two has 1, the master 2.
  EXPECT_EQ(out->lost_sessions, 1u);
  EXPECT_EQ(out->lost_arrivals, 0u);
  ASSERT_EQ(out->lost_shares.size(), 1u);
  EXPECT_NE(out->lost_shares[0].find("two: 1 session, 0 arrivals missing"), std::string::npos)
      << out->lost_shares[0];
  EXPECT_TRUE(out->results.partial);
  EXPECT_EQ(out->results.sessions.started, 3u);
}

TEST_F(Cluster, results_beyond_grpc_s_default_message_size_arrive) {
  auto o = options("t");
  o.work = false;
  master m(o);
  start_worker(m, "t", "one");
  ASSERT_TRUE(m.wait_for_workers(1, 10s));
  const auto out = m.run(spec("Cluster.Big"));
  EXPECT_TRUE(out.ok()) << (out.lost.empty() ? "" : out.lost.front());
  ASSERT_EQ(out.results.metrics.size(), 300u);
  EXPECT_GT(out.results.to_json().dump().size(), std::size_t{4} << 20);
}

// A CA and two certificates it signs, made with openssl in `dir`: "master" for 127.0.0.1 and
// "client" for a worker or a command-line client.
void make_cluster_certificates(const std::filesystem::path& dir) {
  const auto program = chaperon::itest::find_program("openssl");
  ASSERT_TRUE(program) << "openssl is not installed";
  const auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), program->string());
    const auto r = chaperon::itest::run_command({args, dir}, 30s);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  };
  const std::vector<std::string> new_key{"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1", "-nodes"};
  auto with_key = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 1, new_key.begin(), new_key.end());
    run(std::move(args));
  };
  with_key({"req", "-x509", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
            "/CN=cluster CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign,cRLSign"});
  for (const std::string name : {"master", "client"}) {
    std::ofstream(dir / (name + ".ext")) << "subjectAltName=IP:127.0.0.1\n"
                                         << "extendedKeyUsage=serverAuth,clientAuth\n";
    with_key({"req", "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name});
    run({"x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem"});
  }
}

TEST_F(Cluster, nodes_speak_tls_and_the_master_verifies_client_certificates) {
  chaperon::itest::temp_dir dir;
  ASSERT_NO_FATAL_FAILURE(make_cluster_certificates(dir.path()));
  const auto file = [&](const char* name) { return (dir.path() / name).string(); };
  auto o = options("t");
  o.tls_cert = file("master.pem");
  o.tls_key = file("master.key");
  o.tls_ca = file("ca.pem");
  master m(o);

  start_worker(m, "t", "secure", [&](worker_options& w) {
    w.tls_ca = file("ca.pem");
    w.tls_cert = file("client.pem");
    w.tls_key = file("client.key");
  });
  ASSERT_TRUE(m.wait_for_workers(1, 10s)) << (worker_errors_.empty() ? "" : worker_errors_[0]);
  const auto out = m.run(spec("Cluster.Gets"));
  EXPECT_TRUE(out.ok());
  EXPECT_EQ(out.results.total_requests(), 7u * 6u);
  EXPECT_FALSE(m.nodes()[0].version_differs);

  chaperon::cluster::control_client_options client;
  client.master = "127.0.0.1:" + std::to_string(m.port());
  client.token = "t";
  client.timeout = 5s;
  client.tls_ca = file("ca.pem");
  // Without a certificate of its own the handshake fails: the master requires one.
  EXPECT_THROW(chaperon::cluster::query_status(client), chaperon::error);
  client.tls_cert = file("client.pem");
  client.tls_key = file("client.key");
  const auto status = chaperon::cluster::query_status(client);
  ASSERT_EQ(status.workers.size(), 1u);
  EXPECT_EQ(status.workers[0].name, "secure");
  // A missing file is named.
  client.tls_key = file("nowhere.key");
  try {
    chaperon::cluster::query_status(client);
    ADD_FAILURE() << "a missing key file went unnoticed";
  } catch (const chaperon::error& e) {
    EXPECT_NE(std::string(e.what()).find("nowhere.key"), std::string::npos) << e.what();
  }
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
