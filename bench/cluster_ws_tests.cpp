// The load test of bench/cluster_ws.py: idle WebSocket sessions spread over several targets.
// Each session connects, makes one echo round trip, holds the connection idle for config `hold`,
// makes a second round trip and closes. One process may hold only 20,000 open files here, so
// the targets are several processes (one port each), and so is the generator: a master and
// workers, each running a share.
//
// The targets are known only when the bench starts them, so the test is built from the
// environment at start-up (every node of the cluster gets the same): CLUSTER_WS_TARGETS, base
// URLs separated by commas, and CLUSTER_WS_SESSIONS, the sessions per target.
#include <cstdlib>
#include <sstream>

#include <chaperon/chaperon.hpp>

namespace {

using chaperon::session;
using chaperon::task;

struct idle_ws : chaperon::scenario {
  task<> run(session& s) override {
    auto connected = co_await s.ws_connect("/ws/echo");
    if (!connected.ok()) co_return;
    co_await s.call_traced("echo_first", &idle_ws::echo);
    co_await s.delay(s.config_duration("hold"));
    co_await s.call_traced("echo_last", &idle_ws::echo);
    co_await s.ws_close();
  }
  static task<> echo(session& s) {
    co_await s.ws_send("ping");
    co_await s.ws_await_recv("ping");
  }
};

chaperon::load_test make() {
  auto test = chaperon::load_test{"Bench.ClusterWs"};
  test.default_config({{"hold", "10s"}});
  const char* targets = std::getenv("CLUSTER_WS_TARGETS");
  const char* sessions = std::getenv("CLUSTER_WS_SESSIONS");
  std::istringstream list(targets ? targets : "http://127.0.0.1:8080");
  const std::size_t per_target = sessions ? std::strtoull(sessions, nullptr, 10) : 1000;
  for (std::string url; std::getline(list, url, ',');) {
    test.scenario(per_target, chaperon::scenario_of<idle_ws>("IdleWs"), "IdleWs",
                  {{"base_url", url}});
  }
  return test;
}

const bool registered = chaperon::register_load_test(make);

}  // namespace

int main(int argc, char** argv) { return chaperon::main(argc, argv); }
