#include "cluster/master.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>

#include <grpcpp/grpcpp.h>

#include "chaperon/error.hpp"
#include "cluster/control_service.hpp"
#include "cluster/figure_store.hpp"
#include "cluster/live.hpp"
#include "cluster/share_run.hpp"
#include "cluster/shares.hpp"
#include "cluster/tls.hpp"
#include "cluster/token.hpp"
#include "cluster/wire.hpp"
#include "cluster/write_queue.hpp"

namespace chaperon::cluster {

using clock = std::chrono::steady_clock;

constexpr int max_message_bytes = 256 << 20;

class worker_link;

// A node's latest live report, waiting for the master's next look.
struct node_report {
  std::string json;  // moved out when read
  bool fresh = false;
  node_figures figures;
};

// A test in flight: which nodes still owe their share, what they reported so far, and what
// came back.
struct running_test {
  std::string id;
  std::optional<load_test> test;  // prepared, to size a lost share; none when unknown here
  std::map<std::string, std::string> pending;  // node id -> node name
  std::map<std::string, share> shares;         // node id -> its share
  std::map<std::string, node_report> reports;  // node id -> its latest report
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
  figure_store figures;  // what the HTTP API reads
  std::unique_ptr<v1::Cluster::CallbackService> service;
  std::unique_ptr<v1::Control::CallbackService> control;
  std::unique_ptr<test_queue> queue;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::jthread monitor;

  std::string joined(node_info info, worker_link* link);
  void seen(const std::string& id);
  void finished(const std::string& id, const v1::Finished& f);
  void reported(const std::string& id, const std::string& test_id, std::string json,
                node_figures figures);
  // Under the mutex: a node's share ended with results or an error.
  void share_ended(const std::string& id, const run_results* results, const std::string& error);
  void gone(const std::string& id, const std::string& why);
  void watch(std::stop_token stop);
  // Under the mutex: asks every node that still owes its share to stop it gracefully.
  void stop_shares(const std::string& reason);
  // Under the mutex: the node no longer owes its share of the running test.
  void settle(const std::string& id, const std::string& lost_reason);
  // Under the mutex: the workers joined now.
  std::vector<std::pair<std::string, node*>> live_nodes();
  // Waits (under `lock`) for options.expect_workers; throws when too few joined in time.
  void expect_workers(std::unique_lock<std::mutex>& lock, std::stop_token stop);
  // Under the mutex: sends every node its share of a new test and starts the master's own.
  void start_shares(const run_spec& spec, std::chrono::system_clock::time_point start_at);
  // Waits (under `lock`) until every share has ended, feeding `view` once per `period`.
  void await_end(std::unique_lock<std::mutex>& lock, std::stop_token stop, live_view& view,
                 std::chrono::milliseconds period);
  // Takes the reports that came since the last look and judges the figures so far.
  void look(std::unique_lock<std::mutex>& lock, live_view& view);
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
    } else if (in_.has_report()) {
      auto& r = *in_.mutable_report();
      master_.reported(id_, r.test_id(), std::move(*r.mutable_results_json()),
                       {r.sessions_active(), r.sessions_done(), r.sessions_total()});
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
    info.version_differs = info.version != CHAPERON_VERSION;
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

namespace {

std::string counted(std::uint64_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

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

void master_state::reported(const std::string& id, const std::string& test_id, std::string json,
                            node_figures figures) {
  std::lock_guard lock(mutex);
  if (auto it = nodes.find(id); it != nodes.end()) it->second.last_seen = clock::now();
  if (!test || test->id != test_id || !test->pending.contains(id)) return;
  auto& r = test->reports[id];
  r.json = std::move(json);
  r.fresh = true;
  r.figures = figures;
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
  if (!lost_reason.empty()) {
    test->out.lost.push_back(it->second + " (" + lost_reason + ")");
    std::string line = it->second + ": ";
    if (test->test) {
      const auto size = size_of(*test->test, test->shares[id]);
      test->out.lost_sessions += size.sessions;
      test->out.lost_arrivals += size.arrivals;
      line += counted(size.sessions, "session") + ", " + counted(size.arrivals, "arrival");
    } else {
      line += "its share";
    }
    test->out.lost_shares.push_back(line + " missing (" + lost_reason + ")");
  }
  test->pending.erase(it);
  test->reports[id].figures.active = 0;
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
        impl_->figures.test_started(id, report_period(spec));
        std::shared_ptr<const cluster_results> kept;
        try {
          kept = std::make_shared<const cluster_results>(run(spec, stop));
        } catch (...) {
          impl_->figures.test_ended(id, nullptr);
          throw;
        }
        impl_->figures.test_ended(id, kept);
        const auto& out = *kept;
        if (on_results) on_results(id, spec, out);
        if (!out.errors.empty()) throw error(out.errors.front());
        if (!out.lost.empty()) throw error("lost " + out.lost.front());
      });
  impl_->service = std::make_unique<cluster_service>(*impl_);
  impl_->control = make_control_service(*this);
  grpc::ServerBuilder builder;
  const auto& o = impl_->options;
  builder.AddListeningPort(o.listen, server_credentials(o.tls_cert, o.tls_key, o.tls_ca),
                           &impl_->port);
  // Results of many metrics with wide histograms outgrow gRPC's default of 4 MB per message,
  // and a refused message would end the worker's stream (and lose its share).
  builder.SetMaxReceiveMessageSize(max_message_bytes);
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

std::optional<live_figures> master::live() const { return impl_->figures.live(); }

std::optional<live_run> master::live_results() const {
  return impl_->figures.live_results();
}

std::shared_ptr<const cluster_results> master::results(const std::string& id) const {
  return impl_->figures.results(id);
}

std::pair<std::string, std::shared_ptr<const cluster_results>> master::last_results() const {
  return impl_->figures.last_results();
}

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

std::vector<std::pair<std::string, master_state::node*>> master_state::live_nodes() {
  std::vector<std::pair<std::string, node*>> live;
  for (auto& [id, n] : nodes) {
    if (n.link) live.emplace_back(id, &n);
  }
  return live;
}

void master_state::expect_workers(std::unique_lock<std::mutex>& lock, std::stop_token stop) {
  const auto wanted = options.expect_workers;
  if (wanted == 0) return;
  const auto enough = [&] { return live_nodes().size() >= wanted; };
  if (changed.wait_for(lock, stop, options.expect_workers_wait, enough)) return;
  if (stop.stop_requested()) throw error("master: cancelled while waiting for workers");
  throw error("master: " + std::to_string(live_nodes().size()) + " of " +
              std::to_string(wanted) + " expected workers joined within " +
              std::to_string(options.expect_workers_wait.count()) + " ms");
}

namespace {

std::optional<load_test> prepared(const run_spec& spec) {
  try {
    return prepared_load_test(find_load_test(spec.load_test), spec.options({}));
  } catch (const std::exception&) {
    return std::nullopt;  // the nodes say what is wrong with it
  }
}

// The test's own thresholds and the run's; the master judges them on the merged figures.
std::vector<threshold> thresholds_of(const run_spec& spec, const std::optional<load_test>& test) {
  std::vector<threshold> out;
  if (test) out = test->thresholds();
  for (const auto& t : spec.thresholds) {
    try {
      out.push_back(parse_threshold(t));
    } catch (const threshold_error& e) {
      throw error(std::string("master: ") + e.what());
    }
  }
  return out;
}

}  // namespace

void master_state::start_shares(const run_spec& spec,
                                std::chrono::system_clock::time_point start_at) {
  auto live = live_nodes();
  std::vector<std::uint32_t> capacities;
  for (auto& [id, n] : live) capacities.push_back(n->info.capacity);
  if (options.work) capacities.push_back(options.capacity);
  const auto parts = weighted_shares(capacities);
  const auto options_json = spec.to_json().dump();
  for (std::size_t i = 0; i < live.size(); ++i) {
    auto& [id, n] = live[i];
    test->pending[id] = n->info.name;
    test->shares[id] = parts[i];
    test->out.nodes.push_back(n->info.name);
    v1::MasterMessage m;
    auto* start = m.mutable_start();
    start->set_test_id(test->id);
    start->set_load_test(spec.load_test);
    start->set_options_json(options_json);
    start->set_share_index(static_cast<std::uint32_t>(parts[i].index));
    start->set_share_count(static_cast<std::uint32_t>(parts[i].count));
    start->set_share_width(static_cast<std::uint32_t>(parts[i].width));
    start->set_start_at_unix_us(unix_us(start_at));
    n->link->send(std::move(m));
  }
  if (!options.work) return;
  // Its own share is the last; it reports like a worker's, under the id "" (no worker has it).
  test->pending[""] = options.name;
  test->shares[""] = parts.back();
  test->out.nodes.push_back(options.name);
  own_share = std::make_unique<share_run>(
      spec, parts.back(), start_at,
      [this](const run_results* r, const std::string& e) {
        std::lock_guard lock(mutex);
        share_ended("", r, e);
      },
      [this, test_id = test->id](const run_results& so_far, const progress_snapshot& p) {
        reported("", test_id, so_far.to_json().dump(),
                 {p.sessions_active, p.sessions_done, p.sessions_total});
      });
}

void master_state::look(std::unique_lock<std::mutex>& lock, live_view& view) {
  std::vector<std::pair<std::string, std::string>> fresh;
  std::vector<std::string> running;
  node_figures sum;
  look_figures kept;
  for (auto& [id, r] : test->reports) {
    if (r.fresh) fresh.emplace_back(id, std::move(r.json));
    r.fresh = false;
    sum.active += r.figures.active;
    sum.done += r.figures.done;
    sum.total += r.figures.total;
  }
  for (const auto& [id, name] : test->pending) {
    running.push_back(id);
    const auto& f = test->reports[id].figures;
    kept.figures.nodes.push_back({name, 0, 0, f.active, f.done, f.total});
  }
  auto ended = test->out.results;
  lock.unlock();
  for (const auto& [id, json] : fresh) view.report(id, json);
  for (std::size_t i = 0; i < running.size(); ++i) {
    auto& node = kept.figures.nodes[i];
    std::tie(node.requests, node.errors) = view.node_counts(running[i]);
  }
  auto now = view.evaluate(std::move(ended), running, sum);
  // Kept before on_progress is told: what it is told, the API serves already.
  kept.figures.progress = now.progress;
  kept.merged = std::move(now.merged);
  kept.merged.thresholds = std::move(now.verdicts);
  kept.next = std::move(now.next);
  figures.keep(std::move(kept));
  if (options.on_progress) options.on_progress(now.progress);
  lock.lock();
  if (now.abort && test) stop_shares(*now.abort);
}

void master_state::await_end(std::unique_lock<std::mutex>& lock, std::stop_token stop,
                             live_view& view, std::chrono::milliseconds period) {
  const auto all_reported = [&] { return test->pending.empty(); };
  // Nodes report once per period from the common start; looking at the same instants would
  // race them (a look just before a report repeats the figures, the next one doubles them), so
  // the looks fall halfway between reports.
  auto next_look = clock::now() + options.start_delay + period + period / 2;
  bool cancelled = false;
  while (!all_reported()) {
    // Once cancelled, only the shares' ends (and the next look) wake it.
    const bool done = cancelled ? changed.wait_until(lock, next_look, all_reported)
                                : changed.wait_until(lock, stop, next_look, all_reported);
    if (done) break;
    if (!cancelled && stop.stop_requested()) {
      cancelled = true;
      stop_shares("cancelled");
    }
    if (clock::now() >= next_look) {
      look(lock, view);
      next_look += period;
    }
  }
}

cluster_results master::run(const run_spec& spec, std::stop_token stop) {
  auto& st = *impl_;
  const auto& options = st.options;
  std::unique_lock lock(st.mutex);
  if (st.test) throw error("master: a test is running already");
  st.expect_workers(lock, stop);
  if (st.live_nodes().empty() && !options.work) {
    throw error("master: no worker has joined (and the master runs none itself, --no-work)");
  }
  if (st.test) throw error("master: a test is running already");
  auto prepared_test = prepared(spec);
  const auto start_at = std::chrono::system_clock::now() + options.start_delay;
  live_view view(thresholds_of(spec, prepared_test), start_at, report_period(spec));
  auto& test = st.test.emplace();
  test.id = "t" + std::to_string(st.next_id++);
  test.test = std::move(prepared_test);
  st.start_shares(spec, start_at);
  st.await_end(lock, stop, view, report_period(spec));
  auto out = std::move(st.test->out);
  st.test.reset();
  auto own = std::move(st.own_share);
  lock.unlock();
  own.reset();  // its thread has reported; joining it needs the mutex free
  if (!out.lost.empty() || !out.errors.empty()) out.results.partial = true;
  out.results.thresholds = view.verdicts(out.results);
  out.series = std::make_shared<const interval_series>(view.finish(out.results));
  out.report_cpu = view.cpu();
  out.reports = view.reports();
  return out;
}

}  // namespace chaperon::cluster
