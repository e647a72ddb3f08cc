#include "engine/session_state.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fstream>
#include <iterator>

#include "engine/shard.hpp"
#include "net/request_writer.hpp"
#include "net/ws_connection.hpp"

namespace chaperon::detail {

namespace {
std::chrono::steady_clock::duration config_ms(const json& cfg, const char* key,
                                              std::chrono::steady_clock::duration fallback) {
  const json* v = find_path(cfg, config_path(key));
  if (!v || v->is_null()) return fallback;
  return parse_duration(*v, key);
}

// Config ca_file: a PEM file of CA certificates, checked here so that a wrong path is a setup
// error naming the key instead of a TLS failure on every request.
std::string ca_file_from(const json& cfg) {
  const json* v = find_path(cfg, config_path{"ca_file"});
  if (!v || v->is_null()) return {};
  if (!v->is_string() || v->get_ref<const std::string&>().empty()) {
    throw config_error("config key 'ca_file' must be the path of a PEM file of CA certificates, "
                       "not " + v->dump());
  }
  const auto& path = v->get_ref<const std::string&>();
  std::ifstream in(path);
  if (!in) throw config_error("config key 'ca_file': cannot read '" + path + "'");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    throw config_error("config key 'ca_file': '" + path + "' holds no PEM certificate");
  }
  return path;
}

std::string basic_auth_from(const json& cfg) {
  const json* auth = find_path(cfg, config_path{"basic_auth"});
  if (!auth || auth->is_null()) return {};
  if (auth->is_array() && auth->size() == 2) {
    return net::basic_auth_value((*auth)[0].get<std::string>(), (*auth)[1].get<std::string>());
  }
  if (auth->is_object() && auth->contains("user")) {
    return net::basic_auth_value(auth->at("user").get<std::string>(),
                                 auth->value("pass", auth->value("password", std::string{})));
  }
  throw config_error("config key 'basic_auth' must be [\"user\", \"pass\"] or "
                     "{\"user\": ..., \"pass\": ...}, not " + auth->dump());
}
// Config ws.max_connecting: a count of connects, 0 for no bound.
std::size_t max_connecting_from(const json& cfg) {
  const json* v = find_path(cfg, config_path("ws.max_connecting"));
  if (!v || v->is_null()) return default_ws_max_connecting;
  if (!v->is_number_integer() || v->get<std::int64_t>() < 0) {
    throw config_error("config key 'ws.max_connecting' must be a count of connects (0: no bound), "
                       "not " + v->dump());
  }
  return v->get<std::size_t>();
}

bool is_ip_address(const std::string& text) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// Config source_addresses: a list, or one string with commas ("127.0.0.1,127.0.0.2").
std::vector<std::string> source_addresses_from(const json& cfg) {
  const json* v = find_path(cfg, config_path{"source_addresses"});
  std::vector<std::string> out;
  if (!v || v->is_null()) return out;
  auto add = [&](const json& item) {
    if (!item.is_string()) {
      throw config_error("config key 'source_addresses' must list IP addresses, not " +
                         item.dump());
    }
    std::string text = item.get<std::string>();
    std::size_t pos = 0;
    while (pos <= text.size()) {
      std::size_t comma = std::min(text.find(',', pos), text.size());
      std::string one = text.substr(pos, comma - pos);
      if (!one.empty()) {
        if (!is_ip_address(one)) {
          throw config_error("config key 'source_addresses': '" + one + "' is not an IP address");
        }
        out.push_back(std::move(one));
      }
      pos = comma + 1;
    }
  };
  if (v->is_array()) {
    for (const auto& item : *v) add(item);
  } else {
    add(*v);
  }
  return out;
}
}  // namespace

session_state::session_state(shard& w, std::string id_, std::string name,
                             std::shared_ptr<const json> cfg)
    : owner(w),
      id(std::move(id_)),
      config(std::move(cfg)),
      name_(std::make_unique<std::string>(std::move(name))) {}

session_state::session_state(shard& w, std::string id_, const load_test_entry& entry,
                             std::shared_ptr<const json> cfg)
    : owner(w), id(std::move(id_)), config(std::move(cfg)), named_after_(&entry) {}

const std::string& session_state::name() const {
  if (!name_) {
    const auto& e = *named_after_;
    name_ = std::make_unique<std::string>(
        e.session_name.empty() ? e.scenario_name() + " " + id : e.session_name);
  }
  return *name_;
}

session_state::~session_state() = default;

std::shared_ptr<const http_settings> make_http_settings(const json& cfg) {
  auto s = std::make_shared<http_settings>();
  if (const json* base = find_path(cfg, config_path{"base_url"}); base && base->is_string()) {
    s->base_url = base->get<std::string>();
  }
  s->authorization = basic_auth_from(cfg);
  // The original's `http` map holds HTTPoison's options: `timeout` is its connect timeout and
  // `recv_timeout` its response timeout. The top-level keys win over them.
  s->timeouts.connect = config_ms(cfg, "connect_timeout",
                                  config_ms(cfg, "http.timeout", std::chrono::milliseconds(5000)));
  s->timeouts.request = config_ms(
      cfg, "request_timeout", config_ms(cfg, "http.recv_timeout", std::chrono::milliseconds(10000)));
  // Zero when not given: the WebSocket connect then uses `connect`, or a per-call timeout.
  s->timeouts.ws_connect = config_ms(cfg, "ws.connect_timeout", std::chrono::milliseconds(0));
  if (const json* v = find_path(cfg, config_path{"insecure"}); v && v->is_boolean()) {
    s->verify_tls = !v->get<bool>();
  }
  s->ca_file = ca_file_from(cfg);
  if (!s->ca_file.empty()) s->timeouts.ca_file = &s->ca_file;
  if (const json* v = find_path(cfg, config_path{"skip_query_params_in_metrics"});
      v && v->is_boolean()) {
    s->skip_query_in_metrics = v->get<bool>();
  }
  if (const json* v = find_path(cfg, config_path{"store_results"}); v && v->is_boolean()) {
    s->store_results = v->get<bool>();
  }
  s->ws_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      config_ms(cfg, "ws_timeout", std::chrono::milliseconds(10000)));
  s->ws_max_connecting = max_connecting_from(cfg);
  s->source_addresses = source_addresses_from(cfg);
  if (!s->source_addresses.empty()) s->timeouts.sources = &s->source_addresses;
  return s;
}

const http_settings& session_state::settings() {
  if (!settings_) settings_ = owner.settings_for(config);
  return *settings_;
}

session_state::end_part& session_state::ends() {
  if (!ends_) ends_ = std::make_unique<end_part>();
  return *ends_;
}

namespace {
const std::string no_text;
}

const std::string& session_state::stop_reason() const noexcept {
  return ends_ ? ends_->stop_reason : no_text;
}

const std::string& session_state::failure() const noexcept {
  return ends_ ? ends_->failure : no_text;
}

void session_state::set_failure(std::string what) { ends().failure = std::move(what); }

std::string session_state::metric_session() const {
  return owner.settings().per_session ? name() : std::string{};
}

void session_state::request_stop(stop_kind kind, std::string reason) {
  if (stop != stop_kind::none) return;
  stop = kind;
  ends().stop_reason = std::move(reason);
  if (tasks_) {
    for (auto& t : tasks_->tasks) {
      if (t->state) t->state->request_stop(kind, stop_reason());
    }
  }
  if (pending.cancel) {
    auto op = std::exchange(pending, {});
    op.cancel(op.target);
  }
  // Posted, not called: an abort() may resume the action and end the session at once, which must
  // not happen inside this function (or inside the caller's walk over the sessions).
  if (tasks_ && tasks_->action_abort) {
    owner.post([weak = std::weak_ptr(tasks_->action_abort)] {
      if (auto abort = weak.lock()) (*abort)();
    });
  }
}

net::http_connection& session_state::connection_for(const net::endpoint_key& key) {
  auto& connections = memo().connections;
  for (auto& c : connections) {
    if (c.key() == key) return c;
  }
  return connections.emplace_front(owner.net(), key);
}

}  // namespace chaperon::detail
