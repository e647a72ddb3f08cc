// Placeholder until the format is written: it refuses to encode, naming itself.
#include "export/builtin.hpp"

namespace chaperon::detail {
namespace {

class hdr_log_exporter final : public exporter {
 public:
  std::string_view name() const override { return "hdr-log"; }
  std::string_view extension() const override { return "hlog"; }
  std::string encode(const run_results&, const export_options&) const override {
    throw export_error("the hdr-log format is not available in this build");
  }
};

}  // namespace

std::unique_ptr<const exporter> make_hdr_log_exporter() {
  return std::make_unique<hdr_log_exporter>();
}

}  // namespace chaperon::detail
