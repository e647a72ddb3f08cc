// chaperon::session: identity, config, assigned values, custom metrics, control and logging.
// HTTP actions live in session_http.cpp.
#include "chaperon/session.hpp"

#include <cstdio>
#include <random>

#include "engine/config_reads.hpp"
#include "engine/session_state.hpp"
#include "engine/shard.hpp"
#include "engine/sleep_queue.hpp"

namespace chaperon {

session::session(std::unique_ptr<detail::session_state> state) : state_(std::move(state)) {}
session::~session() = default;

const std::string& session::id() const noexcept { return state_->id; }
const std::string& session::name() const noexcept { return state_->name(); }

// ---- config ------------------------------------------------------------------------------------

const json& session::config_root() const noexcept {
  // Whatever the scenario does with the whole config, no key of it can be called unread.
  detail::note_whole_config_read(*state_);
  return *state_->config;
}

const json* session::find_config(const config_path& key) const {
  detail::note_config_read(*state_, key);
  return find_path(*state_->config, key);
}

const json& session::config(const config_path& key) const {
  const json* v = find_config(key);
  if (!v) throw required_config_missing(key.str(), name());
  return *v;
}

json session::config(const config_path& key, json fallback) const {
  const json* v = find_config(key);
  return v ? *v : fallback;
}

std::chrono::microseconds session::config_duration(const config_path& key) const {
  return parse_duration(config(key), key.str());
}

std::chrono::microseconds session::config_duration(const config_path& key,
                                                   std::chrono::microseconds fallback) const {
  const json* v = find_config(key);
  return v ? parse_duration(*v, key.str()) : fallback;
}

bool session::has_config(const config_path& key) const {
  return find_config(key) != nullptr;
}

json& session::writable_config() {
  // Sessions of one entry share their config until one of them writes to it.
  if (state_->config.use_count() > 1) state_->config = std::make_shared<const json>(*state_->config);
  state_->invalidate_settings();
  return const_cast<json&>(*state_->config);
}

void session::set_config(const config_path& key, json value) {
  set_path(writable_config(), key, std::move(value));
}

void session::set_config(const json& object) { deep_merge(writable_config(), object); }

void session::update_config(const config_path& key, const std::function<json(const json&)>& fn) {
  json current = config(key);
  set_path(writable_config(), key, fn(current));
}

// ---- assigned ------------------------------------------------------------------------------------

const json& session::assigned() const noexcept {
  static const json none = json::object();
  return state_->assigned.is_null() ? none : state_->assigned;
}

const json& session::assigned(const config_path& key) const {
  const json* v = find_path(state_->assigned, key);
  if (!v) throw assigned_value_missing(key.str(), name());
  return *v;
}

json session::assigned(const config_path& key, json fallback) const {
  const json* v = find_path(state_->assigned, key);
  return v ? *v : fallback;
}

void session::assign(const config_path& key, json value) {
  set_path(state_->assigned, key, std::move(value));
}

void session::assign(const json& object) {
  for (auto it = object.begin(); it != object.end(); ++it) state_->assigned[it.key()] = *it;
}

void session::assign_under(std::string_view ns, const json& object) {
  json& target = state_->assigned[std::string(ns)];
  if (!target.is_object()) target = json::object();
  for (auto it = object.begin(); it != object.end(); ++it) target[it.key()] = *it;
}

void session::update_assign(const config_path& key, const std::function<json(const json&)>& fn) {
  json current = assigned(key);
  set_path(state_->assigned, key, fn(current));
}

void session::delete_assign(const config_path& key) { erase_path(state_->assigned, key); }

// ---- metrics, control, logging ---------------------------------------------------------------

void session::throw_if_stopped() const {
  if (state_->stop != detail::stop_kind::none) throw session_stopped(state_->stop_reason());
}

// ---- delay: the awaiter is the sleeper record, in the sleeping coroutine's frame -------------

delay_awaiter::delay_awaiter(session& s, std::chrono::microseconds d) : session_(&s) {
  // min(): nothing to wait for. The deadline is taken now, when the delay is asked for.
  deadline = d.count() > 0 ? std::chrono::steady_clock::now() + d
                           : std::chrono::steady_clock::time_point::min();
}

bool delay_awaiter::await_ready() const {
  if (session_->stopped()) throw session_stopped(session_->stop_reason());
  return deadline == std::chrono::steady_clock::time_point::min();
}

void delay_awaiter::await_suspend(std::coroutine_handle<> h) {
  auto& st = detail::state_of(*session_);
  waiter_ = h;
  wake = &resume_waiter;
  st.pending = detail::pending_op{&cancel, this};
  st.owner.sleeps().add(*this);
}

void delay_awaiter::await_resume() {
  auto& st = detail::state_of(*session_);
  if (st.pending.target == this) st.pending = {};
  if (st.stop != detail::stop_kind::none) throw session_stopped(st.stop_reason());
}

void delay_awaiter::resume_waiter(detail::sleeper& self) {
  static_cast<delay_awaiter&>(self).waiter_.resume();
}

// A stop: the session wakes now, on the next turn of the event loop (a stop resumes nothing).
void delay_awaiter::cancel(void* self) {
  auto& a = *static_cast<delay_awaiter*>(self);
  detail::state_of(*a.session_).owner.sleeps().wake_soon(a);
}

void delay_awaiter::forget() noexcept {
  auto& st = detail::state_of(*session_);
  if (st.pending.target == this) st.pending = {};
  st.owner.sleeps().remove(*this);
}

delay_awaiter session::delay(std::chrono::microseconds d) { return delay_awaiter(*this, d); }

delay_awaiter session::random_delay(std::chrono::microseconds max) {
  return delay_awaiter(*this, std::chrono::microseconds{random(0, max.count())});
}

std::int64_t session::random(std::int64_t lo, std::int64_t hi) {
  if (hi <= lo) return lo;
  std::uniform_int_distribution<std::int64_t> dist(lo, hi);
  return dist(state_->owner.rng());
}

void session::abort(std::string reason) {
  state_->request_stop(detail::stop_kind::aborted, std::move(reason));
}

bool session::stopped() const noexcept { return state_->stop != detail::stop_kind::none; }
const std::string& session::stop_reason() const noexcept { return state_->stop_reason(); }

void session::log(log_level level, std::string_view message) const {
  if (level < state_->owner.settings().level || level == log_level::off) return;
  static constexpr const char* names[] = {"debug", "info", "warn", "error"};
  // "<id>[ [<parent id>]] <name> | message", as the original prefixes session logs.
  std::string line = std::string("[") + names[static_cast<int>(level)] + "] " + id();
  if (state_->parent) line += " [" + state_->parent->id + "]";
  line += " " + name() + " | " + std::string(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace chaperon

namespace chaperon::detail {

session_state& state_of(session& s) noexcept { return *s.state_; }
const session_state& state_of(const session& s) noexcept { return *s.state_; }

}  // namespace chaperon::detail
