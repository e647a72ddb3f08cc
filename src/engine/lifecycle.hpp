#pragma once
#include <exception>
#include <string>

#include "chaperon/load_test.hpp"
#include "chaperon/session.hpp"

namespace chaperon::detail {
// init -> initial delay -> run -> teardown, for each scenario of the entry's sequence. Exceptions
// from the scenario end the session as failed (recorded in its state); session_stopped ends it as
// aborted or timed out.
task<void> run_lifecycle(session& s, const load_test_entry& entry);
// Waits, without timeout and whatever the session's state, until every async task of the session
// has finished: a session never ends before its children.
task<void> join_tasks(session& s);
// Awaits (with the usual timeout) every task the session started and has not awaited yet.
task<void> await_leftovers(session& s);
// What an exception that ended a scenario says, for session error counts.
std::string describe_failure(const std::exception_ptr& e);
}  // namespace chaperon::detail
