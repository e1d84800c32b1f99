// The block interpreter and its code cache, driven through Hart::run(): self-modifying code,
// DMA into code, instructions straddling pages, interrupts at poll points and trap loops.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>

#include "test_machine.hpp"

namespace vessel::rv {
namespace {

using namespace test;

constexpr uint64_t kProg = TestMachine::kRamBase + 0x10000;
constexpr uint64_t kHandler = TestMachine::kRamBase + 0x20000;

class CodeCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { m.hart.pc = kProg; }

  // Runs until `done` holds at a poll point, or a generous limit passes (then the test fails
  // on its own expectations). Returns why run() stopped.
  StopReason run_until(const std::function<bool()>& done) {
    std::atomic<bool> stop{false};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    polls = 0;
    return m.hart.run(stop, [&] {
      ++polls;
      if (on_poll) on_poll();
      if (done() || std::chrono::steady_clock::now() > deadline) stop.store(true);
    });
  }

  TestMachine m;
  unsigned polls = 0;
  std::function<void()> on_poll;
};

TEST_F(CodeCacheTest, ProgramRewritingItsOwnLoopBodyTakesEffect) {
  m.program(kProg, {
                       enc::auipc(s0, 0),          // 0x00 s0 = kProg
                       enc::lw(t0, s0, 0x40),      // 0x04 the replacement instruction
                       enc::addi(a3, zero, 1000),  // 0x08
                       enc::addi(a0, a0, 1),       // 0x0c patched after 1000 rounds
                       enc::addi(a2, a2, 1),       // 0x10
                       enc::bne(a2, a3, 8),        // 0x14
                       enc::sw(t0, s0, 0x0c),      // 0x18
                       enc::jal(zero, -0x10),      // 0x1c
                   });
  m.put32(kProg + 0x40, enc::addi(a1, a1, 1));
  EXPECT_EQ(run_until([&] { return m.hart.x[a1] > 0; }), StopReason::kRequested);
  EXPECT_EQ(m.hart.x[a0], 1000u);
  EXPECT_GT(m.hart.x[a1], 0u) << "the rewritten instruction never ran";
  EXPECT_EQ(m.hart.x[a2], 1000 + m.hart.x[a1]);
}

TEST_F(CodeCacheTest, StoreToTheNextInstructionOfTheSameBlockTakesEffect) {
  m.program(kProg, {
                       enc::auipc(s0, 0),       // 0x00
                       enc::lw(t0, s0, 0x40),   // 0x04
                       enc::sw(t0, s0, 0x0c),   // 0x08 rewrites 0x0c, already decoded
                       enc::addi(a1, zero, 7),  // 0x0c
                       enc::jal(zero, 0),       // 0x10 j .
                   });
  m.put32(kProg + 0x40, enc::addi(a1, zero, 42));
  run_until([&] { return m.hart.pc == kProg + 0x10; });
  EXPECT_EQ(m.hart.x[a1], 42u);
}

TEST_F(CodeCacheTest, FenceIAfterWritingCodeRunsTheNewCode) {
  m.program(kProg, {
                       enc::auipc(s0, 0),       // 0x00
                       enc::lw(t0, s0, 0x40),   // 0x04
                       enc::sw(t0, s0, 0x10),   // 0x08
                       enc::fence_i(),          // 0x0c
                       enc::addi(a1, zero, 7),  // 0x10
                       enc::jal(zero, 0),       // 0x14
                   });
  m.put32(kProg + 0x40, enc::addi(a1, zero, 43));
  run_until([&] { return m.hart.pc == kProg + 0x14; });
  EXPECT_EQ(m.hart.x[a1], 43u);
}

TEST_F(CodeCacheTest, StoresReachCodeOnPagesThatHadWriteMappings) {
  // Page B is written as data first (the hart keeps a write mapping for it), then becomes
  // code, then is rewritten: the rewrite must still drop the decoded block.
  m.program(kProg, {
                       enc::auipc(s0, 0),         // 0x00 s0 = A
                       enc::lui(t1, 1),           // 0x04
                       enc::add(s1, s0, t1),      // 0x08 s1 = B = A + 4 KiB
                       enc::sd(zero, s1, 0x100),  // 0x0c data store into B
                       enc::lw(t0, s0, 0x80),     // 0x10
                       enc::sw(t0, s1, 0),        // 0x14 B[0] = addi a0, a0, 1
                       enc::lw(t0, s0, 0x84),     // 0x18
                       enc::sw(t0, s1, 4),        // 0x1c B[4] = ret
                       enc::jalr(ra, s1, 0),      // 0x20 call B
                       enc::lw(t0, s0, 0x88),     // 0x24
                       enc::sw(t0, s1, 0),        // 0x28 B[0] = addi a0, a0, 5
                       enc::jalr(ra, s1, 0),      // 0x2c call B
                       enc::jal(zero, 0),         // 0x30 j .
                   });
  m.put32(kProg + 0x80, enc::addi(a0, a0, 1));
  m.put32(kProg + 0x84, enc::jalr(zero, ra, 0));
  m.put32(kProg + 0x88, enc::addi(a0, a0, 5));
  run_until([&] { return m.hart.pc == kProg + 0x30; });
  EXPECT_EQ(m.hart.pc, kProg + 0x30);
  EXPECT_EQ(m.hart.x[a0], 6u);
}

// S-mode code at one virtual address, remapped to other code: after sfence.vma (of the page,
// of another page of the same superpage, or of everything) or a satp write, the new code runs.
class RemapTest : public CodeCacheTest, public ::testing::WithParamInterface<int> {};

TEST_P(RemapTest, RemappedCodeRunsAfterTheFlush) {
  enum Flush { kPage, kOtherPageOfSuperpage, kAll, kSatpWrite };
  const int flush = GetParam();
  const unsigned level = flush == kOtherPageOfSuperpage ? 1 : 0;
  const uint64_t callee = 0x10000000;  // 2 MiB aligned
  const uint64_t old_pa = TestMachine::kRamBase + 0x200000,
                 new_pa = TestMachine::kRamBase + 0x400000;
  PageTables pt(m, 3);
  pt.map(TestMachine::kRamBase, TestMachine::kRamBase, pte::kRwxad, 2);
  const uint64_t slot = pt.map(callee, old_pa, pte::kV | pte::kX | pte::kA, level);
  m.program(old_pa, {enc::addi(a0, zero, 1), enc::jalr(zero, ra, 0)});
  m.program(new_pa, {enc::addi(a0, zero, 2), enc::jalr(zero, ra, 0)});
  m.open_pmp();
  m.set_csr(kSatp, pt.satp());

  uint32_t flush_insn = enc::sfence_vma(s1, zero);
  if (flush == kOtherPageOfSuperpage) flush_insn = enc::sfence_vma(s5, zero);
  if (flush == kAll) flush_insn = enc::sfence_vma(zero, zero);
  if (flush == kSatpWrite) flush_insn = enc::csrrw(zero, kSatp, s6);
  m.program(kProg, {
                       enc::jalr(ra, s1, 0),  // 0x00 call: a0 = 1
                       enc::addi(s2, a0, 0),  // 0x04
                       enc::jalr(ra, s1, 0),  // 0x08 again, from the cache
                       enc::add(s2, s2, a0),  // 0x0c s2 = 2
                       enc::sd(s4, s3, 0),    // 0x10 remap the callee
                       flush_insn,            // 0x14
                       enc::jalr(ra, s1, 0),  // 0x18 call: a0 = 2
                       enc::jal(zero, 0),     // 0x1c j .
                   });
  m.hart.x[s1] = callee;
  m.hart.x[s3] = slot;
  m.hart.x[s4] = pte::leaf(new_pa, pte::kV | pte::kX | pte::kA);
  m.hart.x[s5] = callee + 0x5000;
  m.hart.x[s6] = pt.satp();
  m.set_priv(Priv::kS);
  run_until([&] { return m.hart.pc == kProg + 0x1c; });
  EXPECT_EQ(m.hart.pc, kProg + 0x1c);
  EXPECT_EQ(m.hart.priv, Priv::kS);
  EXPECT_EQ(m.hart.x[s2], 2u);
  EXPECT_EQ(m.hart.x[a0], 2u) << "the old mapping's code ran after the flush";
}

std::string flush_name(const ::testing::TestParamInfo<int>& info) {
  static const char* const kNames[] = {"SfencePage", "SfenceOtherPageOfSuperpage", "SfenceAll",
                                       "SatpWrite"};
  return kNames[info.param];
}
INSTANTIATE_TEST_SUITE_P(Flushes, RemapTest, ::testing::Values(0, 1, 2, 3), flush_name);

TEST_F(CodeCacheTest, DmaIntoCodeIsSeen) {
  m.program(kProg, {
                       enc::addi(a0, a0, 1),  // 0x00 rewritten by "DMA"
                       enc::jal(zero, -4),    // 0x04
                   });
  uint64_t a0_at_patch = 0;
  on_poll = [&] {
    if (polls == 3) {
      a0_at_patch = m.hart.x[a0];
      const uint32_t w = enc::addi(a1, a1, 1);
      EXPECT_TRUE(m.bus.write_phys(kProg, &w, sizeof w));
    }
  };
  run_until([&] { return m.hart.x[a1] > 0; });
  EXPECT_GT(a0_at_patch, 0u);
  EXPECT_GT(m.hart.x[a1], 0u) << "the block decoded before the DMA write kept running";
  EXPECT_EQ(m.hart.x[a0], a0_at_patch);
}

// A write from another thread (DMA) kicks the hart, so translated code leaves at its next
// block entry to apply it rather than at its next poll.
TEST_F(CodeCacheTest, DmaIntoCodeKicksTheHart) {
  m.program(kProg, {enc::addi(a0, a0, 1), enc::jal(zero, -4)});
  m.hart.step_block();  // decoded: the page holds code
  (void)m.irq.take_attention();
  m.irq.arm_poll(1 << 20);
  const uint32_t w = enc::addi(a1, a1, 1);
  EXPECT_TRUE(m.bus.write_phys(kProg, &w, sizeof w));
  EXPECT_TRUE(m.code.has_pending());
  EXPECT_EQ(m.irq.poll_limit()->load(), 0U);
  EXPECT_TRUE(m.irq.take_attention());
}

TEST_F(CodeCacheTest, InstructionStraddlingAPageBoundaryRuns) {
  const uint64_t start = kProg + 0xffc;
  m.put16(start, 0x0001);                        // c.nop
  const uint32_t addi = enc::addi(a0, zero, 5);  // at 0xffe..0x1001
  m.put16(start + 2, static_cast<uint16_t>(addi));
  m.put16(start + 4, static_cast<uint16_t>(addi >> 16));
  m.put32(start + 6, enc::jal(zero, 0));
  m.hart.pc = start;
  run_until([&] { return m.hart.pc == start + 6; });
  EXPECT_EQ(m.hart.pc, start + 6);
  EXPECT_EQ(m.hart.x[a0], 5u);
  // And with step().
  m.hart.x[a0] = 0;
  m.hart.pc = start + 2;
  m.step();
  EXPECT_EQ(m.hart.pc, start + 6);
  EXPECT_EQ(m.hart.x[a0], 5u);
}

TEST_F(CodeCacheTest, TimerInterruptIsTakenWhileRunning) {
  m.program(kProg, {enc::addi(a0, a0, 1), enc::jal(zero, -4)});
  m.program(kHandler, {enc::addi(a5, zero, 1), enc::jal(zero, 0)});
  m.set_csr(kMtvec, kHandler);
  m.set_csr(kMie, irq::kMTIP);
  m.set_csr(kMstatus, m.csr(kMstatus) | mstatus::kMIE);
  m.irq.set_mtimecmp(m.clock.mtime() + 2000);  // 200 us from now
  run_until([&] { return m.hart.x[a5] == 1; });
  EXPECT_EQ(m.hart.x[a5], 1u);
  EXPECT_EQ(m.csr(kMcause), kInterrupt | 7);
  EXPECT_GT(m.hart.x[a0], 0u);
}

TEST_F(CodeCacheTest, WfiSleepsUntilTheTimerFires) {
  m.program(kProg, {enc::wfi(), enc::addi(a0, a0, 1), enc::jal(zero, -8)});
  m.program(kHandler, {enc::addi(a5, zero, 1), enc::jal(zero, 0)});
  m.set_csr(kMtvec, kHandler);
  m.set_csr(kMie, irq::kMTIP);
  m.set_csr(kMstatus, m.csr(kMstatus) | mstatus::kMIE);
  const auto start = std::chrono::steady_clock::now();
  m.irq.set_mtimecmp(m.clock.mtime() + 50000);  // 5 ms from now
  run_until([&] { return m.hart.x[a5] == 1; });
  EXPECT_EQ(m.hart.x[a5], 1u);
  EXPECT_EQ(m.csr(kMcause), kInterrupt | 7);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(5));
  EXPECT_LT(m.hart.x[a0], 100000u) << "WFI should sleep, not spin";
}

TEST_F(CodeCacheTest, FaultInsideABlockReportsItsOwnPc) {
  m.program(kProg, {
                       enc::addi(a0, zero, 1),   // 0x00
                       enc::addi(a1, zero, 2),   // 0x04
                       enc::ld(a2, zero, 0x10),  // 0x08 nothing at 0x10
                       enc::addi(a3, zero, 3),   // 0x0c
                       enc::jal(zero, 0),        // 0x10
                   });
  m.program(kHandler, {enc::jal(zero, 0)});
  m.set_csr(kMtvec, kHandler);
  run_until([&] { return m.hart.pc == kHandler; });
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kLoadAccessFault));
  EXPECT_EQ(m.csr(kMepc), kProg + 8);
  EXPECT_EQ(m.csr(kMtval), 0x10u);
  EXPECT_EQ(m.hart.x[a0], 1u);
  EXPECT_EQ(m.hart.x[a1], 2u);
  EXPECT_EQ(m.hart.x[a3], 0u) << "the instruction after the fault ran";
}

TEST_F(CodeCacheTest, CompressedLoopRuns) {
  m.put16(kProg, 0x4501);      // c.li a0, 0
  m.put16(kProg + 2, 0x0505);  // c.addi a0, 1
  m.put16(kProg + 4, 0xbffd);  // c.j .-2
  run_until([&] { return m.hart.x[a0] >= 10000; });
  EXPECT_GE(m.hart.x[a0], 10000u);
  EXPECT_TRUE(m.hart.pc == kProg + 2 || m.hart.pc == kProg + 4) << std::hex << m.hart.pc;
}

TEST_F(CodeCacheTest, TrapsThatMakeProgressAreNoLoop) {
  // ecall, handled by advancing mepc: thousands of traps, all retiring instructions between.
  m.program(kProg, {enc::ecall(), enc::addi(a0, a0, 1), enc::jal(zero, -8)});
  m.program(kHandler, {
                          enc::csrrs(t0, kMepc, zero),
                          enc::addi(t0, t0, 4),
                          enc::csrrw(zero, kMepc, t0),
                          enc::mret(),
                      });
  m.set_csr(kMtvec, kHandler);
  EXPECT_EQ(run_until([&] { return m.hart.x[a0] >= 5000; }), StopReason::kRequested);
  EXPECT_GE(m.hart.x[a0], 5000u);
}

TEST_F(CodeCacheTest, TrapVectorInUnmappedMemoryIsATrapLoop) {
  m.put32(kProg, 0);          // illegal
  m.set_csr(kMtvec, 0x1000);  // nothing there
  EXPECT_EQ(run_until([] { return false; }), StopReason::kTrapLoop);
  EXPECT_EQ(m.hart.pc, 0x1000u);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kInstructionAccessFault));
  EXPECT_NE(m.hart.describe_trap_loop().find("trap loop"), std::string::npos);
  EXPECT_LE(polls, 2u) << "detected without waiting for the stop flag";
}

TEST_F(CodeCacheTest, TrapVectorOnAnIllegalInstructionIsATrapLoop) {
  m.put32(kProg, 0);
  m.put32(kHandler, 0);
  m.set_csr(kMtvec, kHandler);
  EXPECT_EQ(run_until([] { return false; }), StopReason::kTrapLoop);
  EXPECT_EQ(m.hart.pc, kHandler);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction));
}

}  // namespace
}  // namespace vessel::rv
