#pragma once
// The cluster's master: workers join it over gRPC (cluster.proto), and it runs load tests on them,
// each node taking a share in proportion to its capacity, and merges what they measured exactly,
// live while the test runs and at its end.
//
// No gRPC type appears here: the service, its streams and the server live in master.cpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chaperon/metrics.hpp"
#include "chaperon/series.hpp"
#include "cluster/queue.hpp"
#include "cluster/run_spec.hpp"

namespace chaperon::cluster {

struct master_options {
  std::string listen = "127.0.0.1:0";  // ADDR:PORT; port 0 picks a free one (see master::port)
  std::string token;                   // workers must present it
  // The master sends a heartbeat this often and takes a worker as lost when it has heard
  // nothing from it for lost_after (a worker heartbeats as often).
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds lost_after{3000};
  // Every node starts a test this long after the master sends it out, at the same instant.
  std::chrono::milliseconds start_delay{300};
  // The master takes a share of every test itself, like any node (--no-work turns it off).
  bool work = true;
  std::string name = "master";
  // The master's own capacity when it works (concurrent sessions, as a worker's --capacity);
  // 0: an equal part.
  std::uint32_t capacity = 0;
  // A test starts only once this many workers have joined, or expect_workers_wait has passed
  // (then it fails with an error naming how many joined).
  std::size_t expect_workers = 0;
  std::chrono::milliseconds expect_workers_wait{60'000};
  // TLS for the workers' and clients' connections: PEM files; none set: plain TCP. With
  // tls_ca set, every peer must present a certificate signed by it (and it is verified).
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  // Called about once per interval while a test runs, with the figures merged over every node
  // that reported so far (from the thread running the test: run()'s caller, or the queue's).
  std::function<void(const progress_snapshot&)> on_progress;
};

struct node_info {
  std::string id;  // given by the master when the worker joins
  std::string name;
  std::string version;
  std::uint32_t capacity = 0;
  std::uint32_t threads = 0;
  std::vector<std::string> load_tests;
  bool version_differs = false;  // its version is not the master's: it still takes shares
};

struct cluster_results {
  run_results results;              // merged over the nodes that finished; partial if any lost
  std::vector<std::string> nodes;   // the names of the nodes that took a share
  std::vector<std::string> lost;    // nodes lost mid-run: their share is missing
  std::vector<std::string> errors;  // "<node>: <message>" for shares that could not run
  // What the lost nodes' shares held, none of which is in the results: at-once sessions (and
  // the peak of ramping session targets), arrivals of rate models, and one line per lost node,
  // e.g. "two: 3 sessions, 0 arrivals (no heartbeat for 3000 ms)".
  std::uint64_t lost_sessions = 0;
  std::uint64_t lost_arrivals = 0;
  std::vector<std::string> lost_shares;
  // The master's CPU time spent reading and merging the nodes' live reports, and how many it
  // read (one per running node per interval): the master's cost per worker.
  std::chrono::nanoseconds report_cpu{0};
  std::size_t reports = 0;
  // The run's interval series, cut by the master from the nodes' cumulative reports at each
  // look (so an interval holds what reached the master in it); the last interval ends with the
  // merged results. A lost node's figures stay in the intervals that it reported.
  std::shared_ptr<const interval_series> series;
  bool ok() const { return lost.empty() && errors.empty(); }
};

// A node's part of a running test, from its latest report.
struct node_live {
  std::string name;
  std::uint64_t requests = 0;  // as run_results::total_requests() counts them
  std::uint64_t errors = 0;
  std::uint64_t sessions_active = 0;
  std::uint64_t sessions_done = 0;
  std::uint64_t sessions_total = 0;
};

// The latest merged live figures of the test the queue runs, for the HTTP API.
struct live_figures {
  std::string test_id;  // the queue's id
  progress_snapshot progress;
  std::vector<node_live> nodes;  // the nodes whose shares still run
};

// The queue's running test so far: its results merged over the nodes, with the thresholds
// judged on them, its live figures and its interval series.
struct live_run {
  run_results results;
  live_figures figures;
  std::shared_ptr<const interval_series> series;
};

// What the HTTP API reads of the master: live figures and kept results. An interface, so that
// code serving them (src/api/routes.cpp, its fuzz harness) does not link the master and gRPC.
class figure_source {
 public:
  virtual ~figure_source() = default;
  // The queue's running test's figures from the last look at the nodes' reports (once per
  // interval); nullopt when the queue runs none or none was taken yet (a test started with
  // run() directly is not followed).
  virtual std::optional<live_figures> live() const = 0;
  // The queue's running test's results so far, merged over every node's latest report, with
  // its figures and series, as the last look left them; nullopt when the queue runs none. A
  // copy of every histogram: call it on demand, off the test's thread (the API does).
  virtual std::optional<live_run> live_results() const = 0;
  // The results of one of the last ended_results_kept tests of the queue that ran (whatever
  // their end), by queue id; null when unknown or no longer kept.
  virtual std::shared_ptr<const cluster_results> results(const std::string& id) const = 0;
  // The results of the last test of the queue that ran, with its id; null when none ran yet.
  virtual std::pair<std::string, std::shared_ptr<const cluster_results>> last_results()
      const = 0;
  static constexpr std::size_t ended_results_kept = 20;
};

struct master_state;  // master.cpp

// What the master does with the results of a test from its queue (export them, typically).
using results_handler =
    std::function<void(const std::string& id, const run_spec& spec, const cluster_results& out)>;

class master final : public figure_source {
 public:
  // Starts serving; throws chaperon::error when it cannot listen on options.listen.
  explicit master(master_options options, results_handler on_results = {});
  ~master();
  master(const master&) = delete;
  master& operator=(const master&) = delete;

  int port() const noexcept;
  std::vector<node_info> nodes() const;
  // Waits until at least n workers have joined; false when the timeout passed first.
  bool wait_for_workers(std::size_t n, std::chrono::milliseconds timeout) const;
  // Runs the test on every worker joined now (and the master itself, unless options.work is
  // false), each taking a share by capacity, and returns the merged results once every share
  // has ended or its worker was lost. With options.expect_workers it first waits (at most
  // expect_workers_wait) until that many have joined. While the test runs, options.on_progress
  // gets the merged figures once per interval, and thresholds with abort_on_fail are judged on
  // them: one that fails stops every share (results.thresholds say which). A stop request stops
  // every share gracefully (what was measured comes back, partial). Throws chaperon::error when
  // no node can take a share, too few workers joined in time, a threshold is malformed, or a test
  // is running already.
  cluster_results run(const run_spec& spec, std::stop_token stop = {});

  // The queue of scheduled tests (also served to clients over gRPC, service Control): each runs
  // as run() does, its results go to the results handler, and a test with errors or lost nodes
  // ends as failed.
  test_queue& queue() noexcept;
  // figure_source, of the queue's tests.
  std::optional<live_figures> live() const override;
  std::optional<live_run> live_results() const override;
  std::shared_ptr<const cluster_results> results(const std::string& id) const override;
  std::pair<std::string, std::shared_ptr<const cluster_results>> last_results() const override;

  // Whether a client's token is the cluster's (constant time).
  bool accepts(std::string_view token) const;

 private:
  std::unique_ptr<master_state> impl_;
};

}  // namespace chaperon::cluster
