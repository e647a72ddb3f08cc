// The coroutines that drive a session from its start to its end on a shard: a load-test session
// (its lifecycle, the scenario timeout, its tasks) and a child session started by session::async.
#include <boost/asio/steady_timer.hpp>

#include "engine/detached.hpp"
#include "engine/drivers.hpp"
#include "engine/intended_time.hpp"
#include "engine/lifecycle.hpp"
#include "engine/session_state.hpp"
#include "engine/shard.hpp"

namespace chaperon::detail {

namespace asio = boost::asio;

detached drive_session(shard& w, session_plan plan, session_observer* observer) {
  const auto& entry = *plan.entry;
  session s(w.new_session(entry, plan.config));
  session_state& state = s.state();
  w.attach(state, true);
  if (observer) observer->session_started(state);

  // Allocated only when used: a timer in every session's frame would cost idle sessions memory.
  std::unique_ptr<asio::steady_timer> timeout;
  if (const json* t = find_path(*plan.config, config_path{"scenario_timeout"}); t && !t->is_null()) {
    try {
      timeout = std::make_unique<asio::steady_timer>(w.io());
      timeout->expires_after(parse_duration(*t, "scenario_timeout"));
      timeout->async_wait([&state](const boost::system::error_code& ec) {
        if (!ec) state.request_stop(stop_kind::timed_out, "scenario_timeout");
      });
    } catch (const std::exception& e) {
      state.failure = e.what();
    }
  }
  if (state.failure.empty()) co_await run_lifecycle(s, entry);
  co_await join_tasks(s);
  if (timeout) timeout->cancel();
  w.record_session_end(state);
  if (observer) observer->session_ended(state);
  w.detach(state);
}

detached drive_child(shard& w, std::shared_ptr<child_task> t,
                     std::unique_ptr<session_state> owned,
                     std::function<task<void>(session&)> fn) {
  session_state& state = *owned;
  session s(std::move(owned));
  w.attach(state, false);
  auto start = std::chrono::steady_clock::now();
  try {
    co_await fn(s);
  } catch (const session_stopped&) {
  } catch (const std::exception& e) {
    state.failure = e.what();
  } catch (...) {
    state.failure = "unknown exception";
  }
  co_await join_tasks(s);
  auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  record_latency(state, metric_key{state.metric_session(), t->name, {}, {}}, elapsed.count());
  if (!state.failure.empty()) {
    record_latency(state, metric_key{state.metric_session(), t->name, {}, "exception"},
                   elapsed.count());
    w.record_task_failure(state);
  }
  t->done = true;
  t->state = nullptr;
  if (t->waiter) w.wake(*t->waiter);
  w.detach(state);
}

}  // namespace chaperon::detail
