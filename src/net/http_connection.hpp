#pragma once
// One keep-alive HTTP/1.1 connection (plain TCP or TLS) owned by one session.
// Asio stays inside http_connection.cpp; this header is light.

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "chaperon/error.hpp"
#include "net/response_parser.hpp"

namespace chaperon::net {

class io_services;

struct endpoint_key {
  std::string host;
  std::uint16_t port = 0;
  bool tls = false;
  bool verify = true;
  bool operator==(const endpoint_key&) const = default;
};

// What an exchange takes from the session's settings besides its endpoint: the timeouts, and the
// connection options. The pointers point into the session's settings, which outlive the exchange.
struct exchange_timeouts {
  // Connecting: the host name lookup, the TCP connect and the TLS handshake.
  std::chrono::steady_clock::duration connect{std::chrono::seconds(5)};
  std::chrono::steady_clock::duration request{std::chrono::seconds(10)};
  // The WebSocket connect timeout (config ws.connect_timeout); zero: `connect`.
  std::chrono::steady_clock::duration ws_connect{};
  // Local addresses to connect from, round-robin (config source_addresses); null: the kernel's
  // choice.
  const std::vector<std::string>* sources = nullptr;
  // The CA certificates (PEM file, config ca_file) that verify servers instead of the system's;
  // null or empty: the system's.
  const std::string* ca_file = nullptr;

  const std::string& ca_file_or_none() const noexcept {
    static const std::string none;
    return ca_file ? *ca_file : none;
  }
};

// Why an exchange failed (its name appears in error metrics: "Error timeout get(...)"), and the
// system error behind it.
struct exchange_outcome {
  std::error_code error;
  failure kind = failure::none;
};

class http_connection {
 public:
  http_connection(io_services& services, endpoint_key key);
  ~http_connection();
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  const endpoint_key& key() const noexcept;
  bool is_open() const noexcept;

  // The caller serialises the request here before start().
  std::string& request_buffer() noexcept;
  response_parser& parser() noexcept;

  // Connects if needed, writes request_buffer(), reads one response into parser(), then stores the
  // outcome in *out and resumes `waiter` on the engine thread. A reused connection that the server
  // closed in the meantime is reopened once, transparently.
  void start(bool head_request, bool store_body, const exchange_timeouts& timeouts,
             std::coroutine_handle<> waiter, exchange_outcome* out);
  // Aborts the pending exchange (it completes as `cancelled`) and closes the connection.
  void cancel() noexcept;
  void close() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chaperon::net
