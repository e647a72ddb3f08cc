#include "engine/lifecycle.hpp"

#include <algorithm>
#include <exception>

#include "engine/session_state.hpp"

namespace chaperon::detail {

std::string describe_failure(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const required_config_missing& ex) {
    // Without the session's name: one reason for all sessions missing the same key.
    return "required config key '" + ex.key() + "' is missing";
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

namespace {

// Config `delay` (a fixed duration) or `random_delay` (uniform up to the value), as the original.
task<void> initial_delay(session& s) {
  if (s.has_config("delay")) co_await s.delay(s.config_duration("delay"));
  if (s.has_config("random_delay")) {
    auto max = s.config_duration("random_delay");
    co_await s.delay(std::chrono::microseconds{s.random(1000, std::max<std::int64_t>(1000, max.count()))});
  }
}

}  // namespace

// Tasks the scenario started but did not await are awaited (with the usual timeout) after run.
task<void> await_leftovers(session& s) {
  auto& tasks = s.state().tasks;
  while (true) {
    auto it = std::find_if(tasks.begin(), tasks.end(), [](const auto& t) { return !t->awaited; });
    if (it == tasks.end()) break;
    co_await s.await_all((*it)->name);
  }
}

task<void> run_lifecycle(session& s, const load_test_entry& entry) {
  auto& state = s.state();
  for (std::size_t i = 0; i < entry.sequence.size(); ++i) {
    if (i > 0) {
      if (s.stopped()) break;
      // A sequence hands each scenario's assigned values to the next one as config.
      s.set_config(s.assigned());
    }
    auto sc = entry.sequence[i].make();
    state.scenario = entry.sequence[i].name;
    std::exception_ptr error;
    try {
      co_await sc->init(s);
      if (i == 0) co_await initial_delay(s);
      co_await sc->run(s);
      co_await await_leftovers(s);
    } catch (const session_stopped&) {
    } catch (...) {
      error = std::current_exception();
    }
    try {
      co_await sc->teardown(s);
    } catch (const session_stopped&) {
    } catch (...) {
      if (!error) error = std::current_exception();
    }
    if (error) {
      state.failure = describe_failure(error);
      break;
    }
  }
}

}  // namespace chaperon::detail
