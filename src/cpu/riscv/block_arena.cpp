#include "cpu/riscv/block_arena.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <fstream>
#include <new>
#include <string>

#include "base/prefaulted.hpp"
#include "base/sanitizer.hpp"

// Under AddressSanitizer the arena tells it which bytes are handed out, so that a read past a
// block's end, or of a freed block, is reported as it would be from the heap.
#if VESSEL_ASAN
#include <sanitizer/asan_interface.h>
#define VESSEL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define VESSEL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define VESSEL_POISON(p, n) static_cast<void>(0)
#define VESSEL_UNPOISON(p, n) static_cast<void>(0)
#endif

namespace vessel::rv {

namespace {

// Transparent huge pages for memory that asks (madvise) or for all of it (always); the
// bracketed word of the sysfs file is the mode in force.
bool huge_pages_on_request() {
  static const bool on = [] {
    std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string modes;
    std::getline(in, modes);
    return modes.find("[always]") != std::string::npos ||
           modes.find("[madvise]") != std::string::npos;
  }();
  return on;
}

// A huge chunk: reserve twice its size and keep the aligned half, as a huge page must be.
void* map_huge_chunk() {
  const size_t reserve = 2 * BlockArena::kHugeChunk;
  void* p = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (start + BlockArena::kHugeChunk - 1) & ~(BlockArena::kHugeChunk - 1);
  if (aligned > start) munmap(p, aligned - start);
  const uintptr_t end = aligned + BlockArena::kHugeChunk;
  if (start + reserve > end) munmap(reinterpret_cast<void*>(end), start + reserve - end);
  // Advice only: refused or not granted, the chunk is ordinary memory.
  madvise(reinterpret_cast<void*>(aligned), BlockArena::kHugeChunk, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

// Chunks of arenas that went, touched already, for the next arena: four huge chunks' worth.
// Never destroyed: a code cache may go with a static destructor at exit.
KeptMappings& g_kept = *new KeptMappings(4 * BlockArena::kHugeChunk);

void* map_chunk(size_t bytes) {
  if (void* kept = g_kept.take(bytes)) return kept;
  return bytes == BlockArena::kHugeChunk ? map_huge_chunk() : map_populated(bytes);
}

void unmap_chunk(void* chunk, size_t bytes) {
  if (!g_kept.keep(chunk, bytes)) munmap(chunk, bytes);
}

}  // namespace

void BlockArena::warm() {
  const size_t bytes = huge_pages_on_request() ? kHugeChunk : kSmallChunk;
  if (!g_kept.has_room(bytes)) return;
  auto* chunk = static_cast<volatile uint8_t*>(map_chunk(bytes));
  if (chunk == nullptr) return;
  for (size_t i = 0; i < bytes; i += 4096) chunk[i] = 0;
  unmap_chunk(const_cast<uint8_t*>(chunk), bytes);
}

BlockArena::BlockArena() : BlockArena(huge_pages_on_request() ? Chunks::kHuge : Chunks::kSmall) {}

BlockArena::BlockArena(Chunks chunks)
    : chunk_bytes_(chunks == Chunks::kHuge ? kHugeChunk : kSmallChunk) {}

BlockArena::~BlockArena() {
  for (void* chunk : chunks_) {
    VESSEL_UNPOISON(chunk, chunk_bytes_);
    unmap_chunk(chunk, chunk_bytes_);
  }
}

void BlockArena::new_chunk() {
  void* chunk = map_chunk(chunk_bytes_);
  if (chunk == nullptr) throw std::bad_alloc();
  chunks_.push_back(chunk);
  VESSEL_POISON(chunk, chunk_bytes_);
  bump_ = static_cast<uint8_t*>(chunk);
  bump_end_ = bump_ + chunk_bytes_;
}

void* BlockArena::allocate(size_t bytes) {
  if (bytes > kMaxBytes) return ::operator new (bytes, std::align_val_t{kGranule});
  const size_t cls = class_of(bytes);
  if (FreeNode* node = free_[cls]) {
    VESSEL_UNPOISON(node, sizeof(FreeNode));
    free_[cls] = node->next;
    VESSEL_POISON(node, cls * kGranule);
    VESSEL_UNPOISON(node, bytes);
    return node;
  }
  const size_t size = cls * kGranule;
  // The rest of a chunk too small for this request is left unused: less than kMaxBytes.
  if (bump_ == nullptr || static_cast<size_t>(bump_end_ - bump_) < size) new_chunk();
  void* p = bump_;
  bump_ += size;
  VESSEL_UNPOISON(p, bytes);
  return p;
}

void BlockArena::deallocate(void* p, size_t bytes) {
  if (p == nullptr) return;
  if (bytes > kMaxBytes) {
    ::operator delete (p, std::align_val_t{kGranule});
    return;
  }
  const size_t cls = class_of(bytes);
  VESSEL_UNPOISON(p, sizeof(FreeNode));
  free_[cls] = new (p) FreeNode{free_[cls]};
  // The link stays readable to the arena only: poisoned again, it is unpoisoned around use.
  VESSEL_POISON(p, cls * kGranule);
}

}  // namespace vessel::rv
