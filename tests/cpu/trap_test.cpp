// Traps: exception entry and return, delegation, interrupt priority and enables, vectored
// trap vectors and WFI.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "test_machine.hpp"

namespace vessel::rv {
namespace {

using namespace test;

class TrapTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kCode = TestMachine::kRamBase + 0x1000;
  static constexpr uint64_t kMtvecBase = TestMachine::kRamBase + 0x100;
  static constexpr uint64_t kStvecBase = TestMachine::kRamBase + 0x200;

  void SetUp() override {
    m.set_csr(kMtvec, kMtvecBase);
    m.set_csr(kStvec, kStvecBase);
    m.open_pmp();
    m.program(kCode, {enc::addi(a0, a0, 1), enc::addi(a0, a0, 1), enc::addi(a0, a0, 1)});
    m.hart.pc = kCode;
  }
  void exec(uint32_t insn, Priv p) {
    m.put32(kCode, insn);
    m.hart.pc = kCode;
    m.set_priv(p);
    m.step();
  }
  void set_mstatus_bits(uint64_t bits) { m.set_csr(kMstatus, m.csr(kMstatus) | bits); }
  void clear_mstatus_bits(uint64_t bits) { m.set_csr(kMstatus, m.csr(kMstatus) & ~bits); }
  uint64_t mpp() { return (m.csr(kMstatus) & mstatus::kMPP) >> mstatus::kMPPShift; }
  // Expect that the last step took interrupt `cause` into M-mode from kCode.
  void expect_m_interrupt(unsigned irq_cause) {
    EXPECT_EQ(m.csr(kMcause), kInterrupt | irq_cause);
    EXPECT_EQ(m.csr(kMepc), kCode);
    EXPECT_EQ(m.csr(kMtval), 0u);
    EXPECT_EQ(m.hart.pc, kMtvecBase);
    EXPECT_EQ(m.hart.priv, Priv::kM);
  }

  TestMachine m;
};

TEST_F(TrapTest, EcallFromEachMode) {
  const struct {
    Priv from;
    Exception e;
  } cases[] = {{Priv::kU, Exception::kEcallFromU},
               {Priv::kS, Exception::kEcallFromS},
               {Priv::kM, Exception::kEcallFromM}};
  for (const auto& c : cases) {
    m.set_csr(kMtval, 0x1234);
    set_mstatus_bits(mstatus::kMIE);
    exec(enc::ecall(), c.from);
    EXPECT_EQ(m.csr(kMcause), cause(c.e));
    EXPECT_EQ(m.csr(kMepc), kCode);
    EXPECT_EQ(m.csr(kMtval), 0u);
    EXPECT_EQ(m.hart.pc, kMtvecBase);
    EXPECT_EQ(m.hart.priv, Priv::kM);
    EXPECT_EQ(mpp(), static_cast<uint64_t>(c.from));
    EXPECT_NE(m.csr(kMstatus) & mstatus::kMPIE, 0u) << "MPIE takes MIE";
    EXPECT_EQ(m.csr(kMstatus) & mstatus::kMIE, 0u) << "MIE is cleared";
  }
}

TEST_F(TrapTest, BreakpointsAndIllegalInstructionsReportTheirValues) {
  exec(enc::ebreak(), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kBreakpoint));
  EXPECT_EQ(m.csr(kMepc), kCode);
  EXPECT_EQ(m.csr(kMtval), kCode);
  m.put16(kCode, 0x9002);  // c.ebreak
  m.hart.pc = kCode;
  m.step();
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kBreakpoint));
  EXPECT_EQ(m.csr(kMepc), kCode);
  for (uint32_t bad : {0x00000000u, 0x00008002u, 0xffffffffu, 0x0000001fu}) {
    m.set_csr(kMtval, 0x1234);
    exec(bad, Priv::kM);
    EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction)) << std::hex << bad;
    EXPECT_EQ(m.csr(kMtval), bad & ((bad & 3) == 3 ? 0xffffffffu : 0xffffu)) << std::hex << bad;
    EXPECT_EQ(m.csr(kMepc), kCode);
  }
}

TEST_F(TrapTest, MretReturnsToMppWithMpieAndClearsMprv) {
  m.set_csr(kMepc, kCode + 8);
  m.set_csr(kMstatus, (m.csr(kMstatus) & ~(mstatus::kMPP | mstatus::kMIE)) |
                          1ULL << mstatus::kMPPShift | mstatus::kMPIE | mstatus::kMPRV);
  exec(enc::mret(), Priv::kM);
  EXPECT_EQ(m.hart.priv, Priv::kS);
  EXPECT_EQ(m.hart.pc, kCode + 8);
  const uint64_t s = m.csr(kMstatus);
  EXPECT_NE(s & mstatus::kMIE, 0u);
  EXPECT_NE(s & mstatus::kMPIE, 0u);
  EXPECT_EQ(s & mstatus::kMPP, 0u) << "MPP becomes U";
  EXPECT_EQ(s & mstatus::kMPRV, 0u);
  // Returning to M keeps MPRV.
  m.set_csr(kMstatus, m.csr(kMstatus) | mstatus::kMPP | mstatus::kMPRV);
  exec(enc::mret(), Priv::kM);
  EXPECT_EQ(m.hart.priv, Priv::kM);
  EXPECT_NE(m.csr(kMstatus) & mstatus::kMPRV, 0u);
}

TEST_F(TrapTest, MretOutsideMachineModeIsIllegal) {
  exec(enc::mret(), Priv::kS);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction));
  EXPECT_EQ(m.csr(kMtval), enc::mret());
  exec(enc::mret(), Priv::kU);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction));
}

TEST_F(TrapTest, SretReturnsToSppAndHonoursTsr) {
  m.set_csr(kSepc, kCode + 4);
  m.set_csr(kMstatus, (m.csr(kMstatus) & ~(mstatus::kSPP | mstatus::kSIE)) | mstatus::kSPIE);
  exec(enc::sret(), Priv::kS);
  EXPECT_EQ(m.hart.priv, Priv::kU);
  EXPECT_EQ(m.hart.pc, kCode + 4);
  EXPECT_NE(m.csr(kMstatus) & mstatus::kSIE, 0u);
  EXPECT_NE(m.csr(kMstatus) & mstatus::kSPIE, 0u);
  exec(enc::sret(), Priv::kU);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction));
  set_mstatus_bits(mstatus::kTSR);
  exec(enc::sret(), Priv::kS);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction));
  EXPECT_EQ(m.hart.priv, Priv::kM);
  m.set_csr(kSepc, kCode + 4);
  set_mstatus_bits(mstatus::kSPP);
  exec(enc::sret(), Priv::kM);  // TSR does not apply to M
  EXPECT_EQ(m.hart.priv, Priv::kS);
  EXPECT_EQ(m.hart.pc, kCode + 4);
}

TEST_F(TrapTest, DelegatedExceptionsGoToSupervisor) {
  m.set_csr(kMedeleg,
            1ULL << cause(Exception::kEcallFromU) | 1ULL << cause(Exception::kIllegalInstruction));
  const uint64_t mstatus_m_fields = m.csr(kMstatus) & (mstatus::kMPP | mstatus::kMPIE);
  set_mstatus_bits(mstatus::kSIE);
  exec(enc::ecall(), Priv::kU);
  EXPECT_EQ(m.hart.priv, Priv::kS);
  EXPECT_EQ(m.hart.pc, kStvecBase);
  EXPECT_EQ(m.csr(kScause), cause(Exception::kEcallFromU));
  EXPECT_EQ(m.csr(kSepc), kCode);
  EXPECT_EQ(m.csr(kStval), 0u);
  uint64_t s = m.csr(kMstatus);
  EXPECT_EQ(s & mstatus::kSPP, 0u) << "came from U";
  EXPECT_NE(s & mstatus::kSPIE, 0u);
  EXPECT_EQ(s & mstatus::kSIE, 0u);
  EXPECT_EQ(s & (mstatus::kMPP | mstatus::kMPIE), mstatus_m_fields) << "M state untouched";
  EXPECT_NE(m.csr(kMcause), cause(Exception::kEcallFromU));

  exec(0, Priv::kS);  // illegal, from S
  EXPECT_EQ(m.hart.priv, Priv::kS);
  EXPECT_EQ(m.csr(kScause), cause(Exception::kIllegalInstruction));
  EXPECT_EQ(m.csr(kStval), 0u);
  EXPECT_NE(m.csr(kMstatus) & mstatus::kSPP, 0u) << "came from S";

  exec(enc::ecall(), Priv::kS);  // not delegated
  EXPECT_EQ(m.hart.priv, Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kEcallFromS));

  exec(0xffffffff, Priv::kM);  // delegation never applies to traps taken in M
  EXPECT_EQ(m.hart.priv, Priv::kM);
  EXPECT_EQ(m.hart.pc, kMtvecBase);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction));
  EXPECT_EQ(m.csr(kMtval), 0xffffffffu);
}

TEST_F(TrapTest, MachineInterruptPriority) {
  m.set_csr(kMie, irq::kAll);
  m.irq.set(InterruptBit::kMEIP, true);
  m.irq.set(InterruptBit::kMSIP, true);
  m.irq.set_mtimecmp(0);
  m.set_csr(kMip, irq::kSEIP | irq::kSSIP | irq::kSTIP);
  const unsigned order[] = {11, 3, 7, 9, 1, 5};
  for (unsigned c : order) {
    m.hart.pc = kCode;
    set_mstatus_bits(mstatus::kMIE);
    m.step();
    expect_m_interrupt(c);
    switch (c) {
      case 11: m.irq.set(InterruptBit::kMEIP, false); break;
      case 3: m.irq.set(InterruptBit::kMSIP, false); break;
      case 7: m.irq.set_mtimecmp(HartIrq::kNoDeadline); break;
      default: m.set_csr(kMip, m.csr(kMip) & ~(1ULL << c)); break;
    }
  }
  m.hart.pc = kCode;
  set_mstatus_bits(mstatus::kMIE);
  m.step();
  EXPECT_EQ(m.hart.pc, kCode + 4) << "nothing left pending";
  EXPECT_EQ(m.hart.x[a0], 1u);
}

TEST_F(TrapTest, MachineInterruptsNeedMieOnlyInMachineMode) {
  m.set_csr(kMie, irq::kMTIP);
  m.irq.set_mtimecmp(0);
  EXPECT_NE(m.csr(kMip) & irq::kMTIP, 0u) << "mtime >= mtimecmp";
  m.step();  // M with MIE clear: not taken
  EXPECT_EQ(m.hart.pc, kCode + 4);
  m.hart.pc = kCode;
  m.set_priv(Priv::kS);  // below M: taken whatever MIE says
  m.step();
  expect_m_interrupt(7);
  EXPECT_EQ(mpp(), 1u);
  m.hart.pc = kCode;
  m.set_priv(Priv::kU);
  m.step();
  expect_m_interrupt(7);
  EXPECT_EQ(mpp(), 0u);
  // mie gates it in every mode.
  m.set_csr(kMie, 0);
  m.hart.pc = kCode;
  m.set_priv(Priv::kU);
  m.step();
  EXPECT_EQ(m.hart.pc, kCode + 4);
}

TEST_F(TrapTest, DelegatedInterruptsGoToSupervisorWhenEnabled) {
  m.set_csr(kMideleg, irq::kSSIP);
  m.set_csr(kMie, irq::kSSIP);
  m.set_csr(kMip, irq::kSSIP);
  set_mstatus_bits(mstatus::kMIE | mstatus::kSIE);
  m.step();  // never in M
  EXPECT_EQ(m.hart.pc, kCode + 4);
  m.hart.pc = kCode;
  m.set_priv(Priv::kS);
  clear_mstatus_bits(mstatus::kSIE);
  m.step();  // S with SIE clear: not taken
  EXPECT_EQ(m.hart.pc, kCode + 4);
  m.hart.pc = kCode;
  set_mstatus_bits(mstatus::kSIE);
  m.step();
  EXPECT_EQ(m.hart.priv, Priv::kS);
  EXPECT_EQ(m.hart.pc, kStvecBase);
  EXPECT_EQ(m.csr(kScause), kInterrupt | 1);
  EXPECT_EQ(m.csr(kSepc), kCode);
  EXPECT_NE(m.csr(kMstatus) & mstatus::kSPP, 0u);
  EXPECT_NE(m.csr(kMstatus) & mstatus::kSPIE, 0u);
  EXPECT_EQ(m.csr(kMstatus) & mstatus::kSIE, 0u);
  // In U it is taken whatever SIE says.
  m.hart.pc = kCode;
  m.set_priv(Priv::kU);
  m.step();
  EXPECT_EQ(m.hart.priv, Priv::kS);
  EXPECT_EQ(m.csr(kScause), kInterrupt | 1);
  EXPECT_EQ(m.csr(kMstatus) & mstatus::kSPP, 0u);
}

TEST_F(TrapTest, InterruptsForMachineModeComeBeforeThoseForSupervisorMode) {
  // SEI is delegated, SSI is not: both pending and enabled while in S. SEI ranks higher, but
  // interrupts destined for a more privileged mode are taken first.
  m.set_csr(kMideleg, irq::kSEIP);
  m.set_csr(kMie, irq::kSEIP | irq::kSSIP);
  m.set_csr(kMip, irq::kSSIP);
  m.irq.set(InterruptBit::kSEIP, true);
  set_mstatus_bits(mstatus::kSIE);
  m.set_priv(Priv::kS);
  m.step();
  EXPECT_EQ(m.hart.priv, Priv::kM);
  EXPECT_EQ(m.csr(kMcause), kInterrupt | 1);
}

TEST_F(TrapTest, PlatformSeipShowsInMipAndSip) {
  m.irq.set(InterruptBit::kSEIP, true);
  EXPECT_NE(m.csr(kMip) & irq::kSEIP, 0u);
  m.set_csr(kMideleg, irq::kSEIP);
  EXPECT_NE(m.csr(kSip) & irq::kSEIP, 0u);
  m.irq.set(InterruptBit::kSEIP, false);
  EXPECT_EQ(m.csr(kMip) & irq::kSEIP, 0u);
}

TEST_F(TrapTest, VectoredModeAppliesToInterruptsOnly) {
  m.set_csr(kMtvec, kMtvecBase | 1);
  m.set_csr(kMie, irq::kMTIP);
  m.irq.set_mtimecmp(0);
  set_mstatus_bits(mstatus::kMIE);
  m.step();
  EXPECT_EQ(m.hart.pc, kMtvecBase + 4 * 7);
  EXPECT_EQ(m.csr(kMcause), kInterrupt | 7);
  m.irq.set_mtimecmp(HartIrq::kNoDeadline);
  exec(enc::ecall(), Priv::kM);
  EXPECT_EQ(m.hart.pc, kMtvecBase);
  // The same for stvec.
  m.set_csr(kStvec, kStvecBase | 1);
  m.set_csr(kMideleg, irq::kSTIP);
  m.set_csr(kMie, irq::kSTIP);
  m.set_csr(kMip, irq::kSTIP);
  m.hart.pc = kCode;
  m.set_priv(Priv::kU);
  m.step();
  EXPECT_EQ(m.hart.priv, Priv::kS);
  EXPECT_EQ(m.hart.pc, kStvecBase + 4 * 5);
  m.set_csr(kMedeleg, 1ULL << cause(Exception::kEcallFromU));
  m.set_csr(kMie, 0);
  exec(enc::ecall(), Priv::kU);
  EXPECT_EQ(m.hart.pc, kStvecBase);
}

TEST_F(TrapTest, WfiIsIllegalInUserModeAndUnderTw) {
  exec(enc::wfi(), Priv::kU);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction));
  EXPECT_EQ(m.csr(kMtval), enc::wfi());
  EXPECT_EQ(m.hart.pc, kMtvecBase);

  // Keep an interrupt pending in mip & mie so that a legal WFI does not sleep, but not
  // enabled in S (delegated, SIE clear) so that it is not taken.
  m.set_csr(kMideleg, irq::kSSIP);
  m.set_csr(kMie, irq::kSSIP);
  m.set_csr(kMip, irq::kSSIP);
  clear_mstatus_bits(mstatus::kSIE);
  exec(enc::wfi(), Priv::kS);
  EXPECT_EQ(m.hart.priv, Priv::kS);
  EXPECT_EQ(m.hart.pc, kCode + 4);

  set_mstatus_bits(mstatus::kTW);
  exec(enc::wfi(), Priv::kS);
  EXPECT_EQ(m.hart.priv, Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction));
  EXPECT_EQ(mpp(), 1u);

  exec(enc::wfi(), Priv::kM);  // TW does not apply to M
  EXPECT_EQ(m.hart.priv, Priv::kM);
  EXPECT_EQ(m.hart.pc, kCode + 4);
}

TEST_F(TrapTest, WfiCompletesAndThenTheInterruptIsTaken) {
  m.set_csr(kMie, irq::kMEIP);
  m.irq.set(InterruptBit::kMEIP, true);
  exec(enc::wfi(), Priv::kM);  // MIE clear: WFI just completes
  EXPECT_EQ(m.hart.pc, kCode + 4);
  set_mstatus_bits(mstatus::kMIE);
  m.step();
  EXPECT_EQ(m.csr(kMcause), kInterrupt | 11);
  EXPECT_EQ(m.csr(kMepc), kCode + 4) << "the interrupt comes after WFI";
}

TEST_F(TrapTest, WfiWithNothingPendingSleepsUntilAnotherThreadKicks) {
  // Idle harts sleep long; whatever has news for them (a device, an IPI, a stop) kicks.
  m.hart.set_wfi_max_sleep(std::chrono::seconds(30));
  std::thread kicker([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    m.irq.kick();
  });
  const auto start = std::chrono::steady_clock::now();
  exec(enc::wfi(), Priv::kM);
  kicker.join();
  EXPECT_EQ(m.hart.pc, kCode + 4);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20))
      << "woken by the kick, not by the 30 s bound";
}

}  // namespace
}  // namespace vessel::rv
