// The "html" exporter: one self-contained page (uPlot, script, styles and the data inline) that
// opens offline. The page itself lives in web/; this file only fills in the run's data.
#include "export/builtin.hpp"
#include "export/html_assets.hpp"
#include "export/html_data.hpp"

namespace chaperon::detail {
namespace {

class html_report_exporter final : public exporter {
 public:
  std::string_view name() const override { return "html"; }
  std::string_view extension() const override { return "html"; }
  std::string encode(const run_results& results, const export_options& options) const override {
    const auto data = script_safe_json(html_report_data(results, options));
    const auto head = html_report_page_head();
    const auto tail = html_report_page_tail();
    std::string page;
    page.reserve(head.size() + data.size() + tail.size());
    page.append(head).append(data).append(tail);
    return page;
  }
};

}  // namespace

std::unique_ptr<const exporter> make_html_report_exporter() {
  return std::make_unique<html_report_exporter>();
}

}  // namespace chaperon::detail
