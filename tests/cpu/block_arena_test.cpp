// The code cache's block arena: alignment, no overlap between live blocks, reuse of freed
// blocks by size class, and requests beyond the classes.
#include "cpu/riscv/block_arena.hpp"

#include "base/sanitizer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

namespace vessel::rv {
namespace {

// Both kinds of chunk: huge pages where the host offers them, populated small chunks where not
// (the host running the tests decides only which the default is).
class BlockArenaTest : public ::testing::TestWithParam<BlockArena::Chunks> {};
INSTANTIATE_TEST_SUITE_P(Chunks, BlockArenaTest,
                         ::testing::Values(BlockArena::Chunks::kHuge, BlockArena::Chunks::kSmall));

TEST_P(BlockArenaTest, BlocksAreAlignedAndDoNotOverlap) {
  BlockArena arena(GetParam());
  struct Live {
    uint8_t* p;
    size_t bytes;
    uint8_t fill;
  };
  std::vector<Live> live;
  // More than one chunk's worth, of every size a block can have (header + 1..64 instructions)
  // and some odd ones.
  size_t total = 0;
  for (unsigned i = 0; total < 3 * arena.chunk_bytes(); ++i) {
    const size_t bytes = 64 + (i % 64 + 1) * 32 + (i % 7);
    auto* p = static_cast<uint8_t*>(arena.allocate(bytes));
    ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % BlockArena::kGranule, 0u) << bytes;
    const auto fill = static_cast<uint8_t>(i);
    std::memset(p, fill, bytes);
    live.push_back({p, bytes, fill});
    total += bytes;
  }
  EXPECT_GE(arena.chunks(), 3u);
  EXPECT_EQ(arena.chunk_bytes(), GetParam() == BlockArena::Chunks::kHuge ? BlockArena::kHugeChunk
                                                                         : BlockArena::kSmallChunk);
  for (const Live& l : live) {
    for (size_t k = 0; k < l.bytes; ++k) ASSERT_EQ(l.p[k], l.fill) << "a later block overwrote one";
  }
  for (const Live& l : live) arena.deallocate(l.p, l.bytes);
}

TEST_P(BlockArenaTest, AFreedBlockIsReusedForItsSizeClassOnly) {
  BlockArena arena(GetParam());
  void* a = arena.allocate(64 + 10 * 32);
  void* b = arena.allocate(64 + 10 * 32);
  EXPECT_NE(a, b);
  arena.deallocate(a, 64 + 10 * 32);
  // Another size class does not get it...
  void* c = arena.allocate(64 + 40 * 32);
  EXPECT_NE(c, a);
  // ...a request rounding to the same 64-byte class does, without a new chunk.
  const size_t chunks = arena.chunks();
  void* d = arena.allocate(64 + 10 * 32 - 20);
  EXPECT_EQ(d, a);
  EXPECT_EQ(arena.chunks(), chunks);
  arena.deallocate(b, 64 + 10 * 32);
  arena.deallocate(c, 64 + 40 * 32);
  arena.deallocate(d, 64 + 10 * 32 - 20);
}

TEST_P(BlockArenaTest, RequestsBeyondTheClassesComeFromTheHeap) {
  BlockArena arena(GetParam());
  const size_t big = BlockArena::kMaxBytes + 1;
  auto* p = static_cast<uint8_t*>(arena.allocate(big));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % BlockArena::kGranule, 0u);
  std::memset(p, 0xa5, big);
  EXPECT_EQ(arena.chunks(), 0u) << "a large block took a chunk";
  arena.deallocate(p, big);
  arena.deallocate(nullptr, 100);  // as operator delete would, nothing
}

// In a sanitized build the arena's memory is poisoned but for the blocks handed out: a read
// past a block's end, or of a freed block, is an error as it would be from the heap.
#if VESSEL_ASAN
TEST(BlockArenaDeathTest, ReadsPastABlockOrOfAFreedOneAreReported) {
  BlockArena arena;
  auto* p = static_cast<volatile uint8_t*>(arena.allocate(100));
  p[99] = 1;
  EXPECT_DEATH(static_cast<void>(p[100]), "use-after-poison");
  arena.deallocate(const_cast<uint8_t*>(p), 100);
  EXPECT_DEATH(static_cast<void>(p[50]), "use-after-poison");
}
#endif

}  // namespace
}  // namespace vessel::rv
