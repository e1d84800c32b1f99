// Software dirty page logging (Diff snapshots, docs/snapshot.md): a hart's stores log their
// page on both engines (the interpreter, and translated code's inline store through the soft
// TLB), a cleared log with the write mappings dropped logs the same page again on the next
// store, and writes from outside the harts (DMA through Bus::write_phys or a device's
// notify_written) are logged too.
#include <gtest/gtest.h>

#include <vector>

#include "base/dirty_pages.hpp"
#include "test_machine.hpp"

namespace vessel::rv {
namespace {

using namespace test;

constexpr uint64_t kPageA = TestMachine::kRamBase + 0x10'0000;
constexpr uint64_t kPageB = TestMachine::kRamBase + 0x20'0000;

uint64_t page_of(uint64_t pa) { return (pa - TestMachine::kRamBase) >> DirtyPages::kPageBits; }

struct DirtyLogging : ::testing::TestWithParam<Engine> {
  TestMachine m;
  DirtyPages dirty{TestMachine::kRamSize};
  uint64_t end = 0;

  void SetUp() override {
    m.bus.track_writes(TestMachine::kRamBase, &dirty);
    ASSERT_TRUE(m.hart.set_engine(GetParam()).ok());
    m.hart.set_jit_threshold(1);  // the loop runs translated from its first trip
    // loop: sd a0, 0(t0); a1 -= 1; bnez a1, loop; sd a0, 8(t1); end: j end
    end = m.program(TestMachine::kRamBase, {enc::sd(a0, t0, 0), enc::addi(a1, a1, -1),
                                            enc::bne(a1, zero, -8), enc::sd(a0, t1, 8)});
    m.program(end, {enc::jal(zero, 0)});
  }

  void run_program() {
    m.hart.pc = TestMachine::kRamBase;
    m.hart.x[t0] = kPageA;
    m.hart.x[t1] = kPageB;
    m.hart.x[a0] = 0x5a5a;
    m.hart.x[a1] = 100;
    unsigned blocks = 0;
    while (m.hart.pc != end && blocks++ < 10'000) m.hart.step_block();
    ASSERT_EQ(m.hart.pc, end);
  }
};

TEST_P(DirtyLogging, AHartsStoresLogTheirPagesAndNothingElse) {
  run_program();
  EXPECT_EQ(m.get64(kPageA), 0x5a5aU);
  EXPECT_TRUE(dirty.dirty(page_of(kPageA)));
  EXPECT_TRUE(dirty.dirty(page_of(kPageB)));
  EXPECT_FALSE(dirty.dirty(page_of(TestMachine::kRamBase)));  // the code was only read
  EXPECT_EQ(dirty.count(), 2U);
}

TEST_P(DirtyLogging, AfterAResetTheSamePageIsLoggedAgain) {
  run_program();  // page A now has a write mapping in the soft TLB
  dirty.clear();
  m.hart.drop_write_mappings();  // as VirtMachine::reset_dirty_pages does
  run_program();                 // the same stores, the same translated code
  EXPECT_TRUE(dirty.dirty(page_of(kPageA)));
  EXPECT_TRUE(dirty.dirty(page_of(kPageB)));
  EXPECT_EQ(dirty.count(), 2U);
}

INSTANTIATE_TEST_SUITE_P(Engines, DirtyLogging, ::testing::Values(Engine::kInterp, Engine::kJit),
                         [](const auto& p) { return std::string(engine_name(p.param)); });

TEST(DirtyPagesTest, DmaAndNotifiedWritesAreLogged) {
  TestMachine m;
  DirtyPages dirty(TestMachine::kRamSize);
  m.bus.track_writes(TestMachine::kRamBase, &dirty);
  // Bus::write_phys (loaders, HTIF), across a page boundary: both pages.
  const std::vector<uint8_t> data(16, 0xee);
  ASSERT_TRUE(m.bus.write_phys(kPageA + 0xff8, data.data(), data.size()));
  EXPECT_TRUE(dirty.dirty(page_of(kPageA)));
  EXPECT_TRUE(dirty.dirty(page_of(kPageA) + 1));
  // A device's DMA through a host pointer, reported as GuestMemory::wrote reports it.
  m.bus.notify_written(m.host(kPageB + 100), 1);
  EXPECT_TRUE(dirty.dirty(page_of(kPageB)));
  EXPECT_EQ(dirty.count(), 3U);
  // Runs of dirty pages, in order.
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  dirty.for_each_run([&](uint64_t first, uint64_t n) { runs.emplace_back(first, n); });
  EXPECT_EQ(runs, (std::vector<std::pair<uint64_t, uint64_t>>{{page_of(kPageA), 2},
                                                              {page_of(kPageB), 1}}));
  dirty.clear();
  EXPECT_EQ(dirty.count(), 0U);
  // Past the region's end: ignored, never out of bounds.
  dirty.mark(TestMachine::kRamSize - 1, 100);
  dirty.mark(TestMachine::kRamSize, 1);
  EXPECT_EQ(dirty.count(), 1U);
}

}  // namespace
}  // namespace vessel::rv
