// Results a scenario records itself (add_error, add_result) and the results a session keeps for
// inspection when config store_results is on.
#include <string>
#include <utility>

#include "chaperon/session.hpp"
#include "engine/intended_time.hpp"
#include "engine/session_state.hpp"
#include "engine/shard.hpp"

namespace chaperon {

void session::add_error(std::string_view action, std::string_view error,
                        std::chrono::microseconds duration) {
  record_error(std::string(action), {}, std::string(error), duration);
}

// As an HTTP action records its result (engine/session_http.cpp): a response, whatever its
// status, under the action; a status >= 400 or a failure also as an error.
void session::add_result(std::string_view action, const http_result& r) {
  auto& st = *state_;
  detail::live_counters::add(st.owner.counters().requests);
  std::string name(action);
  if (r.status > 0 || r.error == failure::none) {
    detail::record_latency(st, metric_key{st.metric_session(), name, {}, {}}, r.duration.count());
  }
  std::string error;
  if (r.error != failure::none) {
    error = to_string(r.error);
  } else if (r.status >= 400) {
    error = "HTTP " + std::to_string(r.status);
  }
  if (!error.empty()) record_error(name, {}, std::move(error), r.duration);
  if (keeps_results()) keep_result(std::move(name), r);
}

bool session::keeps_results() const { return state_->settings().store_results; }

void session::keep_result(std::string action, std::variant<http_result, ws_result> result) {
  if (!kept_) kept_ = std::make_unique<std::deque<kept_result>>();
  kept_->push_back(kept_result{std::move(action), std::move(result)});
  while (kept_->size() > max_kept_results) kept_->pop_front();
}

const std::deque<kept_result>& session::results() const noexcept {
  static const std::deque<kept_result> none;
  return kept_ ? *kept_ : none;
}

}  // namespace chaperon
