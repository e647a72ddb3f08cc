#pragma once
// The fields of chaperon::http_options behind its pointer (engine/http_options.cpp sets them,
// engine/session_http.cpp reads them).

#include <chrono>
#include <string>

#include "chaperon/http.hpp"

namespace chaperon {

struct http_options::fields {
  header_list headers;
  header_list params;
  header_list form;
  std::string body;
  std::string content_type;
  bool json_body = false;
  bool gzip = false;
  bool decode_json = false;
  result_callback with_result;
  result_callback on_ok;
  result_callback on_error;
  std::string metrics_url;
  std::chrono::milliseconds timeout{0};
};

}  // namespace chaperon
