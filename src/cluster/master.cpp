#include "cluster/master.hpp"

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "chaperon/error.hpp"
#include "cluster/control_service.hpp"
#include "cluster/share_run.hpp"
#include "cluster/token.hpp"
#include "cluster/wire.hpp"
#include "cluster/write_queue.hpp"

namespace chaperon::cluster {

using clock = std::chrono::steady_clock;

class worker_link;

// A test in flight: which nodes still owe their share, and what came back.
struct running_test {
  std::string id;
  std::map<std::string, std::string> pending;  // node id -> node name
  cluster_results out;
};

struct master_state {
  master_options options;
  mutable std::mutex mutex;
  mutable std::condition_variable_any changed;
  struct node {
    node_info info;
    worker_link* link = nullptr;  // null once its stream is done
    clock::time_point last_seen;
  };
  std::map<std::string, node> nodes;
  std::optional<running_test> test;
  std::unique_ptr<share_run> own_share;  // the master's own share of the running test
  std::uint64_t next_id = 1;
  std::unique_ptr<v1::Cluster::CallbackService> service;
  std::unique_ptr<v1::Control::CallbackService> control;
  std::unique_ptr<test_queue> queue;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::jthread monitor;

  std::string joined(node_info info, worker_link* link);
  void seen(const std::string& id);
  void finished(const std::string& id, const v1::Finished& f);
  // Under the mutex: a node's share ended with results or an error.
  void share_ended(const std::string& id, const run_results* results, const std::string& error);
  void gone(const std::string& id, const std::string& why);
  void watch(std::stop_token stop);
  // Under the mutex: asks every node that still owes its share to stop it gracefully.
  void stop_shares(const std::string& reason);
  // Under the mutex: the node no longer owes its share of the running test.
  void settle(const std::string& id, const std::string& lost_reason);
};

// The master's end of one worker's stream. Lives until gRPC calls OnDone.
class worker_link final : public grpc::ServerBidiReactor<v1::WorkerMessage, v1::MasterMessage> {
 public:
  worker_link(master_state& m, grpc::CallbackServerContext* ctx) : master_(m), ctx_(ctx) {
    StartRead(&in_);
  }

  // Any thread.
  void send(v1::MasterMessage m) {
    if (const auto* next = writes_.push(std::move(m))) StartWrite(next);
  }
  void cancel() { ctx_->TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return end(grpc::Status::OK);
    if (id_.empty()) {
      if (!in_.has_registration()) return end({grpc::StatusCode::FAILED_PRECONDITION, "register first"});
      if (!token_matches(in_.registration().token(), master_.options.token)) {
        return end({grpc::StatusCode::UNAUTHENTICATED, "wrong cluster token"});
      }
      id_ = master_.joined(info_of(in_.registration()), this);
      v1::MasterMessage welcome;
      welcome.mutable_welcome()->set_worker_id(id_);
      send(std::move(welcome));
    } else if (in_.has_finished()) {
      master_.finished(id_, in_.finished());
    } else {
      master_.seen(id_);
    }
    StartRead(&in_);
  }
  void OnWriteDone(bool ok) override {
    auto step = writes_.done();
    if (step.write) StartWrite(step.write);
    if (step.finish) Finish(status_);
  }
  void OnDone() override {
    if (!id_.empty()) master_.gone(id_, "its stream ended");
    delete this;
  }

 private:
  void end(grpc::Status status) {
    status_ = std::move(status);
    if (writes_.close()) Finish(status_);
  }
  static node_info info_of(const v1::Register& r) {
    node_info info;
    info.name = r.name();
    info.version = r.version();
    info.capacity = r.capacity();
    info.threads = r.threads();
    info.load_tests.assign(r.load_tests().begin(), r.load_tests().end());
    return info;
  }

  master_state& master_;
  grpc::CallbackServerContext* ctx_;
  v1::WorkerMessage in_;
  write_queue<v1::MasterMessage> writes_;
  grpc::Status status_;
  std::string id_;  // set once registered; read and written on gRPC's reactor thread only
};

namespace {

class cluster_service final : public v1::Cluster::CallbackService {
 public:
  explicit cluster_service(master_state& m) : master_(m) {}
  grpc::ServerBidiReactor<v1::WorkerMessage, v1::MasterMessage>* Join(
      grpc::CallbackServerContext* ctx) override {
    return new worker_link(master_, ctx);
  }

 private:
  master_state& master_;
};

}  // namespace

std::string master_state::joined(node_info info, worker_link* link) {
  std::lock_guard lock(mutex);
  info.id = "w" + std::to_string(next_id++);
  auto id = info.id;
  nodes[id] = node{std::move(info), link, clock::now()};
  changed.notify_all();
  return id;
}

void master_state::seen(const std::string& id) {
  std::lock_guard lock(mutex);
  if (auto it = nodes.find(id); it != nodes.end()) it->second.last_seen = clock::now();
}

void master_state::finished(const std::string& id, const v1::Finished& f) {
  std::lock_guard lock(mutex);
  if (auto it = nodes.find(id); it != nodes.end()) it->second.last_seen = clock::now();
  if (!test || test->id != f.test_id()) return;
  if (!f.error().empty()) return share_ended(id, nullptr, f.error());
  auto parsed = json::parse(f.results_json(), nullptr, false);
  auto results = parsed.is_discarded() ? std::nullopt : run_results::try_from_json(parsed);
  share_ended(id, results ? &*results : nullptr, results ? "" : "its results could not be read");
}

void master_state::share_ended(const std::string& id, const run_results* results,
                               const std::string& error) {
  if (!test || !test->pending.contains(id)) return;
  if (results) {
    test->out.results.merge(*results);
  } else {
    test->out.errors.push_back(test->pending[id] + ": " + error);
  }
  settle(id, {});
}

void master_state::gone(const std::string& id, const std::string& why) {
  std::lock_guard lock(mutex);
  nodes.erase(id);
  settle(id, why);
}

void master_state::settle(const std::string& id, const std::string& lost_reason) {
  if (!test) return;
  auto it = test->pending.find(id);
  if (it == test->pending.end()) return;
  if (!lost_reason.empty()) test->out.lost.push_back(it->second + " (" + lost_reason + ")");
  test->pending.erase(it);
  changed.notify_all();
}

void master_state::stop_shares(const std::string& reason) {
  if (own_share) own_share->stop(reason);
  for (const auto& [id, name] : test->pending) {
    auto it = nodes.find(id);
    if (it == nodes.end() || !it->second.link) continue;
    v1::MasterMessage m;
    m.mutable_stop()->set_test_id(test->id);
    m.mutable_stop()->set_reason(reason);
    it->second.link->send(std::move(m));
  }
}

void master_state::watch(std::stop_token stop) {
  std::unique_lock lock(mutex);
  while (!stop.stop_requested()) {
    changed.wait_for(lock, options.heartbeat, [&] { return stop.stop_requested(); });
    const auto now = clock::now();
    v1::MasterMessage beat;
    beat.mutable_heartbeat()->set_sent_unix_us(unix_us(std::chrono::system_clock::now()));
    for (auto& [id, n] : nodes) {
      if (!n.link) continue;
      if (now - n.last_seen > options.lost_after) {
        // Its stream ends with the cancel; until then its share counts as lost already.
        n.link->cancel();
        n.link = nullptr;
        settle(id, "no heartbeat for " + std::to_string(options.lost_after.count()) + " ms");
      } else {
        n.link->send(beat);
      }
    }
  }
}

master::master(master_options options, results_handler on_results)
    : impl_(std::make_unique<master_state>()) {
  impl_->options = std::move(options);
  impl_->queue = std::make_unique<test_queue>(
      [this, on_results = std::move(on_results)](const std::string& id, const run_spec& spec,
                                                 std::stop_token stop) {
        const auto out = run(spec, stop);
        if (on_results) on_results(id, spec, out);
        if (!out.errors.empty()) throw error(out.errors.front());
        if (!out.lost.empty()) throw error("lost " + out.lost.front());
      });
  impl_->service = std::make_unique<cluster_service>(*impl_);
  impl_->control = make_control_service(*this);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(impl_->options.listen, grpc::InsecureServerCredentials(), &impl_->port);
  builder.RegisterService(impl_->service.get());
  builder.RegisterService(impl_->control.get());
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || impl_->port == 0) {
    throw error("master: cannot listen on " + impl_->options.listen);
  }
  impl_->monitor = std::jthread([this](std::stop_token stop) { impl_->watch(stop); });
}

master::~master() {
  impl_->queue.reset();  // cancels the running test (its nodes stop their shares) and waits
  impl_->monitor.request_stop();
  impl_->changed.notify_all();
  impl_->monitor.join();
  // Cancels every worker's stream at once (they reconnect to the next master) and waits for
  // their reactors to finish.
  impl_->server->Shutdown(std::chrono::system_clock::now());
  impl_->server->Wait();
}

int master::port() const noexcept { return impl_->port; }

test_queue& master::queue() noexcept { return *impl_->queue; }

bool master::accepts(std::string_view token) const {
  return token_matches(token, impl_->options.token);
}

std::vector<node_info> master::nodes() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<node_info> out;
  for (const auto& [id, n] : impl_->nodes) {
    if (n.link) out.push_back(n.info);
  }
  return out;
}

bool master::wait_for_workers(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] {
    std::size_t live = 0;
    for (const auto& [id, node] : impl_->nodes) live += node.link != nullptr;
    return live >= n;
  });
}

cluster_results master::run(const run_spec& spec, std::stop_token stop) {
  std::unique_lock lock(impl_->mutex);
  std::vector<std::pair<std::string, master_state::node*>> live;
  for (auto& [id, n] : impl_->nodes) {
    if (n.link) live.emplace_back(id, &n);
  }
  const auto& options = impl_->options;
  if (live.empty() && !options.work) {
    throw error("master: no worker has joined (and the master runs none itself, --no-work)");
  }
  if (impl_->test) throw error("master: a test is running already");
  auto& test = impl_->test.emplace();
  test.id = "t" + std::to_string(impl_->next_id++);
  const auto start_at = std::chrono::system_clock::now() + options.start_delay;
  const auto count = live.size() + (options.work ? 1 : 0);
  const auto options_json = spec.to_json().dump();
  for (std::size_t i = 0; i < live.size(); ++i) {
    auto& [id, n] = live[i];
    test.pending[id] = n->info.name;
    test.out.nodes.push_back(n->info.name);
    v1::MasterMessage m;
    auto* start = m.mutable_start();
    start->set_test_id(test.id);
    start->set_load_test(spec.load_test);
    start->set_options_json(options_json);
    start->set_share_index(static_cast<std::uint32_t>(i));
    start->set_share_count(static_cast<std::uint32_t>(count));
    start->set_start_at_unix_us(unix_us(start_at));
    n->link->send(std::move(m));
  }
  if (options.work) {
    // Its own share is the last; it reports like a worker's, under the id "" (no worker has it).
    test.pending[""] = options.name;
    test.out.nodes.push_back(options.name);
    impl_->own_share = std::make_unique<share_run>(
        spec, share{count - 1, count}, start_at,
        [st = impl_.get()](const run_results* r, const std::string& e) {
          std::lock_guard lock(st->mutex);
          st->share_ended("", r, e);
        });
  }
  // Ends: every share reports, or its worker is lost (the monitor's heartbeat check bounds that).
  const auto all_reported = [&] { return impl_->test->pending.empty(); };
  if (!impl_->changed.wait(lock, stop, all_reported)) {
    impl_->stop_shares("cancelled");
    impl_->changed.wait(lock, all_reported);
  }
  auto out = std::move(impl_->test->out);
  impl_->test.reset();
  auto own = std::move(impl_->own_share);
  lock.unlock();
  own.reset();  // its thread has reported; joining it needs the mutex free
  if (!out.lost.empty() || !out.errors.empty()) out.results.partial = true;
  return out;
}

}  // namespace chaperon::cluster
