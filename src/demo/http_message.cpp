#include "demo/http_message.hpp"

#include "demo/text_util.hpp"

namespace chaperon::demo {

std::string_view request::header(std::string_view name) const {
  for (const auto& field : headers) {
    if (iequals(field.name, name)) return field.value;
  }
  return {};
}

}  // namespace chaperon::demo
