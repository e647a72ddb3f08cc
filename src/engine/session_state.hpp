#pragma once
// The private state behind chaperon::session.

#include <chrono>
#include <cstdint>
#include <coroutine>
#include <deque>
#include <forward_list>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chaperon/config.hpp"
#include "chaperon/http.hpp"
#include "chaperon/task.hpp"
#include "metrics/recorder.hpp"
#include "net/cookie_jar.hpp"
#include "net/http_connection.hpp"
#include "net/url.hpp"
#include "net/ws_connection.hpp"

namespace chaperon {
struct load_test_entry;
}

namespace chaperon::detail {

class shard;

// How a session was stopped. ramp_down: a ramp lowered its session target, which ends it as
// completed (when that stop came first).
enum class stop_kind : std::uint8_t { none, aborted, timed_out, cancelled, ramp_down };

inline constexpr std::size_t default_ws_max_connecting = 256;

struct target_info;

// Transparent string hashing, so that a map keyed by std::string is searched with a string_view.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

// Settings read from config once and cached, so that requests do not look them up every time.
struct http_settings {
  std::string base_url;
  std::string authorization;  // "Basic ..." from config basic_auth, or ""
  net::exchange_timeouts timeouts;  // its ca_file and sources point into this struct
  bool verify_tls = true;
  std::string ca_file;  // config ca_file: verify servers against these CAs instead of the system's
  bool skip_query_in_metrics = false;
  bool store_results = false;  // config store_results: sessions keep their last results
  std::chrono::milliseconds ws_timeout{10000};  // config ws_timeout: default WebSocket wait
  // Config ws.max_connecting: WebSocket connects one engine thread has in flight at once (0: no
  // bound); more wait for a place before they start.
  std::size_t ws_max_connecting = default_ws_max_connecting;
  std::vector<std::string> source_addresses;     // config source_addresses (timeouts.sources)
  // The targets of plain requests (no params, no metrics_url) resolved with these settings, by
  // path. Settings belong to one shard, so the sessions of that shard share one resolved target
  // per path without a lock, and a flow of several URLs resolves each of them once.
  mutable std::unordered_map<std::string, std::shared_ptr<const target_info>, string_hash,
                             std::equal_to<>>
      targets;
};

// Builds the settings of a config (throws config_error naming a bad key).
std::shared_ptr<const http_settings> make_http_settings(const json& config);

// A request target resolved once: URL joined and parsed, Host header, metric URL. Immutable: the
// sessions of a shard share it (http_settings::targets), and a loop over one path reuses it
// instead of joining and parsing the URL every time.
struct target_info {
  std::string path;  // as the scenario gave it
  std::string url;
  net::url parsed;
  std::string host_header;
  std::string metric_url;
  std::string why;     // what is wrong with the URL when it cannot be requested
  bool valid = false;  // the URL parsed: the request can be sent
};

// A session's HTTP connections, and what it remembers from its last request, so that a loop over
// one URL finds its target and connection and interns its metric name once. Allocated by the first
// request: a session that only holds a WebSocket does not carry it.
struct http_memo {
  // One per endpoint, each in one node: a vector of pointers would cost a block more per session.
  std::forward_list<net::http_connection> connections;
  std::shared_ptr<const target_info> last_target;
  net::http_connection* last_connection = nullptr;  // last_target's, one of `connections`
  std::shared_ptr<const target_info> metric_target;  // the target `metric` was interned for
  metric_id metric = no_metric;
  http_method method = http_method::get;
  bool invalid_url_logged = false;  // a session warns of one invalid URL at most
};

// A session's WebSocket connection and the name the scenario gave it.
struct named_ws {
  named_ws(std::string n, net::io_services& services, net::endpoint_key key)
      : name(std::move(n)), conn(services, std::move(key)) {}
  std::string name;
  net::ws_connection conn;
};

// Something the session is waiting on, which a stop must interrupt.
struct pending_op {
  void (*cancel)(void*) = nullptr;
  void* target = nullptr;
};

// Something a coroutine waits on with a timeout (a task, a signal). shard::wait/wake drive it.
struct wait_slot {
  std::coroutine_handle<> waiter;
  void* timer = nullptr;
  bool woken = false;
  bool timed_out = false;
};

class session_state;

// A child session started by session::async, as its parent sees it.
struct child_task {
  std::string name;
  session_state* state = nullptr;  // the child's state; nullptr once it has finished
  bool done = false;
  bool awaited = false;            // claimed by an await (done or timed out)
  std::uint16_t depth = 0;         // run_part::depth of the parent when it started this task
  wait_slot* waiter = nullptr;     // the parent, while it awaits this task
};

// Async tasks, signals and the heartbeat of a session (engine/session_async.cpp). Allocated by
// the first of them: most sessions use none, and idle sessions are counted in tens of thousands.
struct task_part {
  std::vector<std::shared_ptr<child_task>> tasks;
  // Signals not yet awaited. A vector, not a deque: an empty deque already holds ~600 bytes.
  std::vector<json> mailbox;
  wait_slot* signal_waiter = nullptr;
  std::chrono::microseconds heartbeat_period{0};
  std::function<task<void>(session&)> heartbeat;
  // Aborts the custom action running, if any (its own waits use `pending`). Shared so that a stop
  // can post the abort and the post can tell whether the action is still running. Here, not in
  // every session: custom actions are rare.
  std::shared_ptr<std::function<void()>> action_abort;
};

// The lifecycle of the session's scenarios (engine/lifecycle.cpp).
struct run_part {
  std::string scenario;  // name of the running scenario
  // Nesting of run_scenario: a nested scenario ends the tasks started at its depth or deeper.
  std::uint16_t depth = 0;
};

// How a load model schedules the session (engine/arrivals.cpp, engine/intended_time.hpp).
struct load_part {
  // How late the current work of this session started against its schedule; every latency it
  // records while rate_driven is also recorded plus this lag as the corrected figure.
  std::chrono::microseconds schedule_lag{0};
  std::uint64_t seq = 0;  // start order among a ramp's sessions
  bool rate_driven = false;
  // Chosen to stop by a ramp that lowered the session target (counted by the ramp until it ends).
  bool ramp_down = false;
};

class session_state {
 public:
  session_state(shard& w, std::string id, std::string name, std::shared_ptr<const json> config);
  // A session of `entry`, named after it (entry.session_name, or "<Scenario> <id>") when the name
  // is first asked for: most sessions never are, and the name is most of a session's strings.
  session_state(shard& w, std::string id, const load_test_entry& entry,
                std::shared_ptr<const json> config);
  ~session_state();

  shard& owner;
  std::string id;
  const std::string& name() const;
  std::shared_ptr<const json> config;  // copied on first write
  // Null until the first assign: an empty object already allocates its map. session::assigned()
  // shows null as {}.
  json assigned;
  net::cookie_jar cookies;
  // WebSocket connections by name ("" is the default one), each in one node.
  std::forward_list<named_ws> websockets;

  session_state* parent = nullptr;  // the session that started this one as a task

  // The session's parts, each written by its own subsystem.
  run_part run;
  load_part model;
  // The tasks part, allocated on first use.
  task_part& tasks() {
    if (!tasks_) tasks_ = std::make_unique<task_part>();
    return *tasks_;
  }
  task_part* tasks_if_any() noexcept { return tasks_.get(); }

  stop_kind stop = stop_kind::none;
  std::uint32_t active_index = 0;  // position in the shard's active list (beside `stop`: 8 bytes)
  // Why the session was stopped, "" until it is.
  const std::string& stop_reason() const noexcept;
  // What an exception that ended the session said, "" when none.
  const std::string& failure() const noexcept;
  void set_failure(std::string what);
  pending_op pending;

  // Shared by the sessions of one shard whose config is the same (see shard::settings_for).
  const http_settings& settings();
  void invalidate_settings() {
    settings_.reset();
    if (memo_) {
      memo_->last_target.reset();
      memo_->last_connection = nullptr;
    }
  }
  http_memo& memo() {
    if (!memo_) memo_ = std::make_unique<http_memo>();
    return *memo_;
  }
  std::string metric_session() const;  // "" unless per-session rows are on

  // Stops the session and interrupts what it waits on.
  void request_stop(stop_kind kind, std::string reason);
  net::http_connection& connection_for(const net::endpoint_key& key);

 private:
  // What only a stopped or failed session has, made by the stop or the failure.
  struct end_part {
    std::string stop_reason;
    std::string failure;
  };
  end_part& ends();

  std::unique_ptr<end_part> ends_;
  mutable std::unique_ptr<std::string> name_;
  const load_test_entry* named_after_ = nullptr;  // while name_ is not made yet
  std::unique_ptr<task_part> tasks_;
  std::shared_ptr<const http_settings> settings_;
  std::unique_ptr<http_memo> memo_;
};

}  // namespace chaperon::detail
