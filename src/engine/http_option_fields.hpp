#pragma once
// The fields of chaperon::http_options behind its pointer (engine/http_options.cpp sets them,
// engine/session_http.cpp reads them through request_builder).

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "chaperon/http.hpp"
#include "engine/shared_fields.hpp"

namespace chaperon {

namespace net {
struct request_head;
}

struct http_options::fields {
  enum class body_kind : std::uint8_t { none, raw, form, json };

  detail::shared_count refs;
  header_list headers;
  header_list params;
  // The body as sent (a form url-encoded, JSON serialised), of the last body setter called.
  std::string body;
  std::string content_type;
  nlohmann::json json_document;  // body_kind::json: what `body` serialises, for json_field()
  body_kind kind = body_kind::none;
  bool gzip = false;
  bool decode_json = false;
  result_callback with_result;
  result_callback on_ok;
  result_callback on_error;
  std::string metrics_url;
  std::chrono::milliseconds timeout{0};

  // Every body setter goes through here, so the last one decides body and Content-Type alike.
  void set_body(body_kind k, std::string bytes, std::string type) {
    kind = k;
    body = std::move(bytes);
    content_type = std::move(type);
    if (k != body_kind::json) json_document = nullptr;
  }
};

namespace detail {

// What the engine reads from options.
struct request_builder {
  static const http_options::fields& of(const http_options& o) noexcept { return o.read(); }
  // Sets the user headers, body, Content-Type, Accept and Content-Encoding of `head` from `o`.
  // A gzip body is compressed into `storage`, which must outlive `head`.
  static void fill(net::request_head& head, const http_options& o, std::string& storage);
  static void callbacks(const http_options& o, session& s, const http_result& r);
};

}  // namespace detail
}  // namespace chaperon
