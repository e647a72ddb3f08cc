#pragma once
// One client WebSocket connection (plain TCP or TLS) owned by one session. Frames that arrive
// while nobody receives are kept, in order, as whole messages; pings are answered with pongs at
// once; a close frame, a reset or a protocol error fail the pending and every later receive
// promptly. Asio stays inside ws_connection.cpp; this header is light.

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "net/http_connection.hpp"
#include "net/ws_frame.hpp"

namespace chaperon::net {

class io_services;

struct ws_outcome {
  std::error_code error;
  failure kind = failure::none;
  std::uint16_t close_code = 0;  // the server's close code, when it sent one
};

struct ws_inbound {
  bool binary = false;
  std::string data;
};

class ws_connection {
 public:
  ws_connection(io_services& services, endpoint_key key);
  ~ws_connection();
  ws_connection(const ws_connection&) = delete;
  ws_connection& operator=(const ws_connection&) = delete;

  // Connected and upgraded, and neither side has closed.
  bool is_open() const noexcept;

  // The URL metrics are recorded under.
  const std::string& metric_url() const noexcept;
  // Connections to the same URL may share one string (thousands of sessions connect to one).
  void set_metric_url(std::shared_ptr<const std::string> url) noexcept {
    metric_url_ = std::move(url);
  }

  // Before start_connect(): the timeouts of the connect, and the Sec-WebSocket-Key of the
  // upgrade request, which the caller then serialises into request_buffer(). Both are kept by the
  // connection until the upgrade is accepted, not in the caller's coroutine frame.
  void prepare_connect(const exchange_timeouts& timeouts, std::string key);
  const std::string& upgrade_key() const noexcept;
  std::string& request_buffer() noexcept;
  // The upgrade response, once start_connect() has completed without a transport failure.
  const response& upgrade_response() const noexcept;

  // Connects, writes request_buffer(), reads the upgrade response; then stores the outcome and
  // resumes `waiter`. A response other than 101 is not a transport failure: the caller checks it
  // and calls accept_upgrade() when it is acceptable (bytes after it belong to the WebSocket).
  void start_connect(std::coroutine_handle<> waiter, ws_outcome* out);
  void accept_upgrade();

  // Encodes and sends one message. True when it went out at once (no need to wait); otherwise
  // `waiter` is resumed once it has been written or the write failed (outcome in *out).
  bool send(ws_opcode op, std::string_view payload, std::uint32_t mask_key,
            std::coroutine_handle<> waiter, ws_outcome* out);

  // Whether a message (or a final failure) is ready for receive().
  bool ready() const noexcept;
  // Waits until ready() or the deadline (then *out says timeout), and resumes `waiter`.
  void wait(std::chrono::steady_clock::time_point deadline, std::coroutine_handle<> waiter,
            ws_outcome* out);
  // Takes the oldest buffered message. When none is buffered, stores why (closed, reset,
  // protocol, ...) in *out and returns false.
  bool receive(ws_inbound& message, ws_outcome* out);

  // Aborts a pending connect, send or wait (it completes as `cancelled`) and closes.
  void cancel() noexcept;
  // Sends a close frame (best effort, without waiting for the server's) and closes.
  void close(std::uint32_t mask_key) noexcept;

  // Bytes this connection holds in user space (buffered messages, partial frames, write queue),
  // for memory accounting.
  std::size_t buffered_bytes() const noexcept;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
  std::shared_ptr<const std::string> metric_url_;
};

}  // namespace chaperon::net
