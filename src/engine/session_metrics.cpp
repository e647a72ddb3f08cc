// chaperon::session: custom metrics recorded by scenarios.
#include "chaperon/session.hpp"

#include "engine/session_state.hpp"
#include "engine/shard.hpp"

namespace chaperon {

void session::add_metric(std::string_view metric, std::chrono::microseconds value) {
  auto& rec = state_->owner.recorder();
  rec.record(metric_key{state_->metric_session(), std::string(metric), {}, {}}, value.count());
}

void session::add_value(std::string_view metric, std::int64_t value) {
  auto& rec = state_->owner.recorder();
  rec.record(metric_key{state_->metric_session(), std::string(metric), {}, {}, metric_unit::value},
             value);
}

}  // namespace chaperon
