// The HTTP memory benchmark's generator, written against chaperon's public API only, as a user's
// scenario would be:
//   http_driver N HOLD_S URL THINK_MS   N sessions each loop { GET URL; delay THINK_MS } for HOLD_S
// One thread. Prints one JSON line: {"sessions":..,"requests":..,"errors":..}.
#include <chaperon/chaperon.hpp>

#include "heap_census.hpp"

#include <cstdio>
#include <iostream>
#include <string>

namespace {

using chaperon::session;
using chaperon::task;

struct think_scenario : chaperon::scenario {
  task<> run(session& s) override {
    auto url = s.config("url").get<std::string>();
    auto until = std::chrono::steady_clock::now() + s.config_duration("hold");
    auto think = s.config_duration("think");
    while (std::chrono::steady_clock::now() < until) {
      co_await s.get(url);
      co_await s.delay(think);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: http_driver N HOLD_S URL THINK_MS\n";
    return 2;
  }
  std::size_t n = std::stoul(argv[1]);
  chaperon::json config = {{"url", argv[3]},
                           {"hold", std::string(argv[2]) + "s"},
                           {"think", std::string(argv[4]) + "ms"}};
  heap_census::start_report();
  chaperon::load_test test{"Bench.Http"};
  test.scenario(n, chaperon::scenario_of<think_scenario>("Think"));
  chaperon::run_options options;
  options.threads = 1;
  options.config = config;
  auto results = chaperon::run_load_test(test, options);
  std::printf("{\"sessions\":%llu,\"requests\":%llu,\"errors\":%llu}\n",
              static_cast<unsigned long long>(results.sessions.started),
              static_cast<unsigned long long>(results.total_requests()),
              static_cast<unsigned long long>(results.error_count()));
  return 0;
}
