// Placeholder until the format is written: it refuses to encode, naming itself.
#include "export/builtin.hpp"

namespace chaperon::detail {
namespace {

class html_report_exporter final : public exporter {
 public:
  std::string_view name() const override { return "html"; }
  std::string_view extension() const override { return "html"; }
  std::string encode(const run_results&, const export_options&) const override {
    throw export_error("the html format is not available in this build");
  }
};

}  // namespace

std::unique_ptr<const exporter> make_html_report_exporter() {
  return std::make_unique<html_report_exporter>();
}

}  // namespace chaperon::detail
