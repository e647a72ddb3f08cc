// WebSocket actions of a session: connect (upgrade with the session's cookies and auth), send,
// receive, await a message, close, reset. Failures are results and error metrics, never
// exceptions.
#include <cstdio>

#include <fmt/format.h>

#include "chaperon/session.hpp"
#include "engine/intended_time.hpp"
#include "engine/session_state.hpp"
#include "engine/shard.hpp"
#include "net/ascii.hpp"
#include "net/connect_gate.hpp"
#include "net/io_services.hpp"
#include "net/request_writer.hpp"
#include "net/url.hpp"
#include "net/ws_connection.hpp"
#include "net/ws_handshake.hpp"

namespace chaperon {

namespace detail {
namespace {

using clock = std::chrono::steady_clock;

std::chrono::microseconds since(clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start);
}

// http(s) URLs name the same server's WebSocket endpoint as ws(s).
std::string to_ws_url(std::string url) {
  if (url.size() >= 7 && net::iequals(std::string_view(url).substr(0, 7), "http://")) {
    return "ws://" + url.substr(7);
  }
  if (url.size() >= 8 && net::iequals(std::string_view(url).substr(0, 8), "https://")) {
    return "wss://" + url.substr(8);
  }
  return url;
}

void set_pending(session_state& st, net::ws_connection& c) {
  st.pending = pending_op{[](void* p) { static_cast<net::ws_connection*>(p)->cancel(); }, &c};
}

struct connect_awaiter {
  session_state& st;
  net::ws_connection& conn;
  net::ws_outcome* outcome;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    set_pending(st, conn);
    conn.start_connect(h, outcome);
  }
  void await_resume() noexcept { st.pending = {}; }
};

struct send_awaiter {
  session_state& st;
  net::ws_connection& conn;
  net::ws_opcode op;
  std::string_view payload;
  std::uint32_t mask;
  net::ws_outcome* outcome;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    if (conn.send(op, payload, mask, h, outcome)) return false;  // sent at once
    set_pending(st, conn);
    return true;
  }
  void await_resume() noexcept { st.pending = {}; }
};

struct wait_awaiter {
  session_state& st;
  net::ws_connection& conn;
  clock::time_point deadline;
  net::ws_outcome* outcome;

  bool await_ready() const noexcept { return conn.ready(); }
  void await_suspend(std::coroutine_handle<> h) {
    set_pending(st, conn);
    conn.wait(deadline, h, outcome);
  }
  void await_resume() noexcept { st.pending = {}; }
};

// A ws_connect's place among the connects of its shard (config ws.max_connecting). Held from
// before the connection is made until the upgrade has been answered; given back on any exit.
class connect_turn {
 public:
  explicit connect_turn(session_state& st) : st_(st), gate_(st.owner.net().ws_connects()) {}
  ~connect_turn() { leave(); }
  connect_turn(const connect_turn&) = delete;
  connect_turn& operator=(const connect_turn&) = delete;

  bool try_enter() { return gate_.try_enter(ticket_, st_.settings().ws_max_connecting); }
  void enqueue(std::coroutine_handle<> h) {
    gate_.enqueue(ticket_, h);
    st_.pending = pending_op{[](void* p) { static_cast<connect_turn*>(p)->cancel(); }, this};
  }
  void resumed() noexcept {
    if (st_.pending.target == this) st_.pending = {};
  }
  // The next in line is resumed from the event loop, not inside this coroutine.
  void leave() noexcept {
    if (auto* next = gate_.leave(ticket_)) resume_later(next->waiter);
  }

 private:
  // A stop while in line: out of the line, and resumed to see the stop.
  void cancel() noexcept {
    if (!ticket_.queued) return;  // already admitted; its resume is on the way
    gate_.leave(ticket_);
    resume_later(ticket_.waiter);
  }
  void resume_later(std::coroutine_handle<> h) noexcept {
    st_.owner.post([h] { h.resume(); });
  }

  session_state& st_;
  net::connect_gate& gate_;
  net::connect_gate::ticket ticket_;
};

struct turn_awaiter {
  connect_turn& turn;

  bool await_ready() { return turn.try_enter(); }
  void await_suspend(std::coroutine_handle<> h) { turn.enqueue(h); }
  void await_resume() noexcept { turn.resumed(); }
};

net::ws_connection* find_ws(session_state& st, std::string_view name) {
  for (auto& ws : st.websockets) {
    if (ws.name == name) return &ws.conn;
  }
  return nullptr;
}

// Forgets the named connection; its destructor closes the socket (without a close frame).
void forget_ws(session_state& st, std::string_view name) {
  st.websockets.remove_if([name](const named_ws& ws) { return ws.name == name; });
}

void set_failure(ws_result& r, const net::ws_outcome& o) {
  r.error = o.kind == failure::none ? failure::io : o.kind;
  r.code = o.error ? o.error : std::make_error_code(std::errc::io_error);
  r.close_code = o.close_code;
}

void record_ws(session_state& st, std::string_view action, const std::string& target,
               const ws_result& r) {
  std::string session = st.metric_session();
  if (r.ok()) {
    record_latency(st, metric_key{session, std::string(action), target, {}}, r.duration.count());
    return;
  }
  live_counters::add(st.owner.counters().errors);
  record_latency(st,
                 metric_key{std::move(session), std::string(action), target,
                            std::string(to_string(r.error))},
                 r.duration.count());
}

void print_ws(const session_state& st, std::string_view action, const ws_result& r) {
  std::string line =
      r.ok() ? fmt::format("{} {} {} -> ok in {:.3f} ms, {} bytes\n", st.id, action, r.url,
                           r.duration.count() / 1000.0, r.message.data.size())
             : fmt::format("{} {} {} -> error {} after {:.3f} ms\n", st.id, action, r.url,
                           to_string(r.error), r.duration.count() / 1000.0);
  std::fwrite(line.data(), 1, line.size(), stdout);
}

void finish(session& s, std::string_view action, const std::string& metric_target,
            const ws_result& r, const ws_options& opts) {
  auto& st = state_of(s);
  record_ws(st, action, metric_target, r);
  keep_ws_action(s, action, metric_target, r);
  if (st.owner.settings().print_results) print_ws(st, action, r);
  if (opts.result_callback()) opts.result_callback()(s, r);
}

clock::time_point deadline_for(session_state& st, const ws_options& opts) {
  auto t = opts.timeout_value().count() > 0 ? opts.timeout_value() : st.settings().ws_timeout;
  return clock::now() + t;
}

// The upgrade request: the session's cookies and basic auth, the handshake headers, opts' headers.
void write_upgrade(session_state& st, net::ws_connection& conn, const net::url& u,
                   const std::string& key, const ws_options& opts) {
  header_list headers{{"Upgrade", "websocket"},
                      {"Connection", "Upgrade"},
                      {"Sec-WebSocket-Key", key},
                      {"Sec-WebSocket-Version", "13"}};
  for (const auto& h : opts.header_values()) headers.push_back(h);
  std::string cookie = st.cookies.header_value();
  std::string host = u.host_header();
  net::request_head head;
  head.method = "GET";
  head.target = u.target;
  head.host = host;
  head.headers = &headers;
  head.cookie = cookie;
  head.authorization = st.settings().authorization;
  auto& out = conn.request_buffer();
  out.clear();
  net::write_request(out, head);
}

// Checks the upgrade response (and keeps its cookies); true when the WebSocket is open.
bool check_upgrade(session_state& st, net::ws_connection& conn, ws_result& r) {
  const auto& resp = conn.upgrade_response();
  r.status = resp.status;
  for (const auto& [k, v] : resp.headers) {
    if (net::iequals(k, "set-cookie")) st.cookies.store(v);
  }
  std::string why = net::ws_check_upgrade_response(resp.status, resp.headers, conn.upgrade_key());
  if (why.empty()) {
    conn.accept_upgrade();
    return true;
  }
  r.error = resp.status == 101 ? failure::protocol : failure::rejected;
  r.code = std::make_error_code(std::errc::connection_refused);
  conn.close(0);
  return false;
}

// One message from conn, or the failure; records nothing.
task<ws_result> receive_one(session_state& st, net::ws_connection& conn,
                            clock::time_point deadline, bool decode) {
  ws_result r;
  auto start = clock::now();
  net::ws_outcome o;
  co_await wait_awaiter{st, conn, deadline, &o};
  r.duration = since(start);
  net::ws_inbound m;
  if (o.kind != failure::none) {
    set_failure(r, o);
  } else if (conn.receive(m, &o)) {
    r.message.binary = m.binary;
    r.message.data = std::move(m.data);
    if (decode) {
      r.message.json = nlohmann::json::parse(r.message.data, nullptr, false);
      if (r.message.json.is_discarded()) {
        r.message.json = nullptr;
        r.error = failure::decode;
        r.code = std::make_error_code(std::errc::bad_message);
      }
    }
  } else {
    set_failure(r, o);
  }
  co_return r;
}

// Each message received counts under ws_recv and ws_recv(<url>), as the original's.
void record_received(session_state& st, const std::string& target, const ws_result& r) {
  std::string session = st.metric_session();
  record_latency(st, metric_key{session, "ws_recv", {}, {}}, r.duration.count());
  record_latency(st, metric_key{std::move(session), "ws_recv", target, {}}, r.duration.count());
}

ws_result not_connected(const std::string& name) {
  ws_result r;
  r.error = failure::not_connected;
  r.code = std::make_error_code(std::errc::not_connected);
  r.url = name.empty() ? std::string("(no connection)") : "(no connection " + name + ")";
  return r;
}

}  // namespace
}  // namespace detail

namespace detail {
namespace {

// The metric URL of a connection, shared with the one made before it on this engine thread when
// it is the same: thousands of sessions that connect to one URL then hold one copy of it.
std::shared_ptr<const std::string> shared_metric_url(std::string url) {
  thread_local std::weak_ptr<const std::string> last;
  if (auto same = last.lock(); same && *same == url) return same;
  auto made = std::make_shared<const std::string>(std::move(url));
  last = made;
  return made;
}

// Resolves the URL, installs the connection under its name (replacing one of the same name),
// gives it the connect's timeouts and key, and writes the upgrade request. Done here, outside the
// coroutine frame, and kept by the connection: thousands of sessions that connect at once would
// otherwise each hold it in their frame until their upgrade is answered. `url` is set in any case;
// for a URL that cannot be connected to, the result is null.
net::ws_connection* prepare_connect(session_state& st, std::string_view path,
                                    const ws_options& opts, std::string& url) {
  const auto& settings = st.settings();
  url = to_ws_url(net::join_url(settings.base_url, path));
  std::string why;
  auto parsed = net::parse_url(url, &why);
  if (!parsed) return nullptr;
  // The new connection replaces one of the same name.
  forget_ws(st, opts.connection_name());
  auto* conn = &st.websockets
                    .emplace_front(std::string(opts.connection_name()), st.owner.net(),
                                   net::endpoint_key{parsed->host, parsed->port, parsed->tls(),
                                                     settings.verify_tls})
                    .conn;
  conn->set_metric_url(shared_metric_url(
      opts.metrics_url_value().empty()
          ? url
          : to_ws_url(net::join_url(settings.base_url, opts.metrics_url_value()))));
  auto timeouts = settings.timeouts;
  // A timeout given with the call beats the config's (ws.connect_timeout included).
  if (opts.timeout_value().count() > 0) {
    timeouts.connect = opts.timeout_value();
    timeouts.ws_connect = {};
  }
  conn->prepare_connect(timeouts, net::ws_make_key(st.owner.rng()(), st.owner.rng()()));
  write_upgrade(st, *conn, *parsed, conn->upgrade_key(), opts);
  return conn;
}

// ws_connect of a URL that cannot be connected to: recorded as invalid_url.
ws_result invalid_connect(session& s, std::string url, const ws_options& opts) {
  ws_result r;
  r.error = failure::invalid_url;
  r.code = std::make_error_code(std::errc::invalid_argument);
  r.url = std::move(url);
  finish(s, "ws_connect", r.url, r, opts);
  return r;
}

// ws_connect once the connect has ended: checks the upgrade and records the result.
ws_result connect_result(session& s, net::ws_connection& conn, std::string url,
                         const net::ws_outcome& outcome, clock::time_point start,
                         const ws_options& opts) {
  ws_result r;
  r.url = std::move(url);
  if (outcome.kind != failure::none) {
    set_failure(r, outcome);
  } else {
    check_upgrade(state_of(s), conn, r);
  }
  r.duration = since(start);
  // The connection outlives this call: only a later ws_connect of the same name replaces it.
  finish(s, "ws_connect", conn.metric_url(), r, opts);
  if (s.stopped()) throw session_stopped(s.stop_reason());
  return r;
}

}  // namespace
}  // namespace detail

task<ws_result> session::ws_connect(std::string_view path, ws_options opts) {
  throw_if_stopped();
  auto& st = *state_;
  // The connection is made once this connect has a place: a session waiting for one holds only
  // this frame. The wait is not part of the connect's duration.
  detail::connect_turn turn(st);
  co_await detail::turn_awaiter{turn};
  throw_if_stopped();
  // Only the URL waits in the frame, which every connecting session holds: the result is made
  // once the connect has ended.
  std::string url;
  auto* conn = detail::prepare_connect(st, path, opts, url);
  if (!conn) co_return detail::invalid_connect(*this, std::move(url), opts);
  auto start = clock::now();
  net::ws_outcome outcome;
  co_await detail::connect_awaiter{st, *conn, &outcome};
  turn.leave();
  co_return detail::connect_result(*this, *conn, std::move(url), outcome, start, opts);
}

namespace detail {
task<ws_result> send_frame(session& s, net::ws_opcode op, std::string_view payload,
                           ws_options opts);
}

task<ws_result> session::ws_send(std::string_view text, ws_options opts) {
  return detail::send_frame(*this, net::ws_opcode::text, text, std::move(opts));
}

task<ws_result> session::ws_send_binary(std::string_view bytes, ws_options opts) {
  return detail::send_frame(*this, net::ws_opcode::binary, bytes, std::move(opts));
}

task<ws_result> session::ws_send_json(const json& value, ws_options opts) {
  std::string text = value.dump();
  co_return co_await detail::send_frame(*this, net::ws_opcode::text, text, opts);
}

// The payload is framed before the first suspension; it lives in the caller's full expression
// (the co_await), like an HTTP path.
task<ws_result> detail::send_frame(session& s, net::ws_opcode op, std::string_view payload,
                                   ws_options opts) {
  if (s.stopped()) throw session_stopped(s.stop_reason());
  auto& st = detail::state_of(s);
  auto* conn = detail::find_ws(st, opts.connection_name());
  if (!conn) {
    ws_result r = detail::not_connected(opts.connection_name());
    detail::finish(s, "ws_send", r.url, r, opts);
    co_return r;
  }
  ws_result r;
  r.url = conn->metric_url();
  auto start = std::chrono::steady_clock::now();
  net::ws_outcome outcome;
  co_await detail::send_awaiter{st, *conn, op, payload, static_cast<std::uint32_t>(st.owner.rng()()), &outcome};
  r.duration = detail::since(start);
  if (outcome.kind != failure::none) detail::set_failure(r, outcome);
  detail::finish(s, "ws_send", r.url, r, opts);
  if (s.stopped()) throw session_stopped(s.stop_reason());
  co_return r;
}

task<ws_result> session::ws_recv(ws_options opts) {
  throw_if_stopped();
  auto& st = *state_;
  auto* conn = detail::find_ws(st, opts.connection_name());
  if (!conn) {
    ws_result r = detail::not_connected(opts.connection_name());
    detail::finish(*this, "ws_recv", r.url, r, opts);
    co_return r;
  }
  std::string target = conn->metric_url();
  auto deadline = detail::deadline_for(st, opts);
  ws_result r = co_await detail::receive_one(st, *conn, deadline, opts.decodes_json());
  r.url = target;
  throw_if_stopped();
  if (r.ok()) {
    detail::record_received(st, target, r);
    keep_ws_action(*this, "ws_recv", target, r);
    if (st.owner.settings().print_results) detail::print_ws(st, "ws_recv", r);
    if (opts.result_callback()) opts.result_callback()(*this, r);
  } else {
    detail::finish(*this, "ws_recv", target, r, opts);
  }
  co_return r;
}

namespace {
task<ws_result> await_matching(session& s, const ws_options& opts,
                               const std::function<bool(const ws_message&)>& matches) {
  auto& st = detail::state_of(s);
  auto* conn = detail::find_ws(st, opts.connection_name());
  if (!conn) {
    ws_result r = detail::not_connected(opts.connection_name());
    detail::finish(s, "ws_await_recv", r.url, r, opts);
    co_return r;
  }
  std::string target = conn->metric_url();
  auto deadline = detail::deadline_for(st, opts);
  auto start = std::chrono::steady_clock::now();
  ws_result r;
  bool done = false;
  while (!done) {
    r = co_await detail::receive_one(st, *conn, deadline, opts.decodes_json());
    r.url = target;
    if (s.stopped()) throw session_stopped(s.stop_reason());
    if (!r.ok() && r.error != failure::decode) break;
    if (r.ok()) detail::record_received(st, target, r);
    done = r.ok() && matches(r.message);
  }
  r.duration = detail::since(start);
  if (r.ok()) {
    keep_ws_action(s, "ws_await_recv", target, r);
    if (opts.result_callback()) opts.result_callback()(s, r);
  } else {
    detail::finish(s, "ws_await_recv", target, r, opts);
  }
  co_return r;
}
}  // namespace

task<ws_result> session::ws_await_recv(std::string_view expected, ws_options opts) {
  throw_if_stopped();
  std::string want(expected);
  std::function<bool(const ws_message&)> matches = [want](const ws_message& m) {
    return !m.binary && m.data == want;
  };
  co_return co_await await_matching(*this, opts, matches);
}

task<ws_result> session::ws_await_recv_json(const json& expected, ws_options opts) {
  throw_if_stopped();
  opts.decode_json();
  json want = expected;
  std::function<bool(const ws_message&)> matches = [want](const ws_message& m) {
    return m.json == want;
  };
  co_return co_await await_matching(*this, opts, matches);
}

task<ws_result> session::ws_await_recv(ws_predicate pred, ws_options opts) {
  throw_if_stopped();
  std::function<bool(const ws_message&)> matches = std::move(pred);
  co_return co_await await_matching(*this, opts, matches);
}

task<void> session::ws_close(ws_options opts) {
  throw_if_stopped();
  if (auto* conn = detail::find_ws(*state_, opts.connection_name())) {
    conn->close(static_cast<std::uint32_t>(state_->owner.rng()()));
    detail::forget_ws(*state_, opts.connection_name());
  }
  co_return;
}

void session::ws_reset(ws_options opts) {
  throw_if_stopped();
  detail::forget_ws(*state_, opts.connection_name());
}

void session::add_ws_result(std::string_view action, const ws_result& r) {
  detail::record_ws(*state_, action, {}, r);
  if (keeps_results()) keep_result(std::string(action), r);
}

void keep_ws_action(session& s, std::string_view action, const std::string& target,
                    const ws_result& r) {
  if (!s.keeps_results()) return;
  s.keep_result(target.empty() ? std::string(action) : std::string(action) + "(" + target + ")", r);
}

bool session::ws_connected(std::string_view connection) const {
  auto* conn = detail::find_ws(*state_, connection);
  return conn && conn->is_open();
}

}  // namespace chaperon
