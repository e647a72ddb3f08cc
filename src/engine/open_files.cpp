#include "engine/open_files.hpp"

#include <sys/resource.h>

#include <string>

namespace chaperon::detail {

open_file_limits raise_open_file_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return {};
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  return {static_cast<std::uint64_t>(lim.rlim_cur), static_cast<std::uint64_t>(lim.rlim_max)};
}

void check_open_files(std::size_t concurrent_sessions, const json& config) {
  const json* check = find_path(config, config_path{"check_open_files"});
  bool enabled = !(check && check->is_boolean() && !check->get<bool>());
  auto limits = raise_open_file_limit();
  if (!enabled || limits.soft == 0 || limits.soft == RLIM_INFINITY) return;
  std::uint64_t needed = concurrent_sessions + reserved_descriptors;
  if (needed <= limits.soft) return;
  throw config_error(
      "this run holds up to " + std::to_string(concurrent_sessions) +
      " sessions at once, each with at least one connection, but this process may open only " +
      std::to_string(limits.soft) + " files (hard limit " + std::to_string(limits.hard) +
      ", " + std::to_string(reserved_descriptors) +
      " kept for other use); run fewer sessions per process (spread the test over a cluster: "
      "chaperon master and several chaperon worker processes; or run --share I/N in each "
      "process and add the results up with chaperon merge), raise the limit "
      "(ulimit -n / LimitNOFILE), or set config check_open_files=false");
}

}  // namespace chaperon::detail
