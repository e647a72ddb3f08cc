// Latency histograms, metric keys and the results of one load-test run.
//
// Everything here is a plain value: results from engine threads and from other machines of a
// cluster are combined with merge(), which is exact (merging parts gives the same result as
// recording everything in one place), and travel between machines as JSON.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace chaperon {

// HDR histogram of microsecond values with 3 significant decimal digits (the values of a
// metric_unit::value metric are plain numbers in the same counters).
//
// Values 0..2047 are counted exactly; above that, every value shares its counter with neighbours
// within 0.1% of it. The trackable range is 0 .. highest_trackable_value (about 19 hours); larger
// values are clamped to it and negative values to 0. The exact smallest and largest values
// recorded are kept besides the counters. The counter array only grows as far as the largest value
// recorded, so a histogram of small values stays small.
class histogram {
 public:
  static constexpr std::int64_t highest_trackable_value = (std::int64_t{1} << 36) - 1;

  histogram();

  // Adds `count` occurrences of `value_us`. Allocates only when a value larger than any before
  // needs a larger counter array.
  void record(std::int64_t value_us, std::uint64_t count = 1);

  // Adds every value of `other`; the result equals one histogram that recorded both.
  void merge(const histogram& other);

  // Forgets all values but keeps the counter memory, so recording again does not allocate.
  void reset();

  std::uint64_t count() const;
  bool empty() const;
  std::int64_t min() const;  // exact; 0 when empty
  std::int64_t max() const;  // exact (after clamping); 0 when empty

  // Mean of the counters' median-equivalent values, as HDR histograms define it, but kept within
  // [min(), max()]; 0 when empty.
  double mean() const;

  // The highest value equivalent to the value at `percentile` (0..100, clamped), i.e. the smallest
  // recorded value v such that round(percentile/100 * count()) values are <= v, reported as the top
  // of v's counter range but never above max(). Percentile 0 gives min(); 0 when empty.
  std::int64_t value_at_percentile(double percentile) const;

  // Number of counters currently allocated (memory use is 8 bytes each).
  std::size_t counts_length() const;

  // Calls f(index, count) for every non-zero counter in index order, without copying: the
  // counter layout equals HdrHistogram's for (1, highest_trackable_value, 3 digits), so an
  // index is what HdrHistogram encoders write.
  template <typename F>
  void for_each_counter(F&& f) const {
    for (std::size_t i = 0; i < counts_.size(); ++i)
      if (counts_[i] != 0) f(i, counts_[i]);
  }

  // Lossless, compact form: {"min":m,"max":M,"counts":[[index,count],...]} with only non-zero
  // counters listed.
  nlohmann::json to_json() const;

  // Inverse of to_json(). Throws std::invalid_argument on malformed input.
  static histogram from_json(const nlohmann::json& j);
  // Same as from_json(), for untrusted input: nullopt instead of an exception.
  static std::optional<histogram> try_from_json(const nlohmann::json& j);

  // Equal when the same values were recorded: same counters (however far each array has grown)
  // and the same exact min and max.
  friend bool operator==(const histogram& a, const histogram& b);

 private:
  friend class packed_histogram;
  void grow_to_fit(std::size_t index);

  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::int64_t min_;
  std::int64_t max_ = 0;
};

// A histogram's non-zero counters only, exactly: how a run keeps its interval series. A dense
// histogram of latencies up to 100 ms holds about 7,000 counters (56 KiB); one second of them
// rarely has more than a few hundred that are not zero.
class packed_histogram {
 public:
  packed_histogram() = default;
  explicit packed_histogram(const histogram& h);

  // A histogram equal to the one packed.
  histogram unpack() const;
  std::uint64_t count() const noexcept { return total_; }
  // Heap bytes held (for memory bounds).
  std::size_t heap_bytes() const noexcept;

 private:
  std::vector<std::uint32_t> index_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
};

// The percentiles every export reports, in the order they are reported.
inline constexpr std::array<double, 15> reported_percentiles{10, 20, 30, 40, 50,   60,    75,    80,
                                                             85, 90, 95, 99, 99.9, 99.99, 99.999};

// What the numbers of a metric are, and so how exports write them.
//
// A metric's unit is part of its key (metric_key::unit): it is fixed when the metric is first
// recorded, travels with the key through the per-thread recorders, the interval series, merge()
// and the raw JSON form, and costs one byte compare in a lookup. The histogram itself counts
// plain integers either way (0 .. histogram::highest_trackable_value, negatives as 0), so the
// recording hot path is the same for both.
enum class metric_unit : std::uint8_t {
  // Microseconds (latencies, session::add_metric): CSV and JSON write milliseconds by default,
  // Prometheus seconds, reports ms.
  duration,
  // A plain number (sizes, counts: session::add_value): written as recorded everywhere, never
  // divided into milliseconds or seconds. The mean is rounded to an integer in CSV and JSON.
  value,
};

// "duration" or "value": how the raw JSON form and the JSON export spell a unit.
std::string_view to_string(metric_unit unit);

// What a metric is about.
//
// `action` is the metric type: an HTTP method ("get"), "call", "ws_recv", "run_scenario", an async
// task name or a custom metric name. `target` is what it acted on (a URL, "Scenario.fn", a scenario
// name) and may be empty. A non-empty `error` makes it an error metric ("HTTP 404", "timeout",
// ...). `session` is the session's name for per-session results and empty for results aggregated
// over all sessions.
//
// Names, as the reference tool prints them:
//   {"", "get", "http://h/x?q=1", ""}    -> "get(http://h/x?q=1)"
//   {"", "get", "http://h/x", "HTTP 404"} -> "Error HTTP 404 get(http://h/x)"
//   {"", "call", "MyScenario.fn", ""}     -> "call(MyScenario.fn)"
//   {"", "my_custom_metric", "", ""}      -> "my_custom_metric"
//
// `unit` says what the recorded numbers are (see metric_unit). It is part of the key, so the same
// name recorded once as a duration and once as a value makes two metrics with one name (and two
// rows of the same label): record each name with one unit.
struct metric_key {
  std::string session;
  std::string action;
  std::string target;
  std::string error;
  metric_unit unit = metric_unit::duration;

  // The metric's name without the session.
  std::string name() const;
  // session + " " + name(); aggregated rows therefore start with a space, like the reference's.
  std::string row_label() const;
  bool is_error() const { return !error.empty(); }
  bool is_value() const { return unit == metric_unit::value; }

  auto operator<=>(const metric_key&) const = default;
  bool operator==(const metric_key&) const = default;
};

// How the sessions of a run ended.
struct session_counts {
  std::uint64_t started = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
  std::uint64_t aborted = 0;
  std::uint64_t timed_out = 0;

  void merge(const session_counts& other);
  bool operator==(const session_counts&) const = default;
};

// Arrivals of rate-driven load models (see load_test.hpp): each one either started work or was
// dropped because the cap on active sessions was reached. Nothing is lost silently.
struct arrival_counts {
  std::uint64_t started = 0;
  std::uint64_t dropped = 0;

  void merge(const arrival_counts& other);
  bool operator==(const arrival_counts&) const = default;
};

// When the generator's figures say it could not keep up.
// A thread on CPU all the time is not a verdict: a closed loop at full speed keeps its threads
// busy while its event loops still answer in time. What distorts latencies is work that waits:
// late starts and a late event loop.
struct saturation_thresholds {
  std::int64_t lag_us = 5000;  // schedule lag p99 / event-loop delay p99 above this
};

// How the load generator itself kept up. A generator that falls behind its schedule measures its
// own delays, not the server's latency, so its results are flagged rather than trusted.
struct generator_report {
  // Actual minus intended start of every rate-driven start: open-model arrivals, cc_spread tasks,
  // paced loop iterations. Empty when nothing was rate driven.
  histogram schedule_lag;
  // Lateness of a periodic probe timer on every shard's event loop: how long ready work waited
  // for the thread.
  histogram loop_delay;
  // The highest share of wall time (0..1) any engine thread spent on CPU over a full second:
  // information (how much headroom the generator had), not a verdict.
  double max_thread_cpu = 0;
  // Plain-language reasons why the generator counts as saturated; empty when it kept up.
  std::vector<std::string> saturation;

  bool saturated() const { return !saturation.empty(); }
  // Histograms added, the CPU maximum kept, reasons united (in order, without duplicates).
  void merge(const generator_report& other);
  bool operator==(const generator_report&) const = default;
};

// Replaces report.saturation with the reasons its figures give under `limits`: schedule lag p99
// or event-loop delay p99 above limits.lag_us.
void assess_saturation(generator_report& report, const saturation_thresholds& limits = {});

// How one threshold (see thresholds.hpp) came out at the end of a run.
struct threshold_verdict {
  std::string threshold;  // as written, e.g. "get(http://h/a):p(99)<200ms"
  std::string status;     // "passed", "failed" or "no_data" (no data fails too)
  std::string metric;     // the metric that decided ("" for all requests together)
  double value = 0;       // what it measured there, in the threshold's unit
  std::string text;       // one line for people
  bool aborted_run = false;  // it failed during the run and stopped it (abort_on_fail)

  bool passed() const { return status == "passed"; }
  bool operator==(const threshold_verdict&) const = default;
};

// The results of one run, or of several parts of it merged together.
//
// `metrics` holds what was measured: each action from its actual start. For rate-driven work
// (open-model iterations, cc_spread tasks, paced loops) `corrected` holds the same metrics
// measured from the intended start instead, i.e. plus how late the work started, so that a
// generator held up by a slow server does not hide the wait (coordinated omission). Keys of
// `corrected` are a subset of the keys of `metrics`.
struct run_results {
  std::map<metric_key, histogram> metrics;
  std::map<metric_key, histogram> corrected;
  arrival_counts arrivals;
  generator_report generator;
  std::map<std::string, std::uint64_t> session_errors;  // reason -> count
  session_counts sessions;
  std::int64_t start_unix_ms = 0;  // 0 = unknown; merging keeps the earliest known start
  std::int64_t duration_us = 0;    // merging keeps the longest
  bool partial = false;            // merging keeps true if any part was partial
  std::string load_test;           // merging keeps the first non-empty name
  // The thresholds' verdicts of this run, in the order they were given. They speak of one whole
  // run: merging drops them (evaluate the merged results instead).
  std::vector<threshold_verdict> thresholds;
  bool thresholds_passed() const;

  // Exact: histograms, error counts, session and arrival counts are added.
  void merge(const run_results& other);

  // Responses to HTTP requests: the counts of non-error metrics whose action is an HTTP method
  // (get, post, put, patch, delete, head).
  std::uint64_t total_requests() const;
  // The counts of all error metrics.
  std::uint64_t error_count() const;

  // Lossless JSON form (to ship results between machines of a cluster). Each metric is
  // {"session","action","target","error","unit","histogram"}, with empty strings and the
  // default unit ("duration") left out, so results written before units existed read back the
  // same; "unit":"value" marks a value metric.
  nlohmann::json to_json() const;
  // Inverse of to_json(). Throws std::invalid_argument on malformed input.
  static run_results from_json(const nlohmann::json& j);
  // Same as from_json(), for untrusted input: nullopt instead of an exception.
  static std::optional<run_results> try_from_json(const nlohmann::json& j);

  bool operator==(const run_results&) const = default;
};

// True for the actions whose metrics count as HTTP requests.
bool is_http_method(std::string_view action);

// Decides which metrics are recorded at all; applied when a metric is first seen.
class metric_filter {
 public:
  // Lets everything pass.
  metric_filter() = default;
  // Lets a metric pass when its action is one of `types` ("get", "call", "run_scenario", a custom
  // metric name, ...). Error metrics are matched by their action, so {"get"} keeps GET errors too.
  // An empty list lets nothing pass, as in the reference tool.
  explicit metric_filter(std::vector<std::string> types);
  // Lets a metric pass when `predicate` returns true; an empty function lets everything pass.
  explicit metric_filter(std::function<bool(const metric_key&)> predicate);

  bool passes(const metric_key& key) const;

 private:
  std::function<bool(const metric_key&)> predicate_;
};

}  // namespace chaperon
