#include "engine/model_text.hpp"

#include <stdexcept>

#include "chaperon/config.hpp"

namespace chaperon::detail {

namespace {

[[noreturn]] void invalid(const char* field, const std::string& value, const std::string& why) {
  throw model_text_error(field, "'" + value + "' " + why);
}

std::optional<load_model> checked_model(const model_text& o, std::optional<double> rate,
                                        const std::optional<parsed_stages>& stages) {
  if (stages && !stages->rates) {
    if (rate) invalid("stages", o.stages, "with a rate, every target must be a rate (500/s)");
    if (!o.duration.empty())
      throw model_text_error("duration", "session stages set their own duration");
    return load_model::ramping_sessions(stages->stages);
  }
  if (stages) return load_model::ramping_rate(stages->stages, rate.value_or(0), o.max_active);
  if (!rate) {
    if (!o.duration.empty()) throw model_text_error("duration", "applies only with a rate");
    return std::nullopt;
  }
  if (o.duration.empty()) throw model_text_error("duration", "is needed with a rate (e.g. 60s)");
  const auto duration = parse_duration_text(o.duration);
  if (!duration || duration->count() <= 0)
    invalid("duration", o.duration, "is not a duration > 0 (e.g. 60s)");
  return load_model::constant_rate(*rate, *duration, o.max_active);
}

}  // namespace

std::optional<load_model> parse_model_text(const model_text& o) {
  std::optional<double> rate;
  if (!o.rate.empty()) {
    rate = parse_rate(o.rate);
    if (!rate) invalid("rate", o.rate, "is not a rate (e.g. 2000/s, 120/m)");
  }
  std::optional<parsed_stages> stages;
  if (!o.stages.empty()) {
    try {
      stages = parse_stages(o.stages);
    } catch (const std::invalid_argument& e) {
      invalid("stages", o.stages, e.what());
    }
  }
  const bool open = rate || (stages && stages->rates);
  if (o.max_active > 0 && !open)
    throw model_text_error("max_active", "applies only with a rate or rate stages");
  try {
    return checked_model(o, rate, stages);
  } catch (const std::invalid_argument& e) {  // the model's own checks
    throw model_text_error(stages ? "stages" : "rate", e.what());
  }
}

}  // namespace chaperon::detail
