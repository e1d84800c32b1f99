// `vessel snapshot --api-sock SOCKET [--diff] DIR`: a Full (or Diff) snapshot of a running VM
// through its per-VM API (PATCH /vm Paused, PUT /snapshot/create, PATCH /vm Resumed), into DIR
// as `vessel run --restore DIR` reads it; `vessel snapshot NAME [SNAP]` asks the daemon; `vessel
// rebase-snap` layers a Diff's memory file onto its base's.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vessel::cli {

class SnapshotCommand {
 public:
  explicit SnapshotCommand(CLI::App& app);
  // After parsing: the exit status, or nullopt when `snapshot` was not the subcommand.
  std::optional<int> run();

 private:
  std::optional<int> snapshot();

  CLI::App* cmd_ = nullptr;
  CLI::App* rebase_ = nullptr;
  std::string api_sock, state_dir, base_file, diff_file;
  std::vector<std::string> args;
  bool stay_paused = false;
  bool diff = false;
};

}  // namespace vessel::cli
