#pragma once
// WebSocket options (a fluent builder), messages and results, as used by session::ws_connect,
// ws_send, ws_recv and ws_await_recv.
//
//   co_await s.ws_connect("/ws/echo");
//   co_await s.ws_send("hello");
//   auto r = co_await s.ws_recv(chaperon::ws_options{}.timeout(std::chrono::seconds(2)));
//   if (r.ok() && r.message.data == "hello") ...
//
// Like HTTP, failures are values: a refused connect, a rejected upgrade, a receive timeout or a
// connection the server closed come back in the result and are recorded as error metrics.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "chaperon/http.hpp"

namespace chaperon {

class session;

// One complete message (fragments already joined).
struct ws_message {
  bool binary = false;
  std::string data;
  nlohmann::json json;  // the decoded text when decode_json() was asked (null otherwise)
};

struct ws_result {
  // "" on success; otherwise what went wrong, as named in error metrics: "connect",
  // "connect_timeout", "resolve", "tls", "rejected" (the upgrade got another status), "protocol",
  // "timeout", "closed" (the server closed the connection), "reset", "not_connected", "decode".
  std::string error;
  std::error_code code;
  ws_message message;  // ws_recv / ws_await_recv: the message received
  int status = 0;      // ws_connect: the HTTP status of the upgrade response
  std::uint16_t close_code = 0;  // when the server closed with a close frame: its code
  std::string url;
  std::chrono::microseconds duration{0};

  bool ok() const noexcept { return error.empty(); }
};

using ws_result_callback = std::function<void(session&, const ws_result&)>;
using ws_predicate = std::function<bool(const ws_message&)>;

// Options of one WebSocket action. Every setter returns *this.
class ws_options {
 public:
  // The named connection to use ("" is the session's default one). ws_connect opens it under
  // this name; later actions pick it by name.
  ws_options& connection(std::string name) {
    connection_ = std::move(name);
    return *this;
  }
  // Receive (or connect) timeout. Default: config `ws_timeout`, else 10 s. A receive never waits
  // forever.
  ws_options& timeout(std::chrono::milliseconds t) {
    timeout_ = t;
    return *this;
  }
  // Parse received text as JSON into ws_message::json (an invalid message is a "decode" error).
  ws_options& decode_json(bool on = true) {
    decode_json_ = on;
    return *this;
  }
  // ws_connect: extra headers for the upgrade request (besides the session's cookies and
  // basic auth, which always go with it).
  ws_options& header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  // Called with the result of the action (success or failure).
  ws_options& with_result(ws_result_callback cb) {
    with_result_ = std::move(cb);
    return *this;
  }
  // Record metrics under this URL instead of the connection's.
  ws_options& metrics_url(std::string url) {
    metrics_url_ = std::move(url);
    return *this;
  }

  const std::string& connection_name() const noexcept { return connection_; }
  std::chrono::milliseconds timeout_value() const noexcept { return timeout_; }
  bool decodes_json() const noexcept { return decode_json_; }
  const header_list& header_values() const noexcept { return headers_; }
  const ws_result_callback& result_callback() const noexcept { return with_result_; }
  const std::string& metrics_url_value() const noexcept { return metrics_url_; }

 private:
  std::string connection_;
  std::chrono::milliseconds timeout_{0};
  bool decode_json_ = false;
  header_list headers_;
  ws_result_callback with_result_;
  std::string metrics_url_;
};

}  // namespace chaperon
