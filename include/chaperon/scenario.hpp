#pragma once
// Scenarios: what one session does. A scenario is a class with coroutine members, created once
// per session (so members may hold per-session state), or a set of functions.
//
//   struct browse : chaperon::scenario {
//     chaperon::task<> run(chaperon::session& s) override { co_await s.get("/"); }
//   };
//   auto ref = chaperon::scenario_of<browse>("Browse");
//
// Lifecycle per session: init -> initial delay (config `delay` / `random_delay`) -> run ->
// teardown. teardown also runs after run threw or the session was stopped.

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "chaperon/session.hpp"
#include "chaperon/task.hpp"

namespace chaperon {

class scenario {
 public:
  virtual ~scenario() = default;
  virtual task<void> init(session&) { co_return; }
  virtual task<void> run(session& s) = 0;
  virtual task<void> teardown(session&) { co_return; }
};

using scenario_fn = std::function<task<void>(session&)>;

// A scenario by name: how to make one for a new session.
struct scenario_ref {
  std::string name;
  std::function<std::unique_ptr<scenario>()> make;
};

template <class S>
  requires std::derived_from<S, scenario>
scenario_ref scenario_of(std::string name) {
  return scenario_ref{std::move(name), [] { return std::unique_ptr<scenario>(new S()); }};
}

// A scenario made of plain coroutine functions (init and teardown are optional).
scenario_ref make_scenario(std::string name, scenario_fn run, scenario_fn init = {},
                           scenario_fn teardown = {});

}  // namespace chaperon
