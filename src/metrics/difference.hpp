#pragma once
// What a run measured between two looks at its cumulative figures: how a cluster's master,
// which receives every node's figures so far once per interval, cuts them into an interval
// series.

#include "chaperon/metrics.hpp"
#include "chaperon/series.hpp"

namespace chaperon::detail {

// The values `now` holds beyond `before`, a histogram `now` grew from: each counter's count
// minus before's, recorded at the top of the counter's range. Percentiles come out as they
// would from the values themselves (a histogram reports the top of a counter's range anyway);
// min and max are only as exact as their counters. A counter that shrank (a part of the run
// went missing: a lost node) counts as zero.
histogram histogram_since(const histogram& now, const histogram& before);

// The interval between two cumulative results of one run: metrics, corrected metrics, session
// errors, session and arrival counts added since `before`. Its start, length and
// sessions_active are the caller's to set.
interval interval_since(const run_results& now, const run_results& before);

}  // namespace chaperon::detail
