// The translator: every op is covered (an emitter or its semantics as a helper), the arena is
// never writable and executable at once, and translated programs behave as interpreted ones
// where the translator has its own paths (chaining, polling, refills, code written by the
// running block, faults in the middle of a block).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/dispatch.hpp"
#include "cpu/riscv/fpu/softfloat.hpp"
#include "cpu/riscv/jit/emitter.hpp"
#include "cpu/riscv/jit/translator.hpp"
#include "test_machine.hpp"

namespace vessel::rv {
namespace {

using namespace test;

TEST(JitTest, EveryOpHasAnEmitterOrItsSemanticsAsAHelper) {
  std::vector<uint8_t> buffer(64 * 1024);
  JitStats stats;
  TestMachine m;
  unsigned count = 0;
  const InsnInfo* table = insn_table(count);
  for (unsigned i = 0; i < count; ++i) {
    const auto op = static_cast<Op>(i);
    const DecodedInsn d = decode(table[i].match);
    ASSERT_EQ(d.op, op) << table[i].mnemonic;
    ASSERT_NE(handler_for(op), nullptr) << table[i].mnemonic << " has no semantics";
    jit::Emitter e(buffer.data(), buffer.size(), stats);
    e.start();
    e.block(m.hart, &d, &d + 1, 0, 0x1000);
    EXPECT_EQ(e.helpers_emitted(), jit::has_emitter(op) ? 0U : 1U)
        << table[i].mnemonic << ": has_emitter says " << jit::has_emitter(op);
  }
}

// One emitter serves every block, its labels used again from block to block: a block emitted
// after others must come out byte for byte as from an emitter that never emitted anything.
TEST(JitTest, AnEmitterUsedAgainEmitsWhatAFreshOneDoes) {
  JitStats stats;
  TestMachine m;
  unsigned count = 0;
  const InsnInfo* table = insn_table(count);
  // Every op alone, and the table cut into runs of up to seven ops, a run ending early at an
  // op that ends a block or branches.
  std::vector<std::vector<DecodedInsn>> blocks;
  std::vector<DecodedInsn> run;
  for (unsigned i = 0; i < count; ++i) {
    const DecodedInsn d = decode(table[i].match);
    blocks.push_back({d});
    run.push_back(d);
    if (run.size() == 7 || ends_block(d.op) || is_branch(d.op)) {
      blocks.push_back(run);
      run.clear();
    }
  }
  std::vector<uint8_t> reused_buffer(64 * 1024), fresh_buffer(64 * 1024);
  jit::Emitter reused(reused_buffer.data(), reused_buffer.size(), stats);
  for (const auto& b : blocks) {
    reused.start();
    reused.block(m.hart, b.data(), b.data() + b.size(), 0x100, 0x1000);
    jit::Emitter fresh(fresh_buffer.data(), fresh_buffer.size(), stats);
    fresh.start();
    fresh.block(m.hart, b.data(), b.data() + b.size(), 0x100, 0x1000);
    ASSERT_EQ(reused.getSize(), fresh.getSize())
        << table[static_cast<unsigned>(b.front().op)].mnemonic;
    EXPECT_EQ(std::memcmp(reused.getCode(), fresh.getCode(), fresh.getSize()), 0)
        << "a block of " << b.size() << " from "
        << table[static_cast<unsigned>(b.front().op)].mnemonic;
  }
}

TEST(JitTest, TheArenaIsNeverWritableAndExecutable) {
  JitStats stats;
  auto t = jit::Translator::create(kMinJitCacheBytes, stats);
  ASSERT_TRUE(t.ok()) << t.error().message;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  unsigned views = 0;
  while (std::getline(maps, line)) {
    const std::string perms = line.substr(line.find(' ') + 1, 4);
    EXPECT_FALSE(perms[1] == 'w' && perms[2] == 'x') << line;
    if (line.find("vessel-jit") != std::string::npos) {
      ++views;
      EXPECT_TRUE(perms == "rw-s" || perms == "r-xs") << line;
    }
  }
  EXPECT_EQ(views, 2U);
}

// Runs the program at the start of RAM block by block until pc reaches `end`.
uint64_t run_to(TestMachine& m, uint64_t end, unsigned max_blocks = 1'000'000) {
  unsigned n = 0;
  while (m.hart.pc != end && n++ < max_blocks) m.hart.step_block();
  EXPECT_EQ(m.hart.pc, end) << "did not reach the end in " << max_blocks << " blocks";
  return n;
}

// Runs the machine freely (Hart::run) until a stop request 50 ms later, which must end it.
void run_for_50ms(TestMachine& m) {
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop.store(true);
    m.irq.kick();
  });
  EXPECT_EQ(m.hart.run(stop, nullptr), StopReason::kRequested);
  stopper.join();
}

struct BothEngines : ::testing::TestWithParam<Engine> {
  TestMachine m;
  void SetUp() override {
    ASSERT_TRUE(m.hart.set_engine(GetParam()).ok());
    m.hart.set_jit_threshold(1);  // translated from the first run
  }
};

TEST_P(BothEngines, ALoopThatChainsToItselfCounts) {
  const uint64_t base = TestMachine::kRamBase;
  // a0 = 0; a1 = 100000; loop: a0 += 3; a1 -= 1; bnez a1, loop; end: j end
  const uint64_t end =
      m.program(base, {enc::addi(a0, zero, 0), enc::lui(a1, 24), enc::addiw(a1, a1, 1696),
                       enc::addi(a0, a0, 3), enc::addi(a1, a1, -1), enc::bne(a1, zero, -8)});
  // The loop's block goes on past the branch, so the jump at the end is in it and runs once
  // when the branch falls through; run_to stops after it.
  m.program(end, {enc::jal(zero, 0)});
  run_to(m, end);
  EXPECT_EQ(m.hart.x[a0], 300000U);
  EXPECT_EQ(m.hart.instret, 3U + 3U * 100000U + 1U);
}

TEST_P(BothEngines, ALoopLeftAndReenteredWithinItsBlockKeepsItsWrites) {
  const uint64_t base = TestMachine::kRamBase;
  // One block: a1 = 1000; a2 = 0
  //   head: a1 -= 1; t0 = a1 & 1; beqz t0, out   (forward, past the jump back)
  //   back: bnez a1, head; j end
  //   out:  a2 += 1; j back                      (back into the loop)
  //   end:  j end
  // a2 is written only past the loop's jump back, and reaches the head through "back": the
  // head must take it as written, or its last value never gets to the state.
  const uint64_t end =
      m.program(base, {enc::addi(a1, zero, 1000), enc::addi(a2, zero, 0), enc::addi(a1, a1, -1),
                       enc::andi(t0, a1, 1), enc::beq(t0, zero, 12), enc::bne(a1, zero, -12),
                       enc::jal(zero, 12), enc::addi(a2, a2, 1), enc::jal(zero, -12)});
  m.program(end, {enc::jal(zero, 0)});
  run_for_50ms(m);
  EXPECT_EQ(m.hart.pc, end);
  EXPECT_EQ(m.hart.x[a1], 0U);
  EXPECT_EQ(m.hart.x[a2], 500U);
}

TEST_P(BothEngines, ALoopAcrossAPageEndRunsItsStraddlingInstructionWithoutTheRunLoop) {
  const uint64_t base = TestMachine::kRamBase;
  const uint64_t loop = base + 0xff8;
  // a0 = 0; a1 = 100000; j loop
  m.program(base, {enc::addi(a0, zero, 0), enc::lui(a1, 24), enc::addiw(a1, a1, 1696),
                   enc::jal(zero, static_cast<int32_t>(loop - base - 12))});
  // loop: a1 -= 1; c.nop; a0 += 3 (across the page end); bnez a1, loop
  // c.nop; end: an illegal instruction that is its own trap handler (a trap loop ends the run)
  m.put32(loop, enc::addi(a1, a1, -1));
  m.put16(loop + 4, 0x0001);
  m.put32(loop + 6, enc::addi(a0, a0, 3));
  m.put32(loop + 10, enc::bne(a1, zero, -10));
  m.put16(loop + 14, 0x0001);  // c.nop, so that the handler is 4-byte aligned
  const uint64_t end = loop + 16;
  m.put32(end, 0);
  m.set_csr(kMtvec, end);
  std::atomic<bool> stop{false};
  EXPECT_EQ(m.hart.run(stop, nullptr), StopReason::kTrapLoop);
  EXPECT_EQ(m.hart.pc, end);
  EXPECT_EQ(m.hart.x[a0], 300000U);
  EXPECT_EQ(m.hart.x[a1], 0U);
  // The block before the page end runs the straddling instruction itself and goes on through
  // the jump cache: the run loop sees the polls (one per 4096 instructions) and the traps,
  // not two exits per trip.
  if (GetParam() == Engine::kJit) { EXPECT_LT(m.hart.jit_stats().unchained_exits, 2000U); }
}

TEST_P(BothEngines, AStraddlerRewrittenInItsUpperHalfRunsAsRewritten) {
  const uint64_t base = TestMachine::kRamBase;
  const uint64_t loop = base + 0xff8;
  const uint32_t add3 = enc::addi(a0, a0, 3);
  const uint32_t add5 = enc::addi(a0, a0, 5);
  ASSERT_EQ(add3 & 0xffff, add5 & 0xffff);  // only the upper half (the page after) changes
  // a0 = 0; a1 = 1000; s1 = 2 (trips through the loop); t1 = the upper half's address
  m.program(base, {enc::addi(a0, zero, 0), enc::addi(a1, zero, 1000), enc::addi(s1, zero, 2),
                   enc::lui(t1, static_cast<int32_t>((base + 0x1000) >> 12)), enc::slli(t1, t1, 32),
                   enc::srli(t1, t1, 32),  // lui sign-extends
                   enc::jal(zero, static_cast<int32_t>(loop - base - 24))});
  // loop: a1 -= 1; c.nop; a0 += 3 (across the page end); bnez a1, loop; c.nop
  m.put32(loop, enc::addi(a1, a1, -1));
  m.put16(loop + 4, 0x0001);
  m.put32(loop + 6, add3);
  m.put32(loop + 10, enc::bne(a1, zero, -10));
  m.put16(loop + 14, 0x0001);
  // s1 -= 1; beq s1, zero, end; the upper half becomes add5's; a1 = 1000; j loop
  const uint64_t after = loop + 16;
  const uint64_t end = after + 28;
  m.program(after, {enc::addi(s1, s1, -1), enc::beq(s1, zero, 24),
                    enc::lui(t0, static_cast<int32_t>((add5 >> 16) + 0x800) >> 12),
                    enc::addiw(t0, t0, static_cast<int32_t>(((add5 >> 16) & 0xfff) << 20) >> 20),
                    enc::sh(t0, t1, 0), enc::addi(a1, zero, 1000),
                    enc::jal(zero, static_cast<int32_t>(loop - (after + 24)))});
  m.program(end, {enc::jal(zero, 0)});
  run_to(m, end);
  EXPECT_EQ(m.hart.x[a0], 3U * 1000U + 5U * 1000U);
}

TEST_P(BothEngines, FpFlagsRaisedMidBlockAreReadAndClearedThere) {
  m.set_csr(kMstatus, mstatus::kFS);  // Dirty
  const uint64_t base = TestMachine::kRamBase;
  const uint64_t end = m.program(
      base,
      {enc::lui(t0, 0x3ff00), enc::slli(t0, t0, 32), enc::fmv_d_x(1, t0),  // f1 = 1.0
       enc::lui(t0, 0x40080), enc::slli(t0, t0, 32), enc::fmv_d_x(2, t0),  // f2 = 3.0
       enc::fmv_d_x(3, zero),                                              // f3 = 0.0
       enc::fdiv_d(4, 1, 3, 7), enc::csrrs(a0, kFflags, zero),             // DZ
       enc::csrrw(zero, kFflags, zero),                                    // cleared
       enc::fdiv_d(5, 1, 2, 7), enc::csrrs(a1, kFflags, zero),             // NX
       enc::fdiv_d(6, 3, 3, 7), enc::csrrs(a2, kFflags, zero),             // NX, NV
       enc::fmv_x_d(a3, 6), enc::fmv_x_d(a4, 4), enc::feq_d(a5, 1, 1), enc::fcvt_w_d(s1, 2, 1)});
  m.program(end, {enc::jal(zero, 0)});
  run_to(m, end);
  EXPECT_EQ(m.hart.x[a0], uint64_t{fp::kDZ});
  EXPECT_EQ(m.hart.x[a1], uint64_t{fp::kNX});
  EXPECT_EQ(m.hart.x[a2], uint64_t{fp::kNX | fp::kNV});
  EXPECT_EQ(m.hart.x[a3], fp::kCanonicalNaN64);    // 0/0: the canonical NaN, not the host's
  EXPECT_EQ(m.hart.x[a4], 0x7ff0000000000000ULL);  // 1/0 = +inf
  EXPECT_EQ(m.hart.x[a5], 1U);
  EXPECT_EQ(m.hart.x[s1], 3U);
  EXPECT_EQ(m.hart.fflags, fp::kNX | fp::kNV);
  if (GetParam() == Engine::kJit) {  // the divisions and moves ran on the host
    EXPECT_EQ(m.hart.jit_stats().helper_calls[static_cast<size_t>(HelperKind::kFloat)], 1U);
  }
}

TEST_P(BothEngines, CsrAccessesStayInTheBlockUntilOneEnablesAPendingInterrupt) {
  const uint64_t base = TestMachine::kRamBase;
  // a1 = 1000; loop: csrw mscratch, a1; csrr a2, mscratch; a0 += a2; a1 -= 1; bnez a1, loop
  // csrsi mstatus, MIE (SSIP is pending and enabled: the trap comes before the next one);
  // a3 = 1; handler: j .
  const uint64_t handler = m.program(
      base, {enc::addi(a1, zero, 1000), enc::csrrw(zero, kMscratch, a1),
             enc::csrrs(a2, kMscratch, zero), enc::add(a0, a0, a2), enc::addi(a1, a1, -1),
             enc::bne(a1, zero, -16), enc::csrrsi(zero, kMstatus, 8), enc::addi(a3, zero, 1)});
  m.program(handler, {enc::jal(zero, 0)});
  m.set_csr(kMtvec, handler);
  m.set_csr(kMie, 2);  // SSIE
  m.set_csr(kMip, 2);  // SSIP
  std::atomic<bool> stop{false};
  EXPECT_EQ(m.hart.run(stop, [&] { stop.store(m.hart.pc == handler); }), StopReason::kRequested);
  EXPECT_EQ(m.hart.pc, handler);
  EXPECT_EQ(m.hart.x[a0], 500500U);
  EXPECT_EQ(m.hart.x[a3], 0U);
  EXPECT_EQ(m.csr(kMepc), base + 7 * 4);
  EXPECT_EQ(m.csr(kMcause), (1ULL << 63) | 1U);
  // Reading and writing mscratch needs no look from the run loop: the loop stays translated.
  if (GetParam() == Engine::kJit) { EXPECT_LT(m.hart.jit_stats().unchained_exits, 20U); }
}

TEST_P(BothEngines, ALoopThatChainsToItselfStillSeesAStopRequest) {
  m.program(TestMachine::kRamBase, {enc::jal(zero, 0)});  // j .
  run_for_50ms(m);
  EXPECT_GT(m.hart.instret, 1000U);
}

TEST_P(BothEngines, AStoreIntoTheRunningBlockChangesWhatRunsNext) {
  const uint64_t base = TestMachine::kRamBase;
  // t0 = address of the patched slot; t1 = the word "addi a0, zero, 42"; sw t1 -> slot;
  // slot: addi a0, zero, 1 (replaced before it runs)
  const uint64_t slot = base + 6 * 4;
  const uint32_t new_word = enc::addi(a0, zero, 42);
  const uint64_t end = m.program(
      base, {enc::auipc(t0, 0), enc::addi(t0, t0, 24), enc::lui(t1, (new_word + 0x800) >> 12),
             enc::addiw(t1, t1, static_cast<int32_t>(new_word << 20) >> 20), enc::sw(t1, t0, 0),
             enc::addi(zero, zero, 0), enc::addi(a0, zero, 1)});
  m.program(end, {enc::jal(zero, 0)});  // a block boundary where run_to stops
  ASSERT_EQ(m.get32(slot), enc::addi(a0, zero, 1));
  run_to(m, end, 20);
  EXPECT_EQ(m.csr(kMcause), 0U) << std::hex << m.csr(kMepc);
  EXPECT_EQ(m.hart.x[a0], 42U);
  EXPECT_EQ(m.hart.instret, 8U);  // the seven, and the jump at the end (the same block)
}

TEST_P(BothEngines, ALoadFaultMidBlockIsPrecise) {
  const uint64_t base = TestMachine::kRamBase;
  const uint64_t handler = base + 0x800;
  m.set_csr(kMtvec, handler);
  // Three instructions retire, then a load from an address with nothing behind it faults.
  m.program(base, {enc::addi(a0, zero, 1), enc::addi(a1, zero, 2), enc::lui(t0, 0x10),
                   enc::ld(a2, t0, 8), enc::addi(a3, zero, 3)});
  m.program(handler, {enc::jal(zero, 0)});
  run_to(m, handler, 10);
  EXPECT_EQ(m.csr(kMepc), base + 12);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kLoadAccessFault));
  EXPECT_EQ(m.csr(kMtval), 0x10008U);
  EXPECT_EQ(m.hart.instret, 3U);
  EXPECT_EQ(m.hart.x[a3], 0U);
}

INSTANTIATE_TEST_SUITE_P(Engines, BothEngines, ::testing::Values(Engine::kInterp, Engine::kJit),
                         [](const auto& p) { return std::string(engine_name(p.param)); });

TEST(JitTest, ABlockIsInterpretedUntilItIsHotThenTranslated) {
  TestMachine m;
  ASSERT_TRUE(m.hart.set_engine(Engine::kJit).ok());
  const uint64_t base = TestMachine::kRamBase;
  // loop: a0 += 1; j loop (one block that jumps to itself)
  m.program(base, {enc::addi(a0, a0, 1), enc::jal(zero, -4)});
  for (unsigned run = 1; run < kDefaultJitThreshold; ++run) {
    m.hart.step_block();
    EXPECT_EQ(m.hart.jit_stats().blocks_translated, 0U) << "run " << run;
    EXPECT_EQ(m.hart.jit_stats().cold_runs, run);
    EXPECT_EQ(m.hart.x[a0], run);  // the interpreter ran it once
  }
  m.hart.step_block();  // the threshold's run: translated, then run as host code
  EXPECT_EQ(m.hart.jit_stats().blocks_translated, 1U);
  EXPECT_EQ(m.hart.jit_stats().cold_runs, kDefaultJitThreshold - 1);
  EXPECT_EQ(m.hart.x[a0], kDefaultJitThreshold);
  EXPECT_EQ(m.hart.instret, 2U * kDefaultJitThreshold);
}

// Translated code that jumps through the jump cache to a block the interpreter still runs
// must not find the code of the block that held that jump-cache entry before.
TEST(JitTest, AColdBlockNeverRunsTheTranslationOfTheBlockItDisplaced) {
  TestMachine m;
  ASSERT_TRUE(m.hart.set_engine(Engine::kJit).ok());
  m.hart.set_jit_threshold(8);
  const uint64_t base = TestMachine::kRamBase;
  const uint64_t x = base + 0x1000;
  const uint64_t y = x + 2 * HartState::kJumpCacheSize;  // the same jump-cache entry as x
  // One call site, itself hot and translated, calls x 20 times (x gets hot and translated
  // too), then y 6 times (y stays cold): t0 = x, t1 = y; loop: jalr t0; s0 -= 1; if s0 == 6
  // then t0 = y; loop while s0 != 0.
  const uint64_t end =
      m.program(base, {enc::addi(s0, zero, 26), enc::lui(t0, 1), enc::add(t0, t0, a7),
                       enc::lui(t1, 2 * HartState::kJumpCacheSize >> 12), enc::add(t1, t1, t0),
                       enc::addi(s1, zero, 6), enc::jalr(ra, t0, 0), enc::addi(s0, s0, -1),
                       enc::bne(s0, s1, 8), enc::addi(t0, t1, 0), enc::bne(s0, zero, -16)});
  m.program(end, {enc::jal(zero, 0)});
  m.program(x, {enc::addi(a0, a0, 1), enc::jalr(zero, ra, 0)});
  m.program(y, {enc::addi(a1, a1, 1), enc::jalr(zero, ra, 0)});
  m.hart.x[a7] = base;
  std::atomic<bool> stop{false};
  const auto at_end = [&] {
    if (m.hart.pc == end) stop.store(true);
  };
  EXPECT_EQ(m.hart.run(stop, at_end), StopReason::kRequested);
  EXPECT_EQ(m.hart.x[a0], 20U);
  EXPECT_EQ(m.hart.x[a1], 6U);
}

TEST(JitTest, AFullArenaIsRefilledAndTheProgramGoesOn) {
  TestMachine m;
  ASSERT_TRUE(m.hart.set_engine(Engine::kJit, kMinJitCacheBytes).ok());
  m.hart.set_jit_threshold(1);
  // 10000 groups of "add a0, a0, a1; addi a1, a1, 1; (add a2, a2, a1) x 24; j next", run
  // twice: more host code than 1 MiB holds.
  const uint64_t base = TestMachine::kRamBase;
  const unsigned blocks = 10000;
  uint64_t pa = base;
  for (unsigned k = 0; k < blocks; ++k) {
    pa = m.program(pa, {enc::add(a0, a0, a1), enc::addi(a1, a1, 1)});
    for (int r = 0; r < 24; ++r) pa = m.program(pa, {enc::add(a2, a2, a1)});
    pa = m.program(pa, {enc::jal(zero, 4)});
  }
  const uint64_t end = pa;
  // Each jump lands on the next instruction, which is in the block, so blocks run on to the
  // end: "j ." there is the boundary where run_to stops (a jump back ends a block run alone).
  m.program(end, {enc::jal(zero, 0)});
  for (int round = 0; round < 2; ++round) {
    m.hart.pc = base;
    run_to(m, end, 2 * blocks);
  }
  const uint64_t n = 2 * blocks;
  EXPECT_EQ(m.hart.x[a1], n);
  EXPECT_EQ(m.hart.x[a0], n * (n - 1) / 2);
  EXPECT_GT(m.hart.jit_stats().code_bytes, kMinJitCacheBytes);
  EXPECT_GT(m.hart.jit_stats().cache_flushes, 0U);
  EXPECT_LE(m.hart.jit_stats().cache_used, kMinJitCacheBytes);
}

}  // namespace
}  // namespace vessel::rv
