// The one translation unit of the Prometheus export that includes Asio: the /metrics server and
// the remote-write POST.
#include "export/prometheus/http.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "chaperon/prometheus.hpp"
#include "net/request_writer.hpp"
#include "net/response_parser.hpp"

namespace chaperon {
namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using tcp = asio::ip::tcp;

constexpr std::size_t max_request_head = 16 * 1024;

tcp::endpoint parse_listen(const std::string& listen) {
  std::string host;
  std::string_view port_text;
  const auto bad = [&listen](const char* why) {
    return std::invalid_argument(
        fmt::format("bad Prometheus listen address \"{}\": {} (want ADDR:PORT)", listen, why));
  };
  if (!listen.empty() && listen.front() == '[') {
    const auto close = listen.find("]:");
    if (close == std::string::npos) throw bad("no \"]:\" after the IPv6 address");
    host = listen.substr(1, close - 1);
    port_text = std::string_view(listen).substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw bad("no port");
    host = colon == 0 ? "0.0.0.0" : listen.substr(0, colon);
    port_text = std::string_view(listen).substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535) {
    throw bad("the port is not a number from 0 to 65535");
  }
  if (host == "localhost") host = "127.0.0.1";
  error_code address_error;
  const auto address = asio::ip::make_address(host, address_error);
  if (address_error) throw bad("not an IP address");
  return {address, static_cast<std::uint16_t>(port)};
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string response_bytes(int status, std::string_view reason, std::string_view content_type,
                           const std::string& body, bool head_only, bool keep_alive) {
  auto out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n", status,
      reason, content_type, body.size(), keep_alive ? "keep-alive" : "close");
  if (!head_only) out += body;
  return out;
}

// One client connection: requests are read one head at a time (a scraper sends no body) and
// answered in order.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket socket, const std::function<std::string()>& body,
             std::atomic<std::uint64_t>& scrapes)
      : socket_(std::move(socket)), body_(body), scrapes_(scrapes) {}

  void read() {
    const auto end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos) return answer(end + 4);
    if (buffer_.size() > max_request_head) return;  // dropped: the socket closes with us
    const auto old_size = buffer_.size();
    buffer_.resize(old_size + 4096);
    socket_.async_read_some(asio::buffer(buffer_.data() + old_size, 4096),
                            [self = shared_from_this(), old_size](error_code ec, std::size_t n) {
                              self->buffer_.resize(old_size + n);
                              if (!ec) self->read();
                            });
  }

 private:
  void answer(std::size_t head_size) {
    const auto head = lower(std::string_view(buffer_).substr(0, head_size));
    buffer_.erase(0, head_size);
    const auto line_end = head.find("\r\n");
    const auto request_line = head.substr(0, line_end);
    const auto first_space = request_line.find(' ');
    const auto second_space = request_line.find(' ', first_space + 1);
    const auto method = request_line.substr(0, first_space);
    const auto target = first_space == std::string::npos
                            ? std::string()
                            : request_line.substr(first_space + 1, second_space - first_space - 1);
    // Only GET and HEAD keep the connection: the body of any other request is never read.
    const bool keep_alive = (method == "get" || method == "head") &&
                            request_line.ends_with("http/1.1") &&
                            head.find("\r\nconnection: close") == std::string::npos;
    out_ = respond(method, target, keep_alive);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), keep_alive](error_code ec, std::size_t) {
                        if (!ec && keep_alive) self->read();
                      });
  }

  std::string respond(const std::string& method, const std::string& target, bool keep_alive) {
    const bool head_only = method == "head";
    if (method != "get" && !head_only) {
      return response_bytes(405, "Method Not Allowed", "text/plain", "GET only\n", false,
                            keep_alive);
    }
    if (target != "/metrics" && !target.starts_with("/metrics?")) {
      return response_bytes(404, "Not Found", "text/plain", "see /metrics\n", head_only,
                            keep_alive);
    }
    try {
      auto text = body_();
      ++scrapes_;
      return response_bytes(200, "OK", prometheus_content_type, text, head_only, keep_alive);
    } catch (const std::exception& e) {
      return response_bytes(500, "Internal Server Error", "text/plain",
                            std::string(e.what()) + "\n", head_only, keep_alive);
    }
  }

  tcp::socket socket_;
  const std::function<std::string()>& body_;
  std::atomic<std::uint64_t>& scrapes_;
  std::string buffer_;
  std::string out_;
};

}  // namespace

struct prometheus_server::impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::function<std::string()> body;
  std::atomic<std::uint64_t> scrapes{0};
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<connection>(std::move(socket), body, scrapes)->read();
      accept();
    });
  }
};

prometheus_server::prometheus_server(const std::string& listen, std::function<std::string()> body)
    : impl_(std::make_unique<impl>()) {
  const auto endpoint = parse_listen(listen);
  impl_->body = std::move(body);
  error_code ec;
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("cannot serve Prometheus metrics on {}: {}", listen, ec.message()));
  }
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

prometheus_server::~prometheus_server() {
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t prometheus_server::port() const { return impl_->acceptor.local_endpoint().port(); }

std::uint64_t prometheus_server::scrapes() const { return impl_->scrapes.load(); }

namespace prometheus_detail {

post_result http_post(const net::url& to,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::string_view body, std::chrono::milliseconds timeout) {
  std::string request;
  const auto host = to.host_header();
  net::request_head head;
  head.method = "POST";
  head.target = to.target;
  head.host = host;
  head.headers = &headers;
  head.body = body;
  net::write_request(request, head);

  asio::io_context io{1};
  tcp::resolver resolver(io);
  tcp::socket socket(io);
  net::response_parser parser;
  parser.reset(false, true);
  std::string buffer(16 * 1024, '\0');
  post_result result;
  bool done = false;
  const auto fail = [&](const char* what, const error_code& ec) {
    if (done) return;
    result.error = fmt::format("{}: {}", what, ec.message());
    done = true;
  };
  const auto finish = [&](net::response_parser::status state) {
    done = true;
    if (state == net::response_parser::status::error) {
      result.error = "malformed response: " + parser.error().message();
      return;
    }
    const auto& response = parser.get();
    result.status = response.status;
    if (response.status < 200 || response.status > 299) {
      result.error = fmt::format("HTTP {} {}: {}", response.status, response.reason,
                                 response.body.substr(0, 200));
    }
  };
  std::function<void()> read_more = [&] {
    socket.async_read_some(asio::buffer(buffer), [&](error_code ec, std::size_t n) {
      auto state = net::response_parser::status::need_more;
      if (n > 0) {
        std::size_t consumed = 0;
        state = parser.feed(std::string_view(buffer.data(), n), consumed);
      } else if (ec == asio::error::eof) {
        state = parser.feed_eof();
      } else if (ec) {
        return fail("reading the response", ec);
      }
      if (state == net::response_parser::status::need_more) return read_more();
      finish(state);
    });
  };
  resolver.async_resolve(to.host, std::to_string(to.port), [&](error_code ec, auto endpoints) {
    if (ec) return fail("resolving the host", ec);
    asio::async_connect(socket, endpoints, [&](error_code ec, const tcp::endpoint&) {
      if (ec) return fail("connecting", ec);
      asio::async_write(socket, asio::buffer(request), [&](error_code ec, std::size_t) {
        if (ec) return fail("sending the request", ec);
        read_more();
      });
    });
  });
  io.run_for(timeout);
  if (!done) {
    done = true;
    result.error = fmt::format("no response within {} ms", timeout.count());
    error_code ignored;
    socket.close(ignored);
    resolver.cancel();
    // Lets the cancelled operations finish before their state goes away; bounded because a
    // name lookup cannot be cancelled.
    io.restart();
    io.run_for(std::chrono::seconds(1));
  }
  return result;
}

}  // namespace prometheus_detail
}  // namespace chaperon
