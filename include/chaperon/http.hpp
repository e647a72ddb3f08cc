#pragma once
// HTTP request options (a fluent builder) and results, as used by session::get/post/...
//
//   auto r = co_await s.post("/api/messages",
//                            chaperon::http_options{}.json_field("message", "hi").decode_json());
//   if (r.ok()) s.assign("last_id", r.json["id"]);
//
// Failures are values: a refused connection, a timeout or an HTTP 500 come back in the result
// (and are recorded as error metrics); nothing throws for them.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaperon/error.hpp"

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
  int status = 0;  // 0 when no response arrived (a transport failure)
  header_list headers;
  std::string body;
  nlohmann::json json;  // the decoded body when the request asked for decode_json()
  // Why the request failed (failure::none when a response arrived and, with decode_json(), its
  // body was JSON). An HTTP error status is not a failure: it is in `status`.
  failure error = failure::none;
  std::error_code code;  // the underlying system error of a failure, empty otherwise
  std::string url;       // the URL requested
  std::chrono::microseconds duration{0};

  // Success as the original defines it: a response with status 200..399.
  bool ok() const noexcept { return error == failure::none && status >= 200 && status < 400; }
  // First header with this name (case-insensitive), "" when absent.
  std::string_view header(std::string_view name) const noexcept;
};

using result_callback = std::function<void(session&, const http_result&)>;

// Options of one request. Every setter returns the options, so options read as one expression;
// on a temporary (`http_options{}.header(..).json_field(..)`) the setters return it as an rvalue,
// so it moves into the request instead of being copied.
//
// Of the body setters (json, json_field, form, form_field, body) the last one called decides the
// body and its Content-Type. A header set with header() replaces the one chaperon would send by
// default under the same name (Accept, Content-Type, User-Agent, ...).
//
// An options object is one pointer, and copies share what is set until one of them is changed:
// the default options of every co_await in a scenario cost 8 bytes of its coroutine frame, and
// options built once and passed to every request of a loop are never copied field by field.
class http_options {
 public:
  http_options() noexcept = default;
  http_options(const http_options& other) noexcept;
  http_options(http_options&& other) noexcept;
  http_options& operator=(const http_options& other) noexcept;
  http_options& operator=(http_options&& other) noexcept;
  ~http_options();

  // A request header (repeatable).
  http_options& header(std::string name, std::string value) &;
  http_options&& header(std::string name, std::string value) && {
    return std::move(header(std::move(name), std::move(value)));
  }
  http_options& headers(header_list list) &;
  http_options&& headers(header_list list) && { return std::move(headers(std::move(list))); }
  // A query string parameter (repeatable), appended to the URL.
  http_options& param(std::string name, std::string value) &;
  http_options&& param(std::string name, std::string value) && {
    return std::move(param(std::move(name), std::move(value)));
  }
  http_options& params(header_list list) &;
  http_options&& params(header_list list) && { return std::move(params(std::move(list))); }
  // Body as JSON (Content-Type and Accept: application/json).
  http_options& json(nlohmann::json body) &;
  http_options&& json(nlohmann::json body) && { return std::move(json(std::move(body))); }
  // One member of a JSON object body (repeatable): adds to the object set by an earlier json()
  // or json_field(), or starts one. json_field("message", "hi").json_field("n", 1) sends
  // {"message":"hi","n":1} without a braced list.
  http_options& json_field(std::string name, nlohmann::json value) &;
  http_options&& json_field(std::string name, nlohmann::json value) && {
    return std::move(json_field(std::move(name), std::move(value)));
  }
  // Body as application/x-www-form-urlencoded, all fields at once.
  http_options& form(const header_list& fields) &;
  http_options&& form(const header_list& fields) && { return std::move(form(fields)); }
  // One field of a form body (repeatable): adds to the form of an earlier form() or form_field(),
  // or starts one.
  http_options& form_field(std::string_view name, std::string_view value) &;
  http_options&& form_field(std::string_view name, std::string_view value) && {
    return std::move(form_field(name, value));
  }
  // Raw body bytes.
  http_options& body(std::string bytes, std::string content_type = "application/octet-stream") &;
  http_options&& body(std::string bytes,
                      std::string content_type = "application/octet-stream") && {
    return std::move(body(std::move(bytes), std::move(content_type)));
  }
  // Compress the body with gzip (Content-Encoding: gzip).
  http_options& gzip(bool on = true) &;
  http_options&& gzip(bool on = true) && { return std::move(gzip(on)); }
  // Parse the response body as JSON into http_result::json (an invalid body is failure::decode).
  http_options& decode_json(bool on = true) &;
  http_options&& decode_json(bool on = true) && { return std::move(decode_json(on)); }
  // Called with every result (success and failure).
  http_options& with_result(result_callback cb) &;
  http_options&& with_result(result_callback cb) && {
    return std::move(with_result(std::move(cb)));
  }
  // Called for 200..399 / for everything else, respectively.
  http_options& on_ok(result_callback cb) &;
  http_options&& on_ok(result_callback cb) && { return std::move(on_ok(std::move(cb))); }
  http_options& on_error(result_callback cb) &;
  http_options&& on_error(result_callback cb) && { return std::move(on_error(std::move(cb))); }
  // Record metrics under this URL instead of the requested one (e.g. "/users/:id").
  http_options& metrics_url(std::string url) &;
  http_options&& metrics_url(std::string url) && { return std::move(metrics_url(std::move(url))); }
  // Per-request timeout; the default comes from config `request_timeout` (10 s).
  http_options& timeout(std::chrono::milliseconds t) &;
  http_options&& timeout(std::chrono::milliseconds t) && { return std::move(timeout(t)); }

  const header_list& header_values() const noexcept;
  const header_list& param_values() const noexcept;

 private:
  friend struct detail::request_builder;
  struct fields;
  fields& edit();
  const fields& read() const noexcept;  // the defaults when nothing was set
  fields* fields_ = nullptr;             // shared by copies, copied on the first change
};

}  // namespace chaperon
