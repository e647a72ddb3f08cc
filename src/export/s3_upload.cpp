// The S3 uploader's network side: one signed PUT on a fresh connection (TLS for https), every
// step bounded by the settings' timeout. Runs on the calling thread with an io_context of its own,
// after a run, so it shares nothing with the engine's shards.
#include "chaperon/s3.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "export/s3_request.hpp"
#include "export/s3_sigv4.hpp"
#include "net/request_writer.hpp"
#include "net/response_parser.hpp"

namespace chaperon {
namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using tcp = asio::ip::tcp;

// One request and its response on a new connection. Each step is an asynchronous operation run
// until it completes or the deadline passes, so a silent server cannot hold the caller forever.
class exchange {
 public:
  exchange(const s3_detail::object_location& where, const s3_settings& settings)
      : where_(where),
        ca_file_(settings.ca_file),
        timeout_(settings.timeout),
        deadline_(std::chrono::steady_clock::now() + settings.timeout) {}

  net::response run(const std::string& request_bytes) {
    connect();
    if (!where_.tls) return send_and_receive(socket_, request_bytes);
    asio::ssl::context context(asio::ssl::context::tls_client);
    context.set_default_verify_paths();
    if (!ca_file_.empty()) {
      error_code ec;
      context.load_verify_file(ca_file_, ec);
      if (ec) {
        throw std::runtime_error(
            fmt::format("cannot load the CA file {}: {}", ca_file_, ec.message()));
      }
    }
    context.set_verify_mode(asio::ssl::verify_peer);
    asio::ssl::stream<tcp::socket&> tls(socket_, context);
    // SNI for a host name (never for an address), and the certificate checked against the host.
    error_code not_an_address;
    asio::ip::make_address(where_.host, not_an_address);
    if (not_an_address) SSL_set_tlsext_host_name(tls.native_handle(), where_.host.c_str());
    tls.set_verify_callback(asio::ssl::host_name_verification(where_.host));
    check("TLS handshake", step("TLS handshake", [&](auto done) {
            tls.async_handshake(asio::ssl::stream_base::client, done);
          }));
    return send_and_receive(tls, request_bytes);
  }

 private:
  // Starts an operation through `start(handler)` and runs the io_context until it completes.
  // Throws when the deadline passes first; otherwise returns the operation's error code.
  template <class Start>
  error_code step(const char* what, Start&& start) {
    std::optional<error_code> result;
    start([&result](const error_code& ec, auto&&...) { result = ec; });
    io_.restart();
    const auto left = deadline_ - std::chrono::steady_clock::now();
    if (left > std::chrono::steady_clock::duration::zero()) io_.run_for(left);
    if (!result) {
      error_code ignored;
      socket_.close(ignored);
      // Lets the cancelled operation finish before its state goes away; bounded because a
      // name lookup cannot be cancelled.
      io_.restart();
      io_.run_for(std::chrono::seconds(1));
      throw std::runtime_error(
          fmt::format("{} timed out (limit {} ms in all)", what, timeout_.count()));
    }
    return *result;
  }

  static void check(const char* what, const error_code& ec) {
    if (ec) throw std::runtime_error(fmt::format("{} failed: {}", what, ec.message()));
  }

  void connect() {
    tcp::resolver resolver(io_);
    tcp::resolver::results_type endpoints;
    check("resolving the host", step("resolving the host", [&](auto done) {
            resolver.async_resolve(where_.host, std::to_string(where_.port),
                                   [&endpoints, done](const error_code& ec, auto results) {
                                     endpoints = results;
                                     done(ec);
                                   });
          }));
    check("connecting", step("connecting", [&](auto done) {
            asio::async_connect(socket_, endpoints, done);
          }));
  }

  template <class Stream>
  net::response send_and_receive(Stream& stream, const std::string& request_bytes) {
    check("sending the request", step("sending the request", [&](auto done) {
            asio::async_write(stream, asio::buffer(request_bytes), done);
          }));
    net::response_parser parser;
    parser.reset(false, true);
    std::string buffer(16 * 1024, '\0');
    for (;;) {
      std::size_t got = 0;
      const auto ec = step("reading the response", [&](auto done) {
        stream.async_read_some(asio::buffer(buffer), [&got, done](const error_code& e,
                                                                 std::size_t n) {
          got = n;
          done(e);
        });
      });
      auto state = net::response_parser::status::need_more;
      if (got > 0) {
        std::size_t consumed = 0;
        state = parser.feed(std::string_view(buffer.data(), got), consumed);
      } else if (ec) {
        // A TLS peer may end without close_notify; the parser decides whether the
        // response was complete.
        if (ec != asio::error::eof && ec != asio::ssl::error::stream_truncated) {
          check("reading the response", ec);
        }
        state = parser.feed_eof();
      }
      if (state == net::response_parser::status::done) return parser.release();
      if (state == net::response_parser::status::error) {
        throw std::runtime_error("malformed response: " + parser.error().message());
      }
    }
  }

  const s3_detail::object_location& where_;
  const std::string& ca_file_;
  std::chrono::milliseconds timeout_;
  std::chrono::steady_clock::time_point deadline_;
  asio::io_context io_;
  tcp::socket socket_{io_};
};

std::string read_file(const std::filesystem::path& file, const std::string& context) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw std::runtime_error(
        fmt::format("{} failed: cannot read the file: {}", context, std::strerror(errno)));
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

void s3_upload_file(const s3_settings& settings, const s3_target& target, const std::string& key,
                    const std::filesystem::path& local_file) {
  const auto context = fmt::format("S3 upload of {} to bucket \"{}\", key \"{}\"",
                                   local_file.string(), target.bucket, key);
  const auto body = read_file(local_file, context);
  const auto where = s3_detail::locate_object(settings, target, key);

  sigv4::request request{"PUT",
                         where.path,
                         {},
                         {{"Host", where.host_header},
                          {"Content-Type", s3_detail::content_type_for(key)}},
                         sigv4::sha256_hex(body)};
  sigv4::sign(request,
              {settings.access_key_id, settings.secret_access_key, settings.session_token},
              {settings.region, "s3", std::chrono::system_clock::now()}, true);
  std::string bytes;
  net::request_head head;
  head.method = request.method;
  head.target = where.target;
  head.host = where.host_header;
  head.headers = &request.headers;
  head.body = body;
  net::write_request(bytes, head);

  net::response response;
  try {
    response = exchange(where, settings).run(bytes);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{} failed: {}://{}: {}", context,
                                         where.tls ? "https" : "http", where.host_header,
                                         e.what()));
  }
  if (response.status < 200 || response.status > 299) {
    throw std::runtime_error(fmt::format("{} failed: HTTP {} {}: {}", context, response.status,
                                         response.reason,
                                         s3_detail::describe_error_body(response.body)));
  }
}

}  // namespace chaperon
