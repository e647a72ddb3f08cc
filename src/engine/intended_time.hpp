#pragma once
// Recording latencies measured from the intended start of rate-driven work.
//
// Every action that records a latency calls record_latency() instead of recording into the
// shard's recorder directly: for a session whose work runs on a schedule (an open-model
// iteration, a cc_spread task, a paced loop) the value is recorded as measured and, in the
// corrected set, plus the session's schedule lag.

#include <chrono>
#include <cstdint>

#include "engine/session_state.hpp"
#include "engine/shard.hpp"

namespace chaperon::detail {

inline void record_latency(session_state& s, metric_id id, std::int64_t us) {
  auto& rec = s.owner.recorder();
  if (s.model.rate_driven) {
    rec.record_corrected(id, us, us + s.model.schedule_lag.count());
  } else {
    rec.record(id, us);
  }
}

inline void record_latency(session_state& s, const metric_key& key, std::int64_t us) {
  record_latency(s, s.owner.recorder().intern(key), us);
}

// Sets a session's schedule lag (and marks it rate driven) for one scope, restoring both after:
// a paced iteration or a spread start adds its own lateness to what the session inherited.
class lag_scope {
 public:
  lag_scope(session_state& s, std::chrono::microseconds own_lateness)
      : state_(s), saved_lag_(s.model.schedule_lag), saved_driven_(s.model.rate_driven) {
    s.model.schedule_lag = saved_lag_ + own_lateness;
    s.model.rate_driven = true;
  }
  ~lag_scope() {
    state_.model.schedule_lag = saved_lag_;
    state_.model.rate_driven = saved_driven_;
  }
  lag_scope(const lag_scope&) = delete;
  lag_scope& operator=(const lag_scope&) = delete;

 private:
  session_state& state_;
  std::chrono::microseconds saved_lag_;
  bool saved_driven_;
};

}  // namespace chaperon::detail
