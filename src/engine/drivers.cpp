// The kinds of session the one driver (drivers.hpp) runs on a shard besides the pooled ones: a
// load-test session (its scenarios in sequence, under its scenario timeout) and the child session
// of an async task; and the scenario timeout, which pooled sessions arm per iteration.
#include <boost/asio/steady_timer.hpp>

#include "engine/drivers.hpp"
#include "engine/intended_time.hpp"

namespace chaperon::detail {

namespace asio = boost::asio;

struct scenario_deadline::armed {
  armed(asio::io_context& io, session_state* s) : timer(io), target(s) {}
  asio::steady_timer timer;
  session_state* target;
};

std::optional<std::chrono::microseconds> scenario_deadline::configured(const session_state& st) {
  const json* t = find_path(*st.config, config_path{"scenario_timeout"});
  if (!t || t->is_null()) return std::nullopt;
  return parse_duration(*t, "scenario_timeout");
}

void scenario_deadline::arm(session_state& st, std::chrono::microseconds after) {
  armed_ = std::make_shared<armed>(st.owner.io(), &st);
  armed_->timer.expires_after(after);
  armed_->timer.async_wait([weak = std::weak_ptr(armed_)](const boost::system::error_code& ec) {
    auto a = weak.lock();
    if (!ec && a) a->target->request_stop(stop_kind::timed_out, "scenario_timeout");
  });
}

namespace {

struct plain_job {
  static constexpr bool counted = true;
  const load_test_entry* entry;  // drive runs its sequence
  session_observer* observer;
  scenario_deadline deadline;

  void started(session_state& st) {
    if (observer) observer->session_started(st);
    try {
      if (auto after = scenario_deadline::configured(st)) deadline.arm(st, *after);
    } catch (const std::exception& e) {
      st.set_failure(e.what());
    }
  }
  void ended(session_state& st) {
    st.owner.record_session_end(st);
    if (observer) observer->session_ended(st);
  }
};

struct child_job {
  static constexpr bool counted = false;
  std::shared_ptr<child_task> t;
  std::function<task<void>(session&)> fn;
  std::chrono::steady_clock::time_point start{};

  void started(session_state&) { start = std::chrono::steady_clock::now(); }
  task<void> body(session& s) { return fn(s); }
  // The task's time runs to the end of its own tasks.
  void ended(session_state& st) {
    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    record_latency(st, metric_key{st.metric_session(), t->name, {}, {}}, elapsed);
    if (!st.failure().empty()) {
      record_latency(st, metric_key{st.metric_session(), t->name, {}, "exception"}, elapsed);
      st.owner.record_task_failure(st);
    }
    t->done = true;
    t->state = nullptr;
    if (t->waiter) st.owner.wake(*t->waiter);
  }
};

}  // namespace

void drive_session(shard& w, session_plan plan, session_observer* observer) {
  const load_test_entry* entry = plan.entry;
  drive(w, w.new_session(*entry, std::move(plan.config)), plain_job{entry, observer, {}});
}

void drive_child(shard& w, std::shared_ptr<child_task> t, std::unique_ptr<session_state> owned,
                 std::function<task<void>(session&)> fn) {
  drive(w, std::move(owned), child_job{std::move(t), std::move(fn)});
}

}  // namespace chaperon::detail
