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
#include "vmm/config.hpp"

namespace vessel::daemon {

inline constexpr int64_t kDefaultMemoryMib = 128;

// A VM the daemon runs: its name, when it was defined, and its machine, the same typed
// configuration `vessel run` builds from its options (vmm/config.hpp). Its JSON is the
// machine's fields with "name" and "created_at" beside them.
struct VmDefinition {
  std::string name;
  VmConfig config;
  std::string created_at;  // RFC 3339, UTC

  nlohmann::json to_json() const;
};

// A definition's machine before its fields apply: 128 MiB, the builtin SBI, one hart.
VmConfig default_vm_config();

// [A-Za-z0-9_-]{1,32}: a name is a directory name and part of socket paths.
bool valid_vm_name(std::string_view name);
// "VM name 'x': ..." for a name that is not valid.
Result<void> check_vm_name(std::string_view name);

// A definition from JSON (a request body or config.json): every field typed and bounded,
// unknown ones refused by name. "kernel" is required. The daemon's own rules on top of the
// machine's: a user network runs with loopback off unless it says, and forwards ports of
// 127.0.0.1 only. A net may also be given as `vessel run --net`'s string ("user,hostfwd=..."),
// as the daemon wrote them before the typed configuration. The files are not looked at (see
// resolve_vm_files).
Result<VmDefinition> parse_vm_definition(const std::optional<nlohmann::json>& json);
// The definition with each file it names resolved, when they all pass `files` (a client may
// name them, they are regular files Vessel can read, and disks: write, unless read-only or
// under an overlay; an overlay and the sockets of virtio_console and vsock: files Vessel may
// create there). Errors name the field and the file. A disk whose overlay is under
// `state_dir` is the daemon's own (a restore's or a clone's): both files must be there.
Result<VmDefinition> resolve_vm_files(const VmDefinition& definition,
                                      const api::HostFilePolicy& files,
                                      const std::string& state_dir = {});

// Where a VM's files live: DIR/vms/NAME/...
struct VmPaths {
  std::string dir;
  std::string config() const { return dir + "/config.json"; }
  std::string runtime() const { return dir + "/runtime.json"; }
  std::string api_socket() const { return dir + "/api.sock"; }
  // The machine as `vessel run --config` reads it, written at each start.
  std::string machine() const { return dir + "/machine.json"; }
  std::string console_socket() const { return dir + "/console.sock"; }
  std::string console_log() const { return dir + "/console.log"; }
  std::string vmm_log() const { return dir + "/vmm.log"; }
  std::string exit_status() const { return dir + "/exit_status"; }
  // Where the VM's process writes a snapshot's state and memory files before the daemon moves
  // them into its store: the one directory its API may write (--api-allow-dir).
  std::string staging() const { return dir + "/staging"; }
};

// Before a VM starts: the exit status an earlier run left is removed (it would be read as
// this run's), and a console log an earlier Vessel wrote without the ring's header is given
// it (adopt_console_log), so that the run continues it instead of refusing it.
Result<void> prepare_vm_state(const VmPaths& paths);

// `vessel run`'s arguments for the definition (what follows argv[0]): its machine comes from
// `paths.machine()` (write_machine_file); with `restore`, those of `vessel run --restore
// RESTORE`: the machine is the snapshot's, the engine settings the definition's.
std::vector<std::string> vm_run_arguments(const VmPaths& paths,
                                          const std::optional<std::string>& restore = {});
// Writes the definition's machine to paths.machine().
Result<void> write_machine_file(const VmDefinition& definition, const VmPaths& paths);

// Now as RFC 3339 in UTC ("2026-11-26T09:52:00Z").
std::string utc_timestamp();

}  // namespace vessel::daemon
