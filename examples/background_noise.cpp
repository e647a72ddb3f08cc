// Background noise against the bundled demo target (chaperon-demo): each session starts an async
// task that keeps reading the message list, meanwhile posts a burst of messages spread evenly over
// an interval (cc_spread), waits for the burst, and then for the background task.
//
//   ./build/chaperon-demo --port 8080 &
//   ./build/chaperon run Demo.BackgroundNoise
//   ./build/chaperon run Demo.BackgroundNoise --config spread_rate=100 --config noise_duration=10s
//
// Metrics: get(.../api/messages?limit=10) and post(.../api/messages) for the requests,
// call(BackgroundNoise.search) per background iteration, and the task names search_noise and
// post_data for the tasks' durations.
#include <chaperon/chaperon.hpp>

namespace {

using namespace std::chrono_literals;
using chaperon::http_options;
using chaperon::session;
using chaperon::task;

task<> search(session& s) {
  co_await s.get("/api/messages", http_options{}.param("limit", "10"));
  co_await s.delay(s.config_duration("think_time", 20ms));
}

// The background task: a child session with its own metrics and no connections of the parent's.
task<> search_noise(session& s) {
  co_await s.loop("search", s.config_duration("noise_duration"), &search);
}

task<> post_data(session& s) {
  co_await s.post("/api/messages",
                  http_options{}.json_field("message", "noise from " + s.id().substr(0, 8)));
}

struct background_noise : chaperon::scenario {
  task<> run(session& s) override {
    s.async("search_noise", &search_noise);
    const auto rate = s.config_as<std::size_t>("spread_rate");
    co_await s.cc_spread("post_data", rate, s.config_duration("spread_interval"), &post_data);
    co_await s.await_all("post_data");
    // Waits up to config `timeout`, so that stays above noise_duration.
    co_await s.await("search_noise");
  }
};

const bool registered = chaperon::register_load_test([] {
  return chaperon::load_test{"Demo.BackgroundNoise"}
      .default_config({{"base_url", "http://127.0.0.1:8080"},
                       {"noise_duration", "5s"},
                       {"think_time", "20ms"},
                       {"spread_rate", 50},
                       {"spread_interval", "3s"},
                       {"timeout", "30s"}})
      .scenario(10, chaperon::scenario_of<background_noise>("BackgroundNoise"),
                {{"random_delay", 500}});
});

}  // namespace
