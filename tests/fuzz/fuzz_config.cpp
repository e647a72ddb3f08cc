// Fuzzes config handling: dotted paths, "key=value" assignments from the command line, deep
// merge and durations. Input layout: lines; every line is applied as an assignment to one of two
// configs (the first byte of the line picks which), then the second is merged into the first.

#include "chaperon/config.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

using chaperon::config_error;
using chaperon::config_path;
using chaperon::json;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

// Durations are added to steady_clock::now(), in nanoseconds; they must leave room for that.
bool fits_nanoseconds(std::chrono::microseconds d) {
  return d.count() <= std::numeric_limits<std::int64_t>::max() / 2 / 1000;
}

void check_path(std::string_view dotted) {
  const config_path path(dotted);
  check(!path.parts().empty(), "a path has at least one part");
  check(path.str() == dotted, "config_path(x).str() == x");
  std::size_t dots = 0;
  for (char c : dotted) dots += c == '.' ? 1 : 0;
  check(path.parts().size() == dots + 1, "one part per dot, plus one");
}

void check_duration_text(std::string_view text) {
  const auto d = chaperon::parse_duration_text(text);
  if (!d) return;
  check(d->count() >= 0, "a parsed duration is never negative");
  check(fits_nanoseconds(*d), "a parsed duration fits a steady_clock duration");
  const json as_json = std::string(text);
  check(chaperon::parse_duration(as_json, "k") == *d, "parse_duration agrees on strings");
}

void check_duration_value(const json& value) {
  // The only exception allowed is config_error; anything else escapes and is reported.
  try {
    const auto d = chaperon::parse_duration(value, "key");
    check(d.count() >= 0, "a duration from a config value is never negative");
    check(fits_nanoseconds(d), "a duration from a config value fits a steady_clock duration");
  } catch (const config_error& e) {
    check(std::string_view(e.what()).find("'key'") != std::string_view::npos,
          "the error names the key");
  }
}

// Every leaf of `overlay` that is not null must be found in `merged` at the same path.
void check_merged(const json& merged, const json& overlay, std::vector<std::string>& path) {
  for (auto it = overlay.begin(); it != overlay.end(); ++it) {
    path.push_back(it.key());
    const json* node = &merged;
    for (const auto& part : path) {
      check(node->is_object(), "merged keeps the overlay's objects");
      const auto next = node->find(part);
      check(next != node->end(), "merged has every key of the overlay");
      node = &*next;
    }
    if (it->is_object()) {
      check_merged(merged, *it, path);
    } else if (!it->is_null()) {
      check(*node == *it, "an overlay's value wins");
    }
    path.pop_back();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  json configs[2] = {json::object(), json::object()};
  while (!input.empty()) {
    const std::size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
    if (line.empty()) continue;
    json& target = configs[static_cast<unsigned char>(line.front()) & 1];
    line.remove_prefix(1);

    check_duration_text(line);
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      bool thrown = false;
      try {
        chaperon::apply_assignment(target, line);
      } catch (const config_error&) {
        thrown = true;
      }
      check(thrown, "an assignment without key= is rejected");
      continue;
    }
    const std::string_view key = line.substr(0, eq);
    check_path(key);
    chaperon::apply_assignment(target, line);
    const json* found = chaperon::find_path(target, config_path(key));
    check(found != nullptr, "an assigned key is found");
    const std::string_view text = line.substr(eq + 1);
    const json parsed = json::parse(text.begin(), text.end(), nullptr, false);
    check(*found == (parsed.is_discarded() ? json(std::string(text)) : parsed),
          "the found value is the assigned one");
    check_duration_value(*found);
    if (found->is_string()) check_duration_text(found->get_ref<const std::string&>());
  }
  json merged = chaperon::deep_merged(configs[0], configs[1]);
  std::vector<std::string> path;
  check_merged(merged, configs[1], path);
  // Removing every top-level key of the overlay must leave none of them behind.
  for (auto it = configs[1].begin(); it != configs[1].end(); ++it) {
    chaperon::erase_path(merged, config_path{it.key()});
    check(chaperon::find_path(merged, config_path{it.key()}) == nullptr, "erase_path removes");
  }
  return 0;
}
