#pragma once
// The built-in exporters that live in files of their own; the registry adds them at first use.
#include <memory>

#include "chaperon/export.hpp"

namespace chaperon::detail {

// "html": one self-contained HTML report with charts (export/html_report.cpp).
std::unique_ptr<const exporter> make_html_report_exporter();
// "hdr-log": the HdrHistogram interval log of the run's series (export/hdr_log.cpp).
std::unique_ptr<const exporter> make_hdr_log_exporter();

}  // namespace chaperon::detail
