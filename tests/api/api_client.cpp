#include "api/api_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <system_error>

namespace chaperon::apitest {

connection::connection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    ::close(fd_);
    throw std::system_error(e, std::generic_category(), "connect");
  }
}

connection::~connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool connection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int connection::receive(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  pollfd p{fd_, POLLIN, 0};
  if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return -1;
  char chunk[16384];
  const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) return 0;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return 1;
}

reply connection::read(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
    if (receive(deadline) <= 0) return {};
  reply r;
  const std::string head = buffer_.substr(0, end);
  if (head.size() < 12 || !head.starts_with("HTTP/1.")) return {};
  // Interim 100 Continue responses are skipped: the final one follows.
  r.status = std::atoi(head.c_str() + 9);
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos < head.size()) {
    const auto next = head.find("\r\n", pos + 2);
    const auto line = head.substr(pos + 2, next == std::string::npos ? std::string::npos
                                                                     : next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
    }
    pos = next;
  }
  buffer_.erase(0, end + 4);
  if (r.status == 100) return read(timeout);
  const auto length = static_cast<std::size_t>(std::stoul(r.header("content-length").empty()
                                                              ? "0"
                                                              : r.header("content-length")));
  while (buffer_.size() < length)
    if (receive(deadline) <= 0) return {};
  r.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return r;
}

std::string connection::read_until(std::string_view marker, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t at;
  while ((at = buffer_.find(marker)) == std::string::npos)
    if (receive(deadline) <= 0) return {};
  auto out = buffer_.substr(0, at + marker.size());
  buffer_.erase(0, at + marker.size());
  return out;
}

bool connection::closed_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const int got = receive(deadline);
    if (got <= 0) return got == 0;
    buffer_.clear();
  }
}

std::string request_text(std::string_view method, std::string_view target,
                         std::string_view authorization, std::string_view body) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (!authorization.empty()) out.append("Authorization: ").append(authorization).append("\r\n");
  if (!body.empty() || method == "POST")
    out.append("Content-Type: application/json\r\nContent-Length: ")
        .append(std::to_string(body.size()))
        .append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

reply request(std::uint16_t port, std::string_view method, std::string_view target,
              std::string_view authorization, std::string_view body) {
  connection c(port);
  if (!c.send(request_text(method, target, authorization, body))) return {};
  return c.read();
}

}  // namespace chaperon::apitest
