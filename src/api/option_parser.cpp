#include "api/option_parser.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <string_view>

#include "chaperon/load_test.hpp"
#include "engine/model_text.hpp"

namespace chaperon::api {

namespace {

constexpr std::array<std::string_view, 14> option_names = {
    "config",   "threads", "per_session", "metrics",  "thresholds", "interval", "rate",
    "duration", "stages",  "max_active",  "sessions", "scale",      "tag",      "format"};

// Cap on engine threads a request may ask for: a typo of 10000 must not start that many.
constexpr std::size_t max_threads = 1024;

[[noreturn]] void bad_option(const std::string& where, const std::string& what) {
  throw invalid_load_test("invalid_option", where + ": " + what);
}

std::string known_options() {
  std::string out;
  for (auto name : option_names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

// A list of strings given as an array, or as one string split at commas when `split`.
std::vector<std::string> strings(const json& value, const std::string& where, bool split) {
  std::vector<std::string> out;
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (!split) return {text};
    std::string_view rest = text;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      if (!item.empty()) out.emplace_back(item);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    return out;
  }
  if (!value.is_array()) bad_option(where, "must be a string or an array of strings");
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string())
      bad_option(where + "[" + std::to_string(i) + "]", "must be a string");
    out.push_back(value[i].get<std::string>());
  }
  return out;
}

std::string text(const json& value, const std::string& where, const char* what) {
  if (!value.is_string()) bad_option(where, std::string("must be ") + what);
  return value.get<std::string>();
}

void set_option(cluster::run_spec& spec, const std::string& key, const json& value,
                const std::string& where) {
  if (key == "config") {
    if (!value.is_object()) bad_option(where, "must be an object");
    spec.config = value;
  } else if (key == "threads") {
    if (!value.is_number_unsigned() || value.get<std::size_t>() > max_threads)
      bad_option(where, "must be an integer from 0 to " + std::to_string(max_threads));
    spec.threads = value.get<std::size_t>();
  } else if (key == "per_session") {
    if (!value.is_boolean()) bad_option(where, "must be true or false");
    spec.per_session = value.get<bool>();
  } else if (key == "metrics") {
    spec.metrics = strings(value, where, true);
  } else if (key == "thresholds") {
    spec.thresholds = strings(value, where, false);
  } else if (key == "interval") {
    spec.interval = text(value, where, "a duration string (\"1s\")");
  } else if (key == "rate") {
    spec.rate = text(value, where, "a rate string (\"2000/s\")");
  } else if (key == "duration") {
    spec.duration = text(value, where, "a duration string (\"60s\")");
  } else if (key == "stages") {
    spec.stages = text(value, where, "a stages string (\"30s:100,60s:100\")");
  } else if (key == "tag") {
    spec.tag = text(value, where, "a string");
  } else if (key == "format") {
    spec.format = text(value, where, "an export format's name (\"csv\")");
  } else if (key == "max_active" || key == "sessions") {
    if (!value.is_number_unsigned() || (key == "sessions" && value.get<std::size_t>() == 0))
      bad_option(where, key == "sessions" ? "must be an integer > 0" : "must be an integer >= 0");
    (key == "sessions" ? spec.sessions : spec.max_active) = value.get<std::size_t>();
  } else if (key == "scale") {
    if (!value.is_number() || !(value.get<double>() > 0)) bad_option(where, "must be a number > 0");
    spec.scale = value.get<double>();
  } else {
    bad_option(where, "unknown option (known: " + known_options() + ")");
  }
}

}  // namespace

default_option_parser::default_option_parser(std::function<std::vector<std::string>()> known)
    : known_(known ? std::move(known) : std::function{registered_load_tests}) {}

cluster::run_spec default_option_parser::parse(const std::string& test, const json& options,
                                               const std::string& field) const {
  const auto names = known_();
  if (std::find(names.begin(), names.end(), test) == names.end())
    throw invalid_load_test("unknown_load_test", "unknown load test '" + test + "'");
  if (!options.is_object()) bad_option(field, "must be an object");
  cluster::run_spec spec;
  spec.load_test = test;
  for (const auto& [key, value] : options.items())
    set_option(spec, key, value, field + "." + key);
  try {
    (void)detail::parse_model_text({spec.rate, spec.duration, spec.stages, spec.max_active});
  } catch (const detail::model_text_error& e) {
    bad_option(field + "." + e.field(), e.what());
  }
  // What only a run would find wrong (a malformed threshold or interval, an unknown metric
  // type) is refused now, while the client still waits for the answer.
  try {
    (void)spec.options({});
  } catch (const std::exception& e) {  // chaperon::error, threshold_error
    bad_option(field, e.what());
  }
  return spec;
}

}  // namespace chaperon::api
