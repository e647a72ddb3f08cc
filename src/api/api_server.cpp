#include "api/api_server.hpp"

#include <atomic>
#include <charconv>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/routes.hpp"
#include "chaperon/error.hpp"

namespace chaperon::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

namespace {

tcp::endpoint parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw error("api listen address '" + listen + "' is not IP:PORT");
  auto host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const auto port_text = std::string_view(listen).substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty())
    throw error("api listen address '" + listen + "': the port is not a number from 0 to 65535");
  boost::system::error_code bad;
  const auto address = asio::ip::make_address(host, bad);
  if (bad) throw error("api listen address '" + listen + "': '" + host + "' is not an IP address");
  return {address, static_cast<unsigned short>(port)};
}

// The status an HTTP parse error gets, or 0 when the connection is simply closed (the client
// left, went quiet past the timeout, or broke off mid-message).
int error_status(const boost::system::error_code& ec) {
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return 0;
  if (ec.category() == beast::http::make_error_code(http::error::bad_target).category()) return 400;
  return 0;
}

}  // namespace

struct api_state {
  api_options options;
  std::atomic<std::size_t> active{0};  // before ioc: connections destroyed with it count down
  std::atomic<std::size_t> streams{0};
  router routes;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::steady_timer retry{ioc};
  std::vector<std::thread> threads;
  int port = 0;  // read once at start: the acceptor belongs to the serving threads then

  api_state(cluster::master& m, api_options o)
      : options(std::move(o)), routes(m.queue(), options.token, options.parser, &m, exporter_text()) {}
  void accept();
};

namespace {

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(api_state& state, tcp::socket socket)
      : state_(state), stream_(std::move(socket)), timer_(stream_.get_executor()) {}
  ~connection() {
    --state_.active;
    end_stream();
  }

  void read_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_.options.limits.max_header));
    parser_->body_limit(state_.options.limits.max_body);
    // One deadline for the whole request, head and body: a client trickling bytes is cut.
    stream_.expires_after(state_.options.limits.timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

 private:
  void on_header(beast::error_code ec) {
    if (ec) return fail(ec);
    const auto& head = parser_->get();
    if (beast::iequals(head[http::field::expect], "100-continue")) {
      static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(go_on.data(), go_on.size()),
                        [self = shared_from_this()](beast::error_code e, std::size_t) {
                          if (e) return self->fail(e);
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->fail(ec);
                       self->respond();
                     });
  }

  void respond() {
    const auto& req = parser_->get();
    api_request request{req.method_string(),    req.target(),
                        req[http::field::authorization], req.body(),
                        req[http::field::host],           req[http::field::origin]};
    auto out = state_.routes.handle(request);
    if (!out.stream.empty()) return start_stream(std::move(out.stream));
    send(std::move(out), req.keep_alive(), req.version());
  }

  // An event stream: the head, then events as the router gives them, until the test ends or
  // the client leaves (a write fails). No Content-Length: the close ends the body.
  void start_stream(std::string id) {
    if (++state_.streams > state_.options.limits.max_streams) {
      --state_.streams;
      const auto most = std::to_string(state_.options.limits.max_streams);
      return send({503, "application/json",
                   error_body("too_many_streams", "event streams open: at most " + most), {}},
                  false, 11);
    }
    streaming_ = true;
    stream_id_ = std::move(id);
    write_event(
        "HTTP/1.1 200 OK\r\nServer: chaperon\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n: events of " + stream_id_ +
            "\n\n",
        false);
  }

  void next_event() {
    auto step = state_.routes.step(stream_id_, sent_);
    if (!step.text.empty()) return write_event(std::move(step.text), step.end);
    // A comment now and then while nothing is new (a test still waiting): a client that left
    // is found by the write failing, and frees its place among the streams.
    if (clock::now() - last_write_ >= state_.options.limits.timeout)
      return write_event(": waiting\n\n", false);
    timer_.expires_after(state_.options.limits.stream_poll);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->next_event();
    });
  }

  void write_event(std::string text, bool last) {
    event_ = std::move(text);
    last_write_ = clock::now();
    stream_.expires_after(state_.options.limits.timeout);
    asio::async_write(stream_, asio::buffer(event_),
                      [self = shared_from_this(), last](beast::error_code ec, std::size_t) {
                        if (!ec && !last) return self->next_event();
                        self->end_stream();  // counts no more while the close drains
                        self->close();
                      });
  }

  void end_stream() {
    if (streaming_) --state_.streams;
    streaming_ = false;
  }

  void fail(beast::error_code ec) {
    const int status = error_status(ec);
    if (status == 0) return close();
    const char* code = status == 413 ? "body_too_large"
                       : status == 431 ? "header_too_large"
                                       : "bad_request";
    send({status, "application/json", error_body(code, ec.message()), {}}, false, 11);
  }

  void send(api_response out, bool keep_alive, unsigned version) {
    response_ = {};
    response_.version(version);
    response_.result(static_cast<http::status>(out.status));
    response_.set(http::field::server, "chaperon");
    response_.set(http::field::content_type, out.content_type);
    response_.set(http::field::cache_control, "no-store");
    for (auto& [name, value] : out.headers) response_.set(name, value);
    response_.body() = std::move(out.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    stream_.expires_after(state_.options.limits.timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        if (ec || !keep_alive) return self->close();
                        self->read_request();
                      });
  }

  // Closing a socket with unread bytes in it sends a reset, which can destroy the response
  // still on its way (a 413 sent before the rest of the body arrived): the send side is shut
  // first and what still comes in is read and dropped until the client closes, at most for
  // a second.
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(1));
    drain();
  }

  void drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->stream_.close();
                              self->drain();
                            });
  }

  api_state& state_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  asio::steady_timer timer_;
  bool streaming_ = false;
  std::string stream_id_;
  std::string event_;
  std::chrono::steady_clock::duration sent_{};
  std::chrono::steady_clock::time_point last_write_;
};

}  // namespace

void api_state::accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors, typically: try again shortly rather than spin.
      retry.expires_after(std::chrono::milliseconds(50));
      retry.async_wait([this](beast::error_code e) {
        if (!e) accept();
      });
      return;
    }
    if (active.load() >= options.limits.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);  // over the cap: closed at once, costing the server nothing more
    } else {
      ++active;
      std::make_shared<connection>(*this, std::move(socket))->read_request();
    }
    accept();
  });
}

api_server::api_server(cluster::master& m, api_options options) {
  const auto endpoint = parse_listen(options.listen);
  if (options.token.empty() && !options.insecure && !endpoint.address().is_loopback())
    throw error("api: refusing to serve " + options.listen +
                " without a token (set CHAPERON_API_TOKEN, or --api-insecure)");
  if (options.threads == 0) options.threads = 1;
  impl_ = std::make_unique<api_state>(m, std::move(options));
  auto& acceptor = impl_->acceptor;
  beast::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw error("api: cannot listen on " + impl_->options.listen + ": " + ec.message());
  impl_->port = acceptor.local_endpoint().port();
  impl_->accept();
  for (std::size_t i = 0; i < impl_->options.threads; ++i)
    impl_->threads.emplace_back([state = impl_.get()] { state->ioc.run(); });
}

api_server::~api_server() {
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
}

int api_server::port() const noexcept { return impl_->port; }

std::size_t api_server::connections() const noexcept { return impl_->active.load(); }

}  // namespace chaperon::api
