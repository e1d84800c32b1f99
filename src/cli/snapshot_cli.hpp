// `vessel snapshot --api-sock SOCKET DIR`: a Full snapshot of a running VM through its per-VM
// API (PATCH /vm Paused, PUT /snapshot/create, PATCH /vm Resumed), into DIR as `vessel run
// --restore DIR` reads it.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace vessel::cli {

class SnapshotCommand {
 public:
  explicit SnapshotCommand(CLI::App& app);
  // After parsing: the exit status, or nullopt when `snapshot` was not the subcommand.
  std::optional<int> run();

 private:
  CLI::App* cmd_ = nullptr;
  std::string api_sock, dir;
  bool stay_paused = false;
};

}  // namespace vessel::cli
