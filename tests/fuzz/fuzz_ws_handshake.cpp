// Fuzzes the check of a WebSocket upgrade response, fed the way a connection does: the response
// bytes go through the HTTP response parser first. Input layout: the first line is the
// Sec-WebSocket-Key the client sent, the rest is the server's response.
// Besides the fuzzed response, a correct answer for the same key followed by the fuzzed headers
// must be accepted, and base64 must decode back to its input.

#include "net/request_writer.hpp"
#include "net/response_parser.hpp"
#include "net/ws_handshake.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace chaperon::net;
using header_list = std::vector<std::pair<std::string, std::string>>;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

std::string base64_decode(std::string_view s) {
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  check(s.size() % 4 == 0, "base64 comes in groups of four");
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const std::size_t v = alphabet.find(c);
    check(v != std::string_view::npos, "base64 alphabet only");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const std::string* first(const header_list& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (iequal(n, name)) return &v;
  }
  return nullptr;
}

void check_verdict(int status, const header_list& headers, std::string_view key) {
  const std::string why = ws_check_upgrade_response(status, headers, key);
  if (!why.empty()) return;
  check(status == 101, "only 101 is accepted");
  const std::string* accept = first(headers, "Sec-WebSocket-Accept");
  check(accept != nullptr && trim(*accept) == ws_accept_for(key), "accepted only with the right key");
  check(first(headers, "Upgrade") != nullptr && first(headers, "Connection") != nullptr,
        "accepted only with Upgrade and Connection");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = input.find('\n');
  const std::string_view key = input.substr(0, nl);
  const std::string_view stream = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);

  const std::string accept = ws_accept_for(key);
  check(accept.size() == 28 && base64_decode(accept).size() == 20, "accept is base64 of a SHA-1");
  check(base64_decode(base64_encode(key)) == key, "base64 round-trips");

  response_parser parser;
  parser.reset();
  std::size_t used = 0;
  const auto st = parser.feed(stream, used);
  header_list headers;
  int status = 0;
  if (st == response_parser::status::done) {
    status = parser.get().status;
    headers = parser.get().headers;
  } else if (st == response_parser::status::error) {
    // The connection would fail before the check; look at the raw lines anyway, as headers.
    std::string_view rest = stream;
    while (!rest.empty() && headers.size() < 64) {
      const std::size_t end = rest.find('\n');
      const std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
      const std::size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
      }
    }
    status = 101;
  }
  check_verdict(status, headers, key);

  // A correct answer stays correct whatever follows it, unless an extension is agreed to.
  header_list good = {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", accept}};
  good.insert(good.end(), headers.begin(), headers.end());
  const std::string* ext = first(good, "Sec-WebSocket-Extensions");
  const bool extension = ext != nullptr && !trim(*ext).empty();
  const std::string verdict = ws_check_upgrade_response(101, good, key);
  check(extension ? verdict == "unsupported extension" : verdict.empty(), "a correct answer is accepted");

  return 0;
}
