// The scenario benchmark's chaperon side (bench/scenario_vs_peers.py), written against the public
// API only, as a user's load test would be:
//   scenario_driver N SECONDS BASE_URL
// N sessions on one thread, each looping for SECONDS over one user flow of 4 requests: log in with
// a form POST (the server sets a session cookie), GET the JSON message list, POST a JSON message
// (sent with the cookie), GET the list with a query string. Prints one JSON line with the counts.
#include <chaperon/chaperon.hpp>

#include <cstdio>
#include <iostream>
#include <string>

namespace {

using chaperon::http_options;
using chaperon::session;
using chaperon::task;

task<> user_flow(session& s) {
  co_await s.post("/login", http_options{}.form_field("user", "bench").form_field("password", "secret"));
  co_await s.get("/api/messages");
  co_await s.post("/api/messages", http_options{}.json_field("message", "hello"));
  co_await s.get("/api/messages", http_options{}.param("limit", "5"));
}

struct flow_scenario : chaperon::scenario {
  task<> run(session& s) override { co_await s.loop("flow", s.config_duration("hold"), &user_flow); }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: scenario_driver N SECONDS BASE_URL\n";
    return 2;
  }
  chaperon::load_test test{"Bench.Scenario"};
  test.scenario(std::stoul(argv[1]), chaperon::scenario_of<flow_scenario>("Flow"));
  chaperon::run_options options;
  options.threads = 1;
  options.config = {{"base_url", argv[3]}, {"hold", std::string(argv[2]) + "s"}};
  const auto results = chaperon::run_load_test(test, options);
  std::printf("{\"requests\":%llu,\"errors\":%llu}\n",
              static_cast<unsigned long long>(results.total_requests()),
              static_cast<unsigned long long>(results.error_count()));
  return 0;
}
