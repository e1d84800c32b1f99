// A VM the daemon manages as DIR/vms/NAME/config.json holds it and the REST API carries it
// (VmDefinition in /docs/daemon.md): what its `vessel run` is started with.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/firecracker/host_files.hpp"
#include "base/result.hpp"
#include "cpu/riscv/engine.hpp"

namespace vessel::daemon {

inline constexpr size_t kMaxDisks = 8, kMaxNets = 8;
inline constexpr int64_t kDefaultMemoryMib = 128;

struct DiskDefinition {
  std::string path;
  bool readonly = false;
  // "format": "raw": the image's bytes are the disk even when they begin like a qcow2's or
  // another format's, which is refused at create without it (block/image_format.hpp).
  bool format_raw = false;
  // Only in the definitions the daemon writes for its restores and clones: the VM's own
  // copy-on-write overlay (VM_DIR/diskN.overlay) over a snapshot's frozen disk.
  std::optional<std::string> overlay = std::nullopt;
};

struct VmDefinition {
  std::string name;
  std::string kernel;
  std::optional<std::string> initrd;
  std::optional<std::string> append;
  std::string firmware = "builtin";  // "builtin", "none" or a file
  int64_t cpus = 1;
  int64_t memory_mib = kDefaultMemoryMib;
  rv::Engine engine = rv::default_engine();  // `vessel run --engine`
  std::vector<DiskDefinition> disks;
  // "user[,hostfwd=RULE]...[,restrict=on|off][,loopback=on|off]" or "tap=IFNAME"; a user
  // network is run with loopback=off unless it says otherwise, and forwards host ports on
  // 127.0.0.1 only.
  std::vector<std::string> nets;
  std::string created_at;  // RFC 3339, UTC

  nlohmann::json to_json() const;
};

// [A-Za-z0-9_-]{1,32}: a name is a directory name and part of socket paths.
bool valid_vm_name(std::string_view name);
// "VM name 'x': ..." for a name that is not valid.
Result<void> check_vm_name(std::string_view name);

// A definition from JSON (a request body or config.json): every field typed and bounded,
// unknown ones refused by name. The files are not looked at (see resolve_vm_files).
Result<VmDefinition> parse_vm_definition(const std::optional<nlohmann::json>& json);
// The definition with each file it names resolved, when they all pass `files` (a client may
// name them, they are regular files Vessel can read, and disks: write, unless read-only).
// Errors name the field and the file. A disk with an overlay is the daemon's own (a restore's
// or a clone's): its files must be under `state_dir` (empty: no disk may have one).
Result<VmDefinition> resolve_vm_files(const VmDefinition& definition,
                                      const api::HostFilePolicy& files,
                                      const std::string& state_dir = {});

// Where a VM's files live: DIR/vms/NAME/...
struct VmPaths {
  std::string dir;
  std::string config() const { return dir + "/config.json"; }
  std::string runtime() const { return dir + "/runtime.json"; }
  std::string api_socket() const { return dir + "/api.sock"; }
  std::string console_socket() const { return dir + "/console.sock"; }
  std::string console_log() const { return dir + "/console.log"; }
  std::string vmm_log() const { return dir + "/vmm.log"; }
  std::string exit_status() const { return dir + "/exit_status"; }
};

// Before a VM starts: the exit status an earlier run left is removed (it would be read as
// this run's), and a console log an earlier Vessel wrote without the ring's header is given
// it (adopt_console_log), so that the run continues it instead of refusing it.
Result<void> prepare_vm_state(const VmPaths& paths);

// `vessel run`'s arguments for the definition (what follows argv[0]); with `restore`, those
// of `vessel run --restore RESTORE`: the machine is the snapshot's.
std::vector<std::string> vm_run_arguments(const VmDefinition& definition, const VmPaths& paths,
                                          const std::optional<std::string>& restore = {});
// The --net option a definition's network runs with (loopback=off unless it says).
std::string run_net_option(const std::string& net);

// `vessel run --incoming`'s arguments from vm_run_arguments' (`run`): the machine comes with
// the migration, so the options describing it go (but --memory and --cpus, which it must
// match), and `incoming` (--incoming ADDR ...) is added.
std::vector<std::string> incoming_run_arguments(const std::vector<std::string>& run,
                                                const std::vector<std::string>& incoming);

// Now as RFC 3339 in UTC ("2026-11-26T09:52:00Z").
std::string utc_timestamp();

}  // namespace vessel::daemon
