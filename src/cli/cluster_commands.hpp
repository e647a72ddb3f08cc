#pragma once
// The cluster's subcommands: `master`, `worker` (the nodes) and `schedule`, `cancel`, `status`
// (clients of the master's queue).

#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

namespace chaperon::cli {

struct cluster_flags;  // cluster_commands.cpp

class cluster_commands {
 public:
  // Adds the subcommands to `app`; their flags fill this object's state.
  explicit cluster_commands(CLI::App& app);
  ~cluster_commands();
  cluster_commands(const cluster_commands&) = delete;
  cluster_commands& operator=(const cluster_commands&) = delete;

  // Runs the cluster subcommand that was parsed and returns the exit status; nullopt when the
  // command line named another one. Throws CLI::ValidationError naming a bad flag.
  std::optional<int> run() const;

 private:
  std::unique_ptr<cluster_flags> flags_;
};

}  // namespace chaperon::cli
