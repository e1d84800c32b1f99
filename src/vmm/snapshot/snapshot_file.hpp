// The snapshot state file's container (docs/snapshot.md): a fixed header, then named sections,
// each with its length and a CRC-32 (zlib's) of its bytes. The reader checks everything before
// it hands out a byte: the magic, the format version, the section count and order, every
// length against what is left, every checksum, and that nothing trails the last section. A
// snapshot file is untrusted input: a wrong one is a one-line error, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace vessel::snapshot {

// Bumped whenever anything a snapshot holds changes its layout: a file of another version is
// refused, not guessed at.
// 3: the configuration as JSON (vmm/config); 4: the `net` section (the networks' own state).
inline constexpr uint32_t kFormatVersion = 4;
inline constexpr char kMagic[8] = {'V', 'E', 'S', 'S', 'E', 'L', 'S', 'N'};
// The state file holds registers and device state, never guest RAM: a few hundred KiB at most.
inline constexpr size_t kMaxStateFile = 64ULL << 20;

struct Section {
  std::string name;  // 1 to 15 bytes
  std::vector<uint8_t> data;
};

// zlib's CRC-32 (the IEEE polynomial) of `data`, going on from `crc_so_far` (0 to start).
uint32_t crc32_of(const uint8_t* data, size_t size, uint32_t crc_so_far = 0);

// The file's bytes for these sections, in this order.
std::vector<uint8_t> encode_file(const std::vector<Section>& sections);
// The sections of a file, checked; `expected` names them in the order they must come.
Result<std::vector<Section>> decode_file(const uint8_t* data, size_t size,
                                         const std::vector<std::string_view>& expected);

}  // namespace vessel::snapshot
