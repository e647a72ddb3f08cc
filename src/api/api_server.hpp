#pragma once
// The master's HTTP control API (routes in routes.hpp): schedule, list and cancel load tests on a
// running master. Served over HTTP/1.1 on threads of its own, never on the engine threads, so a
// busy API does not slow a running test.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "api/option_parser.hpp"
#include "cluster/master.hpp"

namespace chaperon::api {

struct api_limits {
  std::size_t max_body = 1 << 20;       // larger request bodies get 413
  std::size_t max_header = 16 * 1024;   // larger request heads get 431
  std::size_t max_connections = 1000;   // connections beyond are closed as soon as accepted
  // A request must arrive whole within this time of its first byte being awaited (slow
  // clients are cut), and an idle keep-alive connection is closed after it.
  std::chrono::milliseconds timeout{5000};
  // Event streams (GET /load_tests/<id>/events) open at once; more get 503.
  std::size_t max_streams = 32;
  // How often a stream looks for new live figures (it sends only new ones).
  std::chrono::milliseconds stream_poll{200};
};

struct api_options {
  std::string listen = "127.0.0.1:0";  // IP:PORT ([v6]:PORT); port 0 picks a free one
  std::string token;                   // empty: no auth, allowed on loopback only
  bool insecure = false;               // allow an empty token on any address
  api_limits limits;
  std::size_t threads = 1;             // threads serving requests
  std::shared_ptr<const option_parser> parser;  // null: default_option_parser
};

struct api_state;  // api_server.cpp

class api_server {
 public:
  // Starts serving `m`'s queue. Throws chaperon::error naming the problem when options.listen
  // is malformed or taken, or when the token is empty on a non-loopback address without
  // options.insecure.
  api_server(cluster::master& m, api_options options);
  // Stops accepting, closes every connection and joins the threads.
  ~api_server();
  api_server(const api_server&) = delete;
  api_server& operator=(const api_server&) = delete;

  int port() const noexcept;
  // Connections open now (for tests and diagnostics).
  std::size_t connections() const noexcept;

 private:
  std::unique_ptr<api_state> impl_;
};

}  // namespace chaperon::api
