// chaperon-demo: the HTTP target that chaperon's examples and integration tests load.
#include <sys/resource.h>

#include <chrono>
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

struct demo_options {
  server_options server;
  // A truth-target stall armed at startup (see truth.hpp).
  std::uint64_t stall_at_ms = 0;
  std::optional<std::uint64_t> stall_for_ms;
};

constexpr int exit_usage = 2;
constexpr int exit_failure = 1;
constexpr std::uint64_t max_port = 65535;
constexpr std::uint64_t max_threads = 256;
constexpr std::uint64_t max_stall_ms = chaperon::demo::truth_target::max_stall_ms;

constexpr std::string_view usage =
    "usage: chaperon-demo [--address ADDR] [--port PORT] [--threads N]\n"
    "                     [--stall-at MS --stall-for MS]\n"
    "  --address ADDR   loopback address to bind (default 127.0.0.1)\n"
    "  --port PORT      TCP port, 0 for an ephemeral one (default 8080)\n"
    "  --threads N      I/O threads, 1..256 (default 1)\n"
    "  --stall-at MS    start of a stall of the /truth/* endpoints, in ms after startup\n"
    "                   (default 0; needs --stall-for)\n"
    "  --stall-for MS   length of that stall: answers due in it are written at its end\n"
    "Endpoints: HTTP (/, /api/messages, /login, /account, /logout, /echo, /cookies/set,\n"
    "/status/N, /delay/MS, /bytes/N, /chunked/N, /stats, /stats/reset), channels\n"
    "(PUT/GET /channels/NAME), known latency (/truth/fixed/US, /truth/pattern,\n"
    "/truth/uniform, POST /truth/stall, POST /truth/reset) and WebSockets (/ws/echo,\n"
    "/ws/headers, /ws/ping, /ws/close, /ws/drop, /ws/silent, /ws/reject, /channels/NAME).\n";

constexpr std::string_view option_names[] = {"--address", "--port", "--threads", "--stall-at",
                                             "--stall-for"};

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

bool apply_option(std::string_view name, std::string_view value, demo_options& options,
                  std::string& error) {
  std::uint64_t number = 0;
  if (name == "--address") {
    options.server.address = std::string(value);
    return true;
  }
  if (name == "--port") {
    if (!read_number(name, value, 0, max_port, number, error)) return false;
    options.server.port = static_cast<std::uint16_t>(number);
    return true;
  }
  if (name == "--stall-at") {
    return read_number(name, value, 0, max_stall_ms, options.stall_at_ms, error);
  }
  if (name == "--stall-for") {
    if (!read_number(name, value, 0, max_stall_ms, number, error)) return false;
    options.stall_for_ms = number;
    return true;
  }
  if (!read_number(name, value, 1, max_threads, number, error)) return false;
  options.server.threads = static_cast<unsigned>(number);
  return true;
}

bool known_option(std::string_view name) {
  for (const auto known : option_names) {
    if (name == known) return true;
  }
  return false;
}

parse_outcome parse_arguments(int argc, char** argv, demo_options& options, std::string& error) {
  bool stall_at_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return parse_outcome::help;
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (!known_option(name)) {
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
    stall_at_given = stall_at_given || name == "--stall-at";
  }
  if (stall_at_given && !options.stall_for_ms) {
    error = "--stall-at needs --stall-for";
    return parse_outcome::bad;
  }
  return parse_outcome::run;
}

// Thousands of idle WebSockets need as many descriptors; the soft limit is often 1024.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv) {
  demo_options options;
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
    raise_descriptor_limit();
    chaperon::demo::router routes;
    auto srv = chaperon::demo::server::open(options.server, routes, error);
    if (!srv) {
      std::fprintf(stderr, "chaperon-demo: %s\n", error.c_str());
      return exit_failure;
    }
    // Armed before the line below, so that no request can be earlier than "startup".
    if (options.stall_for_ms) {
      routes.truth().arm_stall(
          std::chrono::steady_clock::now() + std::chrono::milliseconds(options.stall_at_ms),
          std::chrono::milliseconds(*options.stall_for_ms));
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
