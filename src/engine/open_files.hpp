#pragma once
// Open-file limits: every connection is a descriptor, and a process that runs out of them fails
// midway with errors that look like the target's fault. So the limit is raised as far as the
// system allows, and a run that cannot fit is refused before it starts.

#include <cstddef>
#include <cstdint>

#include "chaperon/config.hpp"

namespace chaperon::detail {

struct open_file_limits {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

// Raises the soft RLIMIT_NOFILE to the hard limit (once per process); returns the limits after.
open_file_limits raise_open_file_limit();

// Descriptors kept free for everything that is not a session's connection (logs, exports,
// resolver, shard wake-ups, the Prometheus endpoint).
inline constexpr std::uint64_t reserved_descriptors = 64;

// Throws config_error when `concurrent_sessions` (each holding at least one connection at once)
// cannot fit the open-file limit, naming the numbers and what to do. Config `check_open_files:
// false` turns the check off (for scenarios that hold no connection most of the time).
void check_open_files(std::size_t concurrent_sessions, const json& config);

}  // namespace chaperon::detail
