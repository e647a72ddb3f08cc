#pragma once
// How Asio's transport errors map onto the failure kinds that error metrics are named by, shared
// by the HTTP and WebSocket connections. Include only from Asio translation units.

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include "net/http_connection.hpp"

namespace chaperon::net {

// A clean end of stream; nginx and others close TLS without close_notify, which is one too.
inline bool is_eof(const boost::system::error_code& ec) {
  return ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated;
}

inline failure classify(const boost::system::error_code& ec) {
  namespace error = boost::asio::error;
  if (is_eof(ec)) return failure::closed;
  if (ec == error::connection_reset || ec == error::broken_pipe ||
      ec == error::connection_aborted) {
    return failure::reset;
  }
  if (ec.category() == error::get_ssl_category()) return failure::tls;
  return failure::io;
}

}  // namespace chaperon::net
