#include "chaperon/http.hpp"

#include "engine/http_option_fields.hpp"
#include "net/ascii.hpp"

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

std::string_view http_result::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers) {
    if (net::iequals(k, name)) return v;
  }
  return {};
}

http_options::http_options() noexcept = default;
http_options::http_options(const http_options& other)
    : fields_(other.fields_ ? std::make_unique<fields>(*other.fields_) : nullptr) {}
http_options::http_options(http_options&& other) noexcept = default;
http_options& http_options::operator=(const http_options& other) {
  if (this != &other) fields_ = other.fields_ ? std::make_unique<fields>(*other.fields_) : nullptr;
  return *this;
}
http_options& http_options::operator=(http_options&& other) noexcept = default;
http_options::~http_options() = default;

http_options::fields& http_options::edit() {
  if (!fields_) fields_ = std::make_unique<fields>();
  return *fields_;
}

const http_options::fields& http_options::read() const noexcept {
  static const fields defaults;
  return fields_ ? *fields_ : defaults;
}

const header_list& http_options::header_values() const noexcept { return read().headers; }
const header_list& http_options::param_values() const noexcept { return read().params; }

http_options& http_options::header(std::string name, std::string value) {
  edit().headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

http_options& http_options::headers(header_list list) {
  auto& f = edit();
  for (auto& h : list) f.headers.push_back(std::move(h));
  return *this;
}

http_options& http_options::param(std::string name, std::string value) {
  edit().params.emplace_back(std::move(name), std::move(value));
  return *this;
}

http_options& http_options::params(header_list list) {
  auto& f = edit();
  for (auto& p : list) f.params.push_back(std::move(p));
  return *this;
}

http_options& http_options::json(nlohmann::json body) {
  auto& f = edit();
  f.body = body.dump();
  f.content_type = "application/json";
  f.json_body = true;
  return *this;
}

http_options& http_options::form(header_list list) {
  auto& f = edit();
  f.form = std::move(list);
  f.content_type = "application/x-www-form-urlencoded";
  f.json_body = false;
  return *this;
}

http_options& http_options::body(std::string bytes, std::string content_type) {
  auto& f = edit();
  f.body = std::move(bytes);
  f.content_type = std::move(content_type);
  f.json_body = false;
  return *this;
}

http_options& http_options::gzip(bool on) {
  edit().gzip = on;
  return *this;
}

http_options& http_options::decode_json(bool on) {
  edit().decode_json = on;
  return *this;
}

http_options& http_options::with_result(result_callback cb) {
  edit().with_result = std::move(cb);
  return *this;
}

http_options& http_options::on_ok(result_callback cb) {
  edit().on_ok = std::move(cb);
  return *this;
}

http_options& http_options::on_error(result_callback cb) {
  edit().on_error = std::move(cb);
  return *this;
}

http_options& http_options::metrics_url(std::string url) {
  edit().metrics_url = std::move(url);
  return *this;
}

http_options& http_options::timeout(std::chrono::milliseconds t) {
  edit().timeout = t;
  return *this;
}

}  // namespace chaperon
