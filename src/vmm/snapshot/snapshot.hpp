// Snapshots of a VM (docs/snapshot.md): a state file (snapshot_file.hpp's container with the
// header, the machine configuration, the disks by reference, the memory file's description
// and the machine's state) and a memory file that is guest RAM byte for byte, which a restore
// maps privately instead of reading.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "board/virt.hpp"

namespace vessel::snapshot {

// The names `vessel run --restore DIR` and `vessel snapshot` use inside DIR.
inline constexpr const char* kStateFileName = "vmstate";
inline constexpr const char* kMemoryFileName = "memory";

// A disk as the snapshot refers to it: its settings (paths made absolute), and what its base
// file was when the snapshot was taken.
struct DiskRef {
  block::DiskSpec spec;  // as the configuration holds it
  std::string base;      // the file whose identity is checked (spec.path)
  uint64_t size = 0, mtime_ns = 0, inode = 0, device = 0;
};

// What a state file holds, parsed and checked (but for the files it names).
struct Loaded {
  std::string vessel_version;
  // The machine to build: everything but the engine settings, which are the restorer's.
  VirtConfig config;
  std::vector<DiskRef> disks;
  uint64_t memory_size = 0;
  // A Diff snapshot: its memory file holds only the pages written since the snapshot before
  // (sparse, each at its offset) and must be layered onto that one's (apply_diff) first.
  bool diff = false;
  std::vector<uint8_t> machine_state;  // VirtMachine::restore_state's input
  // Each network's own state (VirtMachine::restore_net_state's input), checked against its
  // configuration: a user network's libslirp state, nothing for a tap.
  std::vector<std::vector<uint8_t>> net_state;
  std::string memory_file;  // set by load()
  // load()'s descriptor of the memory file, opened with the loader's rights: a restore in a
  // jail maps it, though the jail's uid may not open the file by name.
  std::shared_ptr<const int> memory_fd;
  // A live migration's guest RAM, received already (vmm/migration): the restored machine
  // takes it instead of mapping a memory file (one restore only: it is moved out).
  std::shared_ptr<MappedMemory> ram;
};

// Parses a state file's bytes: the container, the version (format and Vessel's), the
// configuration, the disks and the memory description. Pure: the fuzz target's entry.
Result<Loaded> parse(const uint8_t* data, size_t size);

// Reads the state file and checks what it names: the memory file (its size must be the
// guest's RAM) and every disk's base (unchanged since: size, mtime, inode). Errors are one
// line naming the file and the problem.
Result<Loaded> load(const std::string& state_path, const std::string& memory_path);

struct CreateOptions {
  std::string state_path;
  std::string memory_path;
  // Firecracker's snapshot_type Diff: the memory file has only the pages written since this
  // machine's last snapshot (or its restore), as data at their offsets in a sparse file of
  // the RAM's size; every other page is a hole.
  bool diff = false;
};

struct Created {
  uint64_t memory_pages = 0;  // 4 KiB pages written to the memory file (not holes)
  uint64_t state_bytes = 0;
};

// Snapshots a machine that does not run (a paused VM): disks quiesced and flushed, then the
// memory file and the state file, each written to a temporary name and renamed. `config` is
// the one the machine was built from. Either kind restarts the machine's dirty page log.
Result<Created> create(VirtMachine& machine, const VirtConfig& config,
                       const CreateOptions& options);

// The state file `data` with the host side of its machine changed: its disks replaced by
// `disks` (each base identified now, as create does) and its networks by `nets` (hostfwd rules
// of their own, say). The guest's machine stays what it was: as many
// disks, each of the same size, and as many networks. The daemon's restores and clones run
// one snapshot over disks and forwarded ports of their own this way.
Result<std::vector<uint8_t>> rebind(const uint8_t* data, size_t size,
                                    const std::vector<block::DiskSpec>& disks,
                                    const std::vector<NetSpec>& nets);

// The state file's bytes for `machine`, which does not run and whose I/O thread is parked
// (call from quiesced()): what create() writes, and what a
// live migration sends at its stop-and-copy. The disks' identities are taken now.
Result<std::vector<uint8_t>> capture_state(VirtMachine& machine, const VirtConfig& config,
                                           bool diff);

// Layers a Diff snapshot's memory file onto its base's (Firecracker's rebase-snap): every data
// range of `diff_path` is copied to the same offset of `base_path`, which then is the memory
// file of the Diff's state file. Both must be the same size.
Result<void> apply_diff(const std::string& base_path, const std::string& diff_path);

// The machine a restore builds: the snapshot's configuration with `engine_from`'s engine
// settings (--engine, --jit-cache, --jit-threshold), which are the restorer's to choose.
VirtConfig machine_config(const Loaded& loaded, const VirtConfig& engine_from);

// Builds the machine `loaded` describes (with `engine_from`'s engine settings) on its memory
// file and gives it the saved state, its networks' first: ready to run from where the snapshot
// was taken.
Result<std::unique_ptr<VirtMachine>> restore(const Loaded& loaded, const VirtConfig& engine_from,
                                             VirtHost host);

// The Vessel version a snapshot records and a restore expects.
const char* vessel_version();

}  // namespace vessel::snapshot
