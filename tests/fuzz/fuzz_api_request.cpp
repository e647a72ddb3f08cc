// Fuzzes the master's HTTP API behind the transport: routing, the token check (basic auth's
// base64 and Bearer), the Origin check, the POST /load_tests body and the default option parser,
// through api::router on a real test queue whose runner does nothing. Input layout: four lines
// (method, target, Authorization header, Origin header), then the body (the rest); the Host
// header is 127.0.0.1:8080.
//
// Invariants: every response has a known status and, when JSON, parses back; 401 carries
// WWW-Authenticate and 405 Allow; a 200 to POST lists one id per test in the body; decoded
// base64 re-encodes to its input.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.hpp"
#include "api/routes.hpp"
#include "chaperon/load_test.hpp"

namespace chaperon {
// The harness's registry: the engine (where the real one lives) is not linked here.
std::vector<std::string> registered_load_tests() { return {"Fuzz.Test", "Other"}; }
}  // namespace chaperon

namespace {

using chaperon::json;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

std::string_view next_line(std::string_view& rest) {
  const auto end = rest.find('\n');
  const auto line = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  return line;
}

std::string encode_base64(std::string_view bytes) {
  static constexpr char digits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += digits[n >> 18];
    out += digits[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? digits[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? digits[n & 63] : '=';
  }
  return out;
}

chaperon::cluster::test_queue& queue() {
  static chaperon::cluster::test_queue q(
      [](const std::string&, const chaperon::cluster::run_spec&, std::stop_token) {});
  return q;
}

void check_response(const chaperon::api::api_request& request,
                    const chaperon::api::api_response& r) {
  static const std::set<int> known = {200, 202, 400, 401, 403, 404, 405, 409};
  check(known.count(r.status) == 1, "a known status");
  const auto has = [&](std::string_view name) {
    for (const auto& h : r.headers)
      if (h.first == name) return true;
    return false;
  };
  if (r.status == 401) check(has("WWW-Authenticate"), "401 has WWW-Authenticate");
  if (r.status == 405) check(has("Allow"), "405 has Allow");
  if (r.content_type != "application/json") return;
  const auto body = json::parse(r.body, nullptr, false);
  check(!body.is_discarded(), "a JSON response parses");
  if (r.status == 200 && request.method == "POST") {
    const auto sent = json::parse(request.body);
    check(body.at("scheduled").size() == sent.at("load_tests").size(), "one id per test");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  chaperon::api::api_request request;
  request.method = next_line(rest);
  request.target = next_line(rest);
  request.authorization = next_line(rest);
  request.origin = next_line(rest);
  request.host = "127.0.0.1:8080";
  request.body = rest;

  if (const auto decoded = chaperon::api::decode_base64(request.authorization))
    check(encode_base64(*decoded) == request.authorization, "base64 decodes and encodes back");

  static const chaperon::api::router routes(queue(), "tok", nullptr);
  check_response(request, routes.handle(request));
  // Keeps the queue from growing over millions of runs.
  queue().cancel_all();
  return 0;
}
