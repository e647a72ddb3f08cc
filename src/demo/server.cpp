// HTTP/1.1 plumbing of the demo target. Beast is slow to compile, so only this file and
// ws_session.cpp (which owns the websocket headers) include it.
#include "demo/server.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "demo/routes.hpp"
#include "demo/ws_session.hpp"

namespace chaperon::demo {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::uint64_t max_request_body = 8ull * 1024 * 1024;
// Generous: load tests may carry many cookies or large custom headers.
constexpr std::uint32_t max_request_header = 64 * 1024;
constexpr auto idle_timeout = std::chrono::seconds(60);
constexpr auto write_timeout = std::chrono::seconds(60);
constexpr std::size_t chunk_size = 4 * 1024;
constexpr std::size_t write_slice = 256 * 1024;
constexpr auto accept_retry_delay = std::chrono::milliseconds(50);
constexpr std::string_view server_name = "chaperon-demo";

// A string body handed out in slices. Under chunked framing every slice becomes one chunk, so a
// client's chunk decoder sees many chunks rather than a single one.
struct sliced_string_body {
  using value_type = std::string;

  static std::uint64_t size(const value_type& body) { return body.size(); }

  class writer {
   public:
    using const_buffers_type = asio::const_buffer;

    template <bool is_request, class Fields>
    writer(const http::header<is_request, Fields>& header, const value_type& body)
        : body_(body),
          slice_(header.find(http::field::transfer_encoding) != header.end() ? chunk_size
                                                                             : write_slice) {}

    void init(beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      ec = {};
      if (offset_ >= body_.size()) return boost::none;
      const auto length = std::min(slice_, body_.size() - offset_);
      const const_buffers_type buffer(body_.data() + offset_, length);
      offset_ += length;
      return std::make_pair(buffer, offset_ < body_.size());
    }

   private:
    const value_type& body_;
    std::size_t slice_;
    std::size_t offset_ = 0;
  };
};

using outgoing = http::response<sliced_string_body>;

bool is_http_error(const beast::error_code& ec) {
  return &ec.category() == &beast::error_code(http::error::bad_target).category();
}

// Everything but the body, which the caller moves or leaves.
request head_of(const http::request<http::string_body>& in) {
  request out;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  const auto query = out.target.find('?');
  out.path = out.target.substr(0, query);
  if (query != std::string::npos) out.query = out.target.substr(query + 1);
  out.headers.reserve(static_cast<std::size_t>(std::distance(in.begin(), in.end())));
  for (const auto& field : in) {
    out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  return out;
}

// The Linux default timer slack (50 us) would make every delayed answer late by up to that
// much; the truth endpoints promise better.
void tighten_timer_slack() { ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); }

// One client connection. All its handlers run on its own strand, so no member needs a lock.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket socket, router& routes)
      : stream_(std::move(socket)), routes_(routes), delay_timer_(stream_.get_executor()) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }

 private:
  void read_header() {
    parser_.emplace();
    parser_->body_limit(max_request_body);
    parser_->header_limit(max_request_header);
    stream_.expires_after(idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&connection::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    const auto& head = parser_->get();
    // Without an interim 100, clients that ask for one stall about a second before the body.
    if (!parser_->is_done() && head.version() >= 11 &&
        beast::iequals(head[http::field::expect], "100-continue")) {
      interim_.emplace(http::status::continue_, head.version());
      http::async_write(stream_, *interim_,
                        beast::bind_front_handler(&connection::on_interim, shared_from_this()));
      return;
    }
    read_body();
  }

  void on_interim(beast::error_code ec, std::size_t) {
    if (ec) return close();
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&connection::on_request, shared_from_this()));
  }

  void on_request(beast::error_code ec, std::size_t) {
    // Delays count from here: the request is completely read and parsed.
    const auto arrival = std::chrono::steady_clock::now();
    if (ec) return on_read_error(ec);
    stream_.expires_never();
    auto in = parser_->release();
    head_only_ = in.method() == http::verb::head;
    keep_alive_ = in.keep_alive();
    version_ = in.version();
    if (is_websocket_upgrade(in)) return upgrade(std::move(in), arrival);
    auto req = head_of(in);
    req.body = std::move(in.body());
    req.arrival = arrival;
    auto res = routes_.handle(req);
    const auto due = arrival + res.delay;
    if (res.delay.count() <= 0 || due <= std::chrono::steady_clock::now()) {
      return send(std::move(res));
    }
    delay_timer_.expires_at(due);
    delay_timer_.async_wait(
        [self = shared_from_this(), res = std::move(res)](beast::error_code ec) mutable {
          if (!ec) self->send(std::move(res));
        });
  }

  void upgrade(http::request<http::string_body> in, std::chrono::steady_clock::time_point arrival) {
    auto req = head_of(in);
    req.arrival = arrival;
    auto route = routes_.route_upgrade(req);
    if (route.endpoint == ws_endpoint::refused) return send(router::refused_upgrade());
    // Bytes after the upgrade request in buffer_ are not carried over: a client may send
    // frames only after it has read the 101, which has not been written yet.
    start_ws_session(stream_.release_socket(), std::move(in), std::move(route), routes_);
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return shutdown();
    if (!is_http_error(ec) || ec == http::error::partial_message) return close();
    // A malformed request: answer once, then drop the connection, since the byte stream can
    // no longer be trusted to hold message boundaries.
    unsigned status = 400;
    if (ec == http::error::body_limit) status = 413;
    if (ec == http::error::header_limit) status = 431;
    response res;
    res.status = status;
    res.content_type = "application/json";
    res.body = fmt::format(R"({{"error":"bad request: {}"}})", ec.message());
    head_only_ = false;
    keep_alive_ = false;
    version_ = 11;
    send(std::move(res));
  }

  void send(response res) {
    serializer_.reset();
    out_ = {};
    out_.version(version_);
    out_.result(res.status);
    if (http::int_to_status(res.status) == http::status::unknown) out_.reason("Unknown");
    out_.set(http::field::server, server_name);
    if (!res.content_type.empty()) out_.set(http::field::content_type, res.content_type);
    for (const auto& field : res.headers) out_.insert(field.name, field.value);
    out_.body() = std::move(res.body);
    if (res.status == 204 || res.status == 304) {
      out_.body().clear();
    } else if (res.framing == body_framing::chunked && version_ >= 11) {
      out_.chunked(true);
    } else {
      out_.content_length(out_.body().size());
    }
    out_.keep_alive(keep_alive_);
    write();
  }

  void write() {
    stream_.expires_after(write_timeout);
    auto done = beast::bind_front_handler(&connection::on_write, shared_from_this());
    if (head_only_) {
      // HEAD gets exactly the GET header block, framing fields included, and no body.
      serializer_.emplace(out_);
      http::async_write_header(stream_, *serializer_, std::move(done));
    } else {
      http::async_write(stream_, out_, std::move(done));
    }
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return close();
    if (!keep_alive_) return shutdown();
    serializer_.reset();
    out_ = {};  // release large bodies while the connection idles
    read_header();
  }

  void shutdown() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  router& routes_;
  asio::steady_timer delay_timer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> interim_;
  outgoing out_;
  std::optional<http::response_serializer<sliced_string_body>> serializer_;
  bool head_only_ = false;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(asio::io_context& ioc, tcp::acceptor acceptor, router& routes)
      : ioc_(ioc), acceptor_(std::move(acceptor)), routes_(routes), retry_timer_(ioc) {}

  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_),
                           beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

 private:
  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // Usually out of file descriptors: back off rather than spin; the backlog keeps clients.
      retry_timer_.expires_after(accept_retry_delay);
      retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec) self->accept();
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<connection>(std::move(socket), routes_)->start();
    accept();
  }

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  router& routes_;
  asio::steady_timer retry_timer_;
};

void run_loop(asio::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      // One failed handler costs one connection, not the server.
      std::fprintf(stderr, "chaperon-demo: dropped a connection: %s\n", e.what());
    }
  }
}

std::optional<asio::ip::address> parse_address(const std::string& text, std::string& error) {
  if (text == "localhost") return asio::ip::make_address_v4("127.0.0.1");
  beast::error_code ec;
  const auto address = asio::ip::make_address(text, ec);
  if (ec) {
    error = fmt::format("invalid address '{}': {}", text, ec.message());
    return std::nullopt;
  }
  if (!address.is_loopback()) {
    error = fmt::format(
        "refusing to bind non-loopback address {}: the demo target serves this machine only "
        "(use 127.0.0.1 or ::1)",
        text);
    return std::nullopt;
  }
  return address;
}

}  // namespace

struct server::impl {
  explicit impl(unsigned thread_count)
      : threads(thread_count), ioc(static_cast<int>(thread_count)), signals(ioc, SIGINT, SIGTERM) {}

  unsigned threads;
  asio::io_context ioc;
  asio::signal_set signals;
  tcp::endpoint endpoint;
  std::shared_ptr<listener> accept_loop;
};

server::server(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

server::~server() = default;

std::unique_ptr<server> server::open(const server_options& options, router& routes,
                                     std::string& error) {
  if (options.threads == 0) {
    error = "threads must be at least 1";
    return nullptr;
  }
  const auto address = parse_address(options.address, error);
  if (!address) return nullptr;
  auto state = std::make_unique<impl>(options.threads);
  const tcp::endpoint endpoint(*address, options.port);
  tcp::acceptor acceptor(state->ioc);
  beast::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) state->endpoint = acceptor.local_endpoint(ec);
  if (ec) {
    error = fmt::format("cannot listen on {} port {}: {}", options.address, options.port,
                        ec.message());
    return nullptr;
  }
  state->accept_loop = std::make_shared<listener>(state->ioc, std::move(acceptor), routes);
  return std::unique_ptr<server>(new server(std::move(state)));
}

std::uint16_t server::port() const { return impl_->endpoint.port(); }

std::string server::url() const {
  const auto& address = impl_->endpoint.address();
  if (address.is_v6()) return fmt::format("http://[{}]:{}", address.to_string(), port());
  return fmt::format("http://{}:{}", address.to_string(), port());
}

void server::run() {
  impl_->signals.async_wait([this](const beast::error_code& ec, int) {
    if (!ec) stop();
  });
  impl_->accept_loop->accept();
  std::vector<std::thread> workers;
  workers.reserve(impl_->threads - 1);
  for (unsigned i = 1; i < impl_->threads; ++i) {
    workers.emplace_back([this] {
      tighten_timer_slack();
      run_loop(impl_->ioc);
    });
  }
  tighten_timer_slack();
  run_loop(impl_->ioc);
  for (auto& worker : workers) worker.join();
}

void server::stop() { impl_->ioc.stop(); }

}  // namespace chaperon::demo
