#pragma once
// Load models on a shard: ramping session targets (closed) and arrival rates (open).
//
// Each shard runs its own share of every model with its own timer, so nothing is shared between
// threads on the hot path. Worker i of W takes arrivals i, i+W, i+2W, ... of the whole schedule,
// which keeps the merged stream as even as the schedule itself; session targets and the pool cap
// are split with share_of().

#include <memory>

#include "engine/shard.hpp"

namespace chaperon::detail {

// The driver for a ramping_sessions or arrival_rate plan.
std::unique_ptr<load_driver> make_driver(shard& w, model_plan plan);

}  // namespace chaperon::detail
