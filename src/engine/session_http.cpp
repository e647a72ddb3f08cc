// HTTP actions of a session: build the request, run the exchange on the session's keep-alive
// connection, record metrics, store cookies, decode, call back.
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "chaperon/session.hpp"
#include "engine/http_option_fields.hpp"
#include "engine/intended_time.hpp"
#include "engine/session_state.hpp"
#include "engine/shard.hpp"
#include "net/ascii.hpp"
#include "net/request_writer.hpp"
#include "net/url.hpp"

namespace chaperon {

namespace detail {

namespace {

std::string_view upper_method(http_method m) {
  switch (m) {
    case http_method::get: return "GET";
    case http_method::post: return "POST";
    case http_method::put: return "PUT";
    case http_method::patch: return "PATCH";
    case http_method::delete_: return "DELETE";
    case http_method::head: return "HEAD";
  }
  return "GET";
}

// Runs the exchange the request was written for. The timeouts are worked out when it starts (the
// connection keeps its own copy), and the outcome is kept here: the awaiter is the only part of
// the exchange in the request's frame.
struct exchange_awaiter {
  session_state& state;
  net::http_connection& conn;
  const http_options& opts;
  bool head;
  net::exchange_outcome outcome{};

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    state.pending = pending_op{[](void* c) { static_cast<net::http_connection*>(c)->cancel(); },
                               &conn};
    net::exchange_timeouts timeouts = state.settings().timeouts;
    const auto timeout = request_builder::of(opts).timeout;
    if (timeout.count() > 0) timeouts.request = timeout;
    conn.start(head, true, timeouts, h, &outcome);
  }
  net::exchange_outcome await_resume() noexcept {
    state.pending = {};
    return outcome;
  }
};

// Serialises the request into the connection's buffer.
void write_request(session_state& st, net::http_connection& conn, http_method method,
                   const target_info& target, const http_options& o) {
  std::string cookie = st.cookies.header_value();
  std::string gzip_storage;
  net::request_head h;
  h.method = upper_method(method);
  h.target = target.parsed.target;
  h.host = target.host_header;
  h.cookie = cookie;
  h.authorization = st.settings().authorization;
  request_builder::fill(h, o, gzip_storage);
  auto& out = conn.request_buffer();
  out.clear();
  net::write_request(out, h);
}

// The metric of this request's successes, interned once for a loop over one target.
metric_id ok_metric(session_state& st, http_method method,
                    const std::shared_ptr<const target_info>& target) {
  auto& memo = st.memo();
  if (memo.metric != no_metric && memo.method == method && memo.metric_target &&
      (memo.metric_target == target || memo.metric_target->metric_url == target->metric_url)) {
    return memo.metric;
  }
  memo.metric = st.owner.recorder().intern(
      metric_key{st.metric_session(), std::string(method_name(method)), target->metric_url, {}});
  memo.method = method;
  memo.metric_target = target;
  return memo.metric;
}

void record(session_state& st, http_method method,
            const std::shared_ptr<const target_info>& target, const http_result& r) {
  auto& rec = st.owner.recorder();
  auto& counters = st.owner.counters();
  auto us = r.duration.count();
  live_counters::add(counters.requests);
  if (r.status > 0) record_latency(st, ok_metric(st, method, target), us);
  std::string error;
  if (r.error != failure::none) {
    error = to_string(r.error);
  } else if (r.status >= 400) {
    error = "HTTP " + std::to_string(r.status);
  }
  if (!error.empty()) {
    live_counters::add(counters.errors);
    record_latency(st,
                   rec.intern(metric_key{st.metric_session(), std::string(method_name(method)),
                                         target->metric_url, std::move(error)}),
                   us);
  }
}

void print_result(const session_state& st, http_method method, const http_result& r) {
  std::string line =
      r.error != failure::none
          ? fmt::format("{} {} {} -> error {} ({}) after {:.3f} ms\n", st.id,
                        upper_method(method), r.url, to_string(r.error), r.code.message(),
                            r.duration.count() / 1000.0)
              : fmt::format("{} {} {} -> {} in {:.3f} ms, {} bytes\n", st.id,
                            upper_method(method), r.url, r.status, r.duration.count() / 1000.0,
                            r.body.size());
  std::fwrite(line.data(), 1, line.size(), stdout);
}

void take_response(http_result& r, net::http_connection& conn, session_state& st) {
  auto resp = conn.parser().release();
  r.status = resp.status;
  r.headers = std::move(resp.headers);
  r.body = std::move(resp.body);
  for (const auto& [k, v] : r.headers) {
    if (k.size() == 10 && (k[0] == 'S' || k[0] == 's') && net::iequals(k, "set-cookie")) {
      st.cookies.store(v);
    }
  }
}

}  // namespace
}  // namespace detail

namespace detail {
namespace {
// What is wrong with a URL that did not parse (`why`, from the parser), said in the terms of the
// request. Throws config_error when the fault is the config's base_url, which no relative path of
// the session could use: that is a setup error.
std::string why_not(std::string_view path, const std::string& base_url, std::string why) {
  if (net::is_absolute_url(path) || path.find("://") != std::string_view::npos) return why;
  if (base_url.empty()) {
    return "invalid URL \"" + std::string(path) +
           "\": a relative path needs the config key 'base_url'";
  }
  std::string why_base;
  if (!net::parse_url(base_url, &why_base)) throw config_error("config key 'base_url': " + why_base);
  return why;
}

// The target of a request; `why` says what is wrong with one whose URL cannot be requested.
target_info resolve_target(const http_settings& settings, std::string_view path,
                           const http_options& o) {
  using rb = request_builder;
  target_info t;
  t.path = std::string(path);
  t.url = net::join_url(settings.base_url, path);
  if (!o.param_values().empty()) t.url = net::append_query(t.url, o.param_values());
  // The metric name keeps the query (of the path or of params) for every method, unless
  // skip_query_params_in_metrics strips it, again for every method.
  const auto& metrics_url = rb::of(o).metrics_url;
  t.metric_url = metrics_url.empty() ? t.url : net::join_url(settings.base_url, metrics_url);
  if (settings.skip_query_in_metrics) t.metric_url = net::strip_query(t.metric_url);
  auto parsed = net::parse_url(t.url, &t.why);
  if (!parsed) {
    t.why = why_not(path, settings.base_url, std::move(t.why));
    return t;
  }
  t.parsed = std::move(*parsed);
  t.host_header = t.parsed.host_header();
  t.valid = true;
  return t;
}

// A plain request's target as the shard's sessions share it: resolved once per path and settings.
std::shared_ptr<const target_info> shared_target(const http_settings& settings,
                                                 std::string_view path, const http_options& o) {
  // A bound for scenarios that request ever new paths; sessions keep the targets they hold.
  constexpr std::size_t max_shared_targets = 4096;
  auto& targets = settings.targets;
  if (auto it = targets.find(path); it != targets.end()) return it->second;
  auto t = std::make_shared<const target_info>(resolve_target(settings, path, o));
  if (targets.size() >= max_shared_targets) targets.clear();
  targets.emplace(t->path, t);
  return t;
}

// The target of this request and, when it can be requested, its connection: from the session's
// memo when the request is plain and repeats the last one's path.
std::shared_ptr<const target_info> target_for(session_state& st, std::string_view path,
                                              const http_options& o,
                                              net::http_connection*& connection) {
  bool plain = o.param_values().empty() && request_builder::of(o).metrics_url.empty();
  auto& memo = st.memo();
  if (plain && memo.last_target && memo.last_target->path == path) {
    connection = memo.last_connection;
    return memo.last_target;
  }
  const auto& settings = st.settings();
  auto t = plain ? shared_target(settings, path, o)
                 : std::make_shared<const target_info>(resolve_target(settings, path, o));
  connection = t->valid ? &st.connection_for(net::endpoint_key{t->parsed.host, t->parsed.port,
                                                                t->parsed.tls(),
                                                                settings.verify_tls})
                        : nullptr;
  if (plain) {
    memo.last_target = t;
    memo.last_connection = connection;
  }
  return t;
}

// A request whose URL cannot be requested: recorded as the failure invalid_url, sent nowhere.
http_result invalid_url_result(session& s, const std::shared_ptr<const target_info>& target) {
  auto& st = state_of(s);
  if (!std::exchange(st.memo().invalid_url_logged, true)) {
    s.log(log_level::warn,
          target->why + "; recorded as the error invalid_url, logged once per session");
  }
  http_result r;
  r.url = target->url;
  r.error = failure::invalid_url;
  r.code = std::make_error_code(std::errc::invalid_argument);
  return r;
}

// The result of an exchange that has ended: the response, or the failure.
http_result exchange_result(session_state& st, net::http_connection& conn,
                            const target_info& target, const http_options& o,
                            const net::exchange_outcome& outcome,
                            std::chrono::steady_clock::time_point start) {
  http_result r;
  r.duration = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  r.url = target.url;
  if (outcome.error || outcome.kind != failure::none) {
    r.error = outcome.kind == failure::none ? failure::io : outcome.kind;
    r.code = outcome.error ? outcome.error : std::make_error_code(std::errc::io_error);
    return r;
  }
  take_response(r, conn, st);
  if (request_builder::of(o).decode_json) {
    r.json = nlohmann::json::parse(r.body, nullptr, false);
    if (r.json.is_discarded()) {
      r.json = nullptr;
      r.error = failure::decode;
      r.code = std::make_error_code(std::errc::bad_message);
    }
  }
  return r;
}

using keep_fn = void (session::*)(std::string, std::variant<http_result, ws_result>);

// What follows every request's result: its metrics, its printing, keeping it (store_results; the
// session's private keep_result, handed in by the request), and the callbacks.
http_result finished(session& s, http_method method,
                     const std::shared_ptr<const target_info>& target, const http_options& o,
                     http_result r, keep_fn keep) {
  auto& st = state_of(s);
  record(st, method, target, r);
  if (st.owner.settings().print_results) print_result(st, method, r);
  // A request that was never sent is not kept.
  if (st.settings().store_results && r.error != failure::invalid_url) {
    (s.*keep)(std::string(method_name(method)) + "(" + target->metric_url + ")", r);
  }
  request_builder::callbacks(o, s, r);
  if (st.stop != stop_kind::none) throw session_stopped(st.stop_reason());  // a callback stopped it
  return r;
}

}  // namespace
}  // namespace detail

// Only what crosses the exchange's suspension is a local here: every local of a coroutine takes
// room in its frame, which each request in flight holds. The result is made after the exchange,
// in plain functions.
task<http_result> session::request(http_method method, std::string_view path,
                                   http_options opts) {
  throw_if_stopped();
  auto& st = *state_;
  net::http_connection* connection = nullptr;
  // Held, not borrowed from the memo: a callback may change the config, which drops the memo's.
  auto target = detail::target_for(st, path, opts, connection);
  if (!connection) {
    co_return detail::finished(*this, method, target, opts,
                               detail::invalid_url_result(*this, target),
                               &session::keep_result);
  }
  detail::write_request(st, *connection, method, *target, opts);
  auto start = clock::now();
  auto outcome =
      co_await detail::exchange_awaiter{st, *connection, opts, method == http_method::head};
  co_return detail::finished(*this, method, target, opts,
                             detail::exchange_result(st, *connection, *target, opts, outcome,
                                                     start),
                             &session::keep_result);
}

task<http_result> session::get(std::string_view p, http_options o) {
  return request(http_method::get, p, std::move(o));
}
task<http_result> session::post(std::string_view p, http_options o) {
  return request(http_method::post, p, std::move(o));
}
task<http_result> session::put(std::string_view p, http_options o) {
  return request(http_method::put, p, std::move(o));
}
task<http_result> session::patch(std::string_view p, http_options o) {
  return request(http_method::patch, p, std::move(o));
}
task<http_result> session::del(std::string_view p, http_options o) {
  return request(http_method::delete_, p, std::move(o));
}
task<http_result> session::head(std::string_view p, http_options o) {
  return request(http_method::head, p, std::move(o));
}

void session::delete_cookies() { state_->cookies.clear(); }
std::string session::cookie_header() const { return state_->cookies.header_value(); }

}  // namespace chaperon
