// Memory for one code cache's decoded blocks (code_cache.hpp): 64-byte size classes carved
// from large chunks of the arena's own.
//
// Why not the C library's heap: a restored or freshly booted guest runs a thousand or more
// blocks it has never run before, and the heap met each new page of them with a page fault.
// Where the host's kernel is itself virtualised (this project's CI machines), a fault and the
// first touch of a new page cost 10-20 us, which made allocation half the cost of building a
// block (docs/snapshot.md has the figures). A chunk is 2 MiB, aligned, and asks for a
// transparent huge page, so one fault backs all of it; where the host offers none, chunks are
// 256 KiB mapped with MAP_POPULATE, which backs them in one call.
//
// One cache belongs to one hart's thread, so the arena takes no lock. Freed blocks go back to
// their class's free list; chunks are returned only when the arena goes, and then kept, up to
// a few, for the next arena of the process (a reboot's). The first touch of a huge chunk makes
// the kernel clear 2 MiB, which took 3 ms on a virtualised host; warm() pays that before a
// machine is asked for (vessel run --api-sock waiting for its request), not on a hart's way
// to a restored guest's first reply.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vessel::rv {

class BlockArena {
 public:
  static constexpr size_t kGranule = 64;     // a Block header's alignment and size
  static constexpr size_t kMaxBytes = 4096;  // larger requests go to operator new
  static constexpr size_t kHugeChunk = 2 << 20;
  static constexpr size_t kSmallChunk = 256 << 10;

  enum class Chunks { kHuge, kSmall };
  // Whether chunks are huge pages is decided here, on the thread that builds the machine: the
  // answer is a file in /sys, which a hart's thread may not open.
  BlockArena();
  explicit BlockArena(Chunks chunks);
  ~BlockArena();
  BlockArena(const BlockArena&) = delete;
  BlockArena& operator=(const BlockArena&) = delete;

  // Maps a chunk as the next arena built on this host would, touches it, and keeps it for
  // that arena.
  static void warm();

  // `bytes` of memory aligned to kGranule; never null (std::bad_alloc as operator new would).
  void* allocate(size_t bytes);
  // Gives back what allocate(bytes) returned, with the same `bytes`.
  void deallocate(void* p, size_t bytes);

  size_t chunk_bytes() const { return chunk_bytes_; }
  size_t chunks() const { return chunks_.size(); }

 private:
  struct FreeNode {
    FreeNode* next;
  };
  static size_t class_of(size_t bytes) { return (bytes + kGranule - 1) / kGranule; }
  void new_chunk();

  std::array<FreeNode*, kMaxBytes / kGranule + 1> free_{};
  std::vector<void*> chunks_;  // each chunk_bytes_ long
  size_t chunk_bytes_ = kSmallChunk;
  uint8_t* bump_ = nullptr;
  uint8_t* bump_end_ = nullptr;
};

}  // namespace vessel::rv
