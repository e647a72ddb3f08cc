// The HTML report's page (web/report.html with uPlot and the report's script and styles inlined),
// compiled into the library from web/ by web/CMakeLists.txt.
#pragma once

#include <string_view>

namespace chaperon::detail {

// The page up to where the data's JSON text goes, and the rest after it.
std::string_view html_report_page_head();
std::string_view html_report_page_tail();

}  // namespace chaperon::detail
