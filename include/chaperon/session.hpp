#pragma once
// chaperon::session: one virtual user. Scenarios are coroutines over a session& and read straight
// down:
//
//   chaperon::task<> run(chaperon::session& s) override {
//     co_await s.post("/login", chaperon::http_options{}.form({{"user", "ann"}, {"password", "secret"}}));
//     auto page = co_await s.get("/account");
//     if (!page.ok()) s.log_warn("not logged in");
//   }
//
// A session lives on one worker thread for its whole life; nothing in it is shared with other
// threads. Every action is measured into the worker's metrics (see metrics.hpp for the names).
// Failed requests are values (see http.hpp); abort() and timeouts stop the session: the next
// action throws session_stopped, which unwinds the scenario (teardown still runs).

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "chaperon/config.hpp"
#include "chaperon/http.hpp"
#include "chaperon/task.hpp"

namespace chaperon {

namespace detail {
class session_state;
}

// Thrown by an action of a session that was aborted or timed out. Scenarios should not catch it.
class session_stopped : public std::exception {
 public:
  explicit session_stopped(std::string reason) : reason_(std::move(reason)) {}
  const char* what() const noexcept override { return reason_.c_str(); }

 private:
  std::string reason_;
};

enum class log_level { debug, info, warn, error, off };

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
    const json* v = find_path(config_root(), key);
    return v ? v->template get<T>() : fallback;
  }
  // A duration config value (number = ms, or "250ms", "2s", ...).
  std::chrono::microseconds config_duration(const config_path& key) const;
  std::chrono::microseconds config_duration(const config_path& key,
                                            std::chrono::microseconds fallback) const;
  bool has_config(const config_path& key) const;
  const json& config_root() const noexcept;
  void set_config(const config_path& key, json value);
  void set_config(const json& object);  // deep-merged into the config
  void update_config(const config_path& key, const std::function<json(const json&)>& fn);

  // ---- assigned values (the session's own state) ----------------------------------------------
  const json& assigned() const noexcept;
  const json& assigned(const config_path& key) const;  // throws std::out_of_range naming the key
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

  // ---- metrics ---------------------------------------------------------------------------------
  // Records `value` under a custom metric name.
  void add_metric(std::string_view name, std::chrono::microseconds value);
  // Runs fn(session&) (a coroutine) and records its duration under `name`.
  template <class Fn>
    requires std::invocable<Fn&, session&>
  task<void> time(std::string name, Fn fn) {
    auto start = clock::now();
    co_await fn(*this);
    add_metric(name, std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start));
  }

  // ---- control ---------------------------------------------------------------------------------
  task<void> delay(std::chrono::microseconds d);
  template <class Rep, class Period>
  task<void> delay(std::chrono::duration<Rep, Period> d) {
    return delay(std::chrono::duration_cast<std::chrono::microseconds>(d));
  }
  // Waits a uniformly random time in [0, max].
  task<void> random_delay(std::chrono::microseconds max);
  template <class Rep, class Period>
  task<void> random_delay(std::chrono::duration<Rep, Period> max) {
    return random_delay(std::chrono::duration_cast<std::chrono::microseconds>(max));
  }
  // Stops the session: every later action throws session_stopped. Counted as "aborted".
  void abort(std::string reason);
  bool stopped() const noexcept;
  const std::string& stop_reason() const noexcept;
  // A uniformly distributed random number in [lo, hi] from the worker's generator.
  std::int64_t random(std::int64_t lo, std::int64_t hi);

  // ---- logging: "<id> <name> | message" to stderr, filtered by --log-level ----------------------
  void log(log_level level, std::string_view message) const;
  void log_debug(std::string_view m) const { log(log_level::debug, m); }
  void log_info(std::string_view m) const { log(log_level::info, m); }
  void log_warn(std::string_view m) const { log(log_level::warn, m); }
  void log_error(std::string_view m) const { log(log_level::error, m); }

  // For the engine.
  detail::session_state& state() noexcept { return *state_; }
  const detail::session_state& state() const noexcept { return *state_; }

 private:
  void throw_if_stopped() const;
  json& writable_config();

  std::unique_ptr<detail::session_state> state_;
};

}  // namespace chaperon
