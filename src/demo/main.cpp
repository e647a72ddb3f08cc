// chaperon-demo: the HTTP target that chaperon's examples and integration tests load.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "demo/routes.hpp"
#include "demo/server.hpp"
#include "demo/text_util.hpp"

namespace {

using chaperon::demo::server_options;

constexpr int exit_usage = 2;
constexpr int exit_failure = 1;
constexpr std::uint64_t max_port = 65535;
constexpr std::uint64_t max_threads = 256;

constexpr std::string_view usage =
    "usage: chaperon-demo [--address ADDR] [--port PORT] [--threads N]\n"
    "  --address ADDR  loopback address to bind (default 127.0.0.1)\n"
    "  --port PORT     TCP port, 0 for an ephemeral one (default 8080)\n"
    "  --threads N     I/O threads, 1..256 (default 1)\n";

enum class parse_outcome { run, help, bad };

// Sets `error` and returns false when `value` is not an integer in [min, max].
bool read_number(std::string_view option, std::string_view value, std::uint64_t min,
                 std::uint64_t max, std::uint64_t& out, std::string& error) {
  const auto parsed = chaperon::demo::parse_uint(value);
  if (!parsed || *parsed < min || *parsed > max) {
    error = fmt::format("{} expects an integer in {}..{}, got '{}'", option, min, max, value);
    return false;
  }
  out = *parsed;
  return true;
}

bool apply_option(std::string_view name, std::string_view value, server_options& options,
                  std::string& error) {
  std::uint64_t number = 0;
  if (name == "--address") {
    options.address = std::string(value);
    return true;
  }
  if (name == "--port") {
    if (!read_number(name, value, 0, max_port, number, error)) return false;
    options.port = static_cast<std::uint16_t>(number);
    return true;
  }
  if (!read_number(name, value, 1, max_threads, number, error)) return false;
  options.threads = static_cast<unsigned>(number);
  return true;
}

parse_outcome parse_arguments(int argc, char** argv, server_options& options, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return parse_outcome::help;
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (name != "--address" && name != "--port" && name != "--threads") {
      error = fmt::format("unknown argument '{}'", arg);
      return parse_outcome::bad;
    }
    if (!value) {
      if (i + 1 >= argc) {
        error = fmt::format("{} needs a value", name);
        return parse_outcome::bad;
      }
      value = argv[++i];
    }
    if (!apply_option(name, *value, options, error)) return parse_outcome::bad;
  }
  return parse_outcome::run;
}

}  // namespace

int main(int argc, char** argv) {
  server_options options;
  std::string error;
  switch (parse_arguments(argc, argv, options, error)) {
    case parse_outcome::help:
      std::fputs(usage.data(), stdout);
      return 0;
    case parse_outcome::bad:
      std::fprintf(stderr, "chaperon-demo: %s\n%s", error.c_str(), usage.data());
      return exit_usage;
    case parse_outcome::run:
      break;
  }
  try {
    chaperon::demo::router routes;
    auto srv = chaperon::demo::server::open(options, routes, error);
    if (!srv) {
      std::fprintf(stderr, "chaperon-demo: %s\n", error.c_str());
      return exit_failure;
    }
    // Tests wait for exactly this line, so it is flushed at once and printed only when the
    // socket already listens.
    std::fputs(fmt::format("chaperon-demo listening on {}\n", srv->url()).c_str(), stdout);
    std::fflush(stdout);
    srv->run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chaperon-demo: %s\n", e.what());
    return exit_failure;
  }
  return 0;
}
