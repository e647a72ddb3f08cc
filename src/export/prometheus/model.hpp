#pragma once
// The series Prometheus gets from a run, built once and rendered two ways: as the text exposition
// format (scrapes) and as a remote-write request.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chaperon/metrics.hpp"
#include "chaperon/run.hpp"

namespace chaperon::prometheus_detail {

using label_list = std::vector<std::pair<std::string, std::string>>;

enum class family_type { counter, gauge, summary };

struct sample {
  std::string suffix;  // appended to the family's name: "", "_sum", "_count"
  label_list labels;   // in the order they are printed
  double value = 0;
};

struct family {
  std::string name;
  std::string help;
  family_type type = family_type::gauge;
  std::vector<sample> samples;
};

// The families of prometheus_text(), in the order it prints them; families without samples are
// left out.
std::vector<family> collect(const run_results& so_far, const progress_snapshot& live);

// The text exposition format 0.0.4 of `families`.
std::string render_text(const std::vector<family>& families);

// A label value as the text format quotes it: backslash, double quote and line feed escaped.
std::string escape_label_value(std::string_view value);
// A sample value: integers without a fraction, NaN and +Inf/-Inf spelled as Prometheus does.
std::string format_value(double value);
// Whether `name` is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*).
bool valid_label_name(std::string_view name);

// A snappy-compressed (block format) protobuf WriteRequest with one sample of every series, all
// stamped `timestamp_ms`; each series' labels are `extra` and its own (its own lose to `extra`)
// and __name__, sorted by name. `samples` receives the number of samples.
std::string encode_write_request(const std::vector<family>& families, const label_list& extra,
                                 std::int64_t timestamp_ms, std::size_t& samples);

// One series of a remote-write request, read back (to check what encode_write_request() sends).
struct written_series {
  label_list labels;  // as sent: sorted, __name__ among them
  std::vector<std::pair<double, std::int64_t>> samples;  // value, timestamp in ms
};
// Inverse of encode_write_request(); throws std::invalid_argument when `body` is not a
// snappy-compressed WriteRequest.
std::vector<written_series> decode_write_request(const std::string& body);

}  // namespace chaperon::prometheus_detail
