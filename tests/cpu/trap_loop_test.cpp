// Trap loops through the firmware: an S-mode fault that an M-mode handler sends back to S
// again and again ends the run as a trap loop, while M-mode handlers that fix the fault or
// emulate the instruction, as SBI firmware does, never do.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "test_machine.hpp"

namespace vessel::rv {
namespace {

using namespace test;

class FirmwareTrapLoopTest : public ::testing::TestWithParam<Engine> {
 protected:
  static constexpr uint64_t kMtvecBase = TestMachine::kRamBase + 0x100;
  static constexpr uint64_t kCode = TestMachine::kRamBase + 0x1000;
  static constexpr uint64_t kData = TestMachine::kRamBase + 0x10000;
  static constexpr uint64_t kNothing = 0x1000;  // no memory there

  void SetUp() override {
    ASSERT_TRUE(m.hart.set_engine(GetParam()).ok());
    m.hart.set_jit_threshold(1);
    m.open_pmp();
    m.set_csr(kMtvec, kMtvecBase);
  }
  // Runs from kCode in S-mode until the hart stops itself, `done` holds, or 5 s pass.
  StopReason run_s_mode_until(const std::function<bool()>& done) {
    m.set_priv(Priv::kS);
    m.hart.pc = kCode;
    std::atomic<bool> stop{false};
    // Only a guard against a run that never ends: each PMP change retranslates the code, which
    // under ASan and a loaded host took over 5 s for the 3000 rounds of the test below.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    return m.hart.run(stop, [&] {
      if (done() || std::chrono::steady_clock::now() > deadline) stop.store(true);
    });
  }
  // What OpenSBI does with a fault it does not handle itself: hand it to S-mode's trap vector
  // (sbi_trap_redirect), counting the round trips in s1.
  void redirecting_handler() {
    m.program(kMtvecBase,
              {
                  enc::addi(s1, s1, 1), enc::csrrs(t0, kMepc, zero), enc::csrrw(zero, kSepc, t0),
                  enc::csrrs(t0, kMcause, zero), enc::csrrw(zero, kScause, t0),
                  enc::csrrs(t0, kMtval, zero), enc::csrrw(zero, kStval, t0),
                  enc::csrrs(t0, kStvec, zero), enc::csrrw(zero, kMepc, t0),
                  enc::mret(),  // MPP is S: the trap came from there
              });
  }

  TestMachine m;
};

TEST_P(FirmwareTrapLoopTest, AFaultRedirectedToAStvecWithNothingThereIsATrapLoop) {
  redirecting_handler();
  m.set_csr(kStvec, kNothing);
  m.put32(kCode, 0);  // illegal: to M, then to stvec, where the fetch faults ever after
  EXPECT_EQ(run_s_mode_until([] { return false; }), StopReason::kTrapLoop);
  EXPECT_GE(m.hart.x[s1], Hart::kFirmwareTrapLoopStreak);
  EXPECT_LT(m.hart.x[s1], 2 * Hart::kFirmwareTrapLoopStreak) << "detected late";
  const std::string why = m.hart.describe_trap_loop();
  EXPECT_NE(why.find("trap loop through the firmware"), std::string::npos) << why;
  EXPECT_NE(why.find("instruction access fault"), std::string::npos) << why;
  EXPECT_NE(why.find("S-mode pc 0x1000"), std::string::npos) << why;
}

TEST_P(FirmwareTrapLoopTest, AFaultRedirectedToItselfIsATrapLoop) {
  redirecting_handler();
  m.set_csr(kStvec, kCode);  // stvec is the faulting instruction
  m.put32(kCode, 0);
  EXPECT_EQ(run_s_mode_until([] { return false; }), StopReason::kTrapLoop);
  const std::string why = m.hart.describe_trap_loop();
  EXPECT_NE(why.find("exception 2 (illegal instruction) at S-mode pc 0x80001000"),
            std::string::npos)
      << why;
}

TEST_P(FirmwareTrapLoopTest, AFaultTheHandlerFixesIsNotATrapLoop) {
  // Demand paging, with a PMP entry as the page: S-mode's load from kData faults, M-mode opens
  // the entry and returns to the load, which now retires; an SBI call (ecall, epc advanced)
  // closes it again. The same fault at the same pc thousands of times, each followed by
  // progress in S-mode.
  m.set_csr(kPmpaddr0, (kData >> 2) | 0x1ff);  // NAPOT, 4 KiB, no access below M
  const uint64_t closed = pmp::kNapot;
  m.set_csr(kPmpcfg0, closed);
  const uint64_t fix = m.program(kMtvecBase, {
                                                 enc::csrrs(t0, kMcause, zero),
                                                 enc::addi(t1, zero, 9),  // ecall from S
                                                 enc::bne(t0, t1, 28),
                                                 enc::addi(t1, zero, static_cast<int32_t>(closed)),
                                                 enc::csrrw(zero, kPmpcfg0, t1),
                                                 enc::csrrs(t0, kMepc, zero),
                                                 enc::addi(t0, t0, 4),
                                                 enc::csrrw(zero, kMepc, t0),
                                                 enc::mret(),
                                             });
  m.program(fix, {enc::addi(s1, s1, 1), enc::csrrw(zero, kPmpcfg0, zero), enc::mret()});
  m.hart.x[s3] = kData;
  m.program(kCode, {enc::ecall(), enc::ld(a0, s3, 0), enc::addi(s4, s4, 1), enc::jal(zero, -12)});
  const uint64_t rounds = 3 * Hart::kFirmwareTrapLoopStreak;
  EXPECT_EQ(run_s_mode_until([&] { return m.hart.x[s4] >= rounds; }), StopReason::kRequested);
  EXPECT_GE(m.hart.x[s4], rounds);
  EXPECT_GE(m.hart.x[s1], rounds) << "the load did not fault each time";
}

TEST_P(FirmwareTrapLoopTest, InstructionsTheFirmwareEmulatesAreNotATrapLoop) {
  // Nothing retires in S-mode at all: every instruction traps and M-mode emulates it (advances
  // mepc), as OpenSBI does for misaligned accesses or rdtime. The pc moves on each time.
  m.program(kMtvecBase, {
                            enc::addi(s1, s1, 1),
                            enc::csrrs(t0, kMepc, zero),
                            enc::addi(t0, t0, 4),
                            enc::csrrw(zero, kMepc, t0),
                            enc::mret(),
                        });
  const unsigned count = 2 * Hart::kFirmwareTrapLoopStreak;
  for (unsigned k = 0; k < count; ++k) m.put32(kCode + 4 * k, 0);
  const uint64_t end = kCode + 4 * count;
  m.put32(end, enc::jal(zero, 0));
  EXPECT_EQ(run_s_mode_until([&] { return m.hart.pc == end; }), StopReason::kRequested);
  EXPECT_EQ(m.hart.pc, end);
  EXPECT_EQ(m.hart.x[s1], count);
}

INSTANTIATE_TEST_SUITE_P(Engines, FirmwareTrapLoopTest,
                         ::testing::Values(Engine::kInterp, Engine::kJit),
                         [](const auto& p) { return std::string(engine_name(p.param)); });

}  // namespace
}  // namespace vessel::rv
