#include "cluster/run_spec.hpp"

#include "chaperon/error.hpp"
#include "chaperon/thresholds.hpp"
#include "engine/model_text.hpp"

namespace chaperon::cluster {

namespace {

class spec_error : public error {
 public:
  using error::error;
};

template <class T>
T field(const json& j, const char* key, T fallback) {
  const auto it = j.find(key);
  if (it == j.end()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw spec_error(std::string("run spec: field '") + key + "' has the wrong type");
  }
}

}  // namespace

json run_spec::to_json() const {
  return json{{"load_test", load_test},   {"config", config},         {"threads", threads},
              {"per_session", per_session}, {"metrics", metrics},     {"thresholds", thresholds},
              {"interval", interval},       {"rate", rate},           {"duration", duration},
              {"stages", stages},           {"max_active", max_active}, {"sessions", sessions},
              {"scale", scale},             {"tag", tag},             {"format", format}};
}

run_spec run_spec::from_json(const json& j) {
  if (!j.is_object()) throw spec_error("run spec: not a JSON object");
  run_spec s;
  s.load_test = field<std::string>(j, "load_test", "");
  if (s.load_test.empty()) throw spec_error("run spec: field 'load_test' is missing");
  s.config = field<json>(j, "config", json::object());
  if (!s.config.is_object()) throw spec_error("run spec: field 'config' must be an object");
  s.threads = field<std::size_t>(j, "threads", 0);
  s.per_session = field<bool>(j, "per_session", false);
  s.metrics = field<std::vector<std::string>>(j, "metrics", {});
  s.thresholds = field<std::vector<std::string>>(j, "thresholds", {});
  s.interval = field<std::string>(j, "interval", "");
  // Absent from the specs of nodes older than these fields: the test's own model then.
  s.rate = field<std::string>(j, "rate", "");
  s.duration = field<std::string>(j, "duration", "");
  s.stages = field<std::string>(j, "stages", "");
  s.max_active = field<std::size_t>(j, "max_active", 0);
  s.sessions = field<std::size_t>(j, "sessions", 0);
  s.scale = field<double>(j, "scale", 0);
  s.tag = field<std::string>(j, "tag", "");
  s.format = field<std::string>(j, "format", "");
  return s;
}

run_options run_spec::options(share part) const {
  run_options o;
  o.config = config;
  o.threads = threads;
  o.per_session = per_session;
  if (!metrics.empty()) o.metrics = metric_filter(metrics);
  for (const auto& t : thresholds) o.thresholds.push_back(parse_threshold(t));
  if (!interval.empty()) {
    auto d = parse_duration_text(interval);
    if (!d || d->count() <= 0) throw spec_error("run spec: field 'interval' is not a duration: " + interval);
    o.interval = *d;
  }
  try {
    o.model = detail::parse_model_text({rate, duration, stages, max_active});
  } catch (const detail::model_text_error& e) {
    throw spec_error("run spec: field '" + e.field() + "': " + e.what());
  }
  if (sessions > 0) o.sessions = sessions;
  if (scale < 0) throw spec_error("run spec: field 'scale' must be > 0");
  if (scale > 0) o.scale = scale;
  o.part = part;
  return o;
}

}  // namespace chaperon::cluster
