#pragma once
// The processes of a cluster as the command line runs them: a master that serves its queue and
// exports every test's results, and a worker; both until SIGINT or SIGTERM.

#include <string>

#include "cli/cli_options.hpp"
#include "cluster/master.hpp"
#include "cluster/worker.hpp"

namespace chaperon::cli {

struct master_command {
  cluster::master_options options;
  std::string expect_workers_wait;  // a duration ("60s"); "" keeps the default
  common_options exports;           // only the export options are used
  // The HTTP control API beside the master, served when api_listen is set; empty, env
  // CHAPERON_PORT (with CHAPERON_IP, default 127.0.0.1) sets it, as in the original.
  std::string api_listen;
  std::string api_token;
  bool api_insecure = false;
};

// Exit status: 0 after a signal stopped it; 2 for bad options, or when the master or its API
// cannot serve (a taken port, an API without a token on a non-loopback address).
int run_master(master_command command);
// Exit status: 0 after a signal stopped it; 1 when the master refused this worker.
int run_worker(const cluster::worker_options& options);

}  // namespace chaperon::cli
