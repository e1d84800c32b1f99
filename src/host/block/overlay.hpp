// Copy-on-write overlay over a read-only base image; the format is in docs/overlay.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "host/block/block_backend.hpp"
#include "host/block/io_engine.hpp"

namespace vessel::block::overlay {

inline constexpr char kMagic[8] = {'V', 'S', 'L', 'O', 'V', 'R', 'L', 'Y'};
inline constexpr uint32_t kVersion = 1;
inline constexpr uint64_t kHeaderSize = 4096;
inline constexpr uint32_t kDefaultClusterBits = 16;  // 64 KiB
inline constexpr uint32_t kMinClusterBits = 12, kMaxClusterBits = 24;
// The table is held in memory: at most 2^25 entries (256 MiB), 2 TiB with 64 KiB clusters.
inline constexpr uint64_t kMaxTableEntries = uint64_t{1} << 25;
inline constexpr uint64_t kMaxBasePath = kHeaderSize - 256;
// Table entries other than these are byte offsets of data clusters in the overlay file.
inline constexpr uint64_t kUnallocated = 0;  // read from the base
inline constexpr uint64_t kZeroCluster = 1;  // reads as zeros

// Header field offsets.
enum HeaderField : uint64_t {
  kFieldMagic = 0,
  kFieldVersion = 8,
  kFieldClusterBits = 12,
  kFieldVirtualSize = 16,
  kFieldTableOffset = 24,
  kFieldTableEntries = 32,
  kFieldDataOffset = 40,
  kFieldBaseSize = 48,
  kFieldBaseHash = 56,
  kFieldBaseMtime = 64,
  kFieldBaseDev = 72,
  kFieldBaseIno = 80,
  kFieldBasePathLen = 88,
  kFieldFlags = 92,
  kFieldHeaderHash = 96,
  kFieldBasePath = 256,
};

// What ties an overlay to its base. size and hash decide; the rest is for messages.
struct BaseIdentity {
  uint64_t size = 0;
  uint64_t hash = 0;  // FNV-1a over the size and sampled contents (docs/overlay.md)
  uint64_t mtime_ns = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
  std::string path;  // absolute when known
};

struct Header {
  uint32_t cluster_bits = kDefaultClusterBits;
  uint64_t virtual_size = 0;
  uint64_t table_offset = kHeaderSize;
  uint64_t table_entries = 0;
  uint64_t data_offset = 0;
  BaseIdentity base;

  uint64_t cluster_size() const { return uint64_t{1} << cluster_bits; }
  // A fresh header for `base` (virtual size = base size).
  static Header for_base(const BaseIdentity& base, uint32_t cluster_bits = kDefaultClusterBits);
  std::vector<uint8_t> encode() const;
  // Checks everything that does not need the file size or the base; errors name `path`.
  static Result<Header> decode(const uint8_t* buf, uint64_t len, const std::string& path);
};

uint64_t fnv1a(uint64_t hash, const void* data, size_t len);
inline constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;

// Reads the samples of the base that its identity hash covers.
Result<BaseIdentity> identify_base(int fd, const std::string& path, uint64_t size);

// Writes a new, empty overlay for `base` under a temporary name next to `path` and renames
// it into place; fails (leaving nothing behind) if `path` exists.
Result<void> create(const std::string& path, const BaseIdentity& base,
                    uint32_t cluster_bits = kDefaultClusterBits);

// Opens an existing overlay file (already opened and locked as `ovl`) over `base`. A
// temporary overlay (--snapshot; its file already unlinked) can be written back into a base
// opened for writing: BlockBackend::commit().
Result<std::unique_ptr<BlockBackend>> open(UniqueFd base, const BaseIdentity& base_id, UniqueFd ovl,
                                           const std::string& ovl_path, bool read_only,
                                           std::unique_ptr<IoEngine> engine,
                                           bool temporary = false);

}  // namespace vessel::block::overlay
