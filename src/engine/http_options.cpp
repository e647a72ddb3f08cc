#include "chaperon/http.hpp"

#include "engine/http_option_fields.hpp"
#include "net/ascii.hpp"
#include "net/gzip.hpp"
#include "net/request_writer.hpp"
#include "net/url.hpp"

namespace chaperon {

std::string_view method_name(http_method m) noexcept {
  switch (m) {
    case http_method::get: return "get";
    case http_method::post: return "post";
    case http_method::put: return "put";
    case http_method::patch: return "patch";
    case http_method::delete_: return "delete";
    case http_method::head: return "head";
  }
  return "get";
}

std::string_view to_string(failure f) noexcept {
  switch (f) {
    case failure::none: return "";
    case failure::dns: return "dns";
    case failure::connect: return "connect";
    case failure::connect_timeout: return "connect_timeout";
    case failure::timeout: return "timeout";
    case failure::tls: return "tls";
    case failure::closed: return "closed";
    case failure::reset: return "reset";
    case failure::protocol: return "protocol";
    case failure::cancelled: return "cancelled";
    case failure::io: return "io";
    case failure::decode: return "decode";
    case failure::rejected: return "rejected";
    case failure::not_connected: return "not_connected";
    case failure::invalid_url: return "invalid_url";
  }
  return "io";
}

std::string_view http_result::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers) {
    if (net::iequals(k, name)) return v;
  }
  return {};
}

http_options::http_options(const http_options& other) noexcept
    : fields_(detail::share(other.fields_)) {}
http_options::http_options(http_options&& other) noexcept
    : fields_(std::exchange(other.fields_, nullptr)) {}
http_options& http_options::operator=(const http_options& other) noexcept {
  detail::assign_shared(fields_, other.fields_);
  return *this;
}
http_options& http_options::operator=(http_options&& other) noexcept {
  detail::move_shared(fields_, other.fields_);
  return *this;
}
http_options::~http_options() { detail::release(fields_); }

http_options::fields& http_options::edit() { return detail::unshare(fields_); }

const http_options::fields& http_options::read() const noexcept {
  static const fields defaults;
  return fields_ ? *fields_ : defaults;
}

const header_list& http_options::header_values() const noexcept { return read().headers; }
const header_list& http_options::param_values() const noexcept { return read().params; }

http_options& http_options::header(std::string name, std::string value) & {
  edit().headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

http_options& http_options::headers(header_list list) & {
  auto& f = edit();
  for (auto& h : list) f.headers.push_back(std::move(h));
  return *this;
}

http_options& http_options::param(std::string name, std::string value) & {
  edit().params.emplace_back(std::move(name), std::move(value));
  return *this;
}

http_options& http_options::params(header_list list) & {
  auto& f = edit();
  for (auto& p : list) f.params.push_back(std::move(p));
  return *this;
}

http_options& http_options::json(nlohmann::json document) & {
  auto& f = edit();
  f.set_body(fields::body_kind::json, document.dump(), "application/json");
  f.json_document = std::move(document);
  return *this;
}

http_options& http_options::json_field(std::string name, nlohmann::json value) & {
  auto& f = edit();
  if (f.kind != fields::body_kind::json || !f.json_document.is_object()) {
    f.json_document = nlohmann::json::object();
  }
  auto document = std::move(f.json_document);
  document[std::move(name)] = std::move(value);
  return json(std::move(document));
}

http_options& http_options::form(const header_list& list) & {
  edit().set_body(fields::body_kind::form, net::encode_form(list),
                  "application/x-www-form-urlencoded");
  return *this;
}

http_options& http_options::form_field(std::string_view name, std::string_view value) & {
  auto& f = edit();
  if (f.kind != fields::body_kind::form) {
    f.set_body(fields::body_kind::form, {}, "application/x-www-form-urlencoded");
  }
  if (!f.body.empty()) f.body += '&';
  f.body += net::percent_encode(name, true);
  f.body += '=';
  f.body += net::percent_encode(value, true);
  return *this;
}

http_options& http_options::body(std::string bytes, std::string content_type) & {
  edit().set_body(fields::body_kind::raw, std::move(bytes), std::move(content_type));
  return *this;
}

http_options& http_options::gzip(bool on) & {
  edit().gzip = on;
  return *this;
}

http_options& http_options::decode_json(bool on) & {
  edit().decode_json = on;
  return *this;
}

http_options& http_options::with_result(result_callback cb) & {
  edit().with_result = std::move(cb);
  return *this;
}

http_options& http_options::on_ok(result_callback cb) & {
  edit().on_ok = std::move(cb);
  return *this;
}

http_options& http_options::on_error(result_callback cb) & {
  edit().on_error = std::move(cb);
  return *this;
}

http_options& http_options::metrics_url(std::string url) & {
  edit().metrics_url = std::move(url);
  return *this;
}

http_options& http_options::timeout(std::chrono::milliseconds t) & {
  edit().timeout = t;
  return *this;
}

namespace detail {

void request_builder::fill(net::request_head& head, const http_options& o, std::string& storage) {
  const auto& f = of(o);
  head.headers = &f.headers;
  head.body = f.body;
  head.content_type = f.content_type;
  // A JSON body asks for JSON back; a user Accept header still replaces this default.
  if (f.kind == http_options::fields::body_kind::json) head.accept = "application/json";
  if (f.gzip) {
    storage = net::gzip_compress(f.body);
    head.body = storage;
    head.content_encoding = "gzip";
  }
}

void request_builder::callbacks(const http_options& o, session& s, const http_result& r) {
  const auto& f = of(o);
  if (f.with_result) f.with_result(s, r);
  if (r.ok()) {
    if (f.on_ok) f.on_ok(s, r);
  } else if (f.on_error) {
    f.on_error(s, r);
  }
}

}  // namespace detail
}  // namespace chaperon
