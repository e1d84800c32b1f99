// `vessel run`: its options, and booting the machine they describe (or serving the per-VM API,
// with --api-sock, which starts it).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/machine_options.hpp"
#include "vmm/seccomp.hpp"
#include "vmm/vm.hpp"

namespace vessel::cli {

class RunCommand {
 public:
  // Adds the subcommand to `app`.
  explicit RunCommand(CLI::App& app);
  // After parsing: the exit status of the run, or nullopt when `run` was not the subcommand.
  std::optional<int> run();

 private:
  void add_run_options();
  void add_host_options();
  // The machine and how to run it from the options; an exit status when they are wrong.
  std::optional<int> build(VmOptions& options);
  int serve_api(const VmOptions& options);
  // --restore DIR: the snapshot loaded into `options`; an exit status when it is refused or
  // other options contradict it.
  std::optional<int> apply_restore(VmOptions& options);
  // --incoming ADDR: waits for a migration's source there and takes its stream (docs/
  // migration.md); the guest then restores from it and the source hears once it runs.
  std::optional<int> apply_incoming(VmOptions& options);
  // An option that would describe a machine, given with --restore or --incoming (`with`).
  std::optional<int> refuse_machine_options(const char* with);
  // With --jail: the parent's exit status once the jailed child ended, or an error's; nullopt
  // in the child (and without --jail), which goes on to run the VM.
  std::optional<int> enter_jail(const VmOptions& options);

  CLI::App* run_ = nullptr;
  MachineOptions machine_;  // --memory, --disk, --net, ... (shared with `vessel create`)
  std::string dump_dtb;
  double timeout = 0;
  bool stats = false, verbose = false;
  std::string metadata;  // --metadata FILE
  std::string console_socket, console_log;
  std::string api_sock;
  std::string restore, incoming, incoming_ticket;
  std::vector<std::string> api_allow_dirs;
  std::string exit_status_file;
  std::string log_file;
  std::string gdb;
  bool gdb_wait = false;
  std::string jail_dir, jail_cgroup = "auto";
  unsigned jail_uid = 0, jail_gid = 0;
  std::string seccomp = vessel::seccomp::mode_name(vessel::seccomp::default_mode());
};

}  // namespace vessel::cli
