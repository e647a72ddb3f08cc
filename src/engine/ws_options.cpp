#include "chaperon/websocket.hpp"

#include "engine/shared_fields.hpp"

namespace chaperon {

struct ws_options::fields {
  detail::shared_count refs;
  std::string connection;
  std::chrono::milliseconds timeout{0};
  bool decode_json = false;
  header_list headers;
  ws_result_callback with_result;
  std::string metrics_url;
};

ws_options::ws_options(const ws_options& other) noexcept : fields_(detail::share(other.fields_)) {}
ws_options::ws_options(ws_options&& other) noexcept
    : fields_(std::exchange(other.fields_, nullptr)) {}
ws_options& ws_options::operator=(const ws_options& other) noexcept {
  detail::assign_shared(fields_, other.fields_);
  return *this;
}
ws_options& ws_options::operator=(ws_options&& other) noexcept {
  detail::move_shared(fields_, other.fields_);
  return *this;
}
ws_options::~ws_options() { detail::release(fields_); }

ws_options::fields& ws_options::edit() { return detail::unshare(fields_); }

const ws_options::fields& ws_options::read() const noexcept {
  static const fields defaults;
  return fields_ ? *fields_ : defaults;
}

ws_options& ws_options::connection(std::string name) & {
  edit().connection = std::move(name);
  return *this;
}

ws_options& ws_options::timeout(std::chrono::milliseconds t) & {
  edit().timeout = t;
  return *this;
}

ws_options& ws_options::decode_json(bool on) & {
  edit().decode_json = on;
  return *this;
}

ws_options& ws_options::header(std::string name, std::string value) & {
  edit().headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

ws_options& ws_options::with_result(ws_result_callback cb) & {
  edit().with_result = std::move(cb);
  return *this;
}

ws_options& ws_options::metrics_url(std::string url) & {
  edit().metrics_url = std::move(url);
  return *this;
}

const std::string& ws_options::connection_name() const noexcept { return read().connection; }
std::chrono::milliseconds ws_options::timeout_value() const noexcept { return read().timeout; }
bool ws_options::decodes_json() const noexcept { return read().decode_json; }
const header_list& ws_options::header_values() const noexcept { return read().headers; }
const ws_result_callback& ws_options::result_callback() const noexcept {
  return read().with_result;
}
const std::string& ws_options::metrics_url_value() const noexcept { return read().metrics_url; }

}  // namespace chaperon
