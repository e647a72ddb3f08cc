// HTTP actions of a session: build the request, run the exchange on the session's keep-alive
// connection, record metrics, store cookies, decode, call back.
#include <cstdio>
#include <utility>

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

struct exchange_awaiter {
  session_state& state;
  net::http_connection& conn;
  bool head;
  const net::exchange_timeouts& timeouts;
  net::exchange_outcome* outcome;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    state.pending = pending_op{[](void* c) { static_cast<net::http_connection*>(c)->cancel(); },
                               &conn};
    conn.start(head, true, timeouts, h, outcome);
  }
  void await_resume() noexcept { state.pending = {}; }
};

// Serialises the request into the connection's buffer.
void write_request(session_state& st, net::http_connection& conn, http_method method,
                   const resolved_target& target, const http_options& o) {
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

metric_id ok_metric(session_state& st, http_method method, const std::string& metric_url) {
  auto& memo = st.memo();
  if (memo.metric != no_metric && memo.method == method && memo.metric_url == metric_url) {
    return memo.metric;
  }
  memo.metric = st.owner.recorder().intern(
      metric_key{st.metric_session(), std::string(method_name(method)), metric_url, {}});
  memo.method = method;
  memo.metric_url = metric_url;
  return memo.metric;
}

void record(session_state& st, http_method method, const std::string& metric_url,
            const http_result& r) {
  auto& rec = st.owner.recorder();
  auto& counters = st.owner.counters();
  auto us = r.duration.count();
  live_counters::add(counters.requests);
  if (r.status > 0) record_latency(st, ok_metric(st, method, metric_url), us);
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
                                         metric_url, std::move(error)}),
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

// The target of a request; one whose URL cannot be requested has no connection, and `why` then
// says what is wrong with it.
resolved_target resolve_target(session_state& st, std::string_view path, const http_options& o,
                               std::string& why) {
  using rb = request_builder;
  const auto& settings = st.settings();
  resolved_target t;
  t.path = std::string(path);
  t.url = net::join_url(settings.base_url, path);
  if (!o.param_values().empty()) t.url = net::append_query(t.url, o.param_values());
  // The metric name keeps the query (of the path or of params) for every method, unless
  // skip_query_params_in_metrics strips it, again for every method.
  const auto& metrics_url = rb::of(o).metrics_url;
  t.metric_url = metrics_url.empty() ? t.url : net::join_url(settings.base_url, metrics_url);
  if (settings.skip_query_in_metrics) t.metric_url = net::strip_query(t.metric_url);
  auto parsed = net::parse_url(t.url, &why);
  if (!parsed) {
    why = why_not(path, settings.base_url, std::move(why));
    return t;
  }
  t.parsed = std::move(*parsed);
  t.host_header = t.parsed.host_header();
  t.connection = &st.connection_for(net::endpoint_key{t.parsed.host, t.parsed.port,
                                                      t.parsed.tls(), settings.verify_tls});
  return t;
}

// The target for this request, from the one-entry cache when the request is plain. `why` is set
// only when the target was resolved now and cannot be requested. `scratch` (on the heap: it lives
// in the coroutine frame of every request in flight) holds a target that is not cached.
const resolved_target& target_for(session_state& st, std::string_view path, const http_options& o,
                                  std::unique_ptr<resolved_target>& scratch, std::string& why) {
  bool plain = o.param_values().empty() && request_builder::of(o).metrics_url.empty();
  auto& last = st.memo().last_target;
  if (plain && last && last->path == path) return *last;
  auto t = resolve_target(st, path, o, why);
  if (plain) return last.emplace(std::move(t));
  scratch = std::make_unique<resolved_target>(std::move(t));
  return *scratch;
}

// A request whose URL cannot be requested: recorded as the failure invalid_url, sent nowhere.
http_result invalid_url_result(session& s, http_method method, const resolved_target& target,
                               const std::string& why) {
  auto& st = state_of(s);
  if (!why.empty() && !std::exchange(st.memo().invalid_url_logged, true)) {
    s.log(log_level::warn, why + "; recorded as the error invalid_url, logged once per session");
  }
  http_result r;
  r.url = target.url;
  r.error = failure::invalid_url;
  r.code = std::make_error_code(std::errc::invalid_argument);
  record(st, method, target.metric_url, r);
  if (st.owner.settings().print_results) print_result(st, method, r);
  return r;
}
}  // namespace
}  // namespace detail

task<http_result> session::request(http_method method, std::string_view path,
                                   http_options opts) {
  using rb = detail::request_builder;
  throw_if_stopped();
  auto& st = *state_;
  const auto& settings = st.settings();
  // One result for both ways out: every local of a coroutine takes room in its frame, which
  // each request in flight holds.
  http_result r;
  std::unique_ptr<detail::resolved_target> scratch;
  std::string why;
  const auto& target = detail::target_for(st, path, opts, scratch, why);
  if (!target.connection) {
    r = detail::invalid_url_result(*this, method, target, why);
    rb::callbacks(opts, *this, r);
    throw_if_stopped();
    co_return r;
  }
  auto& conn = *target.connection;
  detail::write_request(st, conn, method, target, opts);
  net::exchange_timeouts timeouts = settings.timeouts;
  if (rb::of(opts).timeout.count() > 0) timeouts.request = rb::of(opts).timeout;

  net::exchange_outcome outcome;
  auto start = clock::now();
  co_await detail::exchange_awaiter{st, conn, method == http_method::head, timeouts, &outcome};
  r.duration = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start);
  r.url = target.url;
  if (outcome.error || outcome.kind != failure::none) {
    r.error = outcome.kind == failure::none ? failure::io : outcome.kind;
    r.code = outcome.error ? outcome.error : std::make_error_code(std::errc::io_error);
  } else {
    detail::take_response(r, conn, st);
    if (rb::of(opts).decode_json) {
      r.json = nlohmann::json::parse(r.body, nullptr, false);
      if (r.json.is_discarded()) {
        r.json = nullptr;
        r.error = failure::decode;
        r.code = std::make_error_code(std::errc::bad_message);
      }
    }
  }
  detail::record(st, method, target.metric_url, r);
  if (st.owner.settings().print_results) detail::print_result(st, method, r);
  if (settings.store_results) {
    keep_result(std::string(method_name(method)) + "(" + target.metric_url + ")", r);
  }
  rb::callbacks(opts, *this, r);
  throw_if_stopped();
  co_return r;
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
