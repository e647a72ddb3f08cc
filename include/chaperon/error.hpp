#pragma once
// The two kinds of trouble in chaperon, kept apart on purpose:
//
//  - A failed request or WebSocket action (a refused connection, a timeout, a server that closed)
//    is a value: http_result / ws_result carry a `failure` and the error metric is named by it
//    ("Error timeout get(<url>)"). Nothing throws for it; the session goes on.
//  - A setup error (a missing or malformed config key, an unknown load test) is an exception
//    derived from chaperon::error, whose message names what is wrong.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace chaperon {

// Why a request or WebSocket action failed. The names (to_string) are stable: they are the
// failure part of error metric names and appear in exported results.
enum class failure : std::uint8_t {
  none,             // no failure ("" as a name)
  dns,              // the host name did not resolve
  connect,          // the TCP connection was refused or failed
  connect_timeout,  // connecting took longer than the connect timeout
  timeout,          // the response (or WebSocket message) took longer than its timeout
  tls,              // the TLS handshake or a TLS record failed
  closed,           // the server closed the connection
  reset,            // the connection was reset
  protocol,         // the server broke HTTP or WebSocket framing
  cancelled,        // the session stopped while the action waited
  io,               // any other transport error
  decode,           // decode_json() was asked and the body was not JSON
  rejected,         // a WebSocket upgrade was answered with another status than 101
  not_connected,    // a WebSocket action on a connection that is not open
  invalid_url,      // the URL did not parse, or a relative path had no base_url to join
};

// The stable name of a failure kind: "timeout", "connect", ...; "" for failure::none.
std::string_view to_string(failure f) noexcept;

// Base of every exception chaperon throws for a setup error (bad config, unknown names).
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Something was asked for by a key that is not there: a config key, an assigned value, a load
// test. The message names the key; key() returns it alone.
class missing_key : public error {
 public:
  missing_key(std::string message, std::string key)
      : error(std::move(message)), key_(std::move(key)) {}
  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
};

}  // namespace chaperon
