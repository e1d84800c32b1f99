// The state file's own sections (inside vmm/snapshot): the machine configuration, the disks
// by reference and the memory description, as bytes and back, every value checked on the way
// in.
#pragma once

#include <sys/stat.h>

#include "base/state.hpp"
#include "vmm/snapshot/snapshot.hpp"

namespace vessel::snapshot {

void encode_config(StateWriter& out, const VirtConfig& config);
// The engine settings stay at their defaults: the restorer chooses them.
Result<VirtConfig> decode_config(StateReader& in);

void encode_disks(StateWriter& out, const std::vector<DiskRef>& disks);
Result<std::vector<DiskRef>> decode_disks(StateReader& in);

// The networks' own state (VirtMachine::save_net_state), one entry per network.
void encode_nets(StateWriter& out, const std::vector<std::vector<uint8_t>>& states);
// Each entry checked against the network it belongs to (net::check_net_state).
Result<std::vector<std::vector<uint8_t>>> decode_nets(StateReader& in,
                                                      const std::vector<NetSpec>& nets);
Result<void> check_nets(const std::vector<std::vector<uint8_t>>& states,
                        const std::vector<NetSpec>& nets);

// The disks of `config` by reference: absolute paths, and each base file's identity now.
Result<std::vector<DiskRef>> describe_disks(const VirtConfig& config);
// An error when a disk's base file is not the one the snapshot saw.
Result<void> check_disk(const DiskRef& disk);

// Whether the 4 KiB page at `page` is all zeros (such pages are holes, or are not sent).
bool is_zero_page(const uint8_t* page);

// Guest RAM into PATH.tmp (sparse: pages of zeros are holes); the caller renames it. The
// number of pages written as data.
Result<uint64_t> write_memory(const MappedMemory& ram, const std::string& tmp_path);
// Only the pages `dirty` logs, each written as data (zeros too: a hole means unchanged).
Result<uint64_t> write_memory_diff(const MappedMemory& ram, const DirtyPages& dirty,
                                   const std::string& tmp_path);

}  // namespace vessel::snapshot
