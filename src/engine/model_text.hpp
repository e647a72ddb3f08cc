#pragma once
// A load model written as text, the way the command line's --rate, --duration, --stages and
// --max-active give it and the cluster's run specs (and the HTTP API's options) carry it.

#include <cstddef>
#include <optional>
#include <string>

#include "chaperon/error.hpp"
#include "chaperon/load_test.hpp"

namespace chaperon::detail {

struct model_text {
  std::string rate;      // "2000/s"
  std::string duration;  // how long `rate` runs
  std::string stages;    // "30s:100,60s:100,30s:0" or "10s:500/s,..."
  std::size_t max_active = 0;
};

// What is wrong, and with which of the fields: "rate", "duration", "stages" or "max_active".
class model_text_error : public error {
 public:
  model_text_error(std::string field, const std::string& message)
      : error(message), field_(std::move(field)) {}
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

// The model the fields describe; nullopt when none is given. Throws model_text_error.
std::optional<load_model> parse_model_text(const model_text& text);

}  // namespace chaperon::detail
