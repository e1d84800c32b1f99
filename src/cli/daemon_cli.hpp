// The subcommands that run or talk to `vessel daemon`: daemon, create, start, stop, pause,
// resume, reboot, rm, ls, stats, logs, console, restore, snapshots, clone (and `vessel
// snapshot NAME [SNAP]`, whose command line is snapshot_cli's). They find the daemon through the
// state dir
// (--state-dir, else VESSEL_STATE_DIR, ...) and its Unix socket; tables for people, --json for
// scripts.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "cli/machine_options.hpp"

namespace vessel::cli {

// `vessel snapshot NAME [SNAP]`: the daemon's VM NAME snapshotted as SNAP (a name made of the
// VM's and the time when none is given).
int daemon_snapshot(const std::string& state_dir, const std::string& name,
                    const std::optional<std::string>& snap);

class DaemonCommands {
 public:
  // Adds the subcommands to `app`.
  explicit DaemonCommands(CLI::App& app);
  // After parsing: the exit status of the subcommand given, or nullopt when it was none of
  // these.
  std::optional<int> run();

 private:
  int run_daemon();
  int create();
  // The definition `vessel create` posts (the REST API's VmDefinition).
  Result<nlohmann::json> definition_of_create() const;
  int action(const std::string& action);
  int remove();
  int list();
  int stats();
  int logs();
  int console();
  int restore();
  int list_snapshots();
  int clone();

  CLI::App* daemon_ = nullptr;
  CLI::App* create_ = nullptr;
  CLI::App* rm_ = nullptr;
  CLI::App* ls_ = nullptr;
  CLI::App* stats_ = nullptr;
  CLI::App* logs_ = nullptr;
  CLI::App* console_ = nullptr;
  CLI::App* restore_ = nullptr;
  CLI::App* snapshots_ = nullptr;
  CLI::App* clone_ = nullptr;
  std::vector<std::pair<std::string, CLI::App*>> actions_;

  std::string state_dir_, listen_tcp_, ui_dir_;
  std::vector<std::string> allow_dirs_;
  std::string jail_ = "auto";
  std::string name_;
  // create: the machine's options, as `vessel run`'s
  std::unique_ptr<MachineOptions> create_machine_;
  bool force_ = false, json_ = false;
  uint64_t bytes_ = 0;
  std::string log_file_;
  // restore, clone
  std::string snap_;
  std::vector<std::string> hostfwd_;
};

}  // namespace vessel::cli
