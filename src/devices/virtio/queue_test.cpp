#include "devices/virtio/queue.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "devices/virtio/test_support.hpp"

namespace vessel::virtio {
namespace {

using testing::DriverQueue;
using testing::GuestRam;

constexpr uint16_t kSize = 16;

std::vector<uint8_t> pattern(size_t n, uint8_t seed = 0) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(q.configure(ram.mem, drv.config(), false, true)); }
  // Reconfigure with other negotiated features.
  void features(bool event_idx, bool indirect) {
    ASSERT_TRUE(q.configure(ram.mem, drv.config(), event_idx, indirect));
  }
  // Pops the chain the test published: must fail, with an error naming `why`.
  void expect_malformed(const std::string& why) {
    const std::string& what = why;
    EXPECT_FALSE(q.pop().has_value()) << what;
    EXPECT_TRUE(q.failed()) << what;
    EXPECT_NE(q.error().find(why), std::string::npos) << q.error();
    // Sticky: nothing more comes out of a failed queue.
    drv.publish(drv.chain({{drv.alloc(8), 8}}, {}));
    EXPECT_FALSE(q.pop().has_value()) << what;
  }

  GuestRam ram;
  DriverQueue drv{ram, kSize};
  Virtqueue q;
};

TEST_F(QueueTest, EmptyRing) {
  EXPECT_TRUE(q.ready());
  EXPECT_EQ(q.size(), kSize);
  EXPECT_FALSE(q.pop().has_value());
  EXPECT_FALSE(q.failed());
}

TEST_F(QueueTest, SingleDescriptor) {
  const auto data = pattern(100);
  const uint64_t buf = drv.alloc(100, data.data());
  const uint16_t head = drv.chain({{buf, 100}}, {});
  drv.publish(head);

  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(chain->head, head);
  ASSERT_EQ(chain->readable.size(), 1U);
  EXPECT_TRUE(chain->writable.empty());
  EXPECT_EQ(chain->readable[0].addr, buf);
  EXPECT_EQ(chain->readable_bytes(), 100U);
  EXPECT_EQ(chain->writable_bytes(), 0U);
  ChainReader r(ram.mem, *chain);
  std::vector<uint8_t> got(100);
  EXPECT_TRUE(r.read_exact(got.data(), got.size()));
  EXPECT_EQ(got, data);
  EXPECT_EQ(r.remaining(), 0U);
  EXPECT_EQ(r.read(got.data(), 1), 0U);

  EXPECT_FALSE(q.pop().has_value());
  q.push_used(chain->head, 0);
  EXPECT_EQ(drv.used_idx(), 1);
  EXPECT_EQ(drv.used(0), std::make_pair(uint32_t{head}, 0U));
}

// A device that may not serve a chain yet (a rate limiter) puts it back; it comes again first.
TEST_F(QueueTest, UndoPop) {
  const uint64_t a = drv.alloc(16), b = drv.alloc(16);
  const uint16_t first = drv.chain({}, {{a, 16}});
  drv.publish(first);
  const uint16_t second = drv.chain({}, {{b, 16}});
  drv.publish(second);
  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  q.undo_pop();
  EXPECT_EQ(q.last_avail(), 0);
  chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(chain->head, first);
  chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(chain->head, second);
  EXPECT_FALSE(q.pop().has_value());
}

TEST_F(QueueTest, ChainAcrossSegments) {
  // Three readable segments of odd sizes, then two writable.
  const auto data = pattern(7 + 1 + 13, 3);
  const uint64_t r0 = drv.alloc(7, data.data());
  const uint64_t r1 = drv.alloc(1, data.data() + 7);
  const uint64_t r2 = drv.alloc(13, data.data() + 8);
  const uint64_t w0 = drv.alloc(5), w1 = drv.alloc(11);
  drv.publish(drv.chain({{r0, 7}, {r1, 1}, {r2, 13}}, {{w0, 5}, {w1, 11}}));

  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  ASSERT_EQ(chain->readable.size(), 3U);
  ASSERT_EQ(chain->writable.size(), 2U);
  EXPECT_TRUE(chain->writable[0].device_writable);
  EXPECT_FALSE(chain->readable[2].device_writable);
  EXPECT_EQ(chain->readable_bytes(), 21U);
  EXPECT_EQ(chain->writable_bytes(), 16U);

  ChainReader r(ram.mem, *chain);
  uint8_t a[5], b[4];
  ASSERT_TRUE(r.read_exact(a, 5));
  EXPECT_TRUE(r.skip(4));  // crosses 7|1|13
  ASSERT_TRUE(r.read_exact(b, 4));
  EXPECT_EQ(std::vector<uint8_t>(a, a + 5), std::vector<uint8_t>(data.begin(), data.begin() + 5));
  EXPECT_EQ(std::vector<uint8_t>(b, b + 4),
            std::vector<uint8_t>(data.begin() + 9, data.begin() + 13));
  EXPECT_EQ(r.remaining(), 8U);
  EXPECT_FALSE(r.skip(9));
  uint8_t rest[32];
  EXPECT_EQ(r.read(rest, sizeof rest), 8U);  // short read at the end

  ChainWriter w(ram.mem, *chain);
  const auto out = pattern(20, 9);
  EXPECT_EQ(w.remaining(), 16U);
  EXPECT_EQ(w.write(out.data(), 3), 3U);
  EXPECT_EQ(w.write(out.data() + 3, 17), 13U);  // only 13 more fit
  EXPECT_EQ(w.written(), 16U);
  EXPECT_EQ(w.remaining(), 0U);
  EXPECT_FALSE(w.write_exact(out.data(), 1));
  EXPECT_EQ(ram.bytes(w0, 5), std::vector<uint8_t>(out.begin(), out.begin() + 5));
  EXPECT_EQ(ram.bytes(w1, 11), std::vector<uint8_t>(out.begin() + 5, out.begin() + 16));

  q.push_used(chain->head, static_cast<uint32_t>(w.written()));
  EXPECT_EQ(drv.used(0).second, 16U);
}

TEST_F(QueueTest, WritesAreReportedToTheCodeCache) {
  std::vector<std::pair<uint64_t, uint64_t>> seen;
  ram.bus.set_write_observer([&](uint64_t host, uint64_t len) { seen.emplace_back(host, len); });
  const uint64_t w = drv.alloc(8);
  drv.publish(drv.chain({}, {{w, 8}}));
  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  ChainWriter cw(ram.mem, *chain);
  const uint64_t v = 0x1122334455667788ULL;
  ASSERT_TRUE(cw.write_exact(&v, 8));
  const auto host = reinterpret_cast<uint64_t>(ram.host(w));
  EXPECT_NE(std::find(seen.begin(), seen.end(), std::make_pair(host, uint64_t{8})), seen.end());
  seen.clear();
  q.push_used(chain->head, 8);
  const auto used_idx_host = reinterpret_cast<uint64_t>(ram.host(drv.used_addr() + 2));
  EXPECT_NE(std::find(seen.begin(), seen.end(), std::make_pair(used_idx_host, uint64_t{2})),
            seen.end());
  seen.clear();
  EXPECT_TRUE(ram.mem.write(w, &v, 4));
  EXPECT_EQ(seen.size(), 1U);
}

TEST_F(QueueTest, ManyChainsInOrderAndRingWrap) {
  // More chains than the ring holds, consumed as they come: indexes wrap around the ring.
  for (int round = 0; round < 5 * kSize; ++round) {
    const uint64_t b = drv.alloc(4);
    ram.set<uint32_t>(b, static_cast<uint32_t>(round));
    drv.publish(drv.chain({{b, 4}}, {}));
    auto chain = q.pop();
    ASSERT_TRUE(chain.has_value()) << round;
    uint32_t v = 0;
    ChainReader r(ram.mem, *chain);
    ASSERT_TRUE(r.read_exact(&v, 4));
    EXPECT_EQ(v, static_cast<uint32_t>(round));
    q.push_used(chain->head, 0);
  }
  EXPECT_EQ(drv.used_idx(), 5 * kSize);
  EXPECT_FALSE(q.failed());
}

TEST_F(QueueTest, ZeroLengthDescriptorIsSkipped) {
  const uint64_t b = drv.alloc(4);
  drv.set_desc(0, 0xdead0000, 0, kDescNext, 1);  // no bytes: its address is never used
  drv.set_desc(1, b, 4, kDescWrite, 0);
  drv.publish(0);
  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  EXPECT_TRUE(chain->readable.empty());
  ASSERT_EQ(chain->writable.size(), 1U);
}

TEST_F(QueueTest, IndirectTable) {
  const auto data = pattern(24);
  const uint64_t r0 = drv.alloc(24, data.data()), w0 = drv.alloc(32);
  const uint64_t table = drv.alloc(3 * 16);
  drv.set_desc(0, r0, 10, kDescNext, 2, table);  // entries in any order
  drv.set_desc(2, r0 + 10, 14, kDescNext, 1, table);
  drv.set_desc(1, w0, 32, kDescWrite, 0, table);
  drv.set_desc(5, table, 3 * 16, kDescIndirect, 0);
  drv.publish(5);

  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value()) << q.error();
  EXPECT_EQ(chain->head, 5);
  EXPECT_EQ(chain->readable.size(), 2U);
  EXPECT_EQ(chain->writable.size(), 1U);
  ChainReader r(ram.mem, *chain);
  std::vector<uint8_t> got(24);
  ASSERT_TRUE(r.read_exact(got.data(), 24));
  EXPECT_EQ(got, data);
}

TEST_F(QueueTest, DirectThenIndirect) {
  const uint64_t r0 = drv.alloc(8), w0 = drv.alloc(8), table = drv.alloc(16);
  drv.set_desc(0, w0, 8, kDescWrite, 0, table);
  drv.set_desc(0, r0, 8, kDescNext, 1);
  drv.set_desc(1, table, 16, kDescIndirect, 0);
  drv.publish(0);
  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value()) << q.error();
  EXPECT_EQ(chain->readable.size(), 1U);
  EXPECT_EQ(chain->writable.size(), 1U);
}

// --- malformed chains: each stops the queue without touching memory it should not --------

TEST_F(QueueTest, HeadIndexOutOfRange) {
  drv.publish(kSize);
  expect_malformed("index 16 out of range");
}

TEST_F(QueueTest, NextIndexOutOfRange) {
  drv.set_desc(0, drv.alloc(8), 8, kDescNext, 0xffff);
  drv.publish(0);
  expect_malformed("index 65535 out of range");
}

TEST_F(QueueTest, AddressOutsideRam) {
  drv.set_desc(0, 0x1000, 8, 0, 0);
  drv.publish(0);
  expect_malformed("outside guest memory");
}

TEST_F(QueueTest, BufferStraddlesEndOfRam) {
  drv.set_desc(0, GuestRam::kBase + ram.size() - 4, 8, kDescWrite, 0);
  drv.publish(0);
  expect_malformed("outside guest memory");
}

TEST_F(QueueTest, AddressPlusLengthOverflows) {
  drv.set_desc(0, ~0ULL - 7, 0x100, 0, 0);
  drv.publish(0);
  expect_malformed("outside guest memory");
}

TEST_F(QueueTest, DescriptorLoop) {
  const uint64_t b = drv.alloc(8);
  drv.set_desc(0, b, 8, kDescNext, 1);
  drv.set_desc(1, b, 8, kDescNext, 2);
  drv.set_desc(2, b, 8, kDescNext, 0);
  drv.publish(0);
  expect_malformed("loops");
}

TEST_F(QueueTest, SelfLoop) {
  drv.set_desc(3, drv.alloc(8), 8, kDescNext, 3);
  drv.publish(3);
  expect_malformed("loops");
}

TEST_F(QueueTest, ReadableAfterWritable) {
  const uint64_t b = drv.alloc(8);
  drv.set_desc(0, b, 8, kDescWrite | kDescNext, 1);
  drv.set_desc(1, b, 8, 0, 0);
  drv.publish(0);
  expect_malformed("readable descriptor after");
}

TEST_F(QueueTest, IndirectWithoutFeature) {
  features(false, false);
  const uint64_t table = drv.alloc(16);
  drv.set_desc(0, drv.alloc(8), 8, 0, 0, table);
  drv.set_desc(0, table, 16, kDescIndirect, 0);
  drv.publish(0);
  expect_malformed("without VIRTIO_F_INDIRECT_DESC");
}

TEST_F(QueueTest, NestedIndirect) {
  const uint64_t inner = drv.alloc(16), outer = drv.alloc(16);
  drv.set_desc(0, drv.alloc(8), 8, 0, 0, inner);
  drv.set_desc(0, inner, 16, kDescIndirect, 0, outer);
  drv.set_desc(0, outer, 16, kDescIndirect, 0);
  drv.publish(0);
  expect_malformed("inside an indirect table");
}

TEST_F(QueueTest, IndirectWithNext) {
  const uint64_t table = drv.alloc(16);
  drv.set_desc(0, drv.alloc(8), 8, 0, 0, table);
  drv.set_desc(0, table, 16, kDescIndirect | kDescNext, 1);
  drv.set_desc(1, drv.alloc(8), 8, 0, 0);
  drv.publish(0);
  expect_malformed("with NEXT");
}

TEST_F(QueueTest, IndirectBadLength) {
  const uint64_t table = drv.alloc(32);
  drv.set_desc(0, drv.alloc(8), 8, 0, 0, table);
  drv.set_desc(0, table, 17, kDescIndirect, 0);
  drv.publish(0);
  expect_malformed("length 17");
}

TEST_F(QueueTest, IndirectEmpty) {
  drv.set_desc(0, drv.alloc(16), 0, kDescIndirect, 0);
  drv.publish(0);
  expect_malformed("length 0");
}

TEST_F(QueueTest, IndirectTableOutsideRam) {
  drv.set_desc(0, GuestRam::kBase + ram.size() - 16, 32, kDescIndirect, 0);
  drv.publish(0);
  expect_malformed("indirect table outside");
}

TEST_F(QueueTest, IndirectLoop) {
  const uint64_t table = drv.alloc(2 * 16), b = drv.alloc(8);
  drv.set_desc(0, b, 8, kDescNext, 1, table);
  drv.set_desc(1, b, 8, kDescNext, 0, table);
  drv.set_desc(0, table, 2 * 16, kDescIndirect, 0);
  drv.publish(0);
  expect_malformed("loops");
}

TEST_F(QueueTest, IndirectNextOutOfRange) {
  // The table has 2 entries; next = 2 would read past it.
  const uint64_t table = drv.alloc(2 * 16), b = drv.alloc(8);
  drv.set_desc(0, b, 8, kDescNext, 2, table);
  drv.set_desc(0, table, 2 * 16, kDescIndirect, 0);
  drv.publish(0);
  expect_malformed("in indirect table");
}

TEST_F(QueueTest, AvailIndexJump) {
  drv.set_desc(0, drv.alloc(8), 8, 0, 0);
  drv.set_avail_idx(kSize + 1);
  EXPECT_FALSE(q.pop().has_value());
  EXPECT_TRUE(q.failed());
  EXPECT_NE(q.error().find("avail idx"), std::string::npos) << q.error();
}

TEST_F(QueueTest, FailureClearedByReconfigure) {
  drv.publish(kSize);
  EXPECT_FALSE(q.pop().has_value());
  ASSERT_TRUE(q.failed());
  q.reset();
  EXPECT_FALSE(q.ready());
  EXPECT_FALSE(q.failed());
  EXPECT_FALSE(q.pop().has_value());
}

TEST(QueueChainLength, TotalLengthOverflow) {
  // Two 2 GiB buffers inside a 4 GiB region (reserved, never touched): the sum does not fit
  // the used ring's 32-bit length.
  constexpr uint64_t kBig = 1ULL << 32;
  void* p = mmap(nullptr, kBig, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  {
    Bus bus;
    ASSERT_TRUE(bus.add_memory({kBig, kBig, static_cast<uint8_t*>(p), true, "big"}).ok());
    GuestMemory mem(bus);
    auto* host = static_cast<uint8_t*>(p);
    auto desc = [&](unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
      store_le<uint64_t>(host + 16 * i, addr);
      store_le<uint32_t>(host + 16 * i + 8, len);
      store_le<uint16_t>(host + 16 * i + 12, flags);
      store_le<uint16_t>(host + 16 * i + 14, next);
    };
    desc(0, kBig, 0x80000000U, kDescNext, 1);
    desc(1, kBig + 0x80000000U, 0x80000000U, kDescWrite, 0);
    store_le<uint16_t>(host + 0x100 + 4, 0);  // avail ring[0] = 0
    store_le<uint16_t>(host + 0x100 + 2, 1);  // avail idx
    Virtqueue q;
    ASSERT_TRUE(q.configure(mem, {2, kBig, kBig + 0x100, kBig + 0x200, true}, false));
    EXPECT_FALSE(q.pop().has_value());
    EXPECT_TRUE(q.failed());
    EXPECT_NE(q.error().find("overflow"), std::string::npos) << q.error();
  }
  munmap(p, kBig);
}

// --- configuration -------------------------------------------------------------------------

TEST(QueueConfigure, RejectsBadLayouts) {
  GuestRam ram;
  DriverQueue drv(ram, 16);
  std::vector<uint8_t> rom(0x4000);
  ASSERT_TRUE(ram.bus.add_memory({0x1000, rom.size(), rom.data(), false, "rom"}).ok());
  Virtqueue q;
  auto bad = [&](Virtqueue::Config c, const char* what) {
    EXPECT_FALSE(q.configure(ram.mem, c, true)) << what;
    EXPECT_FALSE(q.ready()) << what;
  };
  const auto good = drv.config();
  ASSERT_TRUE(q.configure(ram.mem, good, true));
  auto c = good;
  c.size = 0;
  bad(c, "size 0");
  c.size = 12;
  bad(c, "size 12");
  c = good;
  c.desc += 8;
  bad(c, "desc alignment");
  c = good;
  c.avail += 1;
  bad(c, "avail alignment");
  c = good;
  c.used += 2;
  bad(c, "used alignment");
  c = good;
  c.used = GuestRam::kBase + ram.size() - 64;
  bad(c, "used ring past RAM");
  c = good;
  c.used = 0x1000;
  bad(c, "used ring in ROM");
  c = good;
  c.desc = 0x40000000;
  bad(c, "desc outside memory");
  // The event fields count: without EVENT_IDX, the used ring may end 2 bytes earlier.
  c = good;
  c.used = GuestRam::kBase + ram.size() - (4 + 8 * 16);
  EXPECT_TRUE(q.configure(ram.mem, c, false));
  EXPECT_FALSE(q.configure(ram.mem, c, true));
  // Descriptors and avail ring may be read-only.
  c = good;
  c.desc = 0x1000;
  c.avail = 0x2000;
  EXPECT_TRUE(q.configure(ram.mem, c, true));
}

TEST(QueueConfigure, LargestQueue) {
  GuestRam ram(4 << 20);
  DriverQueue drv(ram, Virtqueue::kMaxSize);
  Virtqueue q;
  EXPECT_TRUE(q.configure(ram.mem, drv.config(), true, true));
  EXPECT_EQ(q.size(), Virtqueue::kMaxSize);
  // A chain as long as the queue is legal; one more link is a loop.
  const uint64_t b = drv.alloc(1);
  for (uint32_t i = 0; i < Virtqueue::kMaxSize; ++i) {
    const bool last = i + 1 == Virtqueue::kMaxSize;
    drv.set_desc(static_cast<uint16_t>(i), b, 1, last ? 0 : kDescNext,
                 static_cast<uint16_t>(i + 1));
  }
  drv.publish(0);
  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value()) << q.error();
  EXPECT_EQ(chain->readable.size(), Virtqueue::kMaxSize);
}

// --- interrupt suppression -----------------------------------------------------------------

TEST_F(QueueTest, NoInterruptFlag) {
  EXPECT_FALSE(q.needs_interrupt());  // nothing pushed
  drv.publish(drv.chain({{drv.alloc(4), 4}}, {}));
  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  drv.set_avail_flags(kAvailNoInterrupt);
  q.push_used(chain->head, 0);
  EXPECT_FALSE(q.needs_interrupt());
  drv.set_avail_flags(0);
  EXPECT_FALSE(q.needs_interrupt());  // nothing new since the last decision
  drv.publish(drv.chain({{drv.alloc(4), 4}}, {}));
  chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  q.push_used(chain->head, 0);
  EXPECT_TRUE(q.needs_interrupt());
  EXPECT_FALSE(q.needs_interrupt());
  EXPECT_EQ(drv.used_flags(), 0);  // we never ask the driver not to notify
}

TEST_F(QueueTest, EventIdxUsedEvent) {
  features(true, false);
  for (int i = 0; i < 4; ++i) drv.publish(drv.chain({{drv.alloc(4), 4}}, {}));
  std::vector<uint16_t> heads;
  while (auto c = q.pop()) heads.push_back(c->head);
  ASSERT_EQ(heads.size(), 4U);
  // The driver wants an interrupt once used idx passes 2 (used_event = 2 means "after the
  // entry with index 2 is used", i.e. when idx goes from <= 2 to > 2).
  drv.set_used_event(2);
  q.push_used(heads[0], 0);
  q.push_used(heads[1], 0);
  EXPECT_FALSE(q.needs_interrupt());  // idx 0 -> 2
  q.push_used(heads[2], 0);
  EXPECT_TRUE(q.needs_interrupt());  // idx 2 -> 3 crosses
  q.push_used(heads[3], 0);
  EXPECT_FALSE(q.needs_interrupt());  // 3 -> 4, event 2 already passed
  // The flag is ignored with EVENT_IDX.
  drv.set_avail_flags(kAvailNoInterrupt);
  drv.set_used_event(4);
  drv.publish(drv.chain({{drv.alloc(4), 4}}, {}));
  auto c = q.pop();
  ASSERT_TRUE(c.has_value());
  q.push_used(c->head, 0);
  EXPECT_TRUE(q.needs_interrupt());
}

TEST_F(QueueTest, EventIdxWrapAround) {
  features(true, false);
  // Positions just before the 16-bit wrap, as after 65534 requests.
  q.set_positions(65534, 65534, 65534);
  drv.set_avail_idx(65534);
  const uint64_t b = drv.alloc(4);
  for (int i = 0; i < 3; ++i) drv.publish(drv.chain({{b, 4}}, {}));  // avail idx -> 1
  std::vector<uint16_t> heads;
  while (auto c = q.pop()) heads.push_back(c->head);
  ASSERT_EQ(heads.size(), 3U) << q.error();
  EXPECT_FALSE(q.failed());
  EXPECT_EQ(q.last_avail(), 1);
  EXPECT_EQ(drv.avail_event(), 1);  // next entry we will look at, after the wrap

  drv.set_used_event(65535);
  q.push_used(heads[0], 0);  // used idx 65534 -> 65535: not past 65535 yet
  EXPECT_FALSE(q.needs_interrupt());
  q.push_used(heads[1], 0);  // 65535 -> 0: crosses
  EXPECT_TRUE(q.needs_interrupt());
  EXPECT_EQ(drv.used_idx(), 0);
  EXPECT_EQ(drv.used(65535).first, heads[1]);
  drv.set_used_event(0);
  q.push_used(heads[2], 0);  // 0 -> 1: crosses 0
  EXPECT_TRUE(q.needs_interrupt());
  // A batch across the wrap with used_event in the middle of it.
  q.set_positions(1, 65530, 65530);
  drv.set_used_event(65533);
  for (int i = 0; i < 8; ++i) q.push_used(heads[0], 0);  // 65530 -> 2
  EXPECT_TRUE(q.needs_interrupt());
  drv.set_used_event(10);
  q.push_used(heads[0], 0);  // 2 -> 3, event 10 not reached
  EXPECT_FALSE(q.needs_interrupt());
}

TEST_F(QueueTest, EventIdxAvailEventOnEmpty) {
  features(true, false);
  EXPECT_FALSE(q.pop().has_value());
  EXPECT_EQ(drv.avail_event(), 0);
  drv.publish(drv.chain({{drv.alloc(4), 4}}, {}));
  ASSERT_TRUE(q.pop().has_value());
  EXPECT_EQ(drv.avail_event(), 1);
  q.enable_notifications();
  EXPECT_EQ(drv.avail_event(), 1);
}

// A driver thread publishing while this thread pops and completes: every chain arrives once,
// in order, with the data written before it was published (acquire/release on the indexes).
TEST(QueueConcurrency, DriverOnAnotherThread) {
  GuestRam ram;
  constexpr uint16_t kQ = 64;
  constexpr uint32_t kTotal = 20000;
  DriverQueue drv(ram, kQ);
  // One fixed 4-byte buffer per descriptor.
  std::vector<uint64_t> bufs(kQ);
  for (uint16_t i = 0; i < kQ; ++i) {
    bufs[i] = drv.alloc(4);
    drv.set_desc(i, bufs[i], 4, 0, 0);
  }
  Virtqueue q;
  ASSERT_TRUE(q.configure(ram.mem, drv.config(), true));
  auto* avail_idx = reinterpret_cast<uint16_t*>(ram.host(drv.avail_addr() + 2));
  auto* used_idx = reinterpret_cast<uint16_t*>(ram.host(drv.used_addr() + 2));

  std::thread driver([&] {
    for (uint32_t n = 0; n < kTotal; ++n) {
      // Wait for a free slot: at most kQ outstanding.
      while (static_cast<uint16_t>(n - __atomic_load_n(used_idx, __ATOMIC_ACQUIRE)) >= kQ) {
        std::this_thread::yield();
      }
      const uint16_t d = static_cast<uint16_t>(n % kQ);
      store_le<uint32_t>(ram.host(bufs[d]), n);
      store_le<uint16_t>(ram.host(drv.avail_addr() + 4 + 2 * d), d);
      __atomic_store_n(avail_idx, static_cast<uint16_t>(n + 1), __ATOMIC_RELEASE);
    }
  });
  uint32_t next = 0;
  while (next < kTotal && !q.failed()) {
    auto c = q.pop();
    if (!c) {
      std::this_thread::yield();
      continue;
    }
    uint32_t v = ~0U;
    ChainReader r(ram.mem, *c);
    ASSERT_TRUE(r.read_exact(&v, 4));
    ASSERT_EQ(v, next);
    q.push_used(c->head, 0);
    ++next;
  }
  driver.join();
  EXPECT_FALSE(q.failed()) << q.error();
  EXPECT_EQ(next, kTotal);
}

}  // namespace
}  // namespace vessel::virtio
