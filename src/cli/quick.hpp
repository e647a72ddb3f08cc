#pragma once
#include <chrono>
#include <string>

#include "chaperon/load_test.hpp"

namespace chaperon::cli {

struct quick_options {
  std::string url;
  std::size_t sessions = 10;
  std::string duration = "10s";
  std::string method = "GET";
  std::vector<std::string> headers;  // "Name: value"
  bool insecure = false;
  // One request per run (the open model starts each iteration at its own time) instead of a
  // loop for the duration.
  bool single = false;
};

// The load test behind `chaperon quick`: each session loops a request on the URL for the duration
// (or makes one request when `single`), through the same public session API as any user
// scenario.
load_test make_quick_load_test(const quick_options& q);

}  // namespace chaperon::cli
