// Prefaulted memory: kept mappings are bounded and handed back only for their own size, and a
// reused block comes back zeroed, as a fresh mapping would.
#include "base/prefaulted.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace vessel {
namespace {

TEST(KeptMappings, GivesBackOnlyTheSizeKeptAndOnlyOnce) {
  KeptMappings kept(1 << 20);
  void* a = map_populated(4096);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(kept.keep(a, 4096));
  EXPECT_EQ(kept.take(8192), nullptr);
  EXPECT_EQ(kept.take(4096), a);
  EXPECT_EQ(kept.take(4096), nullptr);
  munmap(a, 4096);
}

TEST(KeptMappings, RefusesPastItsBytesAndItsSlots) {
  KeptMappings kept(3 * 4096);
  EXPECT_TRUE(kept.has_room(3 * 4096));
  EXPECT_FALSE(kept.has_room(4 * 4096));
  void* big = map_populated(2 * 4096);
  void* small = map_populated(2 * 4096);
  ASSERT_NE(big, nullptr);
  ASSERT_NE(small, nullptr);
  ASSERT_TRUE(kept.keep(big, 2 * 4096));
  EXPECT_FALSE(kept.has_room(2 * 4096));
  EXPECT_FALSE(kept.keep(small, 2 * 4096));  // 4 pages would pass the bound of 3
  EXPECT_EQ(kept.take(2 * 4096), big);
  EXPECT_TRUE(kept.keep(small, 2 * 4096));  // taking gave the bytes back
  EXPECT_EQ(kept.take(2 * 4096), small);
  munmap(big, 2 * 4096);
  munmap(small, 2 * 4096);

  // Slots run out before bytes do for many small mappings.
  KeptMappings many(1 << 30);
  std::vector<void*> pages;
  size_t kept_count = 0;
  for (int i = 0; i < 40; ++i) {
    void* p = map_populated(4096);
    ASSERT_NE(p, nullptr);
    if (many.keep(p, 4096)) {
      ++kept_count;
    } else {
      EXPECT_FALSE(many.has_room(4096));
    }
    pages.push_back(p);
  }
  EXPECT_GT(kept_count, 0u);
  EXPECT_LT(kept_count, 40u);
  for (void* p : pages) munmap(p, 4096);
}

TEST(Prefaulted, AReusedBufferComesBackZeroed) {
  constexpr size_t kBytes = 3 * 4096 + 128;  // a size nothing else in the process asks for
  Prefaulted::warm(kBytes);
  for (int round = 0; round < 3; ++round) {
    PrefaultedBuffer b(kBytes);
    ASSERT_EQ(b.size(), kBytes);
    ASSERT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 4096, 0u);
    for (size_t i = 0; i < kBytes; ++i)
      ASSERT_EQ(b.data()[i], 0) << "round " << round << " byte " << i;
    std::memset(b.data(), 0xa5, kBytes);  // what the next round must not see
  }
}

}  // namespace
}  // namespace vessel
