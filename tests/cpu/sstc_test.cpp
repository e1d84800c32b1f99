// Sstc (stimecmp, menvcfg.STCE) and the builtin SBI's supervisor timer: who may reach
// stimecmp, how it drives mip.STIP, the interrupt it raises and WFI waking for its deadline.
#include <gtest/gtest.h>

#include <chrono>

#include "test_machine.hpp"

namespace vessel::rv {
namespace {

using namespace test;

class SstcTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kCode = TestMachine::kRamBase + 0x1000;
  static constexpr uint64_t kMtvecBase = TestMachine::kRamBase + 0x100;
  static constexpr uint64_t kStvecBase = TestMachine::kRamBase + 0x200;
  static constexpr uint64_t kTm = 1u << 1;  // mcounteren/scounteren.TM
  // mtime is set here so that deadlines on either side of it are far from the running clock:
  // a test that takes a while still sees "past" as past and "future" as future.
  static constexpr uint64_t kNow = 1'000'000'000'000;
  static constexpr uint64_t kPast = kNow - 1'000'000'000;
  static constexpr uint64_t kFuture = kNow + 1'000'000'000;  // 100 s at 10 MHz

  void SetUp() override {
    m.set_csr(kMtvec, kMtvecBase);
    m.set_csr(kStvec, kStvecBase);
    m.open_pmp();
    m.clock.set_mtime(kNow);
  }
  // One instruction at kCode, executed in mode p.
  void exec(uint32_t insn, Priv p) {
    m.put32(kCode, insn);
    m.hart.pc = kCode;
    m.set_priv(p);
    m.step();
  }
  bool retired(Priv p) { return m.hart.pc == kCode + 4 && m.hart.priv == p; }
  void expect_illegal(uint32_t insn, Priv from) {
    EXPECT_EQ(m.hart.pc, kMtvecBase) << std::hex << insn;
    EXPECT_EQ(m.hart.priv, Priv::kM);
    EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction));
    EXPECT_EQ(m.csr(kMtval), insn);
    EXPECT_EQ((m.csr(kMstatus) & mstatus::kMPP) >> mstatus::kMPPShift, static_cast<uint64_t>(from));
  }
  void set_stce(bool on) {
    const uint64_t v = m.csr(kMenvcfg);
    m.set_csr(kMenvcfg, on ? v | envcfg::kSTCE : v & ~envcfg::kSTCE);
  }
  bool stip() { return (m.csr(kMip) & irq::kSTIP) != 0; }
  void set_mstatus_bits(uint64_t bits) { m.set_csr(kMstatus, m.csr(kMstatus) | bits); }
  void clear_mstatus_bits(uint64_t bits) { m.set_csr(kMstatus, m.csr(kMstatus) & ~bits); }
  // Delegate the supervisor timer interrupt and enable it in sie (sstatus.SIE left alone).
  void delegate_stip() {
    m.set_csr(kMideleg, irq::kSTIP);
    m.set_csr(kMie, irq::kSTIP);
  }
  // Executes WFI in S-mode until STIP is pending (WFI may return early: it is a hint);
  // returns how long that took.
  std::chrono::steady_clock::duration wfi_until_stip() {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 100 && !stip(); ++i) {
      exec(enc::wfi(), Priv::kS);
      EXPECT_TRUE(retired(Priv::kS)) << "SIE clear: WFI completes without a trap";
    }
    EXPECT_TRUE(stip());
    return std::chrono::steady_clock::now() - start;
  }

  TestMachine m;
};

TEST_F(SstcTest, StceIsWritableAndReadsBack) {
  EXPECT_TRUE(m.hart.sstc()) << "on by default";
  // Without the extensions that add envcfg fields of their own (Zicbom, Zicboz, Svpbmt).
  m.hart.set_extensions(kAllExtensions & ~kOptionalExtensions);
  EXPECT_EQ(m.csr(kMenvcfg), 0u) << "reset";
  m.set_csr(kMenvcfg, ~0ULL);
  EXPECT_EQ(m.csr(kMenvcfg), envcfg::kFIOM | envcfg::kSTCE) << "no other envcfg fields exist";
  set_stce(false);
  EXPECT_EQ(m.csr(kMenvcfg), envcfg::kFIOM);
  m.set_csr(kSenvcfg, ~0ULL);
  EXPECT_EQ(m.csr(kSenvcfg), envcfg::kFIOM) << "senvcfg has no STCE";
}

TEST_F(SstcTest, MachineModeReachesAll64BitsWhateverStceSays) {
  for (bool stce : {false, true}) {
    set_stce(stce);
    for (uint64_t v : {0x123456789abcdef0ULL, 0ULL, ~0ULL}) {
      m.hart.x[a1] = v;
      exec(enc::csrrw(zero, kStimecmp, a1), Priv::kM);
      ASSERT_TRUE(retired(Priv::kM)) << "stce " << stce;
      exec(enc::csrrs(a0, kStimecmp, zero), Priv::kM);
      ASSERT_TRUE(retired(Priv::kM));
      EXPECT_EQ(m.hart.x[a0], v);
    }
  }
}

TEST_F(SstcTest, SupervisorNeedsBothStceAndTm) {
  m.set_csr(kStimecmp, kFuture);
  const uint32_t read = enc::csrrs(a0, kStimecmp, zero);
  const uint32_t write = enc::csrrw(zero, kStimecmp, a1);
  m.hart.x[a1] = 1234;
  for (bool stce : {false, true}) {
    for (bool tm : {false, true}) {
      SCOPED_TRACE(testing::Message() << "STCE " << stce << " TM " << tm);
      set_stce(stce);
      m.set_csr(kMcounteren, tm ? kTm : 0);
      m.hart.x[a0] = 0;
      exec(read, Priv::kS);
      if (stce && tm) {
        EXPECT_TRUE(retired(Priv::kS));
        EXPECT_EQ(m.hart.x[a0], kFuture);
      } else {
        expect_illegal(read, Priv::kS);
        EXPECT_EQ(m.hart.x[a0], 0u) << "rd untouched";
      }
      exec(write, Priv::kS);
      if (stce && tm) {
        EXPECT_TRUE(retired(Priv::kS));
        EXPECT_EQ(m.csr(kStimecmp), 1234u);
        m.set_csr(kStimecmp, kFuture);
      } else {
        expect_illegal(write, Priv::kS);
        EXPECT_EQ(m.csr(kStimecmp), kFuture) << "the write did nothing";
      }
    }
  }
}

TEST_F(SstcTest, UserModeNeverReachesStimecmp) {
  set_stce(true);
  m.set_csr(kMcounteren, kTm);
  m.set_csr(kScounteren, kTm);
  for (uint32_t insn : {enc::csrrs(a0, kStimecmp, zero), enc::csrrw(zero, kStimecmp, a1)}) {
    exec(insn, Priv::kU);
    expect_illegal(insn, Priv::kU);
  }
}

TEST_F(SstcTest, WithoutSstcStceStaysZeroAndStimecmpIsIllegalEvenInMachineMode) {
  m.hart.set_sstc(false);
  EXPECT_FALSE(m.hart.sstc());
  m.hart.set_extensions(kAllExtensions & ~kOptionalExtensions);
  m.set_csr(kMenvcfg, ~0ULL);
  EXPECT_EQ(m.csr(kMenvcfg), envcfg::kFIOM);
  uint64_t v = 0;
  EXPECT_FALSE(m.hart.csr_read(kStimecmp, v));
  EXPECT_FALSE(m.hart.csr_write(kStimecmp, 0));
  for (uint32_t insn : {enc::csrrs(a0, kStimecmp, zero), enc::csrrw(zero, kStimecmp, a1)}) {
    exec(insn, Priv::kM);
    expect_illegal(insn, Priv::kM);
  }
  // STIP stays M-mode's to write.
  m.set_csr(kMip, irq::kSTIP);
  EXPECT_TRUE(stip());
  m.set_csr(kMip, 0);
  EXPECT_FALSE(stip());
}

TEST_F(SstcTest, StipIsTimeAtOrPastStimecmpWhileStceIsSet) {
  set_stce(true);
  EXPECT_FALSE(stip()) << "stimecmp resets to the far future";
  m.set_csr(kStimecmp, kPast);
  EXPECT_TRUE(stip());
  m.set_csr(kStimecmp, 0);
  EXPECT_TRUE(stip());
  m.set_csr(kStimecmp, kFuture);
  EXPECT_FALSE(stip()) << "moving stimecmp into the future clears STIP";
  m.set_csr(kStimecmp, 1ULL << 63);
  EXPECT_FALSE(stip()) << "the comparison is unsigned";
  // Time catching up with a deadline sets STIP without any write.
  m.set_csr(kStimecmp, kFuture);
  m.clock.set_mtime(kFuture);
  EXPECT_TRUE(stip());
  m.clock.set_mtime(kNow);
  EXPECT_FALSE(stip());
  // sip shows it when delegated.
  m.set_csr(kStimecmp, kPast);
  EXPECT_EQ(m.csr(kSip) & irq::kSTIP, 0u);
  m.set_csr(kMideleg, irq::kSTIP);
  EXPECT_EQ(m.csr(kSip) & irq::kSTIP, irq::kSTIP);
}

TEST_F(SstcTest, MipStipIsReadOnlyWhileStceIsSet) {
  set_stce(true);
  m.hart.x[a1] = irq::kSTIP;
  m.set_csr(kStimecmp, kFuture);
  exec(enc::csrrs(zero, kMip, a1), Priv::kM);
  ASSERT_TRUE(retired(Priv::kM));
  EXPECT_FALSE(stip()) << "csrs mip cannot set it";
  exec(enc::csrrw(zero, kMip, a1), Priv::kM);
  EXPECT_FALSE(stip()) << "csrw mip cannot set it";
  m.set_csr(kStimecmp, kPast);
  exec(enc::csrrc(zero, kMip, a1), Priv::kM);
  EXPECT_TRUE(stip()) << "csrc mip cannot clear it";
  exec(enc::csrrw(zero, kMip, zero), Priv::kM);
  EXPECT_TRUE(stip()) << "csrw mip cannot clear it";
  // The other software-writable bits still are.
  m.hart.x[a1] = irq::kSSIP;
  exec(enc::csrrs(zero, kMip, a1), Priv::kM);
  EXPECT_EQ(m.csr(kMip) & (irq::kSSIP | irq::kSTIP), irq::kSSIP | irq::kSTIP);
}

TEST_F(SstcTest, ClearingStceGivesStipBackToSoftware) {
  set_stce(true);
  m.set_csr(kStimecmp, kPast);
  ASSERT_TRUE(stip());
  set_stce(false);
  m.set_csr(kMip, 0);
  EXPECT_FALSE(stip()) << "stimecmp no longer drives STIP";
  m.set_csr(kMip, irq::kSTIP);
  EXPECT_TRUE(stip());
  m.set_csr(kStimecmp, kFuture);
  EXPECT_TRUE(stip()) << "writing stimecmp leaves the software bit alone";
  m.set_csr(kMip, 0);
  EXPECT_FALSE(stip());
  // And setting STCE hands it back to stimecmp at once.
  m.set_csr(kStimecmp, kPast);
  EXPECT_FALSE(stip());
  set_stce(true);
  EXPECT_TRUE(stip());
}

// mip.STIP is read-only while STCE is set, so writes then must not change the bit software
// gets back when STCE is cleared.
TEST_F(SstcTest, MipWritesWhileStceIsSetLeaveTheSoftwareStipAlone) {
  m.set_csr(kMip, irq::kSTIP);
  set_stce(true);
  m.set_csr(kStimecmp, kFuture);
  EXPECT_FALSE(stip());
  m.hart.x[a1] = irq::kSTIP;
  exec(enc::csrrc(zero, kMip, a1), Priv::kM);
  exec(enc::csrrw(zero, kMip, zero), Priv::kM);
  set_stce(false);
  EXPECT_TRUE(stip()) << "the value written while STIP was writable";
  m.set_csr(kMip, 0);
  set_stce(true);
  m.set_csr(kStimecmp, kPast);
  exec(enc::csrrs(zero, kMip, a1), Priv::kM);
  set_stce(false);
  EXPECT_FALSE(stip());
}

TEST_F(SstcTest, DelegatedTimerInterruptIsTakenInSupervisorMode) {
  set_stce(true);
  m.set_csr(kMcounteren, kTm);
  delegate_stip();
  set_mstatus_bits(mstatus::kSIE);
  m.set_csr(kStimecmp, kFuture);
  m.program(kCode, {enc::addi(a0, a0, 1), enc::addi(a0, a0, 1)});
  m.hart.pc = kCode;
  m.set_priv(Priv::kS);
  m.step();
  EXPECT_EQ(m.hart.pc, kCode + 4) << "nothing pending before the deadline";
  m.set_csr(kStimecmp, kPast);
  m.step();
  EXPECT_EQ(m.hart.priv, Priv::kS);
  EXPECT_EQ(m.hart.pc, kStvecBase);
  EXPECT_EQ(m.csr(kScause), kInterrupt | 5);
  EXPECT_EQ(m.csr(kSepc), kCode + 4);
  EXPECT_EQ(m.csr(kStval), 0u);
  EXPECT_EQ(m.csr(kMstatus) & (mstatus::kSIE | mstatus::kSPIE | mstatus::kSPP),
            mstatus::kSPIE | mstatus::kSPP);
  // Not taken again in S with SIE now clear, nor ever in M.
  m.put32(kStvecBase, enc::addi(a0, a0, 1));
  m.step();
  EXPECT_EQ(m.hart.pc, kStvecBase + 4);
  set_mstatus_bits(mstatus::kMIE);
  exec(enc::addi(a0, a0, 1), Priv::kM);
  EXPECT_TRUE(retired(Priv::kM)) << "a delegated interrupt is never taken in M";
}

TEST_F(SstcTest, UndelegatedTimerInterruptGoesToMachineMode) {
  set_stce(true);
  m.set_csr(kMie, irq::kSTIP);
  m.set_csr(kStimecmp, kPast);
  exec(enc::addi(a0, a0, 1), Priv::kS);
  EXPECT_EQ(m.hart.priv, Priv::kM);
  EXPECT_EQ(m.hart.pc, kMtvecBase);
  EXPECT_EQ(m.csr(kMcause), kInterrupt | 5);
}

// WFI sleeps at most wfi_max_sleep when nothing is due; with that set to 5 s, a stimecmp
// deadline 1 ms away must end the sleep long before the fallback could (2 s leaves a loaded
// host plenty of room).
TEST_F(SstcTest, WfiInSupervisorModeWakesAtTheStimecmpDeadline) {
  m.hart.set_wfi_max_sleep(std::chrono::seconds(5));
  set_stce(true);
  delegate_stip();
  clear_mstatus_bits(mstatus::kSIE | mstatus::kTW);
  auto best = std::chrono::steady_clock::duration::max();
  for (int attempt = 0; attempt < 3; ++attempt) {
    m.set_csr(kStimecmp, m.clock.mtime() + 10'000);  // 1 ms
    ASSERT_FALSE(stip());
    best = std::min(best, wfi_until_stip());
  }
  EXPECT_LT(best, std::chrono::seconds(2));
}

TEST_F(SstcTest, WfiIgnoresStimecmpWhileStceIsClear) {
  m.hart.set_wfi_max_sleep(std::chrono::milliseconds(300));
  delegate_stip();
  clear_mstatus_bits(mstatus::kSIE | mstatus::kTW);
  m.set_csr(kStimecmp, m.clock.mtime() + 10'000);
  // No kick left over from the setup may cut the sleep short.
  m.irq.take_attention();
  m.irq.wait_until(std::chrono::steady_clock::now());
  const auto start = std::chrono::steady_clock::now();
  exec(enc::wfi(), Priv::kS);
  EXPECT_TRUE(retired(Priv::kS));
  EXPECT_FALSE(stip());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150))
      << "WFI woke for a deadline that drives nothing";
}

TEST_F(SstcTest, BuiltinSbiTimerDrivesStipWithoutSstc) {
  m.hart.set_sstc(false);
  EXPECT_FALSE(stip());
  m.hart.set_supervisor_timer(kPast);
  EXPECT_TRUE(stip());
  m.hart.set_supervisor_timer(kFuture);
  EXPECT_FALSE(stip());
  m.clock.set_mtime(kFuture);
  EXPECT_TRUE(stip()) << "time reaching the deadline";
  m.clock.set_mtime(kNow);
  // The deadline owns STIP: software writes to mip cannot forge or drop it.
  m.set_csr(kMip, irq::kSTIP);
  EXPECT_FALSE(stip());
  m.hart.set_supervisor_timer(kPast);
  m.set_csr(kMip, 0);
  EXPECT_TRUE(stip());
  // stimecmp itself stays out of reach without Sstc.
  uint64_t v = 0;
  EXPECT_FALSE(m.hart.csr_read(kStimecmp, v));
  EXPECT_EQ(m.csr(kMenvcfg) & envcfg::kSTCE, 0u);
}

TEST_F(SstcTest, BuiltinSbiTimerInterruptIsTakenInSupervisorMode) {
  m.hart.set_sstc(false);
  delegate_stip();
  set_mstatus_bits(mstatus::kSIE);
  m.hart.set_supervisor_timer(kFuture);
  exec(enc::addi(a0, a0, 1), Priv::kS);
  EXPECT_TRUE(retired(Priv::kS));
  m.hart.set_supervisor_timer(kPast);
  exec(enc::addi(a0, a0, 1), Priv::kS);
  EXPECT_EQ(m.hart.priv, Priv::kS);
  EXPECT_EQ(m.hart.pc, kStvecBase);
  EXPECT_EQ(m.csr(kScause), kInterrupt | 5);
}

TEST_F(SstcTest, BuiltinSbiTimerWakesWfi) {
  m.hart.set_wfi_max_sleep(std::chrono::seconds(5));
  m.hart.set_sstc(false);
  delegate_stip();
  clear_mstatus_bits(mstatus::kSIE | mstatus::kTW);
  auto best = std::chrono::steady_clock::duration::max();
  for (int attempt = 0; attempt < 3; ++attempt) {
    m.hart.set_supervisor_timer(m.clock.mtime() + 10'000);
    ASSERT_FALSE(stip());
    best = std::min(best, wfi_until_stip());
  }
  EXPECT_LT(best, std::chrono::seconds(2));
}

TEST_F(SstcTest, ResetForgetsTheSupervisorTimer) {
  set_stce(true);
  m.set_csr(kStimecmp, kPast);
  m.hart.set_supervisor_timer(kPast);
  ASSERT_TRUE(stip());
  m.hart.reset(kCode);
  EXPECT_EQ(m.csr(kMenvcfg), 0u);
  EXPECT_EQ(m.csr(kStimecmp), ~0ULL);
  EXPECT_FALSE(stip());
  m.set_csr(kMip, irq::kSTIP);
  EXPECT_TRUE(stip()) << "software-writable again";
}

}  // namespace
}  // namespace vessel::rv
