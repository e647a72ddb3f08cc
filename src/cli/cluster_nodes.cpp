#include "cli/cluster_nodes.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <set>

#include <CLI/CLI.hpp>

#include "api/api_server.hpp"
#include "chaperon/error.hpp"
#include "chaperon/load_test.hpp"
#include "chaperon/run.hpp"
#include "cli/console.hpp"
#include "cli/export_results.hpp"

namespace chaperon::cli {

namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "(none)" : out;
}

// What the master prints and writes: a progress line while a test runs (labelled with its id),
// and a summary and the exported results when it ends. The progress comes from the master's
// thread, the results from its queue's, so the console is shared under a lock.
class master_console {
 public:
  master_console(const common_options& exports, std::optional<s3_upload> s3)
      : exports_(exports), s3_(std::move(s3)), progress_(!exports.no_progress) {}

  void attach(cluster::master* m) { master_ = m; }

  void progress(const progress_snapshot& p) {
    std::lock_guard lock(mutex_);
    if (auto* m = master_.load()) {
      auto running = m->queue().running();
      progress_.set_prefix(running.empty() ? "" : running.front().id + "  ");
    }
    progress_(p);
  }

  void finished(const std::string& id, const cluster::run_spec& spec,
                const cluster::cluster_results& out) {
    std::lock_guard lock(mutex_);
    progress_.finish();
    reported_.insert(id);
    // Cancelled, stopped, or missing a lost node's share: the figures are not the whole test.
    const bool partial = !out.ok() || out.results.partial;
    std::cout << "test " << id << " (" << spec.load_test << ") "
              << (partial ? "finished with PARTIAL results" : "finished") << " on "
              << joined(out.nodes) << "\n";
    for (const auto& lost : out.lost) std::cout << "  lost node: " << lost << "\n";
    if (!out.lost.empty()) {
      std::cout << "  lost share: " << out.lost_sessions << " sessions, " << out.lost_arrivals
                << " arrivals did not run\n";
    }
    for (const auto& share : out.lost_shares) std::cout << "  lost share of " << share << "\n";
    for (const auto& e : out.errors) std::cout << "  error: " << e << "\n";
    try {
      json info = report_of(spec, out);
      auto exports = exports_;
      if (!spec.format.empty()) exports.format = spec.format;
      export_results(
          {out.results, out.series.get(), std::move(info), spec.load_test, id, spec.tag},
          exports, s3_);
    } catch (const std::exception& e) {
      std::cout << "test " << id << ": results not written: " << e.what() << "\n";
    }
    std::cout << std::flush;
  }

  // Called every 200 ms from the main thread: a line when a test starts, and one for each test
  // that ended without results (it failed before any node ran it, or was cancelled while it
  // waited), which the results handler never sees. The queue numbers its tests test-1, test-2,
  // ... (queue.cpp), so the scan walks them in order from the first one not yet settled.
  void watch(const cluster::test_queue& queue) {
    std::lock_guard lock(mutex_);
    bool settled = true;  // every test before the one scanned has ended and been told about
    for (auto k = next_;; ++k) {
      const auto id = "test-" + std::to_string(k);
      const auto s = queue.status(id);
      if (!s) return;
      if (s->state == cluster::test_state::scheduled) {
        settled = false;
        continue;
      }
      if (s->state == cluster::test_state::running) {
        if (announced_ < k) {
          progress_.finish();
          std::cout << "test " << id << " (" << s->load_test << ") started" << std::endl;
          announced_ = k;
        }
        settled = false;
        continue;
      }
      if (told_.insert(id).second && reported_.erase(id) == 0) {
        progress_.finish();
        std::cout << "test " << id << " (" << s->load_test << ") " << cluster::to_string(s->state)
                  << (s->error.empty() ? "" : ": " + s->error) << std::endl;
      }
      if (settled) {
        told_.erase(id);
        next_ = k + 1;
      }
    }
  }

 private:
  // config_report of the test as every node prepared it, and the cluster's part of the story.
  static json report_of(const cluster::run_spec& spec, const cluster::cluster_results& out) {
    json info = json::object();
    try {
      const auto options = spec.options({});
      info = config_report(prepared_load_test(find_load_test(spec.load_test), options),
                           spec.config, out.results);
    } catch (const std::exception&) {
      // A test this binary lacks still gets its (empty) results and the reason.
      info = {{"load_test", spec.load_test}, {"runtime_config", spec.config},
              {"partial", out.results.partial}};
    }
    if (!spec.tag.empty()) info["tag"] = spec.tag;
    info["cluster"] = {{"nodes", out.nodes},
                       {"lost", out.lost},
                       {"errors", out.errors},
                       {"lost_sessions", out.lost_sessions},
                       {"lost_arrivals", out.lost_arrivals},
                       {"lost_shares", out.lost_shares}};
    return info;
  }

  const common_options& exports_;
  std::optional<s3_upload> s3_;
  std::mutex mutex_;
  progress_printer progress_;
  std::atomic<cluster::master*> master_{nullptr};
  std::set<std::string> reported_;  // tests whose results were written
  std::set<std::string> told_;      // ended tests after next_ that watch() has told about
  std::uint64_t next_ = 1;          // the first test that has not ended or not been told about
  std::uint64_t announced_ = 0;     // the last test whose start was printed
};

std::string listen_host(const std::string& listen) {
  auto colon = listen.rfind(':');
  return colon == std::string::npos ? listen : listen.substr(0, colon);
}

// --api-listen, or else CHAPERON_PORT with CHAPERON_IP as the original reads them; "" for none.
std::string api_listen_of(const master_command& command) {
  if (!command.api_listen.empty()) return command.api_listen;
  const char* port = std::getenv("CHAPERON_PORT");
  if (port == nullptr || *port == '\0') return "";
  const std::string p = port;
  if (p.find_first_not_of("0123456789") != std::string::npos || p.size() > 5 ||
      std::stoi(p) > 65535)
    throw error("env CHAPERON_PORT: '" + p + "' is not a port number");
  const char* ip = std::getenv("CHAPERON_IP");
  std::string host = ip != nullptr && *ip != '\0' ? ip : "127.0.0.1";
  if (host.find(':') != std::string::npos && !host.starts_with('[')) host = "[" + host + "]";
  return host + ":" + p;
}

// The API over the master's queue, or none when it was not asked for. Throws chaperon::error
// naming the address when it refuses to serve (a taken port, no token on a public address).
std::unique_ptr<api::api_server> start_api(const master_command& command, cluster::master& m) {
  if (command.api_listen.empty()) return nullptr;
  api::api_options options;
  options.listen = command.api_listen;
  options.token = command.api_token;
  options.insecure = command.api_insecure;
  return std::make_unique<api::api_server>(m, std::move(options));
}

// Watches the queue until a signal stops the master.
void serve(master_console& console, cluster::master& m, std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any cv;
  std::unique_lock lock(mutex);
  while (!stop.stop_requested()) {
    console.watch(m.queue());
    cv.wait_for(lock, stop, std::chrono::milliseconds(200), [] { return false; });
  }
}

}  // namespace

int run_master(master_command command) {
  auto& options = command.options;
  if (!command.expect_workers_wait.empty()) {
    auto wait = parse_duration_text(command.expect_workers_wait);
    if (!wait || wait->count() < 0)
      throw CLI::ValidationError("--expect-workers-wait",
                                 "'" + command.expect_workers_wait + "' is not a duration");
    options.expect_workers_wait = std::chrono::duration_cast<std::chrono::milliseconds>(*wait);
  }
  make_export_options(command.exports);  // a bad --format fails now, not after the first test
  command.api_listen = api_listen_of(command);
  master_console console(command.exports, s3_upload_of(command.exports));
  options.on_progress = [&console](const progress_snapshot& p) { console.progress(p); };

  interrupt_watch interrupts("stopping the master (the running test stops and its results are "
                             "written; signal again to exit at once)");
  cluster::master m(options, [&console](const std::string& id, const cluster::run_spec& spec,
                                        const cluster::cluster_results& out) {
    console.finished(id, spec, out);
  });
  // After the master, and gone before it: the API serves the master's queue. Up before the
  // ready lines, so that they mean every port is served.
  auto api = start_api(command, m);
  console.attach(&m);
  std::cout << "chaperon master: listening on " << listen_host(options.listen) << ":" << m.port()
            << (options.work ? "" : " (runs no sessions itself)") << std::endl;
  if (api) {
    std::cout << "chaperon master: api listening on http://" << listen_host(command.api_listen)
              << ":" << api->port() << (command.api_token.empty() ? " (no token)" : "")
              << std::endl;
  }
  serve(console, m, interrupts.token());
  api.reset();
  const auto cancelled = m.queue().cancel_all();
  std::cout << "chaperon master: stopped; " << cancelled << " test(s) cancelled" << std::endl;
  console.attach(nullptr);
  return 0;
}

int run_worker(const cluster::worker_options& options) {
  interrupt_watch interrupts(
      "stopping the worker (its share stops; signal again to exit at once)");
  std::cout << "chaperon worker: joining the master at " << options.master << std::endl;
  try {
    cluster::run_worker(options, interrupts.token());
  } catch (const error& e) {
    std::cerr << "chaperon worker: " << e.what() << std::endl;
    return 1;
  }
  std::cout << "chaperon worker: stopped" << std::endl;
  return 0;
}

}  // namespace chaperon::cli
