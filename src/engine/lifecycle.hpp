#pragma once
// The lifecycle of a scenario in a session (init, run, teardown), written once for the sessions
// of a load test, nested scenarios (session::run_scenario) and the pooled sessions of arrival
// rates.
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "chaperon/load_test.hpp"
#include "chaperon/scenario.hpp"
#include "chaperon/session.hpp"

namespace chaperon::detail {

class session_state;

// One scenario object of a session, from its making to its teardown. The rules:
//  - the object is made by init(): a constructor that throws fails like init() itself;
//  - a phase that throws session_stopped ends as stopped, not failed; the first other exception
//    of any phase is the failure, later ones are dropped;
//  - after run(), end_tasks() ends the tasks started at this scenario's depth (and deeper):
//    awaited with the usual timeout when run() succeeded, stopped when it did not; teardown()
//    does it first when the caller has not, so no task outlives the object its callable may
//    refer to;
//  - teardown() runs once the object exists, whatever happened before, and the tasks it starts
//    have ended when it returns.
// The session's run_part::depth when this is made is the depth it ends the tasks of.
class scenario_lifecycle {
 public:
  class run_awaiter;

  scenario_lifecycle(session& s, const scenario_ref& ref);

  // Makes the object and runs init(), then the config's initial delay when `initial_delay`;
  // true when run() may follow.
  task<bool> init(bool initial_delay = false);
  // Runs run(); true when it returned normally.
  run_awaiter run();
  // Ends the tasks of the last run() (or of init() when run() did not follow); false when run()
  // failed, or it or the wait for its tasks was stopped. A task that outlives the usual timeout
  // is recorded and stopped by the await, as any await's.
  task<bool> end_tasks();
  task<void> teardown();

  // Whether a phase ended by session_stopped.
  bool stopped() const noexcept { return stopped_; }
  const std::exception_ptr& failure() const noexcept { return failure_; }
  // The failure so far, which then no longer counts (a pooled session's failed iteration).
  std::exception_ptr take_failure() noexcept { return std::exchange(failure_, nullptr); }

 private:
  // Notes the exception being handled: a stop, or the first failure.
  void note_current_exception() noexcept;

  session* s_;
  const scenario_ref* ref_;
  std::unique_ptr<scenario> sc_;
  std::exception_ptr failure_;
  std::uint16_t depth_;
  bool stopped_ = false;
  bool run_ok_ = false;
  bool tasks_ended_ = false;  // end_tasks() followed the last run() (or init(), without run())
};

// Awaits the scenario's run() and notes what it threw, without a coroutine frame of its own:
// idle sessions wait inside run(), and a frame there would cost each of them memory.
class scenario_lifecycle::run_awaiter {
 public:
  run_awaiter(scenario_lifecycle& owner, task<void> run)
      : owner_(owner), run_(std::move(run)), inner_(std::move(run_).operator co_await()) {}
  bool await_ready() const noexcept { return inner_.await_ready(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) noexcept {
    return inner_.await_suspend(h);
  }
  bool await_resume() noexcept {
    owner_.tasks_ended_ = false;
    owner_.run_ok_ = false;
    try {
      inner_.await_resume();
      owner_.run_ok_ = true;
    } catch (...) {
      owner_.note_current_exception();
    }
    return owner_.run_ok_;
  }

 private:
  scenario_lifecycle& owner_;
  task<void> run_;  // owns the coroutine that inner_ resumes
  decltype(std::declval<task<void>>().operator co_await()) inner_;
};

// One scenario through its lifecycle, with its initial delay when `with_initial_delay`: true when
// it ended normally; false when it was stopped, or failed (the failure in the session's run_part).
task<bool> run_whole_scenario(session& s, const scenario_ref& ref, bool with_initial_delay);

// The steps of running entry.sequence, the scenarios one after the other, each through its
// lifecycle (drivers.hpp runs the loop in the session's driving frame):
//   for (i = 0; i < n && sequence_goes_on(s, i); ++i) {
//     scenario_lifecycle sc(s, sequence[i]);
//     if (co_await sc.init(i == 0)) co_await sc.run();
//     co_await sc.teardown();
//     if (!conclude(s, sc)) break;
//   }
// Whether the i-th scenario runs: the first unless the session has failed already, a later one
// unless the session has stopped. A sequence hands each scenario's assigned values to the next
// one as config.
bool sequence_goes_on(session& s, std::size_t i);
// Hands the outcome of a scenario's lifecycle to the session: its failure, if any (in the
// session's run_part). True when the session goes on.
bool conclude(session& s, const scenario_lifecycle& sc);

// Waits, without timeout and whatever the session's state, until every task of the session
// started at `depth` or deeper has finished, and forgets them (engine/session_async.cpp).
task<void> join_tasks(session& s, std::uint16_t depth = 0);
// Asks every running task started at `depth` or deeper to stop (engine/session_async.cpp).
void stop_tasks(session_state& s, std::uint16_t depth, const std::string& reason);

// What an exception that ended a scenario says, for session error counts.
std::string describe_failure(const std::exception_ptr& e);

}  // namespace chaperon::detail
