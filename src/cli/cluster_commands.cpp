#include "cli/cluster_commands.hpp"

#include <iostream>

#include <fmt/format.h>

#include "chaperon/error.hpp"
#include "chaperon/load_test.hpp"
#include "cli/cli_options.hpp"
#include "cli/cluster_nodes.hpp"
#include "cluster/control.hpp"

namespace chaperon::cli {

namespace {

constexpr const char* token_env = "CHAPERON_CLUSTER_TOKEN";

struct client_flags {
  cluster::control_client_options options;
  std::string timeout;  // a duration; "" keeps the default
};

}  // namespace

struct cluster_flags {
  CLI::App* master = nullptr;
  CLI::App* worker = nullptr;
  CLI::App* schedule = nullptr;
  CLI::App* cancel = nullptr;
  CLI::App* status = nullptr;
  master_command master_opts;
  cluster::worker_options worker_opts;
  client_flags client;
  std::string load_test;
  common_options spec;
  std::string tag;     // schedule --tag: none unless given
  std::string format;  // schedule --format: the master's own unless given
  std::string cancel_id;
  bool cancel_all = false;
  bool cancel_scheduled = false;
};

namespace {

void add_token(CLI::App& app, std::string& token) {
  app.add_option("--token", token,
                 "Shared cluster token (default: env CHAPERON_CLUSTER_TOKEN)")
      ->envname(token_env);
}

// --tls-ca, --tls-cert, --tls-key: PEM files; the certificate and its key come together.
void add_tls(CLI::App& app, std::string& ca, std::string& cert, std::string& key,
             const char* ca_help) {
  app.add_option("--tls-ca", ca, ca_help)->check(CLI::ExistingFile);
  auto* c = app.add_option("--tls-cert", cert, "This node's TLS certificate chain (PEM)")
                ->check(CLI::ExistingFile);
  auto* k = app.add_option("--tls-key", key, "The private key of --tls-cert (PEM)")
                ->check(CLI::ExistingFile);
  c->needs(k);
  k->needs(c);
}

// The HTTP control API beside the master (api_server.hpp); its env variables are the original's.
void add_api(CLI::App& m, master_command& c) {
  m.add_option("--api-listen", c.api_listen,
               "Serve the HTTP API on ADDR:PORT (default: env CHAPERON_IP:CHAPERON_PORT when "
               "CHAPERON_PORT is set, CHAPERON_IP defaulting to 127.0.0.1)");
  m.add_option("--api-token", c.api_token,
               "Token the API requires: basic auth user chaperon, or Bearer (default: env "
               "CHAPERON_API_TOKEN)")
      ->envname("CHAPERON_API_TOKEN");
  m.add_flag("--api-insecure", c.api_insecure,
             "Serve the API without a token on a non-loopback address");
}

void add_master(CLI::App& app, cluster_flags& f) {
  auto& o = f.master_opts.options;
  auto* m = f.master = app.add_subcommand(
      "master", "Serve a cluster: workers join, scheduled tests run on every node in turn");
  m->add_option("--listen", o.listen, "ADDR:PORT to serve workers and clients on")->required();
  add_token(*m, o.token);
  m->add_flag_function("--no-work", [&o](std::int64_t) { o.work = false; },
                       "Run no sessions on the master itself (by default it takes a share too)");
  m->add_option("--expect-workers", o.expect_workers,
                "Start a test only once this many workers have joined");
  m->add_option("--expect-workers-wait", f.master_opts.expect_workers_wait,
                "How long a test waits for --expect-workers before it fails (default 60s)");
  m->add_option("--capacity", o.capacity,
                "Sessions the master itself can hold (its weight in shares; default: an equal "
                "part)");
  m->add_option("--name", o.name, "This node's name in results and status");
  add_api(*m, f.master_opts);
  add_tls(*m, o.tls_ca, o.tls_cert, o.tls_key,
          "Require peers to present a certificate signed by this CA (PEM)");
  f.master_opts.exports.tag = "cluster";
  add_export_options(*m, f.master_opts.exports);
  m->footer("Every test's files carry its id: --output out.csv writes out-test-1.csv, ...; the "
            "default name is results/<date>/<load test>/cluster-test-1-<unix time>.csv.");
}

void add_worker(CLI::App& app, cluster_flags& f) {
  auto& o = f.worker_opts;
  auto* w = f.worker = app.add_subcommand(
      "worker", "Join a master and run the shares of its tests (reconnects when it goes away)");
  w->add_option("--master", o.master, "HOST:PORT of the master")->required();
  add_token(*w, o.token);
  w->add_option("-t,--threads", o.threads, "Engine threads (default: one per core)");
  w->add_option("--capacity", o.capacity, "Sessions this node can hold (its weight in shares)");
  w->add_option("--name", o.name, "This node's name (default: the host name)");
  add_tls(*w, o.tls_ca, o.tls_cert, o.tls_key, "Verify the master's certificate with this CA (PEM)");
}

void add_client(CLI::App& app, client_flags& c) {
  app.add_option("--master", c.options.master, "HOST:PORT of the master")->required();
  add_token(app, c.options.token);
  app.add_option("--timeout", c.timeout, "How long to wait for the master (default 10s)");
  add_tls(app, c.options.tls_ca, c.options.tls_cert, c.options.tls_key,
          "Verify the master's certificate with this CA (PEM)");
}

void add_clients(CLI::App& app, cluster_flags& f) {
  f.schedule = app.add_subcommand("schedule", "Queue a load test on a master; prints its id");
  f.schedule->add_option("load_test", f.load_test, "Name of the load test (see `list`)")
      ->required();
  add_spec_options(*f.schedule, f.spec);
  add_model_options(*f.schedule, f.spec.model, true);
  add_count_options(*f.schedule, f.spec);
  f.schedule->add_option("--tag", f.tag,
                         "Names the test's result files on the master; shown in its report");
  f.schedule->add_option("-f,--format", f.format,
                         "The format the master writes this test's results in (default: its own)")
      ->check(CLI::IsMember(exporter_names(), CLI::ignore_case));
  add_client(*f.schedule, f.client);

  f.cancel = app.add_subcommand("cancel", "Cancel a test (running or queued) on a master");
  auto* id = f.cancel->add_option("id", f.cancel_id, "The test's id (from schedule or status)");
  auto* all = f.cancel->add_flag("--all", f.cancel_all, "Cancel the running test and the queue");
  auto* queued = f.cancel->add_flag("--scheduled", f.cancel_scheduled,
                                    "Cancel every queued test (the running one goes on)");
  id->excludes(all, queued);
  all->excludes(queued);
  add_client(*f.cancel, f.client);

  f.status = app.add_subcommand("status", "List a master's running and queued tests and workers");
  add_client(*f.status, f.client);
}

cluster::control_client_options client_options(const client_flags& c) {
  auto o = c.options;
  if (!c.timeout.empty()) {
    auto t = parse_duration_text(c.timeout);
    if (!t || t->count() <= 0)
      throw CLI::ValidationError("--timeout", "'" + c.timeout + "' is not a duration > 0");
    o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*t);
  }
  return o;
}

// The spec as every node will run it, checked here first so that a bad flag is named now.
cluster::run_spec make_spec(const std::string& name, const common_options& o,
                            const std::string& tag, const std::string& format) {
  // Throws naming a bad --config, --threshold, --rate, ...
  const auto options = make_run_options(o);
  find_load_test(name);                      // throws naming an unknown load test
  cluster::run_spec spec;
  spec.load_test = name;
  spec.config = options.config;
  spec.threads = o.threads;
  spec.per_session = o.per_session;
  spec.metrics = split_comma_list(o.metrics);
  spec.thresholds = o.thresholds;
  spec.interval = o.interval;
  spec.rate = o.model.rate;
  spec.duration = o.model.duration;
  spec.stages = o.model.stages;
  spec.max_active = o.model.max_active;
  spec.sessions = o.sessions;
  spec.scale = o.scale;
  spec.tag = tag;
  spec.format = format;
  return spec;
}

void print_tests(const char* title, const std::vector<cluster::test_status>& tests) {
  std::cout << title << ":" << (tests.empty() ? " (none)" : "") << "\n";
  for (const auto& t : tests) {
    std::cout << fmt::format("  {}  {}  {}", t.id, t.load_test, cluster::to_string(t.state))
              << (t.error.empty() ? "" : "  " + t.error) << "\n";
  }
}

int status(const cluster::control_client_options& o) {
  const auto s = cluster::query_status(o);
  print_tests("running", s.running);
  print_tests("scheduled", s.scheduled);
  std::cout << "workers:" << (s.workers.empty() ? " (none)" : "") << "\n";
  for (const auto& w : s.workers) {
    std::cout << fmt::format("  {}  {}  capacity {}  threads {}  version {}{}\n", w.id, w.name,
                             w.capacity, w.threads, w.version,
                             w.version_differs ? " (differs from the master's)" : "");
  }
  return 0;
}

int cancel(const cluster_flags& f, const cluster::control_client_options& o) {
  if (f.cancel_id.empty() && !f.cancel_all && !f.cancel_scheduled)
    throw CLI::ValidationError("cancel", "name a test id, --all or --scheduled");
  const auto scope = f.cancel_all         ? cluster::cancel_scope::all
                     : f.cancel_scheduled ? cluster::cancel_scope::scheduled
                                          : cluster::cancel_scope::one;
  std::cout << "cancelled " << cluster::cancel_tests(o, scope, f.cancel_id) << "\n";
  return 0;
}

}  // namespace

cluster_commands::cluster_commands(CLI::App& app) : flags_(std::make_unique<cluster_flags>()) {
  add_master(app, *flags_);
  add_worker(app, *flags_);
  add_clients(app, *flags_);
}

cluster_commands::~cluster_commands() = default;

std::optional<int> cluster_commands::run() const {
  const auto& f = *flags_;
  if (f.master->parsed()) return run_master(f.master_opts);
  if (f.worker->parsed()) return run_worker(f.worker_opts);
  if (!f.schedule->parsed() && !f.cancel->parsed() && !f.status->parsed()) return std::nullopt;
  const auto client = client_options(f.client);
  const auto spec = f.schedule->parsed() ? make_spec(f.load_test, f.spec, f.tag, f.format) : cluster::run_spec{};
  try {
    if (f.schedule->parsed()) {
      std::cout << cluster::schedule_test(client, spec) << "\n";
      return 0;
    }
    return f.cancel->parsed() ? cancel(f, client) : status(client);
  } catch (const error& e) {
    // Refused or unreachable: not a usage error.
    std::cerr << "chaperon: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace chaperon::cli
