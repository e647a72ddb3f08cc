// start_load_test: checks the setup, spreads the sessions and load models of the run's share
// over engine threads (shards), and hands them to a run_control that runs and watches them.
#include <charconv>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "chaperon/run.hpp"
#include "engine/load_model.hpp"
#include "engine/open_files.hpp"
#include "engine/run_control.hpp"
#include "engine/shard.hpp"

namespace chaperon {

namespace {

using steady = std::chrono::steady_clock;

// Shards need a moment to start; a schedule that began before them would count their start-up
// as lag.
constexpr auto schedule_start_margin = std::chrono::milliseconds(2);
constexpr std::chrono::milliseconds default_saturation_lag{5};

std::size_t thread_count(std::size_t requested, std::size_t sessions, bool models) {
  std::size_t n = requested ? requested : std::max(1u, std::thread::hardware_concurrency());
  if (models) return std::max<std::size_t>(1, n);
  return std::max<std::size_t>(1, std::min(n, std::max<std::size_t>(1, sessions)));
}

const load_model& model_of(const load_test_entry& entry, const run_options& options) {
  return options.model ? *options.model : entry.model;
}

// Whether at-once session number `n` belongs to the share: its part is n % count.
bool in_share(std::size_t n, const share& part) {
  const auto p = n % part.count;
  return p >= part.index && p < part.index + part.width;
}

// An upper bound on the sessions of this share alive at once.
std::size_t concurrent_sessions(const load_test& test, const run_options& options) {
  const auto& part = options.part;
  std::size_t n = 0;
  std::size_t session_no = 0;
  for (const auto& e : test.entries()) {
    const auto& m = model_of(e, options);
    if (m.kind == load_kind::at_once) {
      for (std::size_t i = 0; i < e.count; ++i) n += in_share(session_no++, part);
      continue;
    }
    const auto total = m.kind == load_kind::ramping_sessions
                           ? static_cast<std::size_t>(m.peak())
                           : m.effective_max_active();
    for (auto p = part.index; p < part.index + part.width; ++p)
      n += detail::share_of(total, p, part.count);
  }
  return n;
}

// At-once sessions are numbered across entries and belong to the share their number gives;
// model work is split over (part x shard): shard t takes part p + count * t of count * shards
// for every part p of the share, so the parts of all shares and shards together are the whole
// schedule.
std::vector<detail::shard_plan> plan_work(const load_test& test, const run_options& options,
                                          std::size_t shards, steady::time_point t0) {
  const auto& part = options.part;
  std::vector<detail::shard_plan> plans(shards);
  std::size_t session_no = 0;
  std::size_t next = 0;
  for (const auto& entry : test.entries()) {
    auto config = std::make_shared<const json>(test.entry_config(entry, options.config));
    const auto& model = model_of(entry, options);
    if (model.kind == load_kind::at_once) {
      for (std::size_t i = 0; i < entry.count; ++i) {
        if (!in_share(session_no++, part)) continue;
        plans[next++ % shards].sessions.push_back(detail::session_plan{&entry, config});
      }
      continue;
    }
    model.validate();
    for (std::size_t t = 0; t < shards; ++t) {
      for (auto p = part.index; p < part.index + part.width; ++p) {
        plans[t].models.push_back(detail::model_plan{&entry, config, model, p + part.count * t,
                                                     part.count * shards, t0});
      }
    }
  }
  return plans;
}

std::optional<steady::duration> load_test_timeout(const json& config) {
  const json* t = find_path(config, config_path{"load_test_timeout"});
  if (!t || t->is_null()) return std::nullopt;
  return parse_duration(*t, "load_test_timeout");
}

saturation_thresholds thresholds(const json& config) {
  saturation_thresholds t;
  t.lag_us = default_saturation_lag.count() * 1000;
  if (const json* v = find_path(config, config_path{"saturation_lag"}); v && !v->is_null()) {
    t.lag_us = parse_duration(*v, "saturation_lag").count();
  }
  return t;
}

// Config `interval` as a duration sets the series' interval. The original's heartbeat form
// ({period, fn}) holds a function, which JSON cannot: a scenario calls session::set_interval.
void check_interval_key(const json& config, const std::string& where) {
  const json* v = find_path(config, config_path{"interval"});
  if (!v || v->is_null() || v->is_number() || v->is_string()) return;
  if (v->is_object()) {
    throw config_error("config key 'interval' (" + where + ") is an object, the original's " +
                       "{period, fn} heartbeat: a function cannot be given in JSON config; call " +
                       "session::set_interval(period, fn) in the scenario instead (a duration " +
                       "here sets the length of the series' intervals)");
  }
  throw config_error("config key 'interval' (" + where + ") has value " + v->dump() +
                     ", which is not a duration (the length of the series' intervals)");
}

std::chrono::microseconds interval_length(const json& config, const run_options& options) {
  std::chrono::microseconds length{std::chrono::seconds(1)};
  if (options.interval) {
    length = *options.interval;
  } else if (const json* v = find_path(config, config_path{"interval"});
             v && (v->is_number() || v->is_string())) {
    length = parse_duration(*v, "interval");
  }
  if (length < std::chrono::milliseconds(10)) {
    throw config_error("interval must be at least 10ms, got " +
                       std::to_string(length.count()) + "us");
  }
  return length;
}

// Config merge_scenario_sessions (the original's key): false asks for one row per session name.
// Rows are a setting of the whole run, so every entry must agree (unset counts as true).
bool per_session_from_config(const load_test& test, const json& runtime) {
  std::optional<bool> merge;
  std::string first;
  auto shown = [](bool v) { return v ? "true (or unset)" : "false"; };
  for (const auto& e : test.entries()) {
    const json config = test.entry_config(e, runtime);
    bool value = true;
    if (const json* v = find_path(config, config_path{"merge_scenario_sessions"});
        v && !v->is_null()) {
      if (!v->is_boolean()) {
        throw config_error("config key 'merge_scenario_sessions' (entry " + e.label() +
                           ") must be true or false, not " + v->dump());
      }
      value = v->get<bool>();
    }
    if (merge && *merge != value) {
      throw config_error(
          "config key 'merge_scenario_sessions' applies to the whole run, but entry " + first +
          " has " + shown(*merge) + " and entry " + e.label() + " " + shown(value) +
          ": set it in default_config or in the run-time config");
    }
    merge = value;
    if (first.empty()) first = e.label();
  }
  return merge && !*merge;
}

std::string entry_list(const load_test& test) {
  std::string out;
  for (const auto& e : test.entries()) out += (out.empty() ? "" : ", ") + e.label();
  return out;
}

void check_count_options(const load_test& test, const run_options& options) {
  if (!options.sessions && !options.scale) return;
  if (options.model) {
    throw std::invalid_argument(
        "sessions / scale (--sessions, --scale) set the counts of at-once entries; they do not "
        "apply when one load model replaces every entry's (--rate, --stages)");
  }
  if (options.scale && !(std::isfinite(*options.scale) && *options.scale > 0)) {
    throw std::invalid_argument("scale (--scale) must be a number > 0, got " +
                                std::to_string(*options.scale));
  }
  if (!options.sessions) return;
  if (*options.sessions == 0) throw std::invalid_argument("sessions (--sessions) must be >= 1");
  const auto& entries = test.entries();
  if (entries.size() != 1) {
    throw std::invalid_argument(
        "sessions (--sessions N) sets the session count of a load test with one entry; " +
        test.name() + " has " + std::to_string(entries.size()) + ": " + entry_list(test) +
        "; scale (--scale F) multiplies every entry's count");
  }
  if (entries[0].model.kind != load_kind::at_once) {
    throw std::invalid_argument("sessions (--sessions): entry " + entries[0].label() + " of " +
                                test.name() + " runs a load model, which sets its own sessions");
  }
}

std::size_t scaled(std::size_t count, double scale) {
  const double n = std::round(static_cast<double>(count) * scale);
  if (!(n < 1e15)) throw std::invalid_argument("scale (--scale) makes a count out of range");
  return std::max<std::size_t>(1, static_cast<std::size_t>(n));
}

// Config `name` (the original's key) names the sessions of an entry that has no session name.
std::string config_session_name(const load_test& test, const load_test_entry& e,
                                const json& runtime) {
  const json config = test.entry_config(e, runtime);
  const json* v = find_path(config, config_path{"name"});
  if (!v || v->is_null()) return {};
  if (!v->is_string()) {
    throw config_error("config key 'name' (entry " + e.label() +
                       ") is the session name and must be a string, not " + v->dump());
  }
  return v->get<std::string>();
}

void check_share(const share& part) {
  if (part.count == 0 || part.index >= part.count) {
    throw std::invalid_argument("share " + std::to_string(part.index) + "/" +
                                std::to_string(part.count) +
                                ": the index must be below the count (0-based)");
  }
  if (part.width == 0 || part.width > part.count - part.index) {
    throw std::invalid_argument("share " + std::to_string(part.index) + "/" +
                                std::to_string(part.count) + " of width " +
                                std::to_string(part.width) +
                                ": the width must be at least 1 and end within the count");
  }
}

}  // namespace

std::optional<share> parse_share(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view s) -> std::optional<std::size_t> {
    std::size_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
  };
  auto index = number(text.substr(0, slash));
  auto count = number(text.substr(slash + 1));
  if (!index || !count || *count == 0 || *index >= *count) return std::nullopt;
  return share{*index, *count};
}

load_test prepared_load_test(const load_test& test, const run_options& options) {
  check_count_options(test, options);
  load_test out{test.name()};
  out.default_config(test.default_config());
  for (const auto& t : test.thresholds()) out.threshold(t);
  for (auto e : test.entries()) {
    if (model_of(e, options).kind == load_kind::at_once) {
      if (options.sessions) e.count = *options.sessions;
      if (options.scale) e.count = scaled(e.count, *options.scale);
    }
    if (e.session_name.empty()) e.session_name = config_session_name(test, e, options.config);
    out.entry(std::move(e));
  }
  return out;
}

load_test_run start_load_test(load_test test, run_options options) {
  if (test.entries().empty()) {
    throw std::invalid_argument("load test " + test.name() + " has no scenarios");
  }
  check_share(options.part);
  if (options.model) options.model->validate();
  test = prepared_load_test(test, options);
  for (const auto& e : test.entries())
    check_interval_key(test.entry_config(e, options.config), "entry " + e.label());
  options.per_session = options.per_session || per_session_from_config(test, options.config);
  const json config = deep_merged(test.default_config(), options.config);
  detail::run_setup setup;
  setup.timeout = load_test_timeout(config);
  setup.limits = thresholds(config);
  setup.interval = interval_length(config, options);
  const std::size_t concurrent = concurrent_sessions(test, options);
  setup.sessions_total = concurrent;
  detail::check_open_files(concurrent, config);
  bool models = false;
  for (const auto& e : test.entries())
    models = models || model_of(e, options).kind != load_kind::at_once;
  const std::size_t n = thread_count(options.threads, concurrent, models);

  detail::shard_settings settings{options.per_session, options.print_results, options.level,
                                  options.metrics};
  std::vector<std::unique_ptr<detail::shard>> shards;
  std::random_device seed_source;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t seed = (std::uint64_t{seed_source()} << 32) ^ seed_source() ^ i;
    shards.push_back(std::make_unique<detail::shard>(i, settings, seed));
  }

  auto control = std::make_unique<detail::run_control>(std::move(test), std::move(options), setup);
  auto start = steady::now();
  // Planned from the control's own copy of the test: sessions point into its entries.
  auto plans = plan_work(control->test(), control->options(), n, start + schedule_start_margin);
  control->start(std::move(shards), std::move(plans), start);
  return load_test_run(std::move(control));
}

run_results run_load_test(const load_test& test, const run_options& options) {
  return start_load_test(test, options).wait();
}

load_test_run::load_test_run(std::unique_ptr<detail::run_control> control)
    : control_(std::move(control)) {}
load_test_run::load_test_run(load_test_run&&) noexcept = default;
load_test_run& load_test_run::operator=(load_test_run&&) noexcept = default;
load_test_run::~load_test_run() = default;

run_results load_test_run::snapshot() const { return control_->snapshot(); }
progress_snapshot load_test_run::progress() const { return control_->progress(); }
interval_series load_test_run::series() const { return control_->series(); }
std::vector<interval> load_test_run::intervals(std::size_t from) const {
  return control_->intervals(from);
}
void load_test_run::stop(std::string reason) { control_->stop(std::move(reason)); }
bool load_test_run::finished() const { return control_->finished(); }
bool load_test_run::wait_for(std::chrono::milliseconds timeout) const {
  return control_->wait_for(timeout);
}
run_results load_test_run::wait() { return control_->wait(); }

}  // namespace chaperon
