#pragma once
// Starting the coroutines that drive sessions on a shard (engine/drivers.cpp).
#include <functional>
#include <memory>

#include "chaperon/session.hpp"
#include "engine/detached.hpp"
#include "engine/shard.hpp"

namespace chaperon::detail {

class session_state;

// Runs one session of plan.entry on `w` to its end; `observer` (may be null) hears when it has
// started and ended.
detached drive_session(shard& w, session_plan plan, session_observer* observer);
// Runs fn as the child session `owned` of an async task `t` to its end.
detached drive_child(shard& w, std::shared_ptr<child_task> t, std::unique_ptr<session_state> owned,
                     std::function<task<void>(session&)> fn);

}  // namespace chaperon::detail
