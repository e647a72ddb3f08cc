// Thresholds: pass/fail criteria on a run's metrics, in the grammar k6 users know.
//
// A threshold is a metric selector and an expression, written on the command line as one string
// (`--threshold 'get(http://host/api):p99<200ms'`) or in code as two
// (`parse_threshold("get(http://host/api)", "p(99) < 200ms")`).
//
// Grammar (spaces are allowed between the tokens of an expression and around options):
//
//   spec       = [ selector ":" ] expression { "," option }
//   selector   = "*"                  every non-error metric, each checked on its own
//              | prefix "*"           every metric whose name starts with prefix
//              | name                 one metric, exactly as metric_key::name() prints it,
//                                     e.g. "get(http://host/api?q=1)", "Error HTTP 500 get(...)"
//   expression = statistic op value
//   statistic  = "count"                       measurements (for an HTTP metric: responses)
//              | "rate" | "rps"                count per second of the run (or window)
//              | "errors" | "error_rate"       share of attempts that failed (see below)
//              | "min" | "max" | "mean" | "avg" | "med"     latency; med = p(50)
//              | percentile                    latency at a percentile, e.g. p99, p99.9, p(99.9)
//              | ("corrected_" | "c") percentile           the same from the corrected latency
//   percentile = "p" number | "p(" number ")"              0 <= number <= 100
//   op         = "<" | "<=" | ">" | ">=" | "==" | "===" | "!="     ("===" is k6's "==")
//   value      = number [ unit ]                           number = digits [ "." digits ]
//   unit       = "us" | "µs" | "ms" | "s" | "m" | "h"   latencies; a plain number is ms (k6)
//              | "%"                      error shares; a plain number is a fraction 0..1
//              | "/s" | "/sec" | "/m" | "/min" | "/h"   rates; a plain number is per second
//                                         (counts take plain numbers only)
//   option     = "abort_on_fail" | "abortOnFail"
//              | ("grace" | "delayAbortEval") "=" number ("us" | "ms" | "s" | "m" | "h")
//
// Where the selector ends: selectors are metric names, which hold URLs with ':' and ',' in them,
// so the selector ends at the LAST ':' that is followed by a statistic and an operator
// (`get(http://h:8080/a?x=1:2,3):p99<1s` splits before "p99"). Expressions and options hold no
// ':', so that ':' is always the right one. A trailing '*' always makes a prefix; spaces
// around a selector are dropped.
//
// Without a selector an expression is about all HTTP requests together: `p99<200ms` is the 99th
// percentile of every HTTP request's latency merged, `errors<1%` the share of failed HTTP
// requests, `rps>=1000` HTTP responses per second (run_results::total_requests() / duration).
// With `*` or a prefix every matching metric is checked on its own and the threshold fails when
// any one of them does.
//
// Error share of a metric: its error metrics' counts divided by its attempts. The engine records
// an HTTP response with status >= 400 twice, under "get(url)" and "Error HTTP 500 get(url)",
// while a failure without a response (timeout, refused connection, a WebSocket failure, an
// exception) only as an error metric. So attempts = the non-error metric's count + the counts of
// its error metrics whose error is not "HTTP <status>". Selecting an error metric itself
// ("Error HTTP 500 get(u):errors<1%") gives that error's share of get(u)'s attempts. A metric
// that only ever failed (every attempt timed out) has no non-error row but is still selected by
// `*`, a prefix or its name: its error share is 100%, its latencies have no data. This is exact
// for HTTP and WebSocket metrics. Custom actions that return a failure and async tasks that
// throw are recorded under both names too, but with errors that do not say so ("failed",
// "exception"), so for them the share is a little low: errors / (count + errors).
//
// No data: a selector that matches no metric, a latency statistic over no measurements or an
// error share over no attempts has no value (threshold_status::no_data). Unlike k6, which lets
// such thresholds pass, the final verdict fails them (failed_at_end(): a typo in a URL must not
// pass a CI gate silently); the check during a run does not (breached(): a quiet interval is no
// reason to abort). Zero counts and rates are values.
//
// Value metrics (session::add_value: sizes, counts) hold plain numbers, not times. Their min,
// max, mean, med and percentiles are compared with the limit's number as written, with no
// conversion: `bytes:max<2000` holds when the largest value is below 2000 (not 2000 ms). A limit
// with a time unit (`bytes:max<2s`) does not apply to a value metric: it is not measured, so a
// threshold that selects only value metrics that way has no data. `*` leaves value metrics out
// of latency statistics (`*:p99<200` is a latency gate); select them by name or prefix. count,
// rate and errors work as for any metric.
//
// Corrected percentiles use run_results::corrected; metrics without corrected values (work that
// was not rate driven, where no start was late) use their measured latency instead.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaperon/metrics.hpp"
#include "chaperon/series.hpp"

namespace chaperon {

// A malformed threshold (a setup error, exit code 2 on the command line). what() quotes the
// threshold, names the problem and its column, and ends with the threshold and a caret line:
//   invalid threshold "get(http://h/a):p99<200xs": unknown unit "xs" at column 24 (...)
//     get(http://h/a):p99<200xs
//                            ^
class threshold_error : public std::invalid_argument {
 public:
  threshold_error(std::string text, std::size_t column, const std::string& problem);
  // The threshold as written, the 1-based column of the problem within it, the problem alone.
  const std::string& text() const noexcept { return text_; }
  std::size_t column() const noexcept { return column_; }
  const std::string& problem() const noexcept { return problem_; }

 private:
  std::string text_;
  std::size_t column_;
  std::string problem_;
};

struct metric_selector {
  enum class kind {
    all_requests,  // no selector: every HTTP request metric, merged
    every_metric,  // "*"
    prefix,        // "get(http://host/*"
    exact,         // "get(http://host/api)"
  };
  kind what = kind::all_requests;
  std::string text;  // the name or the prefix (without the '*'); empty for the other kinds

  // Whether a metric called `name` is selected (all_requests selects by key, not by name, and
  // answers false here).
  bool matches(std::string_view name, bool is_error) const;
  // As written: "", "*", "get(http://host/*", "get(http://host/api)".
  std::string to_string() const;
};

enum class threshold_statistic {
  count,
  rate,        // per second
  error_rate,  // 0..1
  min,
  max,
  mean,
  percentile,
  corrected_percentile,
};

enum class threshold_op { lt, le, gt, ge, eq, ne };

struct threshold {
  std::string text;  // the whole threshold as written, for messages
  metric_selector selector;
  threshold_statistic statistic = threshold_statistic::count;
  double percentile = 0;  // for the percentile statistics
  threshold_op op = threshold_op::lt;
  // In the statistic's own unit: microseconds for latencies, a fraction for error shares, per
  // second for rates, a plain number for counts.
  double limit = 0;
  // A latency limit written without a unit ("max < 2000"): the number as written, which is the
  // limit for value metrics (see "Value metrics" above). nullopt when the limit has a unit.
  std::optional<double> plain_limit;
  bool abort_on_fail = false;
  // With abort_on_fail: how long after the run's start breaches begin to abort it.
  std::chrono::microseconds grace{0};

  // "p99 < 200 ms", "errors < 1%", "rps >= 1000/s" (without the selector).
  std::string expression() const;
  // The selector and the expression: "get(http://h/a): p99 < 200 ms", "*: p95 < 500 ms",
  // "errors < 1%".
  std::string describe() const;
  // Whether a breach found `elapsed` after the run's start should abort the run.
  bool aborts_at(std::chrono::microseconds elapsed) const {
    return abort_on_fail && elapsed >= grace;
  }
};

// The command-line form: "[selector:]expression[,option...]". Throws threshold_error.
threshold parse_threshold(std::string_view spec);
// The code form: a selector ("" for all HTTP requests) and "expression[,option...]". Columns in
// errors count within the expression. Throws threshold_error.
threshold parse_threshold(std::string_view selector, std::string_view expression);

// k6's options form, for config files; keys are selectors ("" for all HTTP requests):
//   {"get(http://host/api)": ["p(99)<200", {"threshold": "p(95)<100", "abortOnFail": true,
//                                          "delayAbortEval": "10s"}],
//    "": "errors<1%"}
// ("abort_on_fail" and "grace" are accepted too). Throws threshold_error for a malformed
// expression or duration, std::invalid_argument naming the selector for anything else.
std::vector<threshold> parse_thresholds(const nlohmann::json& config);

enum class threshold_status {
  passed,
  failed,
  no_data,  // nothing to measure (see the header comment): fails a final evaluation only
};

// The value of the statistic for one selected metric.
struct threshold_measurement {
  std::string metric;  // its name; "" for all HTTP requests together
  double value = 0;    // in the threshold's limit unit; a value metric's as recorded
  bool passed = false;
  bool plain = false;  // a latency statistic of a value metric: a plain number, not a time
};

struct threshold_result {
  threshold_status status = threshold_status::no_data;
  // One per selected metric with a value, in name order (one for exact and all_requests).
  std::vector<threshold_measurement> measurements;
  // Index into measurements of the deciding one: the worst failure, or when all passed the one
  // closest to the limit; nullopt when there are no measurements.
  std::optional<std::size_t> decisive;
  // "get(http://h/a): p99 = 212.3 ms, limit < 200 ms: FAILED";
  // "*: p95 < 500 ms: FAILED (2 of 7 metrics), worst get(http://h/b): p95 = 812 ms";
  // "get(http://h/x): p99 < 200 ms: NO DATA (no metric matches)".
  std::string text;

  bool passed() const { return status == threshold_status::passed; }
  // For a final verdict (exit code 99 unless all pass): no data counts as failed.
  bool failed_at_end() const { return status != threshold_status::passed; }
  // For abort_on_fail during a run: only a measured breach counts.
  bool breached() const { return status == threshold_status::failed; }
};

// The final verdict on a run; rates divide by results.duration_us.
threshold_result evaluate(const threshold& t, const run_results& results);
// The verdict on a window of the run (an interval, several merged, or interval_series::total()
// for everything so far, which is what k6 checks during a run); rates divide by `seconds`.
threshold_result evaluate(const threshold& t, const interval& window, double seconds);

// {"threshold": text, "selector", "expression", "abort_on_fail", "status": "passed"|"failed"|
//  "no_data", "metric", "value" (of the decisive measurement, absent without one),
//  "measurements": [{"metric", "value", "passed"}...], "text"}
nlohmann::json to_json(const threshold& t, const threshold_result& r);

}  // namespace chaperon
