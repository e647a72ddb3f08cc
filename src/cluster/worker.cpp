#include "cluster/worker.hpp"

#include <unistd.h>

#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>

#include <grpcpp/grpcpp.h>

#include "chaperon/error.hpp"
#include "chaperon/load_test.hpp"
#include "cluster/share_run.hpp"
#include "cluster/tls.hpp"
#include "cluster/wire.hpp"
#include "cluster/write_queue.hpp"

namespace chaperon::cluster {

using clock = std::chrono::steady_clock;

namespace {

class master_link;

// What outlives one connection to the master: the share being run, and the current link that its
// results go back on.
struct worker_state {
  worker_options options;
  std::mutex mutex;
  master_link* link = nullptr;
  std::unique_ptr<share_run> share;
  std::string share_test;  // the test the share belongs to
};

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "worker";
  return name;
}

// The worker's end of its stream to the master. Holds the stream open (AddHold) until no more
// writes can start, so gRPC calls OnDone only after the last one.
class master_link final : public grpc::ClientBidiReactor<v1::WorkerMessage, v1::MasterMessage> {
 public:
  master_link(v1::Cluster::Stub& stub, worker_state& state) : state_(state) {
    stub.async()->Join(&ctx_, this);
    AddHold();
    send(registration());
    StartRead(&in_);
    StartCall();
  }

  void send(v1::WorkerMessage m) {
    if (const auto* next = writes_.push(std::move(m))) StartWrite(next);
  }
  void cancel() { ctx_.TryCancel(); }
  // True once the stream is over (within `timeout`).
  bool wait_done(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return ended_.wait_for(lock, timeout, [&] { return done_; });
  }
  clock::duration silent_for() const {
    std::lock_guard lock(mutex_);
    return clock::now() - last_heard_;
  }
  bool welcomed() const {
    std::lock_guard lock(mutex_);
    return welcomed_;
  }
  grpc::Status status() const {
    std::lock_guard lock(mutex_);
    return status_;
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      if (writes_.close()) RemoveHold();
      return;
    }
    {
      std::lock_guard lock(mutex_);
      last_heard_ = clock::now();
      welcomed_ = welcomed_ || in_.has_welcome();
    }
    if (in_.has_start()) start(in_.start());
    if (in_.has_stop()) stop(in_.stop().test_id(), in_.stop().reason());
    StartRead(&in_);
  }
  void OnWriteDone(bool) override {
    auto step = writes_.done();
    if (step.write) StartWrite(step.write);
    if (step.finish) RemoveHold();
  }
  void OnDone(const grpc::Status& s) override {
    std::lock_guard lock(mutex_);
    status_ = s;
    done_ = true;
    ended_.notify_all();
  }

 private:
  v1::WorkerMessage registration() const {
    v1::WorkerMessage m;
    auto* r = m.mutable_registration();
    r->set_token(state_.options.token);
    r->set_version(CHAPERON_VERSION);
    r->set_name(state_.options.name.empty() ? host_name() : state_.options.name);
    r->set_capacity(state_.options.capacity);
    r->set_threads(static_cast<std::uint32_t>(state_.options.threads));
    for (auto& name : registered_load_tests()) r->add_load_tests(name);
    return m;
  }
  void start(const v1::StartTest& s);
  void stop(const std::string& test_id, const std::string& reason) {
    std::lock_guard lock(state_.mutex);
    if (state_.share && state_.share_test == test_id) state_.share->stop(reason);
  }

  worker_state& state_;
  grpc::ClientContext ctx_;
  v1::MasterMessage in_;
  write_queue<v1::WorkerMessage> writes_;
  mutable std::mutex mutex_;
  std::condition_variable ended_;
  bool done_ = false;
  bool welcomed_ = false;
  clock::time_point last_heard_ = clock::now();
  grpc::Status status_;
};

// The share's results go back on whichever link is current when it ends; a master that went
// away meanwhile has forgotten the test, and a new one ignores an unknown test id.
void send_finished(worker_state& state, const std::string& test_id, const run_results* results,
                   const std::string& error) {
  v1::WorkerMessage m;
  auto* f = m.mutable_finished();
  f->set_test_id(test_id);
  if (results) f->set_results_json(results->to_json().dump());
  f->set_error(error);
  std::lock_guard lock(state.mutex);
  if (state.link) state.link->send(std::move(m));
}

// Live reports go on the current link too; one that finds no link is simply skipped (the next
// replaces it: reports are cumulative).
void send_report(worker_state& state, const std::string& test_id, const run_results& so_far,
                 const progress_snapshot& live) {
  v1::WorkerMessage m;
  auto* r = m.mutable_report();
  r->set_test_id(test_id);
  r->set_results_json(so_far.to_json().dump());
  r->set_sessions_active(live.sessions_active);
  r->set_sessions_done(live.sessions_done);
  r->set_sessions_total(live.sessions_total);
  std::lock_guard lock(state.mutex);
  if (state.link) state.link->send(std::move(m));
}

void master_link::start(const v1::StartTest& s) {
  std::unique_ptr<share_run> previous;
  std::lock_guard lock(state_.mutex);
  auto test_id = s.test_id();
  auto finished = [st = &state_, test_id](const run_results* r, const std::string& e) {
    send_finished(*st, test_id, r, e);
  };
  auto report = [st = &state_, test_id](const run_results& so_far, const progress_snapshot& p) {
    send_report(*st, test_id, so_far, p);
  };
  try {
    auto spec = run_spec::from_json(json::parse(s.options_json()));
    if (state_.options.threads) spec.threads = state_.options.threads;
    const auto start_at = std::chrono::system_clock::time_point(
        std::chrono::microseconds(s.start_at_unix_us()));
    // One share at a time: a new test replaces one the master has given up on.
    if (state_.share) state_.share->stop("the master started another test");
    previous = std::move(state_.share);
    state_.share_test = test_id;
    const share part{s.share_index(), s.share_count(), std::max(1u, s.share_width())};
    state_.share = std::make_unique<share_run>(std::move(spec), part, start_at,
                                               std::move(finished), std::move(report));
  } catch (const std::exception& e) {
    v1::WorkerMessage m;
    m.mutable_finished()->set_test_id(test_id);
    m.mutable_finished()->set_error(e.what());
    send(std::move(m));
  }
}

}  // namespace

void run_worker(const worker_options& options, std::stop_token stop) {
  worker_state state;
  state.options = options;
  auto backoff = options.backoff_min;
  std::mutex sleep_mutex;
  std::condition_variable_any sleeper;
  const auto credentials = channel_credentials(options.tls_ca, options.tls_cert, options.tls_key);
  while (!stop.stop_requested()) {
    auto channel = grpc::CreateChannel(options.master, credentials);
    auto stub = v1::Cluster::NewStub(channel);
    auto link = std::make_unique<master_link>(*stub, state);
    {
      std::lock_guard lock(state.mutex);
      state.link = link.get();
    }
    while (!link->wait_done(options.heartbeat)) {
      if (stop.stop_requested() || link->silent_for() > options.lost_after) {
        link->cancel();
        break;
      }
      v1::WorkerMessage beat;
      beat.mutable_heartbeat()->set_sent_unix_us(
          unix_us(std::chrono::system_clock::now()));
      link->send(std::move(beat));
    }
    std::unique_ptr<share_run> share;
    {
      std::lock_guard lock(state.mutex);
      state.link = nullptr;
      share = std::move(state.share);
    }
    share.reset();  // stops it gracefully ("the node is shutting down") and waits
    // The reactor must outlive its stream; a cancelled stream ends promptly.
    while (!link->wait_done(options.heartbeat)) link->cancel();
    const auto status = link->status();
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      throw error("the master at " + options.master + " refused this worker: " +
                  status.error_message());
    }
    if (link->welcomed()) backoff = options.backoff_min;
    std::unique_lock lock(sleep_mutex);
    sleeper.wait_for(lock, stop, backoff, [] { return false; });
    backoff = std::min(backoff * 2, options.backoff_max);
  }
}

}  // namespace chaperon::cluster
