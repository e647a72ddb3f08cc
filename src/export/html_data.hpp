// What an HTML report shows, as one JSON object, and how it is embedded in the page.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "chaperon/export.hpp"

namespace chaperon::detail {

// The report's data; times in milliseconds (microsecond precision), rates per second:
//   {"load_test", "tag", "start_unix_ms", "duration_s", "partial", "info" (the run's description
//    or null), "totals": {...}, "generator": {...}, "metrics": [...], "error_metrics": [...],
//    "session_errors": {...}, "thresholds": [...], "series": {...} or null}
// "thresholds" holds the run's verdicts as run_results keeps them ({"threshold", "status",
// "metric", "value", "text", "aborted_run"}). Each entry of "metrics" is a non-error metric in key order with the summary table's figures,
// its percentile spectrum and, when the run has them, the corrected figures. A value metric
// (metric_unit::value) has "unit":"value" and all its figures, spectrum and series percentiles
// as recorded instead of in milliseconds. "series" holds one
// value per point of the interval series in parallel arrays ("t" is each point's end in seconds
// from the start); per metric, in the order of "metrics", rates and percentiles (null where the
// metric had no values).
nlohmann::json html_report_data(const run_results& results, const export_options& options);

// `data` as JSON text that is safe inside a <script> element: '<', '>' and '&' are written as
// \u escapes (they only occur inside strings), so no "</script>" or "<!--" can end the element.
// Invalid UTF-8 in strings is replaced rather than thrown on.
std::string script_safe_json(const nlohmann::json& data);

}  // namespace chaperon::detail
