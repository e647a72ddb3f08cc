#pragma once
// A master in this process (no workers: it takes every test's share itself) with its HTTP API on
// 127.0.0.1, and the demo target as the load tests' server.

#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/api_client.hpp"
#include "api/api_server.hpp"
#include "cluster/master.hpp"
#include "cluster/worker.hpp"
#include "integration/process_fixture.hpp"

namespace chaperon::apitest {

inline constexpr const char* token = "s3cret";
inline constexpr const char* bearer = "Bearer s3cret";
// base64("chaperon:s3cret")
inline constexpr const char* basic = "Basic Y2hhcGVyb246czNjcmV0";

class Api : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { demo_ = std::make_unique<itest::demo_server>(); }
  static void TearDownTestSuite() { demo_.reset(); }

  // Starts the master, `workers` workers joined to it, and its API (call once per test,
  // before any request).
  void start(api::api_options options = {}, int workers = 0) {
    cluster::master_options m;
    m.token = "cluster-token";
    m.heartbeat = std::chrono::milliseconds(200);
    m.lost_after = std::chrono::milliseconds(1000);
    m.start_delay = std::chrono::milliseconds(50);
    m.on_progress = [this](const progress_snapshot& p) {
      {
        std::lock_guard lock(mutex_);
        last_progress_ = p;
      }
      progress_changed_.notify_all();
    };
    master_ = std::make_unique<cluster::master>(
        m, [this](const std::string&, const cluster::run_spec& spec,
                  const cluster::cluster_results& r) {
          std::lock_guard lock(mutex_);
          nodes_ = r.nodes;
          spec_ = spec;
        });
    for (int i = 0; i < workers; ++i) {
      cluster::worker_options w;
      w.master = "127.0.0.1:" + std::to_string(master_->port());
      w.token = m.token;
      w.name = "worker-" + std::to_string(i + 1);
      w.threads = 1;
      w.heartbeat = std::chrono::milliseconds(200);
      workers_.emplace_back([w](std::stop_token stop) { cluster::run_worker(w, stop); });
    }
    ASSERT_TRUE(master_->wait_for_workers(workers, std::chrono::seconds(10)));
    if (options.token.empty() && !options.insecure) options.token = token;
    api_ = std::make_unique<api::api_server>(*master_, std::move(options));
  }
  // Waits (at most 10 s) until the live figures the master merged last satisfy `done`; the
  // API serves them from then on.
  template <class Predicate>
  bool wait_progress(Predicate done) {
    std::unique_lock lock(mutex_);
    return progress_changed_.wait_for(lock, std::chrono::seconds(10),
                                      [&] { return done(last_progress_); });
  }
  // What the last test that ended was run with.
  cluster::run_spec last_spec() {
    std::lock_guard lock(mutex_);
    return spec_;
  }
  // The nodes that took a share of the last test that ended.
  std::vector<std::string> last_nodes() {
    std::lock_guard lock(mutex_);
    return nodes_;
  }
  std::uint16_t port() const { return static_cast<std::uint16_t>(api_->port()); }
  reply call(std::string_view method, std::string_view target, std::string_view body = {}) const {
    return request(port(), method, target, bearer, body);
  }
  // A POST /load_tests body scheduling `test` with the demo target as base_url.
  static std::string schedule_body(const std::string& test) {
    nlohmann::json item{{"test", test},
                        {"options", {{"config", {{"base_url", demo_->url()}}}, {"threads", 1}}}};
    return nlohmann::json{{"load_tests", {item}}}.dump();
  }

  static inline std::unique_ptr<itest::demo_server> demo_;
  std::unique_ptr<cluster::master> master_;
  std::unique_ptr<api::api_server> api_;  // after master_: stopped first
  std::vector<std::jthread> workers_;      // stopped and joined before the master goes
  std::mutex mutex_;
  std::condition_variable progress_changed_;
  progress_snapshot last_progress_;
  std::vector<std::string> nodes_;
  cluster::run_spec spec_;
};

}  // namespace chaperon::apitest
