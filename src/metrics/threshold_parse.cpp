// Parsing thresholds (grammar in include/chaperon/thresholds.hpp).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <initializer_list>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "chaperon/thresholds.hpp"

namespace chaperon {
namespace {

std::string caret_message(const std::string& text, std::size_t column, const std::string& problem) {
  return fmt::format("invalid threshold \"{}\": {} at column {}\n  {}\n  {}^", text, problem,
                     column, text, std::string(column > 0 ? column - 1 : 0, ' '));
}

bool is_word_char(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

struct statistic_word {
  std::string_view word;
  threshold_statistic statistic;
  double percentile;  // for "med"
};

constexpr statistic_word plain_statistics[] = {
    {"count", threshold_statistic::count, 0},
    {"rate", threshold_statistic::rate, 0},
    {"rps", threshold_statistic::rate, 0},
    {"errors", threshold_statistic::error_rate, 0},
    {"error_rate", threshold_statistic::error_rate, 0},
    {"min", threshold_statistic::min, 0},
    {"max", threshold_statistic::max, 0},
    {"mean", threshold_statistic::mean, 0},
    {"avg", threshold_statistic::mean, 0},
    {"med", threshold_statistic::percentile, 50},
};

enum class value_kind { duration, share, per_second, count };

value_kind kind_of(threshold_statistic s) {
  switch (s) {
    case threshold_statistic::count: return value_kind::count;
    case threshold_statistic::rate: return value_kind::per_second;
    case threshold_statistic::error_rate: return value_kind::share;
    default: return value_kind::duration;
  }
}

// Reads one threshold; `base` is the column of text[0] within what the user wrote, so that
// errors point into the whole threshold.
class reader {
 public:
  reader(std::string_view text, std::string full, std::size_t base)
      : text_(text), full_(std::move(full)), base_(base) {}

  [[noreturn]] void fail(std::size_t pos, const std::string& problem) const {
    throw threshold_error(full_, base_ + pos + 1, problem);
  }

  void skip_spaces() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  bool take(std::string_view s) {
    if (text_.substr(pos_, s.size()) != s) return false;
    pos_ += s.size();
    return true;
  }
  std::string_view word() {
    const auto start = pos_;
    while (pos_ < text_.size() && is_word_char(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // digits [ "." digits ]
  std::optional<double> number() {
    const auto start = pos_;
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    if (pos_ == start) return std::nullopt;
    if (pos_ + 1 < text_.size() && text_[pos_] == '.' && is_digit(text_[pos_ + 1])) {
      ++pos_;
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    }
    return std::strtod(std::string(text_.substr(start, pos_ - start)).c_str(), nullptr);
  }

  // Reads a statistic into t; false (position unspecified) when there is none.
  bool statistic(threshold& t) {
    const auto start = pos_;
    const auto w = word();
    for (const auto& s : plain_statistics) {
      if (w == s.word) {
        t.statistic = s.statistic;
        t.percentile = s.percentile;
        return true;
      }
    }
    if (w != "p" && w != "cp" && w != "corrected_p") {
      pos_ = start;
      return false;
    }
    t.statistic = w == "p" ? threshold_statistic::percentile
                           : threshold_statistic::corrected_percentile;
    const bool parens = take("(");
    const auto number_at = pos_;
    const auto p = number();
    if (!p) fail(number_at, fmt::format("expected a percentile after \"{}\"", w));
    if (*p > 100) fail(number_at, "a percentile must be between 0 and 100");
    if (parens && !take(")")) fail(pos_, "expected \")\" after the percentile");
    t.percentile = *p;
    return true;
  }

  std::optional<threshold_op> op() {
    // Longest first: "<=" before "<", "===" before "==".
    if (take("<=")) return threshold_op::le;
    if (take(">=")) return threshold_op::ge;
    if (take("===") || take("==")) return threshold_op::eq;
    if (take("!=")) return threshold_op::ne;
    if (take("<")) return threshold_op::lt;
    if (take(">")) return threshold_op::gt;
    return std::nullopt;
  }

  // A duration in microseconds: number, then a unit (required unless plain_ms). A number
  // written without a unit is also stored in *as_written when given.
  double duration(bool plain_ms, const char* what, std::optional<double>* as_written = nullptr) {
    const auto at = pos_;
    const auto n = number();
    if (!n) fail(at, fmt::format("expected {}", what));
    skip_spaces();
    const auto unit_at = pos_;
    const auto unit = unit_word();
    if (unit.empty() && plain_ms) {
      if (as_written != nullptr) *as_written = *n;
      return *n * 1e3;
    }
    if (unit == "us" || unit == "\u00b5s") return *n;
    if (unit == "ms") return *n * 1e3;
    if (unit == "s") return *n * 1e6;
    if (unit == "m") return *n * 60e6;
    if (unit == "h") return *n * 3600e6;
    fail(unit_at, unit.empty() ? std::string("expected a unit (us, ms, s, m or h)")
                               : fmt::format("unknown unit \"{}\" (use us, ms, s, m or h)", unit));
  }

  std::string_view unit_word() {
    const auto start = pos_;
    if (take("%") || take("\u00b5s")) return text_.substr(start, pos_ - start);
    while (pos_ < text_.size() && (is_word_char(text_[pos_]) || text_[pos_] == '/')) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  void value(threshold& t) {
    const auto kind = kind_of(t.statistic);
    if (kind == value_kind::duration) {
      t.limit = duration(true, "a number (a latency such as 200ms)", &t.plain_limit);
      return;
    }
    const auto at = pos_;
    const auto n = number();
    if (!n) fail(at, "expected a number");
    skip_spaces();
    const auto unit_at = pos_;
    const auto unit = unit_word();
    t.limit = *n;
    if (unit.empty()) {
      if (kind == value_kind::share && *n > 1)
        fail(at, "an error share is a fraction from 0 to 1 or a percentage such as 1%");
      return;
    }
    if (kind == value_kind::share && unit == "%") {
      t.limit = *n / 100;
      return;
    }
    if (kind == value_kind::per_second) {
      // As parse_rate() reads rates elsewhere.
      if (unit == "/s" || unit == "/sec") return;
      if (unit == "/m" || unit == "/min") {
        t.limit = *n / 60;
        return;
      }
      if (unit == "/h") {
        t.limit = *n / 3600;
        return;
      }
    }
    const char* fits = kind == value_kind::share ? "an error share takes % or a fraction"
                       : kind == value_kind::per_second
                           ? "a rate takes /s, /m, /h or a plain number per second"
                                                        : "a count takes a plain number";
    fail(unit_at, fmt::format("unit \"{}\" does not fit this statistic ({})", unit, fits));
  }

  // Reads one option into t; returns where it started if it was a grace period.
  std::optional<std::size_t> option(threshold& t) {
    skip_spaces();
    const auto at = pos_;
    const auto w = word();
    std::optional<std::size_t> grace_at;
    if (w == "abort_on_fail" || w == "abortOnFail") {
      t.abort_on_fail = true;
    } else if (w == "grace" || w == "delayAbortEval") {
      grace_at = at;
      skip_spaces();
      if (!take("=")) fail(pos_, fmt::format("expected \"=\" after \"{}\"", w));
      skip_spaces();
      t.grace = std::chrono::microseconds(
          static_cast<std::int64_t>(duration(false, "a duration such as 10s")));
    } else {
      fail(at, w.empty() ? std::string("expected an option (abort_on_fail or grace=DURATION)")
                         : fmt::format("unknown option \"{}\" (use abort_on_fail or "
                                       "grace=DURATION)",
                                       w));
    }
    skip_spaces();
    return grace_at;
  }

  void expression(threshold& t) {
    skip_spaces();
    const auto at = pos_;
    if (!statistic(t)) {
      const auto w = word();
      fail(at, w.empty() ? std::string("expected a statistic (count, rate, errors, min, max, "
                                       "mean, p99, corrected_p99, ...)")
                         : fmt::format("unknown statistic \"{}\"", w));
    }
    skip_spaces();
    const auto op_at = pos_;
    const auto o = op();
    if (!o) fail(op_at, "expected a comparison (<, <=, >, >=, == or !=)");
    t.op = *o;
    skip_spaces();
    value(t);
    skip_spaces();
    std::optional<std::size_t> grace_at;
    while (!at_end()) {
      if (!take(",")) fail(pos_, "expected \",\" and an option or the end");
      if (auto g = option(t)) grace_at = g;
    }
    if (grace_at && !t.abort_on_fail) fail(*grace_at, "a grace period needs abort_on_fail");
  }

  // Whether an expression starts at `at`: a statistic, then (with need_op) an operator.
  bool expression_starts(std::size_t at, bool need_op = true) {
    const auto saved = pos_;
    pos_ = at;
    skip_spaces();
    threshold scratch;
    bool found = false;
    try {
      found = statistic(scratch);
    } catch (const threshold_error&) {
      found = true;  // "p(x" and the like: a malformed statistic is still meant as one
    }
    skip_spaces();
    found = found && (!need_op || op().has_value());
    pos_ = saved;
    return found;
  }

  std::size_t pos() const { return pos_; }

 private:
  std::string_view text_;
  std::string full_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

// Spaces around a selector are not part of the name ("get(u) : p99<1s").
metric_selector make_selector(std::string_view s) {
  s.remove_prefix(std::min(s.size(), s.find_first_not_of(' ')));
  s.remove_suffix(s.size() - (s.find_last_not_of(' ') + 1));
  if (s == "*") return {metric_selector::kind::every_metric, {}};
  if (s.ends_with('*'))
    return {metric_selector::kind::prefix, std::string(s.substr(0, s.size() - 1))};
  return {metric_selector::kind::exact, std::string(s)};
}

// The ':' that ends the selector, if there is one (see the header).
std::optional<std::size_t> selector_end(reader& r, std::string_view spec) {
  if (r.expression_starts(0)) return std::nullopt;
  for (auto i = spec.rfind(':'); i != std::string_view::npos; i = spec.rfind(':', i - 1)) {
    if (r.expression_starts(i + 1)) return i;
    if (i == 0) break;
  }
  // No valid expression anywhere: blame the last ':' outside parentheses, where an expression
  // most likely was meant, or the whole text.
  int depth = 0;
  std::optional<std::size_t> last;
  for (std::size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] == '(') ++depth;
    if (spec[i] == ')' && depth > 0) --depth;
    if (spec[i] == ':' && depth == 0) last = i;
  }
  return last;
}

// "foo < 1": an unknown statistic rather than a missing expression.
bool word_then_op(std::string_view spec) {
  reader probe(spec, {}, 0);
  probe.skip_spaces();
  if (probe.word().empty()) return false;
  probe.skip_spaces();
  return probe.op().has_value();
}

std::chrono::microseconds parse_grace(std::string_view text) {
  reader r(text, std::string(text), 0);
  r.skip_spaces();
  const auto us = r.duration(false, "a duration such as 10s");
  r.skip_spaces();
  if (!r.at_end()) r.fail(r.pos(), "expected the end of the duration");
  return std::chrono::microseconds(static_cast<std::int64_t>(us));
}

// The value of the first of `names` present in `entry`, or nullptr.
const nlohmann::json* field(const nlohmann::json& entry, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (const auto it = entry.find(name); it != entry.end()) return &*it;
  return nullptr;
}

threshold threshold_from_json(const std::string& selector, const nlohmann::json& entry) {
  if (entry.is_string()) return parse_threshold(selector, entry.get<std::string>());
  const auto bad = [&](const std::string& why) {
    throw std::invalid_argument(fmt::format("thresholds[\"{}\"]: {}", selector, why));
  };
  if (!entry.is_object())
    bad("expected an expression or {\"threshold\": ..., \"abortOnFail\": ..., "
        "\"delayAbortEval\": ...}");
  for (const auto& [key, value] : entry.items()) {
    if (key != "threshold" && key != "abortOnFail" && key != "abort_on_fail" &&
        key != "delayAbortEval" && key != "grace")
      bad(fmt::format("unknown field \"{}\"", key));
  }
  const auto* expression = field(entry, {"threshold"});
  if (!expression || !expression->is_string()) bad("\"threshold\" must be an expression string");
  auto t = parse_threshold(selector, expression->get<std::string>());
  if (const auto* abort = field(entry, {"abortOnFail", "abort_on_fail"})) {
    if (!abort->is_boolean()) bad("\"abortOnFail\" must be true or false");
    t.abort_on_fail = t.abort_on_fail || abort->get<bool>();
  }
  if (const auto* grace = field(entry, {"delayAbortEval", "grace"})) {
    if (!grace->is_string()) bad("\"delayAbortEval\" must be a duration such as \"10s\"");
    t.grace = parse_grace(grace->get<std::string>());
    if (!t.abort_on_fail) bad("\"delayAbortEval\" needs \"abortOnFail\": true");
  }
  return t;
}

}  // namespace

threshold_error::threshold_error(std::string text, std::size_t column, const std::string& problem)
    : std::invalid_argument(caret_message(text, column, problem)),
      text_(std::move(text)),
      column_(column),
      problem_(problem) {}

threshold parse_threshold(std::string_view spec) {
  const std::string full(spec);
  reader whole(spec, full, 0);
  if (spec.find_first_not_of(' ') == std::string_view::npos)
    whole.fail(0, "empty threshold (expected [SELECTOR:]EXPRESSION, e.g. p99<200ms)");
  threshold t;
  t.text = full;
  const auto end = selector_end(whole, spec);
  std::size_t expression_at = 0;
  if (end) {
    const auto selector = spec.substr(0, *end);
    if (selector.find_first_not_of(' ') == std::string_view::npos)
      whole.fail(0, "empty selector before \":\"");
    t.selector = make_selector(selector);
    expression_at = *end + 1;
  } else if (!whole.expression_starts(0, false) && !word_then_op(spec)) {
    whole.fail(0, "no expression (expected [SELECTOR:]EXPRESSION, e.g. "
                  "get(http://host/api):p99<200ms)");
  }
  reader r(spec.substr(expression_at), full, expression_at);
  r.expression(t);
  return t;
}

threshold parse_threshold(std::string_view selector, std::string_view expression) {
  threshold t;
  t.text = selector.empty() ? std::string(expression)
                            : fmt::format("{}:{}", selector, expression);
  if (selector.find_first_not_of(' ') != std::string_view::npos)
    t.selector = make_selector(selector);
  reader r(expression, std::string(expression), 0);
  if (expression.find_first_not_of(' ') == std::string_view::npos)
    r.fail(0, "empty expression (expected e.g. p(99) < 200ms)");
  r.expression(t);
  return t;
}

}  // namespace chaperon

namespace chaperon {

std::vector<threshold> parse_thresholds(const nlohmann::json& config) {
  if (!config.is_object())
    throw std::invalid_argument("thresholds: expected an object of selector -> expressions");
  std::vector<threshold> out;
  for (const auto& [selector, entries] : config.items()) {
    if (!entries.is_array()) {
      out.push_back(threshold_from_json(selector, entries));
      continue;
    }
    for (const auto& entry : entries) out.push_back(threshold_from_json(selector, entry));
  }
  return out;
}

}  // namespace chaperon
