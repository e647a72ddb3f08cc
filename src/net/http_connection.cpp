#include "net/http_connection.hpp"

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

struct http_connection::impl final : deadline_hook, deferred_sender {
  impl(io_services& s, endpoint_key k) : svc(s), key(std::move(k)), socket(s.io()) {}
  ~impl() {
    svc.disarm(*this);
    svc.forget_send(*this);
    svc.forget_resolve(resolve_ticket);
  }

  io_services& svc;
  endpoint_key key;
  client_socket socket;
  std::unique_ptr<asio::ssl::stream<client_socket&>> tls;
  bool connected = false;
  std::string wbuf;
  std::unique_ptr<char[]> rbuf;  // lent by svc while the exchange reads (see finish)
  bool rbuf_large = false;       // the size of rbuf (see io_services::read_buffer_size)
  bool large_reads = false;      // a read filled a small buffer: read through large ones
  std::size_t rpos = 0;
  std::size_t rend = 0;
  response_parser parser;

  // The pending exchange.
  std::coroutine_handle<> waiter;
  exchange_outcome* out = nullptr;
  exchange_timeouts timeouts;
  steady::time_point request_deadline{};
  bool pending = false;
  bool connecting = false;
  bool timed_out = false;
  bool cancelled = false;
  bool reused = false;
  bool retried = false;
  bool got_bytes = false;
  std::uint64_t resolve_ticket = 0;  // a host name lookup this exchange waits for

  void on_deadline() override {
    timed_out = true;
    if (!abandon_lookup()) close_socket();
  }

  void close_socket() noexcept {
    boost::system::error_code ignored;
    socket.close(ignored);
    connected = false;
    rpos = rend = 0;
  }

  void start(bool head, bool store_body, const exchange_timeouts& t, std::coroutine_handle<> h,
             exchange_outcome* o) {
    waiter = h;
    out = o;
    timeouts = t;
    pending = true;
    timed_out = cancelled = retried = got_bytes = false;
    parser.reset(head, store_body);
    request_deadline = steady::now() + timeouts.request;
    if (connected) {
      reused = true;
      svc.arm(*this, request_deadline);
      write();
    } else {
      reused = false;
      connect();
    }
  }

  bool can_retry() const { return reused && !retried && !timed_out && !cancelled; }

  void retry() {
    retried = true;
    reused = false;
    parser.reset(parser_head_, parser_store_);
    connect();
  }
  bool parser_head_ = false;
  bool parser_store_ = true;

  void connect() {
    close_socket();
    tls.reset();
    connecting = true;
    svc.arm(*this, std::min(request_deadline, steady::now() + timeouts.connect));
    // The lookup may answer at once (an address, a cached name): then resolve_ticket stays 0.
    resolve_ticket = svc.resolve(key.host, key.port,
                                 [this](const std::error_code& ec, const io_services::endpoints& e) {
                                   resolve_ticket = 0;
                                   on_resolved(ec, e);
                                 });
  }

  void on_resolved(const std::error_code& ec, const io_services::endpoints& endpoints) {
    if (ec) {
      fail(ec, failure::dns);
      return;
    }
    svc.connect(socket, endpoints, timeouts.sources,
                [this](const boost::system::error_code& e) { on_connect(e); });
  }

  // A stop or the connect deadline while the name is being looked up: the exchange ends now
  // (posted: the caller may be the sweep or another session's code, which must not resume this
  // one), and the lookup's answer will find no one.
  bool abandon_lookup() {
    if (resolve_ticket == 0) return false;
    svc.forget_resolve(std::exchange(resolve_ticket, 0));
    asio::post(svc.io(), [this] {
      fail(std::make_error_code(cancelled ? std::errc::operation_canceled : std::errc::timed_out),
           failure::dns);
    });
    return true;
  }

  void on_connect(const boost::system::error_code& ec) {
    if (ec) {
      fail(ec, failure::connect);
      return;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    socket.non_blocking(true, ignored);
    if (!key.tls) {
      connected_ready();
      return;
    }
    tls = svc.tls_client(socket, key.host, key.verify, timeouts.ca_file_or_none());
    tls->async_handshake(asio::ssl::stream_base::client,
                         [this](const boost::system::error_code& hec) {
                           if (hec) {
                             fail(hec, failure::tls);
                           } else {
                             connected_ready();
                           }
                         });
  }

  void connected_ready() {
    connecting = false;
    connected = true;
    svc.arm(*this, request_deadline);
    write();
  }

  void on_written(const boost::system::error_code& ec) {
    if (!ec) {
      read();
    } else if (can_retry()) {
      retry();
    } else {
      fail(ec, classify(ec));
    }
  }

  // The send waits for the end of this batch of completions (see defer_send).
  void write() { svc.defer_send(*this); }

  // A plain request almost always fits the socket buffer, so one non-blocking send does it; only
  // a partial send falls back to async_write. TLS writes through the stream.
  void flush_send() override {
    auto handler = [this](const boost::system::error_code& ec, std::size_t) { on_written(ec); };
    if (tls) {
      asio::async_write(*tls, asio::buffer(wbuf), handler);
      return;
    }
    boost::system::error_code ec;
    std::size_t sent = socket.write_some(asio::buffer(wbuf), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec.clear();
      sent = 0;
    }
    if (ec) {
      on_written(ec);
    } else if (sent == wbuf.size()) {
      read();
    } else {
      asio::async_write(socket, asio::buffer(wbuf.data() + sent, wbuf.size() - sent), handler);
    }
  }

  // Feeds buffered bytes to the parser; true when the exchange finished (either way).
  bool consume() {
    std::size_t used = 0;
    auto st = parser.feed(std::string_view(rbuf.get() + rpos, rend - rpos), used);
    rpos += used;
    if (st == response_parser::status::done) {
      succeed();
      return true;
    }
    if (st == response_parser::status::error) {
      fail(parser.error(), failure::protocol);
      return true;
    }
    return false;
  }

  void read() {
    if (rpos < rend && consume()) return;
    rpos = rend = 0;
    // async_read_some, not async_wait + read: after a short read Asio skips the speculative
    // read on the next call and waits for the edge, so each response costs one recv and no
    // epoll_ctl (async_wait would re-arm the descriptor every time).
    auto handler = [this](const boost::system::error_code& ec, std::size_t n) { on_read(ec, n); };
    if (rbuf && large_reads && !rbuf_large) svc.give_read_buffer(std::move(rbuf), false);
    if (!rbuf) {
      rbuf_large = large_reads;
      rbuf = svc.take_read_buffer(rbuf_large);
    }
    auto buf = asio::buffer(rbuf.get(), io_services::read_buffer_size(rbuf_large));
    if (tls) {
      tls->async_read_some(buf, handler);
    } else {
      socket.async_read_some(buf, handler);
    }
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (!ec) {
      got_bytes = true;
      if (n == io_services::small_read_size && !rbuf_large) large_reads = true;
      rpos = 0;
      rend = n;
      if (!consume()) read();
      return;
    }
    if (!got_bytes && can_retry() && (is_eof(ec) || ec == asio::error::connection_reset)) {
      retry();
      return;
    }
    if (is_eof(ec) && !timed_out && !cancelled) {
      if (parser.feed_eof() == response_parser::status::done) {
        close_socket();
        succeed();
      } else {
        fail(parser.error() ? parser.error() : std::error_code(ec), failure::closed);
      }
      return;
    }
    fail(ec, classify(ec));
  }

  void succeed() {
    if (!parser.get().keep_alive) close_socket();
    finish({}, failure::none);
  }

  void fail(std::error_code ec, failure kind) {
    if (cancelled) {
      kind = failure::cancelled;
    } else if (timed_out && kind != failure::dns) {
      kind = connecting ? failure::connect_timeout : failure::timeout;
    }
    close_socket();
    finish(ec, kind);
  }

  void finish(std::error_code ec, failure kind) {
    svc.disarm(*this);
    connecting = false;
    pending = false;
    // No read is in flight once an exchange ends (a cancelled one has completed as aborted), so
    // the buffer goes back, unless it still holds bytes the server sent beyond this response.
    if (rbuf && rpos == rend) svc.give_read_buffer(std::move(rbuf), rbuf_large);
    *out = exchange_outcome{ec, kind};
    // Resuming may destroy this connection (the session can end): nothing may follow it.
    std::exchange(waiter, {}).resume();
  }
};

http_connection::http_connection(io_services& services, endpoint_key key)
    : impl_(std::make_unique<impl>(services, std::move(key))) {}

http_connection::~http_connection() = default;

const endpoint_key& http_connection::key() const noexcept { return impl_->key; }
bool http_connection::is_open() const noexcept { return impl_->connected; }
std::string& http_connection::request_buffer() noexcept { return impl_->wbuf; }
response_parser& http_connection::parser() noexcept { return impl_->parser; }

void http_connection::start(bool head_request, bool store_body, const exchange_timeouts& timeouts,
                            std::coroutine_handle<> waiter, exchange_outcome* out) {
  impl_->parser_head_ = head_request;
  impl_->parser_store_ = store_body;
  impl_->start(head_request, store_body, timeouts, waiter, out);
}

void http_connection::cancel() noexcept {
  if (impl_->pending) impl_->cancelled = true;
  if (!impl_->abandon_lookup()) impl_->close_socket();
}

void http_connection::close() noexcept { impl_->close_socket(); }

}  // namespace chaperon::net
