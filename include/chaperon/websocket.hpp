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
#include <utility>

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
  // Why the action failed (failure::none on success), as named in error metrics: connect,
  // connect_timeout, dns, tls, rejected (the upgrade got another status than 101), protocol,
  // timeout, closed (the server closed the connection), reset, not_connected, decode, ...
  failure error = failure::none;
  std::error_code code;  // the underlying system error of a failure, empty otherwise
  ws_message message;    // ws_recv / ws_await_recv: the message received
  int status = 0;        // ws_connect: the HTTP status of the upgrade response
  std::uint16_t close_code = 0;  // when the server closed with a close frame: its code
  std::string url;
  std::chrono::microseconds duration{0};

  bool ok() const noexcept { return error == failure::none; }
};

using ws_result_callback = std::function<void(session&, const ws_result&)>;
using ws_predicate = std::function<bool(const ws_message&)>;

// Options of one WebSocket action. Every setter returns the options; on a temporary
// (`ws_options{}.connection("feed").timeout(2s)`) as an rvalue, so it moves into the action.
//
// An options object is one pointer, and copies share what is set until one of them is changed
// (see http_options).
class ws_options {
 public:
  ws_options() noexcept = default;
  ws_options(const ws_options& other) noexcept;
  ws_options(ws_options&& other) noexcept;
  ws_options& operator=(const ws_options& other) noexcept;
  ws_options& operator=(ws_options&& other) noexcept;
  ~ws_options();

  // The named connection to use ("" is the session's default one). ws_connect opens it under
  // this name; later actions pick it by name.
  ws_options& connection(std::string name) &;
  ws_options&& connection(std::string name) && { return std::move(connection(std::move(name))); }
  // Receive (or connect) timeout. Default: config `ws_timeout`, else 10 s. A receive never waits
  // forever.
  ws_options& timeout(std::chrono::milliseconds t) &;
  ws_options&& timeout(std::chrono::milliseconds t) && { return std::move(timeout(t)); }
  // Parse received text as JSON into ws_message::json (an invalid message is failure::decode).
  ws_options& decode_json(bool on = true) &;
  ws_options&& decode_json(bool on = true) && { return std::move(decode_json(on)); }
  // ws_connect: extra headers for the upgrade request (besides the session's cookies and
  // basic auth, which always go with it).
  ws_options& header(std::string name, std::string value) &;
  ws_options&& header(std::string name, std::string value) && {
    return std::move(header(std::move(name), std::move(value)));
  }
  // Called with the result of the action (success or failure).
  ws_options& with_result(ws_result_callback cb) &;
  ws_options&& with_result(ws_result_callback cb) && {
    return std::move(with_result(std::move(cb)));
  }
  // Record metrics under this URL instead of the connection's.
  ws_options& metrics_url(std::string url) &;
  ws_options&& metrics_url(std::string url) && { return std::move(metrics_url(std::move(url))); }

  const std::string& connection_name() const noexcept;
  std::chrono::milliseconds timeout_value() const noexcept;
  bool decodes_json() const noexcept;
  const header_list& header_values() const noexcept;
  const ws_result_callback& result_callback() const noexcept;
  const std::string& metrics_url_value() const noexcept;

 private:
  struct fields;
  fields& edit();
  const fields& read() const noexcept;  // the defaults when nothing was set
  fields* fields_ = nullptr;             // shared by copies, copied on the first change
};

}  // namespace chaperon
