#include "demo/routes.hpp"

#include <algorithm>
#include <exception>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "demo/text_util.hpp"

namespace chaperon::demo {

namespace {

// Insertion order, so that documents read like the examples ({"id", "message", "author"}).
using json = nlohmann::ordered_json;

constexpr std::string_view json_type = "application/json";
constexpr std::string_view octet_type = "application/octet-stream";
constexpr std::string_view session_cookie = "session";
constexpr std::string_view valid_password = "secret";
constexpr std::string_view anonymous_author = "anonymous";
// Deeper documents are refused so that a hostile body cannot exhaust memory or stack.
constexpr int max_json_depth = 64;

// Request bodies are arbitrary bytes; invalid UTF-8 must not turn into an exception.
std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

response json_response(unsigned status, const json& body) {
  response res;
  res.status = status;
  res.content_type = json_type;
  res.body = dump(body);
  return res;
}

response error_response(unsigned status, std::string_view text) {
  return json_response(status, json{{"error", std::string(text)}});
}

response not_found() { return error_response(404, "not found"); }

response text_response(unsigned status, std::string text) {
  response res;
  res.status = status;
  res.body = std::move(text);
  return res;
}

bool method_in(std::string_view method, std::string_view allow) {
  while (!allow.empty()) {
    const auto comma = allow.find(',');
    auto item = allow.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item == method) return true;
    allow = comma == std::string_view::npos ? std::string_view{} : allow.substr(comma + 1);
  }
  return false;
}

response method_not_allowed(std::string_view allow) {
  auto res = error_response(405, "method not allowed");
  res.headers.push_back({"Allow", std::string(allow)});
  return res;
}

template <class Handler>
response only(const request& req, std::string_view allow, Handler&& handler) {
  if (!method_in(req.method, allow)) return method_not_allowed(allow);
  return std::forward<Handler>(handler)();
}

// The part after `prefix` when it is a single, non-empty path segment.
std::optional<std::string_view> segment_after(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return std::nullopt;
  const auto rest = path.substr(prefix.size());
  if (rest.empty() || rest.find('/') != std::string_view::npos) return std::nullopt;
  return rest;
}

std::optional<json> parse_json(std::string_view body) {
  bool too_deep = false;
  auto limit_depth = [&too_deep](int depth, json::parse_event_t, json&) {
    if (depth > max_json_depth) too_deep = true;
    return !too_deep;
  };
  auto parsed = json::parse(body, limit_depth, false);
  if (too_deep || parsed.is_discarded()) return std::nullopt;
  return parsed;
}

json message_json(const message& msg) {
  return {{"id", msg.id}, {"message", msg.text}, {"author", msg.author}};
}

std::optional<std::string> query_param(const request& req, std::string_view name) {
  for (auto& [key, value] : parse_query(req.query)) {
    if (key == name) return std::move(value);
  }
  return std::nullopt;
}

response status_route(std::string_view arg) {
  const auto code = parse_uint(arg);
  if (!code || *code < min_status_code || *code > max_status_code) {
    return error_response(400, fmt::format("status must be {}..{}", min_status_code,
                                           max_status_code));
  }
  response res;
  res.status = static_cast<unsigned>(*code);
  if (res.status == 204 || res.status == 304) {
    // These statuses never carry a body, so neither a type nor a length is sent.
    res.content_type.clear();
  } else {
    res.body = fmt::format("status {}\n", *code);
  }
  return res;
}

response delay_route(std::string_view arg) {
  const auto requested = parse_uint(arg);
  if (!requested) return error_response(400, "delay must be a non-negative integer (ms)");
  const auto ms = std::min(*requested, max_delay_ms);
  auto res = json_response(200, json{{"delayed_ms", ms}});
  res.delay = std::chrono::milliseconds(ms);
  return res;
}

response bytes_route(std::string_view arg, body_framing framing) {
  const auto requested = parse_uint(arg);
  if (!requested) return error_response(400, "size must be a non-negative integer");
  const auto size = std::min(*requested, max_payload_bytes);
  response res;
  res.content_type = octet_type;
  res.framing = framing;
  // A repeating alphabet lets a client check that it reassembled the body in order.
  res.body.resize(size);
  for (std::size_t i = 0; i < size; ++i) res.body[i] = static_cast<char>('a' + i % 26);
  return res;
}

// Header names in lower case; repeated fields are combined as RFC 9110 allows, cookies with
// their own separator.
json headers_json(const request& req) {
  auto headers = json::object();
  for (const auto& field : req.headers) {
    const auto name = to_lower(field.name);
    auto& slot = headers[name];
    if (slot.is_null()) {
      slot = field.value;
    } else {
      slot = slot.get<std::string>() + (name == "cookie" ? "; " : ", ") + field.value;
    }
  }
  return headers;
}

response echo_route(const request& req) {
  return json_response(200, json{{"method", req.method},
                                 {"target", req.target},
                                 {"headers", headers_json(req)},
                                 {"body", req.body}});
}

std::string upgrade_greeting(const request& req) {
  auto headers = headers_json(req);
  const auto cookie = headers.find("cookie");
  std::string cookies = cookie == headers.end() ? std::string() : cookie->get<std::string>();
  return dump(json{{"headers", std::move(headers)}, {"cookie", std::move(cookies)}});
}

response cookies_set_route(const request& req) {
  response res = json_response(200, json::object());
  auto cookies = json::object();
  for (const auto& [name, value] : parse_query(req.query)) {
    if (!is_token(name) || !is_cookie_value(value)) {
      return error_response(400, "invalid cookie name or value");
    }
    res.headers.push_back({"Set-Cookie", fmt::format("{}={}; Path=/", name, value)});
    cookies[name] = value;
  }
  res.body = dump(cookies);
  return res;
}

}  // namespace

response router::handle(const request& req) {
  // The statistics endpoints are left out so that reading them does not change them.
  if (req.path != "/stats" && req.path != "/stats/reset") stats_.record(req.path);
  try {
    return dispatch(req);
  } catch (const std::exception&) {
    // Last line of defence (e.g. allocation failure): answer instead of dropping the thread.
    return error_response(500, "internal error");
  }
}

ws_route router::route_upgrade(const request& req) {
  stats_.record(req.path);
  constexpr std::pair<std::string_view, ws_endpoint> fixed[] = {
      {"/ws/echo", ws_endpoint::echo}, {"/ws/headers", ws_endpoint::headers},
      {"/ws/ping", ws_endpoint::ping}, {"/ws/close", ws_endpoint::close},
      {"/ws/drop", ws_endpoint::drop}, {"/ws/silent", ws_endpoint::silent}};
  ws_route route;
  for (const auto& [path, endpoint] : fixed) {
    if (req.path == path) route.endpoint = endpoint;
  }
  if (route.endpoint == ws_endpoint::headers) route.greeting = upgrade_greeting(req);
  if (const auto name = segment_after(req.path, "/channels/")) {
    if (channel_store::valid_name(*name)) {
      route.endpoint = ws_endpoint::channel;
      route.channel = std::string(*name);
    }
  }
  return route;
}

response router::refused_upgrade() { return text_response(403, "rejected"); }

response router::dispatch(const request& req) {
  const std::string_view path = req.path;
  // First: the truth endpoints measure the server's own overhead, so keep their path short.
  if (auto res = truth_.handle(req)) return std::move(*res);
  if (path == "/") {
    return only(req, "GET, HEAD", [] { return text_response(200, "chaperon demo target"); });
  }
  if (path == "/api/messages") {
    if (req.is_get()) return list_messages(req);
    if (req.method == "POST") return post_message(req);
    return method_not_allowed("GET, HEAD, POST");
  }
  if (path == "/login") return only(req, "POST", [&] { return login(req); });
  if (path == "/account") return only(req, "GET, HEAD", [&] { return account(req); });
  if (path == "/logout") return only(req, "POST", [&] { return logout(req); });
  if (path == "/echo") return echo_route(req);
  if (path == "/cookies/set") return only(req, "GET, HEAD", [&] { return cookies_set_route(req); });
  if (path == "/stats" || path == "/stats/reset") return stats(req);
  if (const auto id = segment_after(path, "/api/messages/")) {
    return only(req, "GET, HEAD", [&] { return get_message(*id); });
  }
  // Any method, like /echo: a test can then drive error and latency paths with its own verbs.
  if (const auto arg = segment_after(path, "/status/")) return status_route(*arg);
  if (const auto arg = segment_after(path, "/delay/")) return delay_route(*arg);
  if (const auto arg = segment_after(path, "/bytes/")) {
    return only(req, "GET, HEAD", [&] { return bytes_route(*arg, body_framing::content_length); });
  }
  if (const auto name = segment_after(path, "/channels/")) return channel_route(req, *name);
  if (const auto arg = segment_after(path, "/chunked/")) {
    return only(req, "GET, HEAD", [&] { return bytes_route(*arg, body_framing::chunked); });
  }
  return not_found();
}

response router::list_messages(const request& req) const {
  auto limit = default_message_limit;
  if (const auto text = query_param(req, "limit")) {
    const auto parsed = parse_uint(*text);
    if (!parsed) return error_response(400, "limit must be a non-negative integer");
    limit = static_cast<std::size_t>(std::min<std::uint64_t>(*parsed, message_store::capacity));
  }
  auto list = json::array();
  for (const auto& msg : messages_.latest(limit)) list.push_back(message_json(msg));
  return json_response(200, list);
}

response router::post_message(const request& req) {
  auto body = parse_json(req.body);
  if (!body) return error_response(400, "invalid JSON body");
  const auto field = body->find("message");  // end() for non-objects too
  if (field == body->end() || !field->is_string()) {
    return error_response(400, "field \"message\" (string) required");
  }
  auto& text = field->get_ref<std::string&>();
  if (text.size() > max_message_bytes) {
    return error_response(413, fmt::format("message longer than {} bytes", max_message_bytes));
  }
  auto author = session_user(req).value_or(std::string(anonymous_author));
  const auto stored = messages_.add(std::move(text), std::move(author));
  return json_response(201, message_json(stored));
}

response router::get_message(std::string_view arg) const {
  const auto id = parse_uint(arg);
  const auto found = id ? messages_.find(*id) : std::nullopt;
  if (!found) return not_found();
  return json_response(200, message_json(*found));
}

response router::login(const request& req) {
  std::string user;
  std::string password;
  const auto type = to_lower(req.header("Content-Type"));
  const auto first = req.body.find_first_not_of(" \t\r\n");
  if (type.find("json") != std::string::npos ||
      (first != std::string::npos && req.body[first] == '{')) {
    const auto body = parse_json(req.body);
    if (!body || !body->is_object()) return error_response(400, "invalid JSON body");
    if (const auto it = body->find("user"); it != body->end() && it->is_string()) {
      user = it->get<std::string>();
    }
    if (const auto it = body->find("password"); it != body->end() && it->is_string()) {
      password = it->get<std::string>();
    }
  } else {
    for (auto& [key, value] : parse_query(req.body)) {
      if (key == "user") user = std::move(value);
      if (key == "password") password = std::move(value);
    }
  }
  if (user.size() > max_user_bytes) {
    return error_response(400, fmt::format("user longer than {} bytes", max_user_bytes));
  }
  if (user.empty() || password != valid_password) {
    return error_response(401, "invalid credentials");
  }
  const auto token = sessions_.create(user);
  auto res = json_response(200, json{{"user", user}});
  res.headers.push_back(
      {"Set-Cookie", fmt::format("{}={}; Path=/; HttpOnly", session_cookie, token)});
  return res;
}

response router::account(const request& req) const {
  const auto user = session_user(req);
  if (!user) return error_response(401, "login required");
  return json_response(200, json{{"user", *user}});
}

response router::logout(const request& req) {
  for (const auto& field : req.headers) {
    if (!iequals(field.name, "Cookie")) continue;
    if (const auto token = find_cookie(field.value, session_cookie)) sessions_.remove(*token);
  }
  auto res = json_response(200, json{{"logged_out", true}});
  res.headers.push_back({"Set-Cookie", fmt::format("{}=; Path=/; Max-Age=0", session_cookie)});
  return res;
}

response router::stats(const request& req) {
  if (req.path == "/stats") {
    return only(req, "GET, HEAD", [&] { return json_response(200, stats_.snapshot()); });
  }
  return only(req, "POST", [&] {
    stats_.reset();
    return json_response(200, json{{"reset", true}});
  });
}

response router::channel_route(const request& req, std::string_view name) {
  if (!channel_store::valid_name(name)) {
    return error_response(
        400, fmt::format("channel names are 1..{} bytes", channel_store::max_name_length));
  }
  if (req.method == "PUT") {
    auto error = channel_error::none;
    const auto sequence = channels_.publish(name, req.body, error);
    if (error == channel_error::too_many_channels) {
      return error_response(503, fmt::format("more than {} channels", channel_store::max_channels));
    }
    return json_response(200, json{{"sequence", sequence}});
  }
  if (!req.is_get()) return method_not_allowed("GET, HEAD, PUT");
  const auto latest = channels_.latest(name);
  if (!latest) return error_response(404, "no message on this channel");
  response res;
  res.content_type = json_type;
  res.body = latest->document;
  return res;
}

std::optional<std::string> router::session_user(const request& req) const {
  for (const auto& field : req.headers) {
    if (!iequals(field.name, "Cookie")) continue;
    if (const auto token = find_cookie(field.value, session_cookie)) {
      if (auto user = sessions_.user_of(*token)) return user;
    }
  }
  return std::nullopt;
}

}  // namespace chaperon::demo
