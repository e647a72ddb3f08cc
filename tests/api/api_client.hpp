#pragma once
// A blocking HTTP/1.1 client over a plain socket for the API's tests: it sends exactly the bytes
// a test gives (so that tests can send garbage, trickle bytes or hold a connection idle) and
// reads one response with its headers. Every read is bounded by a timeout.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace chaperon::apitest {

using namespace std::chrono_literals;

struct reply {
  int status = 0;  // 0: no response (closed, timed out or malformed)
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class connection {
 public:
  // Connects to 127.0.0.1:port; throws std::system_error when it cannot.
  explicit connection(std::uint16_t port);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // False when the peer has closed or reset the connection.
  bool send(std::string_view bytes);
  // One response (Content-Length framed), or status 0.
  reply read(std::chrono::milliseconds timeout = 5s);
  // What arrives up to and including the next `marker` (after a response's head, the body of a
  // stream); "" when the connection closes or `timeout` passes first.
  std::string read_until(std::string_view marker, std::chrono::milliseconds timeout = 5s);
  // Whether the server closes the connection (EOF or reset) within `timeout`, discarding
  // whatever it sends first.
  bool closed_within(std::chrono::milliseconds timeout);

 private:
  // Appends what arrives to buffer_: 1 when bytes came, 0 on EOF or error, -1 on timeout.
  int receive(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
};

// A whole request: method, target, the Authorization header (none when empty), a body.
std::string request_text(std::string_view method, std::string_view target,
                         std::string_view authorization = {}, std::string_view body = {});
// One request on a fresh connection.
reply request(std::uint16_t port, std::string_view method, std::string_view target,
              std::string_view authorization = {}, std::string_view body = {});

}  // namespace chaperon::apitest
