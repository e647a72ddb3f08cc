// chaperon::main: the command line of every binary that holds load tests.
#include <iostream>

#include <CLI/CLI.hpp>

#include "chaperon/main.hpp"
#include "chaperon/run.hpp"
#include "cli/cli_options.hpp"
#include "cli/cluster_commands.hpp"
#include "cli/merge.hpp"
#include "cli/quick.hpp"

namespace chaperon {

int main(int argc, char** argv) {
  CLI::App app{"chaperon: load and performance tests for HTTP services, written as code"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("chaperon ") + CHAPERON_VERSION);

  auto* list = app.add_subcommand("list", "List the load tests in this binary");

  cli::common_options run_opts;
  std::string test_name;
  auto* run = app.add_subcommand("run", "Run a registered load test");
  run->add_option("load_test", test_name, "Name of the load test (see `list`)")->required();
  cli::add_common_options(*run, run_opts);
  cli::add_count_options(*run, run_opts);
  cli::add_model_options(*run, run_opts.model, true);

  cli::common_options quick_opts;
  quick_opts.tag = "quick";
  cli::quick_options quick;
  auto* q = app.add_subcommand("quick", "Loop requests on one URL from many sessions");
  q->add_option("url", quick.url, "Absolute http(s) URL")->required();
  q->add_option("-s,--sessions", quick.sessions, "Concurrent sessions (without --rate/--stages)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  q->add_option("-d,--duration", quick.duration, "How long each session loops (e.g. 10s, 500ms)");
  q->add_option("-m,--method", quick.method, "HTTP method");
  q->add_option("-H,--header", quick.headers, "Request header 'Name: value', repeatable");
  q->add_flag("-k,--insecure", quick.insecure, "Do not verify TLS certificates");
  cli::add_common_options(*q, quick_opts);
  cli::add_model_options(*q, quick_opts.model, false);

  cli::merge_options merge_opts;
  auto* merge = app.add_subcommand(
      "merge", "Add up raw results (--format raw), e.g. the shares of a test run with --share");
  cli::add_merge_options(*merge, merge_opts);

  cli::cluster_commands cluster(app);

  try {
    app.parse(argc, argv);
    if (auto status = cluster.run()) return *status;
    if (merge->parsed()) return cli::merge(merge_opts);
    if (list->parsed()) {
      for (const auto& name : registered_load_tests()) std::cout << name << "\n";
      return 0;
    }
    if (run->parsed()) return cli::execute(find_load_test(test_name), run_opts);
    // quick's --duration is also the duration of --rate.
    if (!quick_opts.model.rate.empty() && quick_opts.model.stages.empty())
      quick_opts.model.duration = quick.duration;
    if (auto model = cli::make_load_model(quick_opts.model)) {
      if (model->kind == load_kind::arrival_rate) quick.single = true;
      // Sessions loop until the ramp stops them.
      if (model->kind == load_kind::ramping_sessions)
        quick.duration = std::to_string(model->duration().count()) + "us";
    }
    return cli::execute(cli::make_quick_load_test(quick), quick_opts);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that exit 0; every real usage error exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::cerr << "chaperon: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace chaperon
