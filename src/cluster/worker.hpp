#pragma once
// A cluster worker: connects to the master (worker-initiated: it needs no inbound port), joins
// with the shared token, and runs the shares of load tests the master sends, reporting their
// results back. When the master goes away it stops its share gracefully and reconnects with
// backoff; it never exits on its own.
//
// No gRPC type appears here: the stream and the channel live in worker.cpp.

#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>

namespace chaperon::cluster {

struct worker_options {
  std::string master;  // HOST:PORT
  std::string token;
  std::string name;    // "" -> the host name
  std::uint32_t capacity = 0;
  std::size_t threads = 0;  // engine threads for the shares it runs; 0: one per core
  std::chrono::milliseconds heartbeat{1000};
  // The master is taken as gone when nothing came from it for this long.
  std::chrono::milliseconds lost_after{3000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  // TLS to the master: tls_ca verifies the master's certificate (PEM); tls_cert and tls_key
  // are this worker's own, for a master that asks for one. None set: plain TCP.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
};

// Serves the master until `stop` is requested; while a share runs, reports everything it has
// measured so far to the master once per interval. Throws chaperon::error when the master
// refuses this worker (a wrong token) or a TLS file cannot be read: retrying cannot help then.
void run_worker(const worker_options& options, std::stop_token stop);

}  // namespace chaperon::cluster
