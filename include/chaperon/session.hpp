#pragma once
// chaperon::session: one virtual user. Scenarios are coroutines over a session& and read straight
// down:
//
//   chaperon::task<> run(chaperon::session& s) override {
//     co_await s.post("/login", chaperon::http_options{}
//                                   .form_field("user", "ann")
//                                   .form_field("password", "secret"));
//     auto page = co_await s.get("/account");
//     if (!page.ok()) s.log_warn("not logged in");
//   }
//
// A session lives on one engine thread for its whole life; nothing in it is shared with other
// threads. Every action is measured into the shard's metrics (see metrics.hpp for the names).
// Failed requests are values (see http.hpp); abort() and timeouts stop the session: the next
// action throws session_stopped, which unwinds the scenario (teardown still runs).

#include <chrono>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "chaperon/config.hpp"
#include "chaperon/http.hpp"
#include "chaperon/task.hpp"
#include "chaperon/websocket.hpp"

namespace chaperon {

class session;
namespace detail {
class session_state;
struct wait_slot;
struct child_task;
// The engine's way to a session's private state (engine/session_state.hpp).
session_state& state_of(session& s) noexcept;
const session_state& state_of(const session& s) noexcept;
}  // namespace detail
struct scenario_ref;
class action;
struct action_result;

namespace detail {
// A coroutine asleep in its shard's sleep queue (engine/sleep_queue.hpp). It lives in the
// sleeping coroutine's own frame, so that a sleep allocates nothing.
struct sleeper {
  static constexpr std::uint32_t not_queued = static_cast<std::uint32_t>(-1);
  std::chrono::steady_clock::time_point deadline{};
  void (*wake)(sleeper&) = nullptr;  // called once, from the event loop, when it is due
  // Set by the queue: of equal deadlines, the first in wakes first (compared modulo 2^32).
  std::uint32_t order = 0;
  std::uint32_t slot = not_queued;  // its place in the queue while it sleeps
};
}  // namespace detail

// What session::delay and session::random_delay return: co_await it where it is made. A stopped
// session throws session_stopped before and after the sleep, and a stop ends the sleep at once;
// a duration of zero or less does not suspend.
class [[nodiscard]] delay_awaiter : private detail::sleeper {
 public:
  delay_awaiter(const delay_awaiter&) = delete;
  delay_awaiter& operator=(const delay_awaiter&) = delete;
  ~delay_awaiter() {
    if (slot != not_queued) forget();
  }

  bool await_ready() const;
  void await_suspend(std::coroutine_handle<> h);
  void await_resume();

 private:
  friend class session;
  delay_awaiter(session& s, std::chrono::microseconds d);
  static void resume_waiter(detail::sleeper& self);
  static void cancel(void* self);
  void forget() noexcept;  // leaves the queue: the sleeping frame is destroyed

  session* session_;
  std::coroutine_handle<> waiter_;
};

// Thrown by an action of a session that was aborted or timed out. Scenarios should not catch it.
class session_stopped : public std::exception {
 public:
  explicit session_stopped(std::string reason) : reason_(std::move(reason)) {}
  const char* what() const noexcept override { return reason_.c_str(); }

 private:
  std::string reason_;
};

enum class log_level { debug, info, warn, error, off };

// Options of session::retry_on_error (at namespace scope so that `= {}` can be a default argument;
// session::retry_options names it too).
struct retry_options {
  std::size_t retries = 1;  // retries after the first attempt
  std::chrono::microseconds delay{0};
  std::chrono::microseconds random_delay{std::chrono::seconds(1)};  // used when delay is 0
  bool rethrow = false;  // rethrow the last failure instead of returning false
};

// A result kept by a session whose config has `store_results: true` (see session::results).
struct kept_result {
  std::string action;  // as in metric names: "ws_connect(ws://host/path)", or add_result's action
  std::variant<http_result, ws_result> result;
};

class session {
 public:
  using clock = std::chrono::steady_clock;

  explicit session(std::unique_ptr<detail::session_state> state);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Identity: a UUID and the session's name (the entry's session name, or "<Scenario> <id>").
  const std::string& id() const noexcept;
  const std::string& name() const noexcept;

  // ---- config --------------------------------------------------------------------------------
  // The value at key; throws required_config_missing naming the key and this session.
  const json& config(const config_path& key) const;
  // The value at key, or `fallback` when it is not set.
  json config(const config_path& key, json fallback) const;
  template <class T>
  T config_as(const config_path& key) const {
    return config(key).template get<T>();
  }
  template <class T>
  T config_as(const config_path& key, T fallback) const {
    const json* v = find_config(key);
    return v ? v->template get<T>() : fallback;
  }
  // A duration config value (number = ms, or "250ms", "2s", ...).
  std::chrono::microseconds config_duration(const config_path& key) const;
  std::chrono::microseconds config_duration(const config_path& key,
                                            std::chrono::microseconds fallback) const;
  bool has_config(const config_path& key) const;
  // The value at key, or nullptr. Every config read goes through here, so that the run can tell
  // which keys nothing read (a typo in a key is reported once per run).
  const json* find_config(const config_path& key) const;
  const json& config_root() const noexcept;
  void set_config(const config_path& key, json value);
  void set_config(const json& object);  // deep-merged into the config
  void update_config(const config_path& key, const std::function<json(const json&)>& fn);

  // ---- assigned values (the session's own state) ----------------------------------------------
  const json& assigned() const noexcept;
  // The value at key; throws assigned_value_missing naming the key and this session.
  const json& assigned(const config_path& key) const;
  json assigned(const config_path& key, json fallback) const;
  void assign(const config_path& key, json value);
  void assign(const json& object);                      // each key of the object
  void assign_under(std::string_view ns, const json& object);  // each key, under namespace ns
  void update_assign(const config_path& key, const std::function<json(const json&)>& fn);
  void delete_assign(const config_path& key);

  // ---- HTTP ------------------------------------------------------------------------------------
  // path is joined to config `base_url`; an absolute http(s)/ws(s) URL is used as is.
  task<http_result> get(std::string_view path, http_options opts = {});
  task<http_result> post(std::string_view path, http_options opts = {});
  task<http_result> put(std::string_view path, http_options opts = {});
  task<http_result> patch(std::string_view path, http_options opts = {});
  task<http_result> del(std::string_view path, http_options opts = {});
  task<http_result> head(std::string_view path, http_options opts = {});
  task<http_result> request(http_method method, std::string_view path, http_options opts = {});
  void delete_cookies();
  std::string cookie_header() const;  // what the next request sends as Cookie

  // ---- WebSocket -------------------------------------------------------------------------------
  // Opens a WebSocket: path is joined to config `base_url` (http -> ws, https -> wss); an absolute
  // ws(s)/http(s) URL is used as is. The upgrade request carries the session's cookies, basic auth
  // and opts' headers. Several connections per session are told apart by opts.connection(name);
  // connecting a name again replaces its connection. Recorded as ws_connect(<url>) (time to open);
  // a refused, timed-out or rejected upgrade is an error metric and the session goes on. So is a
  // URL that does not parse, or a relative path without `base_url`: the result's error is
  // failure::invalid_url, recorded as "Error invalid_url ws_connect(<url as given>)", nothing is
  // connected and a connection already open under that name stays.
  task<ws_result> ws_connect(std::string_view path, ws_options opts = {});
  // Sends a text / binary / JSON message. Recorded as ws_send(<url>).
  task<ws_result> ws_send(std::string_view text, ws_options opts = {});
  task<ws_result> ws_send_binary(std::string_view bytes, ws_options opts = {});
  task<ws_result> ws_send_json(const json& value, ws_options opts = {});
  // The next message, in arrival order (messages are buffered while nobody receives), waiting at
  // most the timeout. Recorded as ws_recv and ws_recv(<url>); a timeout, or a connection the
  // server closed, is an error result (and metric) promptly, never a hang.
  task<ws_result> ws_recv(ws_options opts = {});
  // Receives until a message equals `expected` (text) / whose JSON equals `expected` / for which
  // `pred` is true, within one timeout for the whole wait. Each message is recorded as ws_recv.
  task<ws_result> ws_await_recv(std::string_view expected, ws_options opts = {});
  task<ws_result> ws_await_recv_json(const json& expected, ws_options opts = {});
  task<ws_result> ws_await_recv(ws_predicate pred, ws_options opts = {});
  // Closes the connection (a close frame, then the socket) and forgets it: later sends and
  // receives on that name are not_connected until it is connected again. Closing a connection
  // that is not there does nothing.
  task<void> ws_close(ws_options opts = {});
  // Drops the connection without a close handshake (the socket is closed, no close frame is sent)
  // and forgets it, as ws_close does. For a connection that is broken or must not be closed
  // cleanly. Dropping one that is not there does nothing.
  void ws_reset(ws_options opts = {});
  // Whether the named connection is open.
  bool ws_connected(std::string_view connection = {}) const;

  // ---- metrics ---------------------------------------------------------------------------------
  // Records `value` under a custom metric name.
  void add_metric(std::string_view name, std::chrono::microseconds value);
  // Records a value that is not a duration (a count, a size in bytes) under a custom metric name.
  // It is exported as recorded, without the time unit conversion durations get (metric_unit in
  // metrics.hpp). Values are whole numbers from 0 to 2^36-1; a negative one is recorded as 0.
  // Record each name with one kind: add_metric and add_value under one name give two metrics.
  void add_value(std::string_view name, std::int64_t value);
  // Records a counted error as "Error <error> <action>", the shape of the built-in ones (e.g.
  // add_error("checkout", "out_of_stock")), with `duration` as its value; it counts in the error
  // totals of the run.
  void add_error(std::string_view action, std::string_view error,
                 std::chrono::microseconds duration = std::chrono::microseconds{0});
  // Records a result as if `action` had run and returned it: a successful one (an HTTP response,
  // also a 4xx/5xx, or a WebSocket result without error) records its duration under `action`; a
  // failed one records "Error <why> <action>" (why: "HTTP <status>" for a status >= 400, else the
  // failure's name). An HTTP result counts as a request. Kept too when store_results is on.
  void add_result(std::string_view action, const http_result& result);
  void add_ws_result(std::string_view action, const ws_result& result);
  // With config `store_results: true`, the session keeps its latest results for inspection: the
  // WebSocket actions' and those given to add_result / add_ws_result, oldest first, at most
  // `max_kept_results` (older ones are dropped). Without it nothing is kept: the metrics hold
  // only histograms, never raw samples.
  static constexpr std::size_t max_kept_results = 100;
  const std::deque<kept_result>& results() const noexcept;
  // Runs fn(session&) (a coroutine) and records its duration under `name`.
  template <class Fn>
    requires std::invocable<Fn&, session&>
  task<void> time(std::string name, Fn fn) {
    auto start = clock::now();
    co_await fn(*this);
    add_metric(name, std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start));
  }

  // ---- control ---------------------------------------------------------------------------------
  // Waits d (co_await s.delay(100ms)); see delay_awaiter.
  delay_awaiter delay(std::chrono::microseconds d);
  template <class Rep, class Period>
  delay_awaiter delay(std::chrono::duration<Rep, Period> d) {
    return delay(std::chrono::duration_cast<std::chrono::microseconds>(d));
  }
  // Waits a uniformly random time in [0, max].
  delay_awaiter random_delay(std::chrono::microseconds max);
  template <class Rep, class Period>
  delay_awaiter random_delay(std::chrono::duration<Rep, Period> max) {
    return random_delay(std::chrono::duration_cast<std::chrono::microseconds>(max));
  }
  // Stops the session: every later action throws session_stopped. Counted as "aborted".
  void abort(std::string reason);
  bool stopped() const noexcept;
  const std::string& stop_reason() const noexcept;
  // A uniformly distributed random number in [lo, hi] from the shard's generator.
  std::int64_t random(std::int64_t lo, std::int64_t hi);

  // ---- async tasks: child sessions on the same engine thread ------------------------------------
  // A child starts with a copy of config, assigned values and cookies, and no connections; its
  // metrics count toward the run, its assigned values stay its own.
  using task_fn = std::function<task<void>(session&)>;
  using signal_callback = std::function<void(session&, const json&)>;

  // Runs fn(child, args...) as a child session under `name` (several tasks may share a name).
  template <class Fn, class... Args>
  void async(std::string name, Fn fn, Args... args) {
    spawn_task(std::move(name),
               task_fn([fn = std::move(fn), ... args = std::move(args)](session& child) mutable {
                 return fn(child, args...);
               }));
  }
  // await(name) waits for every task under `name` not awaited yet, oldest first, as the original
  // does (inside a nested scenario, the tasks of that scenario when it has any under that name,
  // else those of the scenarios around it); await(names) does so for each name; await_all(name)
  // is await(name) without the error for a name that has no task. Each task is waited for up to
  // config `timeout` (default 10 s): a longer wait is recorded as "Error timeout await(<name>)",
  // stops the late task, and makes the result false. A name with no task returns false and records
  // "Error no_task await(<name>)". A task that threw still counts as finished (true); its failure
  // is recorded as "Error exception <name>".
  task<bool> await(std::string name);
  task<bool> await(std::vector<std::string> names);
  task<bool> await_all(std::string name);
  std::size_t async_task_count(std::string_view name) const;

  // ---- signals between a session and its tasks --------------------------------------------------
  void signal(std::string_view task_name, json value);  // to every task under that name
  void signal_parent(json value);
  // Waits until `expected` arrives (other signals stay queued); false on timeout (recorded as
  // "Error timeout await_signal"). Without a timeout: config `timeout` (default 10 s).
  task<bool> await_signal(json expected, std::chrono::microseconds timeout);
  task<bool> await_signal(json expected);
  // Waits for any signal (config `timeout`) and calls callback with it; false on timeout.
  task<bool> await_signal(signal_callback callback);
  // Waits for any signal up to `timeout`; the signal, or nullopt on timeout (not an error).
  task<std::optional<json>> await_signal_or_timeout(std::chrono::microseconds timeout,
                                                    signal_callback callback = {});

  // Runs fn every `period` while this session waits in await or await_signal (a heartbeat, as
  // config `interval` in the original). Tasks started afterwards inherit it. An empty fn clears it.
  void set_interval(std::chrono::microseconds period, task_fn fn);

  // ---- flow -------------------------------------------------------------------------------------
  // Runs fn again and again until `duration` has passed (each iteration as call(<Scenario>.<name>)).
  task<void> loop(std::string name, std::chrono::microseconds duration, task_fn fn);
  // A steady pace for loop(): iterations per second.
  class pacing {
   public:
    explicit pacing(double per_second) : per_second_(per_second) {}
    double per_second() const noexcept { return per_second_; }

   private:
    double per_second_;
  };
  // Paced loop: iteration k is due at start + k / per_second, for every k due before `duration`
  // has passed (so duration x rate iterations, rounded up). An iteration that is late (the one
  // before took too long) starts at once: none is skipped. Everything an iteration records is
  // also recorded from its due time in the corrected results, its lateness in the schedule lag.
  // Throws std::invalid_argument for a pace that is not a positive number.
  //   co_await s.loop("ping", 5s, session::pacing(200), &ping);
  task<void> loop(std::string name, std::chrono::microseconds duration, pacing pace, task_fn fn);
  task<void> repeat(std::size_t times, task_fn fn);
  task<void> repeat_traced(std::string name, std::size_t times, task_fn fn);
  task<void> call(task_fn fn);
  // Runs fn and records its duration as call(<Scenario>.<name>).
  task<void> call_traced(std::string name, task_fn fn);
  // Starts `rate` tasks named `name`, evenly spread over `interval` (awaited with await_all(name)).
  // A task started late records its latencies from its due start in the corrected results too.
  task<void> cc_spread(std::string name, std::size_t rate, std::chrono::microseconds interval,
                       task_fn fn);

  using retry_options = chaperon::retry_options;
  // Runs fn; when it throws, runs it again up to `retries` more times (by default once, after a
  // random delay of up to 1 s). Each failure is recorded as
  // "Error exception retry(<Scenario>.<name>)"; true when an attempt succeeded.
  task<bool> retry_on_error(std::string name, task_fn fn, retry_options options = {});

  // Runs another scenario in this session: config deep-merged with `config` (or replaced when
  // merge_config is false) while it runs; assigned values and cookies stay. Recorded as
  // run_scenario(<Name>). The nested scenario's initial delay is not applied again.
  task<void> run_scenario(const scenario_ref& scenario, json config = json::object(),
                          bool merge_config = true);
  // Starts `scenario` as a new session of its own and returns at once, without waiting for it.
  // The original runs it on a node of its cluster; here it runs in this process, on this
  // session's engine thread. Its config is this session's deep-merged with `config` (or `config`
  // alone when merge_config is false), with its initial delay (config `delay`/`random_delay`)
  // applied; nothing else is shared (assigned values, cookies, connections and tasks are its
  // own). It gets its own id and the name "<Scenario> <id>", is counted in the run's session
  // counts, its metrics count toward the run, it outlives this session if it must, and the run
  // does not end before it does. Throws session_stopped when this session is stopped.
  void schedule_scenario(const scenario_ref& scenario, json config = json::object(),
                         bool merge_config = true);
  // Runs a custom action (see action.hpp) through the same path as built-in actions.
  task<action_result> run_action(action& a);

  // The scenario this session is running ("" before it starts), for metric names.
  const std::string& scenario_name() const noexcept;

  // ---- logging: "<id> <name> | message" to stderr, filtered by --log-level ----------------------
  void log(log_level level, std::string_view message) const;
  void log_debug(std::string_view m) const { log(log_level::debug, m); }
  void log_info(std::string_view m) const { log(log_level::info, m); }
  void log_warn(std::string_view m) const { log(log_level::warn, m); }
  void log_error(std::string_view m) const { log(log_level::error, m); }

 private:
  friend detail::session_state& detail::state_of(session& s) noexcept;
  friend const detail::session_state& detail::state_of(const session& s) noexcept;
  // Keeps a WebSocket action's result when store_results is on (engine/session_ws.cpp).
  friend void keep_ws_action(session& s, std::string_view action, const std::string& target,
                             const ws_result& r);
  void throw_if_stopped() const;
  json& writable_config();
  void spawn_task(std::string name, task_fn fn);
  // One step of a wait: until the slot stored at `where` is woken, or the next heartbeat (which
  // runs, then true), or the deadline (false). Callers loop, re-checking what they wait for.
  task<bool> wait_step(detail::wait_slot*& where, clock::time_point deadline);
  void record_error(std::string action, std::string target, std::string error,
                    std::chrono::microseconds value);
  // Waits for one task of await(name), up to config `timeout`.
  task<bool> await_task(std::shared_ptr<detail::child_task> t, const std::string& name);
  // store_results: whether this session keeps results, and keeping one.
  bool keeps_results() const;
  void keep_result(std::string action, std::variant<http_result, ws_result> result);

  std::unique_ptr<detail::session_state> state_;
  std::unique_ptr<std::deque<kept_result>> kept_;  // allocated by the first result kept
};

}  // namespace chaperon
