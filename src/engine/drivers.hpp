#pragma once
// The one coroutine that drives a session on a shard from its start to its end, and the sessions
// it drives: load-test sessions (plain, or started by a ramp), async tasks (child sessions), and
// the pooled sessions of arrival rates (engine/arrivals.cpp).
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "chaperon/session.hpp"
#include "engine/detached.hpp"
#include "engine/lifecycle.hpp"
#include "engine/session_state.hpp"
#include "engine/shard.hpp"

namespace chaperon::detail {

// Config scenario_timeout: stops a session as timed out when due. The timer's completion may be
// queued already when the session ends in the same round of the event loop; the handler reaches
// the session only through the armed state, which dies with disarm() or with this object.
class scenario_deadline {
 public:
  // The session's scenario_timeout, if it has one; throws config_error for a value that is not a
  // duration.
  static std::optional<std::chrono::microseconds> configured(const session_state& st);
  // Stops `st` as timed out `after` from now, unless disarmed first; replaces an earlier arming.
  void arm(session_state& st, std::chrono::microseconds after);
  void disarm() noexcept { armed_.reset(); }

 private:
  struct armed;
  // Allocated only when used: a timer held by every session would cost idle sessions memory.
  std::shared_ptr<armed> armed_;
};

// Drives one session to its end. A Job says what the session does:
//   bool counted                      a session of the load test (else an async task)
//   void started(session_state&)      once attached to the shard
//   task<void> body(session&)         the session's work; an exception other than
//                                     session_stopped fails the session
//     or const load_test_entry* entry the scenarios of entry.sequence, one after the other, each
//                                     through its lifecycle (a session that has failed already
//                                     runs none)
//   void ended(session_state&)        once the body and every task of the session have ended
// The job lives in the driving frame: it holds only what its kind of session needs.
template <class Job>
detached drive(shard& w, std::unique_ptr<session_state> owned, Job job) {
  session s(std::move(owned));
  session_state& state = state_of(s);
  w.attach(state, Job::counted);
  job.started(state);
  try {
    if constexpr (requires { job.entry; }) {
      // The scenarios run in this frame, not in one of their own: every idle session of a load
      // test waits here, and another frame would cost each of them ~190 bytes.
      const auto& sequence = job.entry->sequence;
      for (std::size_t i = 0; i < sequence.size() && sequence_goes_on(s, i); ++i) {
        scenario_lifecycle sc(s, sequence[i]);
        if (co_await sc.init(i == 0)) co_await sc.run();
        co_await sc.teardown();
        if (!conclude(s, sc)) break;
      }
    } else {
      co_await job.body(s);
    }
  } catch (const session_stopped&) {
  } catch (...) {
    if (state.failure().empty()) state.set_failure(describe_failure(std::current_exception()));
  }
  // A session never ends before its tasks.
  co_await join_tasks(s);
  job.ended(state);
  w.detach(state);
}

// Runs one session of plan.entry on `w` to its end; `observer` (may be null) hears when it has
// started and ended.
void drive_session(shard& w, session_plan plan, session_observer* observer);
// Runs fn as the child session `owned` of an async task `t` to its end.
void drive_child(shard& w, std::shared_ptr<child_task> t, std::unique_ptr<session_state> owned,
                 std::function<task<void>(session&)> fn);

}  // namespace chaperon::detail
