// CSRs: WARL fields, read-only registers, PMP configuration rules and privilege checks, both
// through Hart::csr_read/csr_write and through csr instructions executed by the hart.
#include <gtest/gtest.h>

#include "test_machine.hpp"

namespace vessel::rv {
namespace {

using namespace test;

class CsrTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kCode = TestMachine::kRamBase + 0x1000;
  static constexpr uint64_t kTrapVector = TestMachine::kRamBase + 0x100;

  void SetUp() override {
    m.set_csr(kMtvec, kTrapVector);
    m.open_pmp();
  }
  // One instruction at kCode, executed in mode p.
  void exec(uint32_t insn, Priv p = Priv::kM) {
    m.put32(kCode, insn);
    m.hart.pc = kCode;
    m.set_priv(p);
    priv_ = p;
    m.step();
  }
  void expect_illegal(uint32_t insn, Priv from) {
    EXPECT_EQ(m.hart.pc, kTrapVector) << std::hex << insn;
    EXPECT_EQ(m.hart.priv, Priv::kM);
    EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction));
    EXPECT_EQ(m.csr(kMtval), insn);
    EXPECT_EQ(m.csr(kMepc), kCode);
    EXPECT_EQ((m.csr(kMstatus) & mstatus::kMPP) >> mstatus::kMPPShift, static_cast<uint64_t>(from));
  }
  void expect_retired() {
    EXPECT_EQ(m.hart.pc, kCode + 4) << "trapped with mcause " << m.csr(kMcause);
    EXPECT_EQ(m.hart.priv, priv_);
  }

  TestMachine m;
  Priv priv_ = Priv::kM;
};

TEST_F(CsrTest, MppReservedValueKeepsTheOldMode) {
  const uint64_t base = m.csr(kMstatus) & ~mstatus::kMPP;
  m.set_csr(kMstatus, base | 1ULL << mstatus::kMPPShift);
  m.set_csr(kMstatus, base | 2ULL << mstatus::kMPPShift);
  EXPECT_EQ((m.csr(kMstatus) & mstatus::kMPP) >> mstatus::kMPPShift, 1u);
  m.set_csr(kMstatus, base | 3ULL << mstatus::kMPPShift);
  EXPECT_EQ((m.csr(kMstatus) & mstatus::kMPP) >> mstatus::kMPPShift, 3u);
  m.set_csr(kMstatus, base | 2ULL << mstatus::kMPPShift);
  EXPECT_EQ((m.csr(kMstatus) & mstatus::kMPP) >> mstatus::kMPPShift, 3u);
  m.set_csr(kMstatus, base);
  EXPECT_EQ(m.csr(kMstatus) & mstatus::kMPP, 0u);
}

TEST_F(CsrTest, SxlAndUxlReadAs64BitAndIgnoreWrites) {
  EXPECT_EQ((m.csr(kMstatus) >> 32) & 3, 2u);
  EXPECT_EQ((m.csr(kMstatus) >> 34) & 3, 2u);
  m.set_csr(kMstatus, 0);
  EXPECT_EQ((m.csr(kMstatus) >> 32) & 3, 2u);
  EXPECT_EQ((m.csr(kMstatus) >> 34) & 3, 2u);
  m.set_csr(kMstatus, ~0ULL);
  EXPECT_EQ((m.csr(kMstatus) >> 32) & 0xf, 0xau);
  EXPECT_EQ((m.csr(kSstatus) >> 32) & 3, 2u) << "sstatus.UXL";
  EXPECT_EQ(m.csr(kSstatus) & mstatus::kSXL, 0u) << "SXL is not visible in sstatus";
}

TEST_F(CsrTest, ReservedAndFixedMstatusBitsIgnoreWrites) {
  m.set_csr(kMstatus, ~0ULL);
  const uint64_t v = m.csr(kMstatus);
  EXPECT_EQ(v & (3ULL << 9), 0u) << "VS (no V extension)";
  EXPECT_EQ(v & (3ULL << 15), 0u) << "XS";
  EXPECT_EQ(v & (1ULL << 6 | 1ULL << 36 | 1ULL << 37), 0u) << "UBE/SBE/MBE (little-endian only)";
  EXPECT_EQ(v & mstatus::kMPP, mstatus::kMPP);
  EXPECT_NE(v & mstatus::kTSR, 0u);
  EXPECT_NE(v & mstatus::kSD, 0u);
}

TEST_F(CsrTest, SdSummarizesFs) {
  const uint64_t base = m.csr(kMstatus) & ~mstatus::kFS;
  for (uint64_t fs = 0; fs < 4; ++fs) {
    m.set_csr(kMstatus, base | fs << mstatus::kFSShift);
    const uint64_t v = m.csr(kMstatus);
    EXPECT_EQ((v & mstatus::kFS) >> mstatus::kFSShift, fs);
    EXPECT_EQ((v & mstatus::kSD) != 0, fs == 3) << "FS=" << fs;
    EXPECT_EQ((m.csr(kSstatus) & mstatus::kSD) != 0, fs == 3) << "sstatus, FS=" << fs;
  }
  m.set_csr(kMstatus, base | mstatus::kSD);  // SD itself is read-only
  EXPECT_EQ(m.csr(kMstatus) & mstatus::kSD, 0u);
}

TEST_F(CsrTest, FloatingPointIsIllegalWhileFsIsOff) {
  m.set_csr(kMstatus, m.csr(kMstatus) & ~mstatus::kFS);
  exec(enc::fadd_s(1, 2, 3, 0));
  expect_illegal(enc::fadd_s(1, 2, 3, 0), Priv::kM);
  exec(enc::csrrs(a0, kFflags, zero));
  expect_illegal(enc::csrrs(a0, kFflags, zero), Priv::kM);
  exec(enc::csrrs(a0, kFcsr, zero));
  expect_illegal(enc::csrrs(a0, kFcsr, zero), Priv::kM);
}

TEST_F(CsrTest, FloatingPointWorkMakesFsDirty) {
  m.set_csr(kMstatus, (m.csr(kMstatus) & ~mstatus::kFS) | 1ULL << mstatus::kFSShift);  // Initial
  exec(enc::fadd_s(1, 2, 3, 0));
  expect_retired();
  EXPECT_EQ(m.csr(kMstatus) & mstatus::kFS, mstatus::kFS);
  EXPECT_NE(m.csr(kMstatus) & mstatus::kSD, 0u);
  // fcsr packs frm above fflags.
  m.hart.x[a1] = 0xff;
  exec(enc::csrrw(a0, kFcsr, a1));
  EXPECT_EQ(m.csr(kFflags), 0x1fu);
  EXPECT_EQ(m.csr(kFrm), 7u);
  EXPECT_EQ(m.csr(kFcsr), 0xffu);
}

TEST_F(CsrTest, ReservedDynamicRoundingModeIsIllegalWhenExecuted) {
  m.set_csr(kMstatus, m.csr(kMstatus) | mstatus::kFS);
  for (uint64_t frm : {5u, 6u, 7u}) {
    m.set_csr(kFrm, frm);
    exec(enc::fadd_s(1, 2, 3, 7));
    expect_illegal(enc::fadd_s(1, 2, 3, 7), Priv::kM);
  }
  m.set_csr(kFrm, 1);
  exec(enc::fadd_s(1, 2, 3, 7));
  expect_retired();
  exec(enc::fadd_s(1, 2, 3, 0));  // a static mode ignores frm
  expect_retired();
}

TEST_F(CsrTest, CountersTakeWrittenValuesAndCountRetiredInstructions) {
  m.hart.x[a1] = 1000;
  exec(enc::csrrw(zero, kMinstret, a1));
  exec(enc::csrrs(a0, kMinstret, zero));
  EXPECT_EQ(m.hart.x[a0], 1000u) << "the write wins over the writer's own retirement";
  exec(enc::csrrs(a0, kMinstret, zero));
  EXPECT_EQ(m.hart.x[a0], 1001u);
  exec(enc::csrrw(zero, kMcycle, a1));
  exec(enc::csrrs(a0, kMcycle, zero));
  EXPECT_EQ(m.hart.x[a0], 1000u);
  // mcountinhibit.IR freezes minstret.
  m.hart.x[a1] = 4;
  exec(enc::csrrw(zero, kMcountinhibit, a1));
  exec(enc::csrrs(a0, kMinstret, zero));
  const uint64_t frozen = m.hart.x[a0];
  exec(enc::addi(a2, a2, 1));
  exec(enc::csrrs(a0, kMinstret, zero));
  EXPECT_EQ(m.hart.x[a0], frozen);
  EXPECT_EQ(m.csr(kMcountinhibit), 4u);
  m.set_csr(kMcountinhibit, 2);  // TM is hardwired to zero
  EXPECT_EQ(m.csr(kMcountinhibit), 0u);
}

TEST_F(CsrTest, PlatformSeipIsNotLatchedByMipWrites) {
  m.irq.set(InterruptBit::kSEIP, true);
  EXPECT_NE(m.csr(kMip) & irq::kSEIP, 0u);
  m.hart.x[a1] = irq::kSSIP;
  exec(enc::csrrs(zero, kMip, a1));  // read-modify-write sees SEIP from the platform
  exec(enc::csrrc(zero, kMip, a1));
  m.irq.set(InterruptBit::kSEIP, false);
  EXPECT_EQ(m.csr(kMip) & irq::kSEIP, 0u) << "SEIP stuck after the platform dropped it";
  // The software-writable SEIP bit is independent of the line.
  m.hart.x[a1] = irq::kSEIP;
  exec(enc::csrrs(zero, kMip, a1));
  EXPECT_NE(m.csr(kMip) & irq::kSEIP, 0u);
  exec(enc::csrrc(zero, kMip, a1));
  EXPECT_EQ(m.csr(kMip) & irq::kSEIP, 0u);
}

TEST_F(CsrTest, MisaIsReadOnlyRv64Acdfhimsu) {
  const uint64_t misa = m.csr(kMisa);
  EXPECT_EQ(misa >> 62, 2u);
  for (char ext : {'A', 'C', 'D', 'F', 'H', 'I', 'M', 'S', 'U'}) {
    EXPECT_TRUE(misa & (1ULL << (ext - 'A'))) << ext;
  }
  EXPECT_FALSE(misa & (1ULL << ('V' - 'A')));
  m.hart.x[a1] = 0;
  exec(enc::csrrw(a0, kMisa, a1));
  expect_retired();
  EXPECT_EQ(m.hart.x[a0], misa);
  EXPECT_EQ(m.csr(kMisa), misa);
}

TEST_F(CsrTest, MedelegCannotDelegateEcallFromM) {
  m.set_csr(kMedeleg, ~0ULL);
  const uint64_t v = m.csr(kMedeleg);
  EXPECT_EQ(v & (1ULL << 11), 0u);
  for (Exception e :
       {Exception::kInstructionAddressMisaligned, Exception::kIllegalInstruction,
        Exception::kBreakpoint, Exception::kEcallFromU, Exception::kEcallFromS,
        Exception::kInstructionPageFault, Exception::kLoadPageFault, Exception::kStorePageFault}) {
    EXPECT_TRUE(v & (1ULL << cause(e))) << "cause " << cause(e);
  }
}

TEST_F(CsrTest, MidelegHoldsOnlySupervisorInterrupts) {
  // With H, the VS-level interrupts and SGEI are read-only ones; Sscofpmf's LCOFI is S-level.
  m.set_csr(kMideleg, ~0ULL);
  EXPECT_EQ(m.csr(kMideleg),
            irq::kSSIP | irq::kSTIP | irq::kSEIP | irq::kLCOFIP | irq::kHypervisor);
  m.set_csr(kMideleg, 0);
  EXPECT_EQ(m.csr(kMideleg), irq::kHypervisor);
}

TEST_F(CsrTest, MieAndMipWritableBits) {
  m.set_csr(kMie, ~0ULL);
  EXPECT_EQ(m.csr(kMie), irq::kAll | irq::kLCOFIP | irq::kHypervisor);
  // MSIP, MTIP, MEIP belong to the platform; of H's, VSSIP (hvip's) is writable here, and
  // Sscofpmf's LCOFIP.
  m.set_csr(kMip, ~0ULL);
  EXPECT_EQ(m.csr(kMip), irq::kSSIP | irq::kSTIP | irq::kSEIP | irq::kVSSIP | irq::kLCOFIP);
  m.set_csr(kMip, 0);
  EXPECT_EQ(m.csr(kMip), 0u);
}

TEST_F(CsrTest, SieAndSipSeeOnlyDelegatedBits) {
  m.set_csr(kMie, irq::kAll);
  EXPECT_EQ(m.csr(kSie), 0u);
  m.set_csr(kMideleg, irq::kSSIP | irq::kSTIP);
  EXPECT_EQ(m.csr(kSie), irq::kSSIP | irq::kSTIP);
  m.set_csr(kSie, 0);
  EXPECT_EQ(m.csr(kMie), irq::kAll & ~(irq::kSSIP | irq::kSTIP));
  m.set_csr(kSip, ~0ULL);  // only SSIP is writable through sip
  EXPECT_EQ(m.csr(kMip), irq::kSSIP);
  EXPECT_EQ(m.csr(kSip), irq::kSSIP);
}

TEST_F(CsrTest, SatpIgnoresUnsupportedModesAndHasSixteenAsidBits) {
  const uint64_t ppn = 0x80123;
  m.set_csr(kSatp, kSatpSv39 | 0xffffULL << 44 | ppn);
  EXPECT_EQ(m.csr(kSatp), kSatpSv39 | 0xffffULL << 44 | ppn) << "ASIDLEN is 16";
  m.set_csr(kSatp, kSatpSv39 | ppn);
  for (uint64_t mode : {1ULL, 7ULL, 10ULL, 11ULL, 15ULL}) {  // reserved, Sv57, Sv64
    m.set_csr(kSatp, mode << 60 | 0x1234);
    EXPECT_EQ(m.csr(kSatp), kSatpSv39 | ppn) << "mode " << mode;
  }
  m.set_csr(kSatp, kSatpSv48 | ppn);
  EXPECT_EQ(m.csr(kSatp), kSatpSv48 | ppn);
  m.set_csr(kSatp, 0x1234);  // Bare: the whole register reads zero
  EXPECT_EQ(m.csr(kSatp), 0u);
}

TEST_F(CsrTest, TrapVectorModesAndEpcAlignment) {
  m.set_csr(kMtvec, 0x80001003);  // mode 3 is reserved
  EXPECT_EQ(m.csr(kMtvec) & 3, 1u);
  m.set_csr(kMtvec, 0x80001002);
  EXPECT_EQ(m.csr(kMtvec) & 3, 0u);
  m.set_csr(kStvec, 0x80002001);
  EXPECT_EQ(m.csr(kStvec), 0x80002001u);
  m.set_csr(kMepc, 0x80000003);  // IALIGN=16: bit 0 is zero
  EXPECT_EQ(m.csr(kMepc), 0x80000002u);
  m.set_csr(kSepc, 0x80000001);
  EXPECT_EQ(m.csr(kSepc), 0x80000000u);
}

TEST_F(CsrTest, PmpcfgWriteWithoutReadIsCleared) {
  m.set_csr(kPmpcfg0,
            pmp::kNapot | pmp::kW | static_cast<uint64_t>(pmp::kTor | pmp::kW | pmp::kX) << 8);
  const uint64_t v = m.csr(kPmpcfg0);
  EXPECT_EQ(v & 0xff, pmp::kNapot);
  EXPECT_EQ((v >> 8) & 0xff, static_cast<uint64_t>(pmp::kTor | pmp::kX));
  m.set_csr(kPmpcfg0, 0x60 | pmp::kR);  // bits 5 and 6 are reserved
  EXPECT_EQ(m.csr(kPmpcfg0) & 0xff, pmp::kR);
}

TEST_F(CsrTest, LockedPmpEntriesIgnoreWrites) {
  m.set_csr(kPmpaddr0 + 0, 0x20000000);
  m.set_csr(kPmpaddr0 + 1, 0x20001000);
  m.set_csr(kPmpaddr0 + 2, 0x20002000);
  // Entry 0 locked; entry 2 locked TOR, which also locks pmpaddr1 (its lower bound).
  m.set_csr(kPmpcfg0, (pmp::kL | pmp::kNapot | pmp::kR) |
                          static_cast<uint64_t>(pmp::kL | pmp::kTor | pmp::kR) << 16);
  m.set_csr(kPmpcfg0, static_cast<uint64_t>(pmp::kNapot | pmp::kR | pmp::kW) << 8 |
                          static_cast<uint64_t>(pmp::kTor | pmp::kR | pmp::kW) << 24);
  const uint64_t v = m.csr(kPmpcfg0);
  EXPECT_EQ(v & 0xff, static_cast<uint64_t>(pmp::kL | pmp::kNapot | pmp::kR)) << "entry 0 locked";
  EXPECT_EQ((v >> 8) & 0xff, static_cast<uint64_t>(pmp::kNapot | pmp::kR | pmp::kW)) << "entry 1";
  EXPECT_EQ((v >> 16) & 0xff, static_cast<uint64_t>(pmp::kL | pmp::kTor | pmp::kR))
      << "entry 2 locked";
  EXPECT_EQ((v >> 24) & 0xff, static_cast<uint64_t>(pmp::kTor | pmp::kR | pmp::kW)) << "entry 3";
  m.set_csr(kPmpaddr0 + 0, 0x1111);
  m.set_csr(kPmpaddr0 + 1, 0x2222);
  m.set_csr(kPmpaddr0 + 2, 0x3333);
  m.set_csr(kPmpaddr0 + 3, 0x4444);
  EXPECT_EQ(m.csr(kPmpaddr0 + 0), 0x20000000u);
  EXPECT_EQ(m.csr(kPmpaddr0 + 1), 0x20001000u);
  EXPECT_EQ(m.csr(kPmpaddr0 + 2), 0x20002000u);
  EXPECT_EQ(m.csr(kPmpaddr0 + 3), 0x4444u);
}

TEST_F(CsrTest, PmpaddrKeeps54Bits) {
  m.set_csr(kPmpaddr0 + 4, ~0ULL);
  EXPECT_EQ(m.csr(kPmpaddr0 + 4), (1ULL << 54) - 1);
}

TEST_F(CsrTest, UnimplementedPmpEntriesReadZero) {
  for (unsigned k : {16, 17, 40, 63}) {
    m.hart.x[a1] = 0x12345;
    exec(enc::csrrw(zero, kPmpaddr0 + k, a1));
    expect_retired();
    exec(enc::csrrs(a0, kPmpaddr0 + k, zero));
    expect_retired();
    EXPECT_EQ(m.hart.x[a0], 0u) << "pmpaddr" << k;
  }
  for (unsigned k : {4, 6, 14}) {  // entries 16..63
    m.hart.x[a1] = 0x1f1f1f1f1f1f1f1fULL;
    exec(enc::csrrw(zero, kPmpcfg0 + k, a1));
    expect_retired();
    EXPECT_EQ(m.csr(kPmpcfg0 + k), 0u) << "pmpcfg" << k;
  }
}

TEST_F(CsrTest, OddPmpcfgRegistersAreIllegalOnRv64) {
  for (unsigned k : {1, 3, 15}) {
    const uint32_t read = enc::csrrs(a0, kPmpcfg0 + k, zero);
    exec(read);
    expect_illegal(read, Priv::kM);
    const uint32_t write = enc::csrrw(zero, kPmpcfg0 + k, a1);
    exec(write);
    expect_illegal(write, Priv::kM);
  }
}

TEST_F(CsrTest, SupervisorReadingMstatusIsIllegalWithTheInstructionInMtval) {
  const uint32_t insn = enc::csrrs(a0, kMstatus, zero);
  m.hart.x[a0] = 0x5555;
  exec(insn, Priv::kS);
  expect_illegal(insn, Priv::kS);
  EXPECT_EQ(m.hart.x[a0], 0x5555u) << "rd is not written";
  exec(enc::csrrs(a0, kSstatus, zero), Priv::kS);
  expect_retired();
  EXPECT_EQ(m.hart.x[a0], m.csr(kMstatus) & mstatus::kSstatusMask);
}

TEST_F(CsrTest, UserModeReachesNoSupervisorCsr) {
  for (uint16_t csr : {kSstatus, kSatp, kSscratch, kMscratch}) {
    const uint32_t insn = enc::csrrs(a0, csr, zero);
    exec(insn, Priv::kU);
    expect_illegal(insn, Priv::kU);
  }
}

TEST_F(CsrTest, WritesToReadOnlyCsrsAreIllegalButPureReadsAreNot) {
  exec(enc::csrrs(a0, kMhartid, zero));
  expect_retired();
  EXPECT_EQ(m.hart.x[a0], 0u);
  exec(enc::csrrsi(a0, kMhartid, 0));
  expect_retired();
  for (uint32_t insn : {enc::csrrw(zero, kMhartid, a1), enc::csrrs(a0, kMhartid, a1),
                        enc::csrrwi(a0, kMvendorid, 0), enc::csrrw(a0, kCycle, zero)}) {
    exec(insn);
    expect_illegal(insn, Priv::kM);
  }
}

TEST_F(CsrTest, UnknownCsrsAreIllegal) {
  for (unsigned csr : {0x7c0, 0x5c0, 0x2ff, 0x7b0, 0xfff}) {
    const uint32_t insn = enc::csrrs(a0, csr, zero);
    exec(insn);
    expect_illegal(insn, Priv::kM);
  }
}

TEST_F(CsrTest, TvmTrapsSatpAndSfenceInSupervisorMode) {
  m.set_csr(kMstatus, m.csr(kMstatus) | mstatus::kTVM);
  for (uint32_t insn :
       {enc::csrrs(a0, kSatp, zero), enc::csrrw(zero, kSatp, zero), enc::sfence_vma(zero, zero)}) {
    exec(insn, Priv::kS);
    expect_illegal(insn, Priv::kS);
  }
  exec(enc::csrrs(a0, kSatp, zero), Priv::kM);
  expect_retired();
  m.set_csr(kMstatus, m.csr(kMstatus) & ~mstatus::kTVM);
  exec(enc::sfence_vma(zero, zero), Priv::kS);
  expect_retired();
  exec(enc::sfence_vma(zero, zero), Priv::kU);
  expect_illegal(enc::sfence_vma(zero, zero), Priv::kU);
}

TEST_F(CsrTest, CounterEnablesGateLowerModes) {
  const uint32_t read_cycle = enc::csrrs(a0, kCycle, zero);
  exec(read_cycle, Priv::kS);
  expect_illegal(read_cycle, Priv::kS);
  m.set_csr(kMcounteren, 1);
  exec(read_cycle, Priv::kS);
  expect_retired();
  exec(read_cycle, Priv::kU);
  expect_illegal(read_cycle, Priv::kU);
  m.set_csr(kScounteren, 1);
  exec(read_cycle, Priv::kU);
  expect_retired();
  const uint32_t read_time = enc::csrrs(a0, kTime, zero);
  exec(read_time, Priv::kU);
  expect_illegal(read_time, Priv::kU);
}

TEST_F(CsrTest, SstatusWritesReachOnlySupervisorFields) {
  const uint64_t before = m.csr(kMstatus);
  m.hart.x[a1] = ~0ULL;
  exec(enc::csrrw(zero, kSstatus, a1), Priv::kS);
  expect_retired();
  const uint64_t after = m.csr(kMstatus);
  const uint64_t machine_only = mstatus::kMIE | mstatus::kMPIE | mstatus::kMPP | mstatus::kMPRV |
                                mstatus::kTVM | mstatus::kTW | mstatus::kTSR;
  EXPECT_EQ(after & machine_only, before & machine_only);
  const uint64_t supervisor =
      mstatus::kSIE | mstatus::kSPIE | mstatus::kSPP | mstatus::kFS | mstatus::kSUM | mstatus::kMXR;
  EXPECT_EQ(after & supervisor, supervisor);
}

TEST_F(CsrTest, CsrInstructionsReturnTheOldValue) {
  m.set_csr(kMscratch, 0xf0);
  m.hart.x[a1] = 0x0f;
  exec(enc::csrrs(a0, kMscratch, a1));
  EXPECT_EQ(m.hart.x[a0], 0xf0u);
  EXPECT_EQ(m.csr(kMscratch), 0xffu);
  m.hart.x[a1] = 0xf0;
  exec(enc::csrrc(a0, kMscratch, a1));
  EXPECT_EQ(m.hart.x[a0], 0xffu);
  EXPECT_EQ(m.csr(kMscratch), 0x0fu);
  exec(enc::csrrwi(a0, kMscratch, 31));
  EXPECT_EQ(m.hart.x[a0], 0x0fu);
  EXPECT_EQ(m.csr(kMscratch), 31u);
  exec(enc::csrrw(a0, kMscratch, a0));  // rd == rs1: the old value lands after the write
  EXPECT_EQ(m.hart.x[a0], 31u);
  EXPECT_EQ(m.csr(kMscratch), 0x0fu);
}

}  // namespace
}  // namespace vessel::rv
