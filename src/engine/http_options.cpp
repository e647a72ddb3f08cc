#include "chaperon/http.hpp"

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

http_options& http_options::header(std::string name, std::string value) {
  headers_.emplace_back(std::move(name), std::move(value));
  return *this;
}

http_options& http_options::headers(header_list list) {
  for (auto& h : list) headers_.push_back(std::move(h));
  return *this;
}

http_options& http_options::param(std::string name, std::string value) {
  params_.emplace_back(std::move(name), std::move(value));
  return *this;
}

http_options& http_options::params(header_list list) {
  for (auto& p : list) params_.push_back(std::move(p));
  return *this;
}

http_options& http_options::json(nlohmann::json body) {
  body_ = body.dump();
  content_type_ = "application/json";
  json_body_ = true;
  return *this;
}

http_options& http_options::form(header_list fields) {
  form_ = std::move(fields);
  content_type_ = "application/x-www-form-urlencoded";
  json_body_ = false;
  return *this;
}

http_options& http_options::body(std::string bytes, std::string content_type) {
  body_ = std::move(bytes);
  content_type_ = std::move(content_type);
  json_body_ = false;
  return *this;
}

http_options& http_options::gzip(bool on) {
  gzip_ = on;
  return *this;
}

http_options& http_options::decode_json(bool on) {
  decode_json_ = on;
  return *this;
}

http_options& http_options::with_result(result_callback cb) {
  with_result_ = std::move(cb);
  return *this;
}

http_options& http_options::on_ok(result_callback cb) {
  on_ok_ = std::move(cb);
  return *this;
}

http_options& http_options::on_error(result_callback cb) {
  on_error_ = std::move(cb);
  return *this;
}

http_options& http_options::metrics_url(std::string url) {
  metrics_url_ = std::move(url);
  return *this;
}

http_options& http_options::timeout(std::chrono::milliseconds t) {
  timeout_ = t;
  return *this;
}

}  // namespace chaperon
