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

// Awaits (with the usual timeout) the tasks started at `depth` or deeper that nobody awaited.
// session::await takes the task of the session's current depth first, which is `depth` here.
task<void> await_leftovers(session& s, std::uint16_t depth) {
  auto& st = state_of(s);
  while (auto* part = st.tasks_if_any()) {
    auto it = std::find_if(part->tasks.begin(), part->tasks.end(),
                           [depth](const auto& t) { return !t->awaited && t->depth >= depth; });
    if (it == part->tasks.end()) break;
    std::string name = (*it)->name;
    co_await s.await(std::move(name));
  }
}

}  // namespace

scenario_lifecycle::scenario_lifecycle(session& s, const scenario_ref& ref)
    : s_(&s), ref_(&ref), depth_(state_of(s).run.depth) {}

void scenario_lifecycle::note_current_exception() noexcept {
  try {
    throw;
  } catch (const session_stopped&) {
    stopped_ = true;
  } catch (...) {
    if (!failure_) failure_ = std::current_exception();
  }
}

task<bool> scenario_lifecycle::init(bool with_initial_delay) {
  state_of(*s_).run.scenario = ref_->name;
  try {
    sc_ = ref_->make();
    co_await sc_->init(*s_);
    if (with_initial_delay) co_await initial_delay(*s_);
    co_return true;
  } catch (...) {
    note_current_exception();
  }
  co_return false;
}

scenario_lifecycle::run_awaiter scenario_lifecycle::run() {
  state_of(*s_).run.scenario = ref_->name;
  return run_awaiter(*this, sc_->run(*s_));
}

task<bool> scenario_lifecycle::end_tasks() {
  if (tasks_ended_) co_return run_ok_;
  tasks_ended_ = true;
  bool ok = run_ok_;
  if (ok) {
    try {
      co_await await_leftovers(*s_, depth_);
    } catch (...) {
      note_current_exception();
      ok = false;
    }
  }
  // A stopped session has stopped its tasks already; after a failure they stop here.
  if (!ok) stop_tasks(state_of(*s_), depth_, "scenario failed");
  co_await join_tasks(*s_, depth_);
  co_return ok;
}

task<void> scenario_lifecycle::teardown() {
  if (!sc_) co_return;
  co_await end_tasks();
  state_of(*s_).run.scenario = ref_->name;
  try {
    co_await sc_->teardown(*s_);
  } catch (...) {
    note_current_exception();
  }
  co_await join_tasks(*s_, depth_);
}

bool conclude(session& s, const scenario_lifecycle& sc) {
  if (sc.failure()) {
    state_of(s).set_failure(describe_failure(sc.failure()));
    return false;
  }
  return !sc.stopped();
}

task<bool> run_whole_scenario(session& s, const scenario_ref& ref, bool with_initial_delay) {
  scenario_lifecycle sc(s, ref);
  if (co_await sc.init(with_initial_delay)) co_await sc.run();
  co_await sc.teardown();
  co_return conclude(s, sc);
}

bool sequence_goes_on(session& s, std::size_t i) {
  // A session that failed before its first scenario (a malformed scenario_timeout) runs none; a
  // session stopped by then still goes through the first one's lifecycle (its teardown runs).
  if (i == 0) return state_of(s).failure().empty();
  if (s.stopped()) return false;
  s.set_config(s.assigned());
  return true;
}

}  // namespace chaperon::detail
