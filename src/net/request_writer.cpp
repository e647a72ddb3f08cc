#include "net/request_writer.hpp"

#include "net/ascii.hpp"

#include <charconv>
#include <cstdint>

namespace chaperon::net {

namespace {


// Which of the headers the writer adds are replaced by user headers, found in one pass.
struct overrides {
  bool host = false;
  bool user_agent = false;
  bool accept = false;
  bool content_type = false;
  bool content_encoding = false;
  bool cookie = false;
  bool authorization = false;
};

// Whether a user header is dropped because the writer owns it.
bool is_framing_header(std::string_view name) noexcept {
  return iequals(name, "content-length");
}

overrides find_overrides(const std::vector<std::pair<std::string, std::string>>* headers) {
  overrides o;
  if (headers == nullptr) return o;
  for (const auto& [name, value] : *headers) {
    switch (name.size()) {
      case 4: o.host = o.host || iequals(name, "host"); break;
      case 6:
        o.accept = o.accept || iequals(name, "accept");
        o.cookie = o.cookie || iequals(name, "cookie");
        break;
      case 10: o.user_agent = o.user_agent || iequals(name, "user-agent"); break;
      case 12: o.content_type = o.content_type || iequals(name, "content-type"); break;
      case 13: o.authorization = o.authorization || iequals(name, "authorization"); break;
      case 16: o.content_encoding = o.content_encoding || iequals(name, "content-encoding"); break;
      default: break;
    }
  }
  return o;
}

void put_header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

std::uint32_t byte_at(std::string_view data, std::size_t i) noexcept {
  return static_cast<unsigned char>(data[i]);
}

bool method_needs_length(std::string_view method) noexcept {
  return iequals(method, "POST") || iequals(method, "PUT") || iequals(method, "PATCH");
}

}  // namespace

void write_request(std::string& out, const request_head& head) {
  const overrides o = find_overrides(head.headers);
  std::size_t estimate = head.method.size() + head.target.size() + head.host.size() +
                         head.cookie.size() + head.content_type.size() + head.accept.size() +
                         head.authorization.size() + head.body.size() + 128;
  if (head.headers != nullptr) {
    for (const auto& [name, value] : *head.headers) estimate += name.size() + value.size() + 4;
  }
  out.reserve(out.size() + estimate);

  out += head.method;
  out += ' ';
  out += head.target;
  out += " HTTP/1.1\r\n";
  if (!o.host) put_header(out, "Host", head.host);
  if (!o.user_agent) put_header(out, "User-Agent", "chaperon");
  if (!o.accept && !head.accept.empty()) put_header(out, "Accept", head.accept);
  if (!o.content_type && !head.content_type.empty()) {
    put_header(out, "Content-Type", head.content_type);
  }
  if (!o.content_encoding && !head.content_encoding.empty()) {
    put_header(out, "Content-Encoding", head.content_encoding);
  }
  if (!head.body.empty() || method_needs_length(head.method)) {
    char digits[24];
    const auto res = std::to_chars(digits, digits + sizeof digits, head.body.size());
    put_header(out, "Content-Length", std::string_view(digits, res.ptr - digits));
  }
  if (!o.cookie && !head.cookie.empty()) put_header(out, "Cookie", head.cookie);
  if (!o.authorization && !head.authorization.empty()) {
    put_header(out, "Authorization", head.authorization);
  }
  if (head.headers != nullptr) {
    for (const auto& [name, value] : *head.headers) {
      if (!is_framing_header(name)) put_header(out, name, value);
    }
  }
  out += "\r\n";
  out += head.body;
}

std::string base64_encode(std::string_view data) {
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v =
        (byte_at(data, i) << 16) | (byte_at(data, i + 1) << 8) | byte_at(data, i + 2);
    out += alphabet[(v >> 18) & 0x3f];
    out += alphabet[(v >> 12) & 0x3f];
    out += alphabet[(v >> 6) & 0x3f];
    out += alphabet[v & 0x3f];
  }
  const std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t v = byte_at(data, i) << 16;
    if (rest == 2) v |= byte_at(data, i + 1) << 8;
    out += alphabet[(v >> 18) & 0x3f];
    out += alphabet[(v >> 12) & 0x3f];
    out += rest == 2 ? alphabet[(v >> 6) & 0x3f] : '=';
    out += '=';
  }
  return out;
}

std::string basic_auth_value(std::string_view user, std::string_view pass) {
  std::string credentials;
  credentials.reserve(user.size() + 1 + pass.size());
  credentials += user;
  credentials += ':';
  credentials += pass;
  return "Basic " + base64_encode(credentials);
}

}  // namespace chaperon::net
