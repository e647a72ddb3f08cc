// The project's exporters as the routes use them (routes.hpp, result_text).
#include "api/routes.hpp"
#include "chaperon/export.hpp"
#include "chaperon/prometheus.hpp"

namespace chaperon::api {

result_text exporter_text() {
  result_text text;
  text.parse_format = &parse_export_format;
  text.format_names = &exporter_names;
  text.render = &export_results;
  text.prometheus = &prometheus_text;
  return text;
}

}  // namespace chaperon::api
