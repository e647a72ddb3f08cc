#include "net/ws_connection.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include "net/io_services.hpp"
#include "net/transport_errors.hpp"

namespace chaperon::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::size_t tls_read_size = 16 * 1024;
// Reads per readiness event: enough to drain a burst, few enough not to starve other sessions.
constexpr int reads_per_wakeup = 4;
constexpr std::uint16_t close_normal = 1000;
constexpr std::uint16_t close_protocol_error = 1002;

enum class phase : std::uint8_t { idle, connecting, open, closed };
enum class pending_kind : std::uint8_t { none, connect, send, wait };

}  // namespace

// Shared with the completion handlers, so that a handler that runs after the session dropped its
// connection (a read is always outstanding on an open WebSocket) finds the state still alive.
// Laid out for the idle open connection, of which a test holds tens of thousands: what only the
// connect or TLS needs lives in parts allocated on demand, the small fields share one word.
struct ws_connection::impl final : deadline_hook, std::enable_shared_from_this<impl> {
  impl(io_services& s, endpoint_key k)
      : svc(s), socket(s.io()), dial(std::make_unique<dial_part>()) {
    dial->endpoint = std::move(k);
  }

  // What the connect and the upgrade need; freed once the upgrade is accepted.
  struct dial_part {
    endpoint_key endpoint;  // the server: only the connect needs it
    exchange_timeouts timeouts;
    std::string key;  // Sec-WebSocket-Key
    // Made when the first bytes of the response arrive: thousands of sessions that connect at
    // once wait for their answer without one.
    std::unique_ptr<response_parser> parser;
    std::string leftover;  // bytes after the upgrade response: the first frames
    std::uint64_t resolve_ticket = 0;  // a host name lookup the connect waits for
    bool timed_out = false;
  };
  struct tls_part {
    std::unique_ptr<asio::ssl::stream<client_socket&>> stream;
    std::vector<char> rbuf;  // TLS reads (plain ones go through the shard's scratch buffer)
  };

  io_services& svc;
  client_socket socket;
  std::unique_ptr<dial_part> dial;
  std::unique_ptr<tls_part> tls;

  // Writes: `wbuf` is in flight; frames queued meanwhile (pongs, a close) wait in `queued`.
  // Made by the first write (the upgrade request), dropped once the upgrade request has gone
  // out, made again by the first message: an idle WebSocket holds no write buffers.
  struct write_part {
    std::string wbuf;
    std::string queued;
  };
  std::unique_ptr<write_part> wr;

  ws_decoder decoder;
  std::vector<ws_inbound> inbox;
  std::size_t inbox_head = 0;

  std::coroutine_handle<> waiter;
  ws_outcome* out = nullptr;
  std::uint64_t mask_state = 0;

  // Why the connection ended (none while it is usable).
  std::error_code final_error;
  std::uint16_t close_code = 0;
  failure final_kind = failure::none;
  phase ph = phase::idle;
  pending_kind pk = pending_kind::none;
  bool detached = false;  // the owning ws_connection is gone
  bool writing = false;
  bool reading = false;

  write_part& writes() {
    if (!wr) wr = std::make_unique<write_part>();
    return *wr;
  }

  std::uint32_t next_mask() {
    // Control frames the connection sends on its own need a mask too; any value will do for a
    // server, so a cheap generator is enough.
    mask_state += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = mask_state ^ reinterpret_cast<std::uintptr_t>(this);
    z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ULL;
    return static_cast<std::uint32_t>(z ^ (z >> 29));
  }

  // ---- completion of the pending operation ----------------------------------------------------
  void complete(ws_outcome o) {
    svc.disarm(*this);
    if (pk == pending_kind::none || detached) return;
    pk = pending_kind::none;
    if (out) *out = o;
    // Resuming may destroy the owning connection: nothing may follow.
    std::exchange(waiter, {}).resume();
  }

  ws_outcome final_outcome() const { return ws_outcome{final_error, final_kind, close_code}; }

  void on_deadline() override {
    if (pk == pending_kind::wait) {
      complete(ws_outcome{std::make_error_code(std::errc::timed_out), failure::timeout, 0});
      return;
    }
    if (dial) dial->timed_out = true;
    if (forget_lookup()) {
      // Posted: the sweep that calls this must not resume the session.
      asio::post(svc.io(), [self = shared_from_this()] {
        self->fail_connect(std::make_error_code(std::errc::timed_out), failure::dns);
      });
      return;
    }
    close_socket();
  }

  void close_socket() noexcept {
    boost::system::error_code ignored;
    socket.close(ignored);
  }

  // The connection is over: remember why, close, and fail whatever waits.
  void end(failure kind, std::error_code ec) {
    if (ph == phase::closed) return;
    ph = phase::closed;
    final_kind = kind;
    final_error = ec ? ec : std::make_error_code(std::errc::connection_aborted);
    close_socket();
    decoder.release_memory();
    // A waiting receiver first gets what was buffered before the end, then the failure.
    if (pk == pending_kind::send) {
      complete(final_outcome());
    } else if (pk == pending_kind::wait) {
      complete(inbox_head < inbox.size() ? ws_outcome{} : final_outcome());
    }
  }

  // ---- connect and upgrade --------------------------------------------------------------------
  void start_connect(std::coroutine_handle<> h, ws_outcome* o) {
    waiter = h;
    out = o;
    pk = pending_kind::connect;
    if (!dial) dial = std::make_unique<dial_part>();
    ph = phase::connecting;
    const auto& t = dial->timeouts;
    const auto limit = t.ws_connect.count() > 0 ? t.ws_connect : t.connect;
    svc.arm(*this, steady::now() + limit);
    // The lookup may answer at once (an address, a cached name): then resolve_ticket stays 0.
    dial->resolve_ticket = svc.resolve(
        dial->endpoint.host, dial->endpoint.port,
        [self = shared_from_this()](const std::error_code& ec, const io_services::endpoints& e) {
          self->dial->resolve_ticket = 0;
          self->on_resolved(ec, e);
        });
  }

  void on_resolved(const std::error_code& ec, const io_services::endpoints& endpoints) {
    if (detached) return;
    if (ec) return fail_connect(ec, failure::dns);
    svc.connect(socket, endpoints, dial->timeouts.sources,
                [self = shared_from_this()](const boost::system::error_code& e) {
                  self->on_connect(e);
                });
  }

  // Stops waiting for a host name lookup (the connect deadline passed, or a stop): the lookup's
  // answer will find no one. True when there was one.
  bool forget_lookup() noexcept {
    if (!dial || dial->resolve_ticket == 0) return false;
    svc.forget_resolve(std::exchange(dial->resolve_ticket, 0));
    return true;
  }

  void fail_connect(std::error_code ec, failure kind) {
    if (dial && dial->timed_out && kind != failure::dns) kind = failure::connect_timeout;
    if (pk == pending_kind::none) kind = failure::cancelled;
    ph = phase::closed;
    final_kind = kind;
    final_error = ec;
    close_socket();
    complete(ws_outcome{ec, kind, 0});
  }

  void on_connect(const boost::system::error_code& ec) {
    if (detached) return;
    if (ec) return fail_connect(ec, failure::connect);
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    socket.non_blocking(true, ignored);
    const auto& server = dial->endpoint;
    if (!server.tls) return write_upgrade();
    tls = std::make_unique<tls_part>();
    tls->stream = svc.tls_client(socket, server.host, server.verify,
                                  dial->timeouts.ca_file_or_none());
    tls->stream->async_handshake(asio::ssl::stream_base::client,
                         [self = shared_from_this()](const boost::system::error_code& hec) {
                           if (self->detached) return;
                           if (hec) return self->fail_connect(hec, failure::tls);
                           self->write_upgrade();
                         });
  }

  template <class Handler>
  void async_write_all(const std::string& data, Handler&& handler) {
    if (tls) {
      asio::async_write(*tls->stream, asio::buffer(data), std::forward<Handler>(handler));
    } else {
      asio::async_write(socket, asio::buffer(data), std::forward<Handler>(handler));
    }
  }

  // TLS only: plain TCP waits for readiness and reads into the shard's scratch buffer.
  template <class Handler>
  void tls_read_some(Handler&& handler) {
    tls->stream->async_read_some(asio::buffer(tls->rbuf.data(), tls->rbuf.size()),
                                 std::forward<Handler>(handler));
  }

  void write_upgrade() {
    if (tls) tls->rbuf.resize(tls_read_size);
    auto& request = writes().wbuf;
    async_write_all(request, [self = shared_from_this()](const boost::system::error_code& ec,
                                                         std::size_t) {
      if (self->detached) return;
      if (ec) return self->fail_connect(ec, classify(ec));
      self->wr.reset();  // the upgrade request is the largest write of most
      self->read_upgrade();
    });
  }

  void read_upgrade() {
    if (tls) {
      tls_read_some([self = shared_from_this()](const boost::system::error_code& ec,
                                                std::size_t n) {
        if (self->detached) return;
        if (ec) return self->fail_connect(ec, is_eof(ec) ? failure::closed : classify(ec));
        self->parse_upgrade(std::string_view(self->tls->rbuf.data(), n));
      });
      return;
    }
    // Plain TCP reads the answer into the shard's shared buffer: thousands of sessions that
    // connect at once then hold no read buffer each.
    socket.async_wait(client_socket::wait_read,
                      [self = shared_from_this()](const boost::system::error_code& ec) {
                        if (self->detached) return;
                        if (ec) return self->fail_connect(ec, classify(ec));
                        auto& scratch = self->svc.scratch();
                        boost::system::error_code rec;
                        std::size_t n =
                            self->socket.read_some(asio::buffer(scratch.data(), scratch.size()), rec);
                        if (rec == asio::error::would_block || rec == asio::error::try_again) {
                          return self->read_upgrade();
                        }
                        if (rec) {
                          return self->fail_connect(
                              rec, is_eof(rec) ? failure::closed : classify(rec));
                        }
                        self->parse_upgrade(std::string_view(scratch.data(), n));
                      });
  }

  void parse_upgrade(std::string_view data) {
    std::size_t used = 0;
    auto& parser = dial->parser;
    if (!parser) {
      parser = std::make_unique<response_parser>();
      parser->reset(false, true);
    }
    auto st = parser->feed(data, used);
    if (st == response_parser::status::need_more) return read_upgrade();
    if (st == response_parser::status::error) {
      return fail_connect(parser->error(), failure::protocol);
    }
    dial->leftover.assign(data.substr(used));
    complete(ws_outcome{});
  }

  void accept_upgrade() {
    std::string first = dial ? std::move(dial->leftover) : std::string();
    dial.reset();
    ph = phase::open;
    if (!first.empty()) process(first);
    if (ph == phase::open) read_loop();
  }

  // ---- reading --------------------------------------------------------------------------------
  void read_loop() {
    if (reading || ph != phase::open) return;
    reading = true;
    if (tls) {
      tls_read_some([self = shared_from_this()](const boost::system::error_code& ec,
                                                std::size_t n) {
        self->reading = false;
        if (self->ph != phase::open) return;
        if (ec) return self->end(classify(ec), ec);
        self->process(std::string_view(self->tls->rbuf.data(), n));
        self->after_read();
      });
      return;
    }
    socket.async_wait(client_socket::wait_read,
                      [self = shared_from_this()](const boost::system::error_code& ec) {
                        self->reading = false;
                        if (self->ph != phase::open) return;
                        if (ec) return self->end(classify(ec), ec);
                        self->drain();
                      });
  }

  // Plain TCP: read what is there into the shard's shared buffer and decode it at once.
  void drain() {
    auto& scratch = svc.scratch();
    for (int i = 0; i < reads_per_wakeup && ph == phase::open; ++i) {
      boost::system::error_code ec;
      std::size_t n = socket.read_some(asio::buffer(scratch.data(), scratch.size()), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec) return end(classify(ec), ec);
      process(std::string_view(scratch.data(), n));
      if (n < scratch.size()) break;
    }
    after_read();
  }

  void after_read() {
    if (ph != phase::open) return;
    read_loop();
    // Last: resuming the receiver may end the session and drop the connection.
    if (pk == pending_kind::wait && inbox_head < inbox.size()) complete(ws_outcome{});
  }

  void process(std::string_view data) {
    while (ph == phase::open) {
      std::size_t used = 0;
      auto ev = decoder.feed(data, used);
      data.remove_prefix(used);
      switch (ev.kind) {
        case ws_decoder::event_kind::need_more: return;
        case ws_decoder::event_kind::message:
          if (inbox_head == inbox.size()) {
            inbox.clear();
            inbox_head = 0;
          }
          inbox.push_back(ws_inbound{ev.binary, std::string(ev.payload)});
          break;
        case ws_decoder::event_kind::ping:
          queue_frame(ws_opcode::pong, ev.payload);
          break;
        case ws_decoder::event_kind::pong: break;
        case ws_decoder::event_kind::close:
          close_code = ev.close_code;
          send_close_now(ev.close_code == 1005 ? close_normal : ev.close_code);
          return end(failure::closed, std::make_error_code(std::errc::connection_reset));
        case ws_decoder::event_kind::error:
          send_close_now(close_protocol_error);
          return end(failure::protocol, std::make_error_code(std::errc::protocol_error));
      }
    }
  }

  // ---- writing --------------------------------------------------------------------------------
  void queue_frame(ws_opcode op, std::string_view payload) {
    auto& w = writes();
    ws_encode_frame(writing ? w.queued : w.wbuf, op, payload, next_mask());
    if (!writing) flush();
  }

  // Best effort, synchronous: a close frame on the way out must not keep the state alive.
  void send_close_now(std::uint16_t code) {
    if (writing || tls) return;
    std::string frame;
    ws_encode_close(frame, code, {}, next_mask());
    boost::system::error_code ignored;
    socket.write_some(asio::buffer(frame), ignored);
  }

  // Writes wbuf; true when everything went out synchronously.
  bool flush() {
    auto& wbuf = wr->wbuf;
    if (!tls) {
      boost::system::error_code ec;
      std::size_t sent = socket.write_some(asio::buffer(wbuf), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec.clear();
        sent = 0;
      }
      if (ec) {
        end(classify(ec), ec);
        return false;
      }
      if (sent == wbuf.size()) {
        wbuf.clear();
        return true;
      }
      wbuf.erase(0, sent);
    }
    writing = true;
    async_write_all(wbuf, [self = shared_from_this()](const boost::system::error_code& ec,
                                                      std::size_t) { self->on_written(ec); });
    return false;
  }

  void on_written(const boost::system::error_code& ec) {
    writing = false;
    if (ph != phase::open) return;
    if (ec) return end(classify(ec), ec);
    wr->wbuf.clear();
    if (!wr->queued.empty()) {
      wr->wbuf.swap(wr->queued);
      if (!flush()) return;
    }
    if (pk == pending_kind::send) complete(ws_outcome{});
  }

  bool send(ws_opcode op, std::string_view payload, std::uint32_t mask, std::coroutine_handle<> h,
            ws_outcome* o) {
    if (ph != phase::open) {
      *o = ph == phase::closed ? final_outcome()
                               : ws_outcome{std::make_error_code(std::errc::not_connected),
                                            failure::closed, 0};
      return true;
    }
    auto& w = writes();
    ws_encode_frame(writing ? w.queued : w.wbuf, op, payload, mask);
    if (!writing && flush()) {
      *o = ws_outcome{};
      return true;
    }
    if (ph == phase::closed) {
      *o = final_outcome();
      return true;
    }
    waiter = h;
    out = o;
    pk = pending_kind::send;
    return false;
  }
};

ws_connection::ws_connection(io_services& services, endpoint_key key)
    : impl_(std::make_shared<impl>(services, std::move(key))) {}

ws_connection::~ws_connection() {
  impl_->detached = true;
  impl_->svc.disarm(*impl_);
  impl_->forget_lookup();
  impl_->ph = phase::closed;
  impl_->close_socket();
}

bool ws_connection::is_open() const noexcept { return impl_->ph == phase::open; }
const std::string& ws_connection::metric_url() const noexcept {
  static const std::string none;
  return metric_url_ ? *metric_url_ : none;
}

std::string& ws_connection::request_buffer() noexcept { return impl_->writes().wbuf; }

const response& ws_connection::upgrade_response() const noexcept {
  static const response none;
  return impl_->dial && impl_->dial->parser ? impl_->dial->parser->get() : none;
}

void ws_connection::prepare_connect(const exchange_timeouts& timeouts, std::string key) {
  if (!impl_->dial) impl_->dial = std::make_unique<impl::dial_part>();
  impl_->dial->timeouts = timeouts;
  impl_->dial->key = std::move(key);
}

const std::string& ws_connection::upgrade_key() const noexcept {
  static const std::string none;
  return impl_->dial ? impl_->dial->key : none;
}

void ws_connection::start_connect(std::coroutine_handle<> waiter, ws_outcome* out) {
  impl_->start_connect(waiter, out);
}

void ws_connection::accept_upgrade() { impl_->accept_upgrade(); }

bool ws_connection::send(ws_opcode op, std::string_view payload, std::uint32_t mask_key,
                         std::coroutine_handle<> waiter, ws_outcome* out) {
  return impl_->send(op, payload, mask_key, waiter, out);
}

bool ws_connection::ready() const noexcept {
  return impl_->inbox_head < impl_->inbox.size() || impl_->ph != phase::open;
}

void ws_connection::wait(std::chrono::steady_clock::time_point deadline,
                         std::coroutine_handle<> waiter, ws_outcome* out) {
  auto& d = *impl_;
  d.waiter = waiter;
  d.out = out;
  d.pk = pending_kind::wait;
  d.svc.arm(d, deadline);
}

bool ws_connection::receive(ws_inbound& message, ws_outcome* out) {
  auto& d = *impl_;
  if (d.inbox_head < d.inbox.size()) {
    message = std::move(d.inbox[d.inbox_head++]);
    if (d.inbox_head == d.inbox.size()) {
      d.inbox.clear();
      d.inbox_head = 0;
    }
    return true;
  }
  *out = d.ph == phase::closed
             ? d.final_outcome()
             : ws_outcome{std::make_error_code(std::errc::not_connected), failure::closed, 0};
  return false;
}

void ws_connection::cancel() noexcept {
  auto& d = *impl_;
  bool was_pending = d.pk != pending_kind::none;
  d.svc.disarm(d);
  d.forget_lookup();
  if (d.ph != phase::closed) {
    d.ph = phase::closed;
    d.final_kind = failure::cancelled;
    d.final_error = std::make_error_code(std::errc::operation_canceled);
    d.close_socket();
  }
  if (!was_pending) return;
  // Posted: a stop runs inside other sessions' code and must not resume this one there.
  boost::asio::post(d.svc.io(), [self = impl_] {
    self->complete(ws_outcome{std::make_error_code(std::errc::operation_canceled),
                              failure::cancelled, 0});
  });
}

void ws_connection::close(std::uint32_t) noexcept {
  auto& d = *impl_;
  if (d.ph == phase::open) d.send_close_now(close_normal);
  if (d.ph != phase::closed) {
    d.ph = phase::closed;
    d.final_kind = failure::closed;
    d.final_error = std::make_error_code(std::errc::not_connected);
    d.close_socket();
  }
}

std::size_t ws_connection::buffered_bytes() const noexcept {
  const auto& d = *impl_;
  std::size_t n = (d.wr ? d.wr->wbuf.capacity() + d.wr->queued.capacity() : 0) +
                  d.decoder.buffered() +
                  (d.tls ? d.tls->rbuf.capacity() : 0) + (d.dial ? d.dial->leftover.capacity() : 0);
  for (std::size_t i = d.inbox_head; i < d.inbox.size(); ++i) n += d.inbox[i].data.capacity();
  return n;
}

}  // namespace chaperon::net
