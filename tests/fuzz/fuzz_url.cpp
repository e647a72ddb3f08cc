// Fuzzes URL parsing and building. Input layout: NUL-separated fields; the first is parsed as a
// URL, the first two are joined, and the rest (as key/value pairs) become a query and a form.
// A parsed URL printed with str() must parse back to the same URL, encodings must decode back to
// their input, and the query helpers must agree with each other.

#include "net/url.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace chaperon::net;
using pairs = std::vector<std::pair<std::string, std::string>>;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // the encoder writes upper case only
}

bool unreserved(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string percent_decode(std::string_view s, bool form) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      check(i + 2 < s.size(), "'%' is followed by two hex digits");
      const int hi = hex_digit(s[i + 1]);
      const int lo = hex_digit(s[i + 2]);
      check(hi >= 0 && lo >= 0, "'%' is followed by two upper-case hex digits");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (form && s[i] == '+') {
      out += ' ';
    } else {
      check(unreserved(s[i]), "only unreserved characters are left unencoded");
      out += s[i];
    }
  }
  return out;
}

void check_url(std::string_view text) {
  std::string error;
  const auto u = parse_url(text, &error);
  if (!u) {
    check(!error.empty(), "a rejected URL comes with a message");
    return;
  }
  check(u->scheme == "http" || u->scheme == "https" || u->scheme == "ws" || u->scheme == "wss",
        "known scheme");
  check(u->tls() == (u->scheme == "https" || u->scheme == "wss"), "tls() follows the scheme");
  check(!u->host.empty() && u->port != 0, "host and port are set");
  check(!u->target.empty() && u->target.front() == '/', "target starts with '/'");
  check(u->target.find('#') == std::string::npos, "no fragment in the target");
  check(is_absolute_url(text), "a parsed URL is absolute");
  for (char c : u->host) check(!(c >= 'A' && c <= 'Z'), "host is lower case");

  const std::string printed = u->str();
  const auto again = parse_url(printed);
  check(again.has_value(), "str() of a parsed URL parses");
  check(again->scheme == u->scheme && again->host == u->host && again->port == u->port &&
            again->target == u->target,
        "parse(str(parse(x))) == parse(x)");
  check(again->str() == printed, "str() is stable");
  check(printed.rfind(u->origin(), 0) == 0, "str() starts with origin()");
  check(u->origin().find(u->host_header()) != std::string::npos, "origin() holds host_header()");
  check(strip_query(printed) == printed.substr(0, printed.find('?')), "strip_query of a URL");
}

void check_join(std::string_view base, std::string_view path) {
  const std::string joined = join_url(base, path);
  if (base.empty() || is_absolute_url(path)) {
    check(joined == path, "an absolute path (or no base) is used as is");
    return;
  }
  if (path.empty() || path.front() == '?') {
    check(joined == std::string(base) + std::string(path), "a query is appended to the base");
    return;
  }
  std::string_view b = base;
  while (!b.empty() && b.back() == '/') b.remove_suffix(1);
  std::string_view p = path;
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  check(joined == std::string(b) + "/" + std::string(p), "exactly one '/' between base and path");
}

void check_query(std::string_view url_or_path, const pairs& params) {
  const std::string query = encode_query(params);
  const std::string form = encode_form(params);
  // Split the encodings back into pairs; '&' and '=' never survive unencoded inside a pair.
  for (const auto& [encoded, is_form] : {std::pair{query, false}, std::pair{form, true}}) {
    std::size_t i = 0;
    std::string_view rest = encoded;
    while (!rest.empty()) {
      const std::size_t amp = rest.find('&');
      const std::string_view item = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
      const std::size_t eq = item.find('=');
      check(eq != std::string_view::npos && i < params.size(), "one key=value per param");
      check(percent_decode(item.substr(0, eq), is_form) == params[i].first, "key round-trips");
      check(percent_decode(item.substr(eq + 1), is_form) == params[i].second, "value round-trips");
      ++i;
    }
    // Params with an empty key and value still produce "=", so every param is accounted for.
    check(i == params.size(), "every param is encoded");
  }

  const std::string appended = append_query(url_or_path, params);
  if (params.empty()) {
    check(appended == url_or_path, "no params, no change");
    return;
  }
  const std::size_t hash = url_or_path.find('#');
  const std::string_view fragment =
      hash == std::string_view::npos ? std::string_view{} : url_or_path.substr(hash);
  const std::string_view head = url_or_path.substr(0, hash);
  check(appended.size() >= fragment.size() &&
            appended.compare(appended.size() - fragment.size(), fragment.size(), fragment) == 0,
        "the fragment stays at the end");
  check(appended.rfind(head, 0) == 0, "the URL is kept in front");
  const std::string_view added(appended.data() + head.size(),
                               appended.size() - head.size() - fragment.size());
  check(added.size() >= query.size() &&
            added.compare(added.size() - query.size(), query.size(), query) == 0,
        "the encoded query is appended");
  check(strip_query(appended) == strip_query(url_or_path), "strip_query ignores added params");
  check(appended.find('?') != std::string::npos, "a query always has its '?'");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    const std::size_t nul = input.find('\0', start);
    fields.push_back(input.substr(start, nul - start));
    if (nul == std::string_view::npos) break;
    start = nul + 1;
  }
  check_url(fields[0]);
  const std::string_view path = fields.size() > 1 ? fields[1] : std::string_view{};
  check_join(fields[0], path);
  check_url(join_url(fields[0], path));

  pairs params;
  for (std::size_t i = 2; i + 1 < fields.size(); i += 2) {
    params.emplace_back(std::string(fields[i]), std::string(fields[i + 1]));
  }
  check_query(fields[0], params);
  check_query(path, params);
  check(percent_decode(percent_encode(input), false) == input, "percent_encode round-trips");
  check(percent_decode(percent_encode(input, true), true) == input, "form encoding round-trips");
  return 0;
}
