// The daemon's snapshots (docs/snapshot.md, "The daemon's snapshots"): STATE/snapshots/SNAP
// holds a VM's state file and memory file, frozen copies of its writable disks and info.json.
// A snapshot is assembled under STATE/snapshots/.tmp-SNAP and renamed into place whole, so a
// daemon killed midway leaves no snapshot under its real name. Restores and clones run it
// over overlays of their own (VM_DIR/diskN.overlay) with a state file rebound to them.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "daemon/vm_definition.hpp"

namespace vessel::daemon {

// [A-Za-z0-9_-]{1,64}: a directory name.
Result<void> check_snapshot_name(std::string_view name);
// NAME-YYYYMMDDTHHMMSS, UTC.
std::string default_snapshot_name(const std::string& vm);

// STATE/snapshots
std::string snapshots_root(const std::string& state_dir);

// Moves `staging`'s state and memory files into a new snapshot SNAP, freezes the VM's
// writable disks into it (an overlay's file, else the whole disk, reflinked where the file
// system can), rebinds the state file to those copies, writes info.json (`info` plus the
// sizes) and renames the whole into place. The VM must not run meanwhile. What it answers
// is list_snapshots()'s entry.
Result<nlohmann::json> store_snapshot(const std::string& state_dir, const std::string& snap,
                                      const std::string& staging, nlohmann::json info);

// Every snapshot (of `vm` only, when given): info.json with the allocated size on disk.
nlohmann::json list_snapshots(const std::string& state_dir, const std::optional<std::string>& vm);
// One snapshot's entry; an error when there is no such snapshot (or its info.json is not one).
Result<nlohmann::json> read_snapshot(const std::string& state_dir, const std::string& snap);

// A VM about to run snapshot SNAP: VM_DIR/restore/ gets the state file rebound to the VM's own
// overlays (each created fresh, or copied from the snapshot's overlay) and `nets` (the
// networks the VM runs with), and the snapshot's memory file by a symbolic link. Answers the
// VM's disks as its definition names them from now on.
Result<std::vector<block::DiskSpec>> prepare_restore(const std::string& state_dir,
                                                     const std::string& snap, const VmPaths& vm,
                                                     const std::vector<NetSpec>& nets);
inline std::string restore_dir(const VmPaths& paths) { return paths.dir + "/restore"; }

// `nets` (a definition's) with every forwarded port of the user networks dropped and the rules
// `hostfwd` put on the first one. An error when a rule is wrong, or there are rules and no
// user network.
Result<std::vector<NetSpec>> replace_hostfwd(const std::vector<NetSpec>& nets,
                                             const std::vector<std::string>& hostfwd);

// .tmp-SNAP leftovers of a daemon killed during a snapshot: removed, one line each for the log.
std::vector<std::string> clean_interrupted_snapshots(const std::string& state_dir);

}  // namespace vessel::daemon
