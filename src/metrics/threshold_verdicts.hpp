#pragma once
// The final verdicts of a run's thresholds, as run_results::thresholds records them: what the
// single-process run (engine/run_control) and the cluster's master (cluster/live) both report.

#include <cstddef>
#include <optional>
#include <vector>

#include "chaperon/thresholds.hpp"

namespace chaperon::detail {

// `aborted_by` is the index of the threshold that stopped the run (abort_on_fail): it failed,
// whatever the whole run's figures say afterwards.
std::vector<threshold_verdict> threshold_verdicts(const std::vector<threshold>& thresholds,
                                                  const run_results& results,
                                                  std::optional<std::size_t> aborted_by);

}  // namespace chaperon::detail
