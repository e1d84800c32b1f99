// `vessel migrate`: a running VM moved live to another Vessel (docs/migration.md). Either
// through the VM's own API socket to a `vessel run --incoming` (`--api-sock SOCK --to ADDR`),
// or a daemon's VM to another daemon (`NAME --to HOST:PORT`, with that daemon's token).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace vessel::cli {

class MigrateCommand {
 public:
  explicit MigrateCommand(CLI::App& app);
  // After parsing: the exit status, or nullopt when `migrate` was not the subcommand.
  std::optional<int> run();

 private:
  int through_api_socket();
  int through_daemon();

  CLI::App* cmd_ = nullptr;
  std::string name, api_sock, to, token, state_dir;
  unsigned max_rounds = 30, downtime_ms = 30;
  bool json = false;
};

}  // namespace vessel::cli
