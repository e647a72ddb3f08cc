#pragma once
// HTTP request options (a fluent builder) and results, as used by session::get/post/...
//
//   auto r = co_await s.post("/api/messages",
//                            chaperon::http_options{}.json({{"message", "hi"}}).decode_json());
//   if (r.ok()) s.assign("last_id", r.json["id"]);
//
// Failures are values: a refused connection, a timeout or an HTTP 500 come back in the result
// (and are recorded as error metrics); nothing throws for them.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace chaperon {

class session;
namespace detail {
struct request_builder;
}

enum class http_method { get, post, put, patch, delete_, head };

// Lower-case name as used in metric names: "get", "post", ..., "delete", "head".
std::string_view method_name(http_method m) noexcept;

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_result {
  int status = 0;  // 0 when no response arrived (transport error)
  header_list headers;
  std::string body;
  nlohmann::json json;  // the decoded body when the request asked for decode_json()
  std::error_code error;       // transport or protocol failure, empty otherwise
  std::string error_kind;      // "timeout", "connect", "tls", "closed", "protocol", ... or ""
  std::string url;             // the URL requested
  std::chrono::microseconds duration{0};

  // Success as the original defines it: a response with status 200..399.
  bool ok() const noexcept { return !error && status >= 200 && status < 400; }
  // First header with this name (case-insensitive), "" when absent.
  std::string_view header(std::string_view name) const noexcept;
};

using result_callback = std::function<void(session&, const http_result&)>;

// Options of one request. Every setter returns *this so options read as one expression.
//
// An options object is one pointer: what is set lives on the heap, so the default options of
// every co_await in a scenario (kept in its coroutine frame for as long as the session runs) cost
// 8 bytes, not the ~280 of every field.
class http_options {
 public:
  http_options() noexcept;
  http_options(const http_options& other);
  http_options(http_options&& other) noexcept;
  http_options& operator=(const http_options& other);
  http_options& operator=(http_options&& other) noexcept;
  ~http_options();

  http_options& header(std::string name, std::string value);
  http_options& headers(header_list list);
  http_options& param(std::string name, std::string value);  // query string
  http_options& params(header_list list);
  // Body as JSON: adds Content-Type and Accept: application/json.
  http_options& json(nlohmann::json body);
  // Body as application/x-www-form-urlencoded.
  http_options& form(header_list fields);
  // Raw body bytes.
  http_options& body(std::string bytes, std::string content_type = "application/octet-stream");
  // Compress the body with gzip (Content-Encoding: gzip).
  http_options& gzip(bool on = true);
  // Parse the response body as JSON into http_result::json (an invalid body is a "decode" error).
  http_options& decode_json(bool on = true);
  // Called with every result (success and failure).
  http_options& with_result(result_callback cb);
  // Called for 200..399 / for everything else, respectively.
  http_options& on_ok(result_callback cb);
  http_options& on_error(result_callback cb);
  // Record metrics under this URL instead of the requested one (e.g. "/users/:id").
  http_options& metrics_url(std::string url);
  // Per-request timeout; the default comes from config `request_timeout` (10 s).
  http_options& timeout(std::chrono::milliseconds t);

  // Read by the engine when it builds the request.
  const header_list& header_values() const noexcept;
  const header_list& param_values() const noexcept;

 private:
  friend struct detail::request_builder;
  struct fields;
  fields& edit();
  const fields& read() const noexcept;  // the defaults when nothing was set
  std::unique_ptr<fields> fields_;
};

}  // namespace chaperon
