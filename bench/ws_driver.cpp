// The WebSocket benchmark's generator: a program written against chaperon's public API only, as a
// user's would be. Modes:
//   idle N HOLD_S URL   N sessions each open one WebSocket to URL, then wait HOLD_S seconds
//   echo N SECONDS URL  N sessions each run a send / receive loop for SECONDS
//   sleep N SECONDS -   N sessions each loop delay(config `sleep`, default 1 ms) for SECONDS and
//                       nothing else (what a wake costs); prints "wakes" and the process's "cpu_s"
// Optional after the mode arguments: threads, comma-separated source addresses. More config (a
// JSON object merged over the driver's) from the environment: WS_DRIVER_CONFIG. With
// WS_DRIVER_TRIM_AT=S, a thread of its own calls malloc_trim(0) S seconds after the start and
// prints how long it took (what returning the allocator's free pages to the system gives back).
// Prints one JSON line: {"sessions":..,"errors":..,"ws_connect":..,"ws_recv":..,"partial":..,
// "connected_ms":..}, the last the time from the start until the last idle session had connected.
#include <chaperon/chaperon.hpp>

#include "heap_census.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include <malloc.h>
#include <sys/resource.h>

namespace {

using chaperon::session;
using chaperon::task;
using clock = std::chrono::steady_clock;

const clock::time_point started = clock::now();
std::atomic<long long> last_connected_us{0};

void note_connected() {
  long long us =
      std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - started).count();
  long long seen = last_connected_us.load();
  while (us > seen && !last_connected_us.compare_exchange_weak(seen, us)) {
  }
}

struct idle_scenario : chaperon::scenario {
  task<> run(session& s) override {
    auto url = s.config("url").get<std::string>();
    auto connected = co_await s.ws_connect(url);
    if (!connected.ok()) co_return;
    note_connected();
    co_await s.delay(s.config_duration("hold"));
    co_await s.ws_close();
  }
};

struct echo_scenario : chaperon::scenario {
  task<> run(session& s) override {
    auto url = s.config("url").get<std::string>();
    auto connected = co_await s.ws_connect(url);
    if (!connected.ok()) co_return;
    auto until = std::chrono::steady_clock::now() + s.config_duration("hold");
    const std::string text = "chaperon echo message";
    while (std::chrono::steady_clock::now() < until) {
      co_await s.ws_send(text);
      auto r = co_await s.ws_recv();
      if (!r.ok()) break;
    }
    co_await s.ws_close();
  }
};

std::atomic<std::uint64_t> wakes{0};

struct sleep_scenario : chaperon::scenario {
  task<> run(session& s) override {
    auto until = std::chrono::steady_clock::now() + s.config_duration("hold");
    auto pause = s.config_duration("sleep", std::chrono::milliseconds(1));
    std::uint64_t n = 0;
    while (std::chrono::steady_clock::now() < until) {
      co_await s.delay(pause);
      ++n;
    }
    wakes += n;
  }
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::uint64_t count_of(const chaperon::run_results& r, const std::string& action) {
  std::uint64_t n = 0;
  for (const auto& [key, h] : r.metrics) {
    if (key.action == action && key.target.empty() == (action == "ws_recv") && !key.is_error()) {
      n += h.count();
    }
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: ws_driver idle|echo|sleep N SECONDS URL [THREADS] [SOURCES]\n";
    return 2;
  }
  std::string mode = argv[1];
  std::size_t n = std::stoul(argv[2]);
  std::string seconds = std::string(argv[3]) + "s";
  chaperon::json config = {{"url", argv[4]}, {"hold", seconds}, {"connect_timeout", "30s"}};
  if (argc > 6) config["source_addresses"] = argv[6];
  if (const char* more = std::getenv("WS_DRIVER_CONFIG")) {
    config.update(chaperon::json::parse(more));
  }
  heap_census::start_report();
  if (const char* at = std::getenv("WS_DRIVER_TRIM_AT")) {
    std::thread([delay = std::stod(at)] {
      std::this_thread::sleep_for(std::chrono::duration<double>(delay));
      auto start = clock::now();
      malloc_trim(0);
      auto took = std::chrono::duration<double, std::milli>(clock::now() - start).count();
      std::fprintf(stderr, "malloc_trim(0) took %.2f ms\n", took);
    }).detach();
  }
  chaperon::load_test test{"Bench.WebSocket"};
  if (mode == "idle") {
    test.scenario(n, chaperon::scenario_of<idle_scenario>("Idle"));
  } else if (mode == "sleep") {
    test.scenario(n, chaperon::scenario_of<sleep_scenario>("Sleep"));
  } else {
    test.scenario(n, chaperon::scenario_of<echo_scenario>("Echo"));
  }
  chaperon::run_options options;
  options.threads = argc > 5 ? std::stoul(argv[5]) : 1;
  options.config = config;
  auto results = chaperon::run_load_test(test, options);
  if (mode == "sleep") {
    std::printf("{\"sessions\":%llu,\"wakes\":%llu,\"cpu_s\":%.3f}\n",
                static_cast<unsigned long long>(results.sessions.started),
                static_cast<unsigned long long>(wakes.load()), cpu_seconds());
    return 0;
  }
  std::printf("{\"sessions\":%llu,\"errors\":%llu,\"ws_connect\":%llu,\"ws_recv\":%llu,"
              "\"partial\":%s,\"connected_ms\":%.1f}\n",
              static_cast<unsigned long long>(results.sessions.started),
              static_cast<unsigned long long>(results.error_count()),
              static_cast<unsigned long long>(count_of(results, "ws_connect")),
              static_cast<unsigned long long>(count_of(results, "ws_recv")),
              results.partial ? "true" : "false", last_connected_us.load() / 1000.0);
  for (const auto& [key, h] : results.metrics) {
    if (key.is_error()) std::fprintf(stderr, "%s: %llu\n", key.name().c_str(),
                                     static_cast<unsigned long long>(h.count()));
  }
  return 0;
}
