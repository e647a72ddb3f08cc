#pragma once
// The network side of the Prometheus export, kept in one translation unit because Asio is slow
// to compile: a minimal HTTP/1.1 server for /metrics and a one-shot HTTP POST for remote write.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/url.hpp"

namespace chaperon::prometheus_detail {

struct post_result {
  int status = 0;     // 0: no response (see error)
  std::string error;  // why there was no response, or the start of a non-2xx response's body
};

// POSTs `body` to `to` (http only) on a new connection; connecting, sending and reading the
// response together take at most `timeout`. Never throws for network failures.
post_result http_post(const net::url& to,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::string_view body, std::chrono::milliseconds timeout);

}  // namespace chaperon::prometheus_detail
