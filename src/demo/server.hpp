// Connection plumbing of the demo target: accepts HTTP/1.1 connections on a loopback address
// and answers them through a `router`, handing WebSocket upgrades to ws_session.cpp. Beast and
// Asio stay inside those two files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace chaperon::demo {

class router;

struct server_options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 picks an ephemeral port
  unsigned threads = 1;
};

class server {
 public:
  // Binds and listens, so that connections queue up before run() is called. Fails (nullptr and
  // `error` set) on an unparsable or non-loopback address or when the port cannot be bound.
  [[nodiscard]] static std::unique_ptr<server> open(const server_options& options, router& routes,
                                                    std::string& error);

  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  // e.g. "http://127.0.0.1:8080" ("http://[::1]:8080" for IPv6)
  [[nodiscard]] std::string url() const;

  // Serves on `threads` threads (the caller's included) until SIGINT, SIGTERM or stop().
  void run();
  // Thread-safe; makes run() return. Open connections are dropped.
  void stop();

 private:
  struct impl;
  explicit server(std::unique_ptr<impl> state);

  std::unique_ptr<impl> impl_;
};

}  // namespace chaperon::demo
