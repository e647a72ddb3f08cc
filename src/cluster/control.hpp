#pragma once
// A client of the master's queue (service Control): what `chaperon schedule`, `cancel` and
// `status` do. Each call throws chaperon::error with the master's message when it refuses (wrong
// token, unknown id, malformed spec) or cannot be reached within the timeout.

#include <chrono>
#include <string>
#include <vector>

#include "cluster/master.hpp"
#include "cluster/queue.hpp"
#include "cluster/run_spec.hpp"

namespace chaperon::cluster {

struct control_client_options {
  std::string master;  // HOST:PORT
  std::string token;
  std::chrono::milliseconds timeout{10000};
  // TLS as for a worker (worker_options): tls_ca verifies the master; none set: plain TCP.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
};

struct queue_status {
  std::vector<test_status> running;
  std::vector<test_status> scheduled;
  std::vector<node_info> workers;
};

enum class cancel_scope { one, all, scheduled };

// Queues a test on the master; returns its id.
std::string schedule_test(const control_client_options& o, const run_spec& spec);
// Cancels the test `id` (scope one), everything (all), or every waiting test (scheduled);
// returns how many were cancelled.
std::size_t cancel_tests(const control_client_options& o, cancel_scope scope,
                         const std::string& id = {});
queue_status query_status(const control_client_options& o);

}  // namespace chaperon::cluster
