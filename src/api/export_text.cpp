// The project's exporters as the routes use them (routes.hpp, result_text).
#include "api/routes.hpp"
#include "chaperon/export.hpp"
#include "chaperon/load_test.hpp"
#include "chaperon/prometheus.hpp"
#include "api/dashboard_page.hpp"
#include "export/html_data.hpp"

namespace chaperon::api {

result_text exporter_text() {
  result_text text;
  text.parse_format = &parse_export_format;
  text.format_names = &exporter_names;
  text.render = &export_results;
  text.prometheus = &prometheus_text;
  text.report_data = &detail::html_report_data;
  text.dashboard_page = &dashboard_page;
  text.load_test_names = &registered_load_tests;
  return text;
}

}  // namespace chaperon::api
