// The kinds of session the one driver (drivers.hpp) runs on a shard besides the pooled ones: a
// load-test session (its scenarios in sequence, under its scenario timeout) and the child session
// of an async task.
#include <boost/asio/steady_timer.hpp>

#include "engine/drivers.hpp"
#include "engine/intended_time.hpp"

namespace chaperon::detail {

namespace {

namespace asio = boost::asio;

// Config scenario_timeout: stops the session as timed out when due.
class scenario_deadline {
 public:
  // Throws config_error for a value that is not a duration.
  void arm(session_state& st) {
    const json* t = find_path(*st.config, config_path{"scenario_timeout"});
    if (!t || t->is_null()) return;
    auto due = parse_duration(*t, "scenario_timeout");
    timer_ = std::make_unique<asio::steady_timer>(st.owner.io());
    timer_->expires_after(due);
    timer_->async_wait([&st](const boost::system::error_code& ec) {
      if (!ec) st.request_stop(stop_kind::timed_out, "scenario_timeout");
    });
  }
  ~scenario_deadline() {
    if (timer_) timer_->cancel();
  }
  scenario_deadline() = default;
  scenario_deadline(scenario_deadline&&) = default;

 private:
  // Allocated only when used: a timer held by every session would cost idle sessions memory.
  std::unique_ptr<asio::steady_timer> timer_;
};

task<void> nothing() { co_return; }

struct plain_job {
  static constexpr bool counted = true;
  const load_test_entry* entry;
  session_observer* observer;
  scenario_deadline deadline;

  void started(session_state& st) {
    if (observer) observer->session_started(st);
    try {
      deadline.arm(st);
    } catch (const std::exception& e) {
      st.run.failure = e.what();
    }
  }
  task<void> body(session& s) {
    if (!s.state().run.failure.empty()) return nothing();
    return run_sequence(s, *entry);
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
    if (!st.run.failure.empty()) {
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
