// Address translation and memory access: Sv39/Sv48 walks over page tables the test builds in
// RAM, A/D updates, permission faults, PMP, the soft TLB's flush rules, misaligned accesses
// and the A extension's alignment and reservation rules.
#include <gtest/gtest.h>

#include <vector>

#include "bus/device.hpp"
#include "test_machine.hpp"

namespace vessel::rv {
namespace {

using namespace test;

constexpr uint64_t kRam = TestMachine::kRamBase;
constexpr uint64_t kCode = kRam + 0x1000;  // identity-mapped, S-mode executable
constexpr uint64_t kTrapVector = kRam + 0x100;
constexpr uint64_t kData = kRam + 0x200000;  // 2 MiB aligned, for superpages

constexpr uint64_t kRwxad = pte::kRwxad;
constexpr uint64_t kRwad = pte::kRwad;

class MmuTest : public ::testing::TestWithParam<unsigned> {
 protected:
  void SetUp() override {
    m.set_csr(kMtvec, kTrapVector);
    m.open_pmp();
    pt = std::make_unique<PageTables>(m, GetParam());
    // Code and everything else at kRam: one identity-mapped 1 GiB page (S only).
    pt->map(kRam, kRam, kRwxad, 2);
    m.set_csr(kSatp, pt->satp());
    ASSERT_EQ(m.csr(kSatp), pt->satp());
  }

  // Executes one instruction at kCode in mode p (whose code mapping must allow it).
  void exec(uint32_t insn, Priv p = Priv::kS, uint64_t at = kCode) {
    m.put32(kCode, insn);
    m.hart.pc = at;
    m.set_priv(p);
    m.step();
  }
  // A load through a1 into a0; returns whether it retired.
  bool load64(uint64_t va, Priv p = Priv::kS) {
    m.hart.x[a1] = va;
    exec(enc::ld(a0, a1, 0), p);
    return m.hart.pc == kCode + 4;
  }
  bool store64(uint64_t va, uint64_t v, Priv p = Priv::kS) {
    m.hart.x[a1] = va;
    m.hart.x[a2] = v;
    exec(enc::sd(a2, a1, 0), p);
    return m.hart.pc == kCode + 4;
  }
  void expect_fault(Exception e, uint64_t tval) {
    EXPECT_EQ(m.hart.pc, kTrapVector);
    EXPECT_EQ(m.csr(kMcause), cause(e));
    EXPECT_EQ(m.csr(kMtval), tval);
  }

  TestMachine m;
  std::unique_ptr<PageTables> pt;
};

INSTANTIATE_TEST_SUITE_P(SvModes, MmuTest, ::testing::Values(3u, 4u),
                         [](const ::testing::TestParamInfo<unsigned>& p) {
                           return p.param == 3 ? "Sv39" : "Sv48";
                         });

TEST_P(MmuTest, WalksFourKilobyteTwoMegabyteAndOneGigabytePages) {
  const uint64_t va4k = 0x10001000, va2m = 0x10200000, va1g = 0x40000000;
  pt->map(va4k, kData + 0x3000, kRwad);
  pt->map(va2m, kData, kRwad, 1);
  pt->map(va1g, kRam, kRwad, 2);
  m.put64(kData + 0x3008, 0x4444);
  m.put64(kData + 0x1ff8, 0x2222);
  m.put64(kRam + 0x123450, 0x1111);
  ASSERT_TRUE(load64(va4k + 8));
  EXPECT_EQ(m.hart.x[a0], 0x4444u);
  ASSERT_TRUE(load64(va2m + 0x1ff8));
  EXPECT_EQ(m.hart.x[a0], 0x2222u);
  ASSERT_TRUE(load64(va1g + 0x123450));
  EXPECT_EQ(m.hart.x[a0], 0x1111u);
  ASSERT_TRUE(store64(va2m + 0x3010, 0x5555));
  EXPECT_EQ(m.get64(kData + 0x3010), 0x5555u);
  // Unmapped neighbours fault.
  EXPECT_FALSE(load64(va4k + 0x1000));
  expect_fault(Exception::kLoadPageFault, va4k + 0x1000);
}

TEST_P(MmuTest, Sv48ReachesAddressesSv39CannotName) {
  const uint64_t va = 0x00007f0000001000ULL;  // bit 46 set: canonical under Sv48 only
  pt->map(va, kData, kRwad);
  m.put64(kData, 0x4848);
  if (GetParam() == 4) {
    ASSERT_TRUE(load64(va));
    EXPECT_EQ(m.hart.x[a0], 0x4848u);
  } else {
    EXPECT_FALSE(load64(va));
    expect_fault(Exception::kLoadPageFault, va);
  }
}

TEST_P(MmuTest, NonCanonicalAddressesFault) {
  const uint64_t va_bits = GetParam() == 3 ? 39 : 48;
  const uint64_t bad = 1ULL << (va_bits - 1);  // top VA bit set, upper bits clear
  EXPECT_FALSE(load64(bad));
  expect_fault(Exception::kLoadPageFault, bad);
  EXPECT_FALSE(store64(bad | 0x10, 1));
  expect_fault(Exception::kStorePageFault, bad | 0x10);
  const uint64_t bad2 = 1ULL << 63;  // upper bits not a copy of the top VA bit
  EXPECT_FALSE(load64(bad2));
  expect_fault(Exception::kLoadPageFault, bad2);
  // A jump there faults on fetch.
  m.hart.x[a1] = bad;
  exec(enc::jalr(zero, a1, 0));
  m.step();
  EXPECT_EQ(m.hart.pc, kTrapVector);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kInstructionPageFault));
  EXPECT_EQ(m.csr(kMtval), bad);
  EXPECT_EQ(m.csr(kMepc), bad);
}

TEST_P(MmuTest, HardwareSetsAccessedAndDirty) {
  const uint64_t va = 0x10005000;
  const uint64_t slot = pt->map(va, kData, pte::kV | pte::kR | pte::kW);
  ASSERT_TRUE(load64(va));
  EXPECT_EQ(m.get64(slot) & (pte::kA | pte::kD), pte::kA);
  ASSERT_TRUE(store64(va, 7));
  EXPECT_EQ(m.get64(slot) & (pte::kA | pte::kD), pte::kA | pte::kD);
  // Fetch sets A on an executable page.
  const uint64_t code_va = 0x10006000;
  const uint64_t code_slot = pt->map(code_va, kCode, pte::kV | pte::kX);
  exec(enc::addi(a0, zero, 9), Priv::kS, code_va);
  EXPECT_EQ(m.hart.pc, code_va + 4);
  EXPECT_EQ(m.hart.x[a0], 9u);
  EXPECT_EQ(m.get64(code_slot) & (pte::kA | pte::kD), pte::kA);
}

TEST_P(MmuTest, PermissionFaultsReportCauseAndAddress) {
  const uint64_t ro = 0x10010000, xo = 0x10011000, invalid = 0x10012000, wo = 0x10013000;
  pt->map(ro, kData, pte::kV | pte::kR | pte::kA | pte::kD);
  pt->map(xo, kCode & ~0xfffULL, pte::kV | pte::kX | pte::kA);
  pt->map(invalid, kData, kRwad & ~pte::kV);
  pt->map(wo, kData, pte::kV | pte::kW | pte::kA | pte::kD);  // W without R is reserved
  EXPECT_TRUE(load64(ro + 8));
  EXPECT_FALSE(store64(ro + 8, 1));
  expect_fault(Exception::kStorePageFault, ro + 8);
  EXPECT_FALSE(load64(xo + 16));
  expect_fault(Exception::kLoadPageFault, xo + 16);
  EXPECT_FALSE(load64(invalid));
  expect_fault(Exception::kLoadPageFault, invalid);
  EXPECT_FALSE(load64(wo));
  expect_fault(Exception::kLoadPageFault, wo);
  EXPECT_FALSE(store64(wo, 1));
  expect_fault(Exception::kStorePageFault, wo);
  // PTE bits this hart does not implement (N, PBMT, reserved) make the PTE malformed.
  for (unsigned b : {54u, 60u, 61u, 62u, 63u}) {
    const uint64_t odd = 0x10014000;
    pt->map(odd, kData, kRwad | 1ULL << b);
    m.hart.x[a1] = odd;
    exec(enc::sfence_vma(zero, zero));
    EXPECT_FALSE(load64(odd)) << "PTE bit " << b;
    expect_fault(Exception::kLoadPageFault, odd);
  }
  // Fetch from a page without X.
  m.hart.x[a1] = ro + 0x40;
  exec(enc::jalr(zero, a1, 0));
  EXPECT_EQ(m.hart.pc, ro + 0x40);
  m.step();
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kInstructionPageFault));
  EXPECT_EQ(m.csr(kMtval), ro + 0x40);
  EXPECT_EQ(m.csr(kMepc), ro + 0x40);
}

TEST_P(MmuTest, SupervisorAccessToUserPagesFollowsSum) {
  const uint64_t user = 0x10020000;
  pt->map(user, kData, kRwad | pte::kU);
  m.put64(kData, 0xaaaa);
  EXPECT_FALSE(load64(user));
  expect_fault(Exception::kLoadPageFault, user);
  m.set_csr(kMstatus, m.csr(kMstatus) | mstatus::kSUM);
  ASSERT_TRUE(load64(user));
  EXPECT_EQ(m.hart.x[a0], 0xaaaau);
  ASSERT_TRUE(store64(user, 0xbbbb));
  EXPECT_EQ(m.get64(kData), 0xbbbbu);
  // SUM never allows S to execute user code.
  const uint64_t user_code = 0x10021000;
  pt->map(user_code, kCode, pte::kV | pte::kR | pte::kX | pte::kU | pte::kA);
  exec(enc::addi(a0, zero, 1), Priv::kS, user_code);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kInstructionPageFault));
  EXPECT_EQ(m.csr(kMtval), user_code);
  // Clearing SUM again takes effect without an sfence.
  m.set_csr(kMstatus, m.csr(kMstatus) & ~mstatus::kSUM);
  EXPECT_FALSE(load64(user));
  expect_fault(Exception::kLoadPageFault, user);
}

TEST_P(MmuTest, UserModeReachesOnlyUserPages) {
  const uint64_t user_code = 0x10030000, user_data = 0x10031000, sup_data = 0x10032000;
  pt->map(user_code, kCode, pte::kV | pte::kX | pte::kU | pte::kA);
  pt->map(user_data, kData, kRwad | pte::kU);
  pt->map(sup_data, kData, kRwad);
  m.put64(kData, 0x1234);
  m.hart.x[a1] = user_data;
  exec(enc::ld(a0, a1, 0), Priv::kU, user_code);
  EXPECT_EQ(m.hart.pc, user_code + 4);
  EXPECT_EQ(m.hart.x[a0], 0x1234u);
  m.hart.x[a1] = sup_data;
  exec(enc::ld(a0, a1, 0), Priv::kU, user_code);
  expect_fault(Exception::kLoadPageFault, sup_data);
  // U cannot execute supervisor code.
  exec(enc::addi(a0, zero, 1), Priv::kU, kCode);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kInstructionPageFault));
}

TEST_P(MmuTest, MxrMakesExecutablePagesReadable) {
  const uint64_t xo = 0x10040000;
  pt->map(xo, kData, pte::kV | pte::kX | pte::kA);
  m.put64(kData + 8, 0x3333);
  EXPECT_FALSE(load64(xo + 8));
  expect_fault(Exception::kLoadPageFault, xo + 8);
  m.set_csr(kMstatus, m.csr(kMstatus) | mstatus::kMXR);
  ASSERT_TRUE(load64(xo + 8));
  EXPECT_EQ(m.hart.x[a0], 0x3333u);
  EXPECT_FALSE(store64(xo + 8, 1));
  expect_fault(Exception::kStorePageFault, xo + 8);
  m.set_csr(kMstatus, m.csr(kMstatus) & ~mstatus::kMXR);
  EXPECT_FALSE(load64(xo + 8)) << "clearing MXR takes effect without an sfence";
}

TEST_P(MmuTest, MisalignedSuperpagesFault) {
  const uint64_t va2m = 0x10400000, va1g = 0x80000000ULL * 2;
  pt->map(va2m, kData + 0x1000, kRwad, 1);   // PPN[0] != 0
  pt->map(va1g, kRam + 0x200000, kRwad, 2);  // PPN[1] != 0
  EXPECT_FALSE(load64(va2m + 8));
  expect_fault(Exception::kLoadPageFault, va2m + 8);
  EXPECT_FALSE(load64(va1g));
  expect_fault(Exception::kLoadPageFault, va1g);
}

TEST_P(MmuTest, NonLeafAtTheLastLevelFaults) {
  const uint64_t va = 0x10050000;
  const uint64_t slot = pt->map(va, kData, kRwad);
  m.put64(slot, pte::table(kData));  // a pointer where a leaf must be
  EXPECT_FALSE(load64(va));
  expect_fault(Exception::kLoadPageFault, va);
}

TEST_P(MmuTest, StaleTranslationsLastUntilSfenceOrSatpWrite) {
  const uint64_t va = 0x10060000;
  const uint64_t slot = pt->map(va, kData, kRwad);
  m.put64(kData, 111);
  m.put64(kData + 0x1000, 222);
  ASSERT_TRUE(load64(va));
  EXPECT_EQ(m.hart.x[a0], 111u);
  m.put64(slot, pte::leaf(kData + 0x1000, kRwad));
  ASSERT_TRUE(load64(va));
  EXPECT_EQ(m.hart.x[a0], 111u) << "the old translation is still cached";
  m.hart.x[a1] = va;
  exec(enc::sfence_vma(a1, zero));
  EXPECT_EQ(m.hart.pc, kCode + 4);
  ASSERT_TRUE(load64(va));
  EXPECT_EQ(m.hart.x[a0], 222u);
  // A satp write flushes as well.
  m.put64(slot, pte::leaf(kData, kRwad));
  ASSERT_TRUE(load64(va));
  EXPECT_EQ(m.hart.x[a0], 222u);
  m.hart.x[a1] = pt->satp();
  exec(enc::csrrw(zero, kSatp, a1));
  ASSERT_TRUE(load64(va));
  EXPECT_EQ(m.hart.x[a0], 111u);
  // And so does unmapping + sfence: the access now faults.
  m.put64(slot, 0);
  exec(enc::sfence_vma(zero, zero));
  EXPECT_FALSE(load64(va));
  expect_fault(Exception::kLoadPageFault, va);
}

// satp names an address space (its root and ASID): writing it drops the translations of the
// one before except the global ones (PTE.G on the leaf or on a pointer above it), which every
// address space maps alike. sfence.vma with rs2 != x0 drops one address space's translations,
// the global ones staying too; with rs2 = x0 everything goes. The test breaks the rule that
// global mappings agree, so that the cached translation shows.
TEST_P(MmuTest, GlobalTranslationsOutliveAnAddressSpaceSwitch) {
  const uint64_t leaf_global = 0x10060000, own = 0x10070000;
  // In a top-level entry of its own (the 6th GiB; the 2nd 512 GiB under Sv48).
  const uint64_t under_global = GetParam() == 3 ? 0x140000000 : 0x8000000000;
  const uint64_t leaf_slot = pt->map(leaf_global, kData, kRwad | pte::kG);
  const uint64_t own_slot = pt->map(own, kData, kRwad);
  const uint64_t under_slot = pt->map(under_global, kData, kRwad);
  const unsigned top = GetParam() - 1;
  const uint64_t top_slot = pt->root() + ((under_global >> (12 + 9 * top)) & 0x1ff) * 8;
  m.put64(top_slot, m.get64(top_slot) | pte::kG);
  m.put64(kData, 111);
  m.put64(kData + 0x1000, 222);
  for (uint64_t va : {leaf_global, own, under_global}) {
    ASSERT_TRUE(load64(va));
    EXPECT_EQ(m.hart.x[a0], 111u);
  }
  for (uint64_t slot : {leaf_slot, own_slot, under_slot}) {
    m.put64(slot, (m.get64(slot) & 0x3ff) | pte::leaf(kData + 0x1000, 0));
  }
  // A new ASID, no sfence.
  const uint64_t asid5 = pt->satp() | 5ULL << 44;
  m.hart.x[a1] = asid5;
  exec(enc::csrrw(zero, kSatp, a1));
  EXPECT_EQ(m.csr(kSatp), asid5) << "16 ASID bits";
  ASSERT_TRUE(load64(own));
  EXPECT_EQ(m.hart.x[a0], 222u) << "the old address space's translation went";
  for (uint64_t va : {leaf_global, under_global}) {
    ASSERT_TRUE(load64(va));
    EXPECT_EQ(m.hart.x[a0], 111u) << std::hex << va << ": a global translation stays";
  }
  // sfence.vma x0, asid: that address space's translations only.
  m.put64(own_slot, (m.get64(own_slot) & 0x3ff) | pte::leaf(kData, 0));
  m.hart.x[a2] = 5;
  exec(enc::sfence_vma(zero, a2));
  EXPECT_EQ(m.hart.pc, kCode + 4);
  ASSERT_TRUE(load64(own));
  EXPECT_EQ(m.hart.x[a0], 111u);
  ASSERT_TRUE(load64(leaf_global));
  EXPECT_EQ(m.hart.x[a0], 111u) << "sfence.vma of one ASID keeps the global translations";
  // sfence.vma x0, x0: all of them.
  exec(enc::sfence_vma(zero, zero));
  for (uint64_t va : {leaf_global, under_global}) {
    ASSERT_TRUE(load64(va));
    EXPECT_EQ(m.hart.x[a0], 222u) << std::hex << va;
  }
  // A change of mode drops the global ones too.
  m.put64(leaf_slot, (m.get64(leaf_slot) & 0x3ff) | pte::leaf(kData, 0));
  ASSERT_TRUE(load64(leaf_global));
  EXPECT_EQ(m.hart.x[a0], 222u) << "still cached";
  m.set_csr(kSatp, 0);
  m.set_csr(kSatp, asid5);
  ASSERT_TRUE(load64(leaf_global));
  EXPECT_EQ(m.hart.x[a0], 111u);
}

TEST_P(MmuTest, SfenceOfOneAddressDropsTheSuperpageHoldingIt) {
  const uint64_t va = 0x10600000;  // 2 MiB page
  const uint64_t slot = pt->map(va, kData, kRwad, 1);
  m.put64(kData + 0x10, 111);
  m.put64(kData + 0x200000 + 0x10, 222);
  ASSERT_TRUE(load64(va + 0x10));
  EXPECT_EQ(m.hart.x[a0], 111u);
  m.put64(slot, pte::leaf(kData + 0x200000, kRwad));
  ASSERT_TRUE(load64(va + 0x10));
  EXPECT_EQ(m.hart.x[a0], 111u) << "the old translation is still cached";
  m.hart.x[a1] = va + 0x5000;  // another 4 KiB page of the same superpage
  exec(enc::sfence_vma(a1, zero));
  ASSERT_TRUE(load64(va + 0x10));
  EXPECT_EQ(m.hart.x[a0], 222u);
}

// Svnapot: 16 NAPOT PTEs map 64 KiB, cached 4 KiB at a time, each slice from its own walk;
// sfence.vma of any address in the range drops all of them, as for a superpage.
constexpr uint64_t kNapot = 1ULL << 63;
TEST_P(MmuTest, SfenceOfOneAddressDropsTheNapotRangeHoldingIt) {
  const uint64_t va = 0x10610000;  // 64 KiB aligned
  uint64_t slots[16] = {};
  for (unsigned i = 0; i < 16; ++i) {
    slots[i] = pt->map(va + i * 0x1000, kData + 0x8000, kRwad | kNapot);
  }
  m.put64(kData + 0x3010, 111);
  m.put64(kData + 0x10000 + 0x3010, 222);
  ASSERT_TRUE(load64(va + 0x3010));
  EXPECT_EQ(m.hart.x[a0], 111u) << "page 3 of the range is page 3 of the 64 KiB";
  for (uint64_t slot : slots) m.put64(slot, pte::leaf(kData + 0x18000, kRwad) | kNapot);
  ASSERT_TRUE(load64(va + 0x3010));
  EXPECT_EQ(m.hart.x[a0], 111u) << "the old translation is still cached";
  m.hart.x[a1] = va + 0xf000;  // another page of the range
  exec(enc::sfence_vma(a1, zero));
  ASSERT_TRUE(load64(va + 0x3010));
  EXPECT_EQ(m.hart.x[a0], 222u);
}

TEST_P(MmuTest, NapotAndPbmtBitsAreReservedOnAHartWithoutThem) {
  m.hart.set_extensions(kAllExtensions & ~ext_bit(Ext::Svnapot) & ~ext_bit(Ext::Svpbmt));
  const uint64_t va = 0x10620000;
  pt->map(va, kData + 0x8000, kRwad | kNapot);
  EXPECT_FALSE(load64(va));
  expect_fault(Exception::kLoadPageFault, va);
  m.set_csr(kMenvcfg, envcfg::kPBMTE);
  EXPECT_EQ(m.csr(kMenvcfg) & envcfg::kPBMTE, 0u) << "PBMTE is read-only zero without Svpbmt";
  pt->map(va + 0x1000, kData, kRwad | 1ULL << 61);
  EXPECT_FALSE(load64(va + 0x1000));
  expect_fault(Exception::kLoadPageFault, va + 0x1000);
  m.hart.set_extensions(kAllExtensions);
  m.set_csr(kMenvcfg, envcfg::kPBMTE);
  m.hart.flush_tlb();
  EXPECT_TRUE(load64(va)) << "with Svnapot";
  EXPECT_TRUE(load64(va + 0x1000)) << "with Svpbmt and PBMTE: NC";
}

TEST_P(MmuTest, SfenceOfOneAddressDropsThatPagesTranslations) {
  const uint64_t va = 0x10700000;
  const uint64_t slot = pt->map(va, kData, kRwad);
  m.put64(kData, 111);
  m.put64(kData + 0x1000, 222);
  ASSERT_TRUE(load64(va));
  ASSERT_TRUE(store64(va + 8, 5));
  m.put64(slot, pte::leaf(kData + 0x1000, pte::kV | pte::kR | pte::kA));  // elsewhere, read-only
  m.hart.x[a1] = va + 0x123;
  exec(enc::sfence_vma(a1, zero));
  ASSERT_TRUE(load64(va));
  EXPECT_EQ(m.hart.x[a0], 222u);
  EXPECT_FALSE(store64(va + 8, 6)) << "the write translation was dropped too";
  expect_fault(Exception::kStorePageFault, va + 8);
}

TEST_P(MmuTest, InstructionStraddlingIntoAnUnmappedPageFaults) {
  const uint64_t code_va = 0x10800000;
  pt->map(code_va, kData, pte::kV | pte::kX | pte::kA);  // the next page stays unmapped
  const uint32_t addi = enc::addi(a0, zero, 5);
  m.put16(kData + 0xffe, static_cast<uint16_t>(addi));
  m.hart.pc = code_va + 0xffe;
  m.set_priv(Priv::kS);
  m.step();
  EXPECT_EQ(m.hart.pc, kTrapVector);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kInstructionPageFault));
  EXPECT_EQ(m.csr(kMepc), code_va + 0xffe);
  const uint64_t tval = m.csr(kMtval);
  EXPECT_TRUE(tval == code_va + 0xffe || tval == code_va + 0x1000) << std::hex << tval;
  // Mapped, with the two halves on physical pages that are not adjacent, it runs.
  pt->map(code_va + 0x1000, kData + 0x5000, pte::kV | pte::kX | pte::kA);
  m.put16(kData + 0x5000, static_cast<uint16_t>(addi >> 16));
  m.hart.pc = code_va + 0xffe;
  m.set_priv(Priv::kS);
  m.step();
  EXPECT_EQ(m.hart.pc, code_va + 0x1002);
  EXPECT_EQ(m.hart.x[a0], 5u);
}

TEST_P(MmuTest, MisalignedAccessesWithinAndAcrossPagesSucceed) {
  const uint64_t lo = 0x10070000, hi = lo + 0x1000;
  // Two adjacent virtual pages on physical pages that are not adjacent.
  pt->map(lo, kData + 0x5000, kRwad);
  pt->map(hi, kData + 0x2000, kRwad);
  m.put64(kData + 0x5ff8, 0x1122334455667788ULL);
  m.put64(kData + 0x2000, 0x99aabbccddeeff00ULL);
  ASSERT_TRUE(load64(lo + 0xffb));  // 5 bytes from the first page, 3 from the second
  EXPECT_EQ(m.hart.x[a0], 0xeeff001122334455ULL);
  ASSERT_TRUE(load64(lo + 0x13));  // within a page
  ASSERT_TRUE(store64(lo + 0xffd, 0x0102030405060708ULL));
  EXPECT_EQ(m.get64(kData + 0x5ff8) >> 40, 0x060708u);
  EXPECT_EQ(m.get64(kData + 0x2000) & 0xffffffffffULL, 0x0102030405ULL);
  // Halfword and word forms too.
  m.hart.x[a1] = hi - 1;
  exec(enc::lh(a0, a1, 0));
  EXPECT_EQ(m.hart.pc, kCode + 4);
  EXPECT_EQ(m.hart.x[a0], 0x0506u);
  m.hart.x[a1] = hi - 2;
  m.hart.x[a2] = 0xdeadbeef;
  exec(enc::sw(a2, a1, 0));
  EXPECT_EQ(m.hart.pc, kCode + 4);
  EXPECT_EQ(m.get32(kData + 0x5ffc) >> 16, 0xbeefu);
  EXPECT_EQ(m.get32(kData + 0x2000) & 0xffff, 0xdeadu);
}

TEST_P(MmuTest, MisalignedStoreIntoAFaultingPageWritesNothing) {
  const uint64_t lo = 0x10080000, hi = lo + 0x1000;
  pt->map(lo, kData + 0x5000, kRwad);
  pt->map(hi, kData + 0x2000, pte::kV | pte::kR | pte::kA);  // read-only
  m.put64(kData + 0x5ff8, 0);
  EXPECT_FALSE(store64(lo + 0xffc, ~0ULL));
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kStorePageFault));
  EXPECT_GE(m.csr(kMtval), hi);
  EXPECT_LT(m.csr(kMtval), hi + 4);
  EXPECT_EQ(m.get64(kData + 0x5ff8), 0u) << "the first page was not written";
  // A misaligned load whose second half is unmapped faults with a page fault too.
  EXPECT_FALSE(load64(hi + 0xffc));
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kLoadPageFault));
}

TEST_P(MmuTest, AtomicsMustBeAligned) {
  const uint64_t va = 0x10090000;
  pt->map(va, kData, kRwad);
  m.hart.x[a1] = va + 4;  // aligned for .w, misaligned for .d
  m.hart.x[a2] = 5;
  exec(enc::amoadd_w(a0, a2, a1));
  EXPECT_EQ(m.hart.pc, kCode + 4);
  EXPECT_EQ(m.get32(kData + 4), 5u);
  exec(enc::amoswap_d(a0, a2, a1));
  expect_fault(Exception::kStoreAddressMisaligned, va + 4);
  m.hart.x[a1] = va + 2;
  exec(enc::amoadd_w(a0, a2, a1));
  expect_fault(Exception::kStoreAddressMisaligned, va + 2);
  exec(enc::sc_w(a0, a2, a1));
  expect_fault(Exception::kStoreAddressMisaligned, va + 2);
  exec(enc::lr_w(a0, a1));
  EXPECT_EQ(m.hart.pc, kTrapVector);
  const uint64_t c = m.csr(kMcause);
  EXPECT_TRUE(c == cause(Exception::kLoadAddressMisaligned) ||
              c == cause(Exception::kLoadAccessFault))
      << c;
}

TEST_P(MmuTest, AtomicsOnReadOnlyPagesFaultAsStores) {
  const uint64_t ro = 0x100a0000;
  pt->map(ro, kData, pte::kV | pte::kR | pte::kA | pte::kD);
  m.hart.x[a1] = ro;
  exec(enc::amoadd_w(a0, a2, a1));
  expect_fault(Exception::kStorePageFault, ro);
  exec(enc::lr_w(a0, a1));
  EXPECT_EQ(m.hart.pc, kCode + 4) << "lr only reads";
}

TEST_P(MmuTest, LoadReservedStoreConditional) {
  const uint64_t va = 0x100b0000;
  pt->map(va, kData, kRwad);
  m.put64(kData, 0x11);
  m.put64(kData + 8, 0x22);
  m.hart.x[a1] = va;
  m.hart.x[a2] = 0x99;
  // sc without a reservation fails and writes nothing.
  exec(enc::sc_d(a0, a2, a1));
  EXPECT_EQ(m.hart.pc, kCode + 4);
  EXPECT_EQ(m.hart.x[a0], 1u);
  EXPECT_EQ(m.get64(kData), 0x11u);
  // lr; sc succeeds once.
  exec(enc::lr_d(a3, a1));
  EXPECT_EQ(m.hart.x[a3], 0x11u);
  exec(enc::sc_d(a0, a2, a1));
  EXPECT_EQ(m.hart.x[a0], 0u);
  EXPECT_EQ(m.get64(kData), 0x99u);
  exec(enc::sc_d(a0, a2, a1));
  EXPECT_EQ(m.hart.x[a0], 1u) << "the reservation is consumed";
  // sc to another address than the reserved one fails.
  exec(enc::lr_d(a3, a1));
  m.hart.x[a4] = va + 8;
  exec(enc::sc_d(a0, a2, a4));
  EXPECT_EQ(m.hart.x[a0], 1u);
  EXPECT_EQ(m.get64(kData + 8), 0x22u);
  // A store that changes the reserved word breaks the reservation.
  exec(enc::lr_w(a3, a1));
  EXPECT_EQ(m.hart.x[a3], 0x99u);
  m.hart.x[a6] = va;
  m.hart.x[a7] = 0x77;
  exec(enc::sw(a7, a6, 0));
  m.hart.x[a1] = va;
  exec(enc::sc_w(a0, a2, a1));
  EXPECT_EQ(m.hart.x[a0], 1u);
  EXPECT_EQ(m.get32(kData), 0x77u);
  // lr.w sign-extends.
  m.put32(kData, 0x80000000u);
  exec(enc::lr_w(a3, a1));
  EXPECT_EQ(m.hart.x[a3], 0xffffffff80000000ULL);
}

TEST_P(MmuTest, PageTableWalksAreCheckedByPmp) {
  // Entry 0 denies S the last-level table of this mapping; entry 15 allows the rest.
  const uint64_t va = 0x100c0000;
  const uint64_t leaf_table = pt->map(va, kData, kRwad) & ~0xfffULL;
  m.set_csr(kPmpaddr0, (leaf_table >> 2) | 0x1ff);  // NAPOT 4 KiB
  m.set_csr(kPmpcfg0, pmp::kNapot);
  EXPECT_FALSE(load64(va));
  expect_fault(Exception::kLoadAccessFault, va);
}

class PmpTest : public ::testing::Test {
 protected:
  void SetUp() override { m.set_csr(kMtvec, kTrapVector); }
  void exec(uint32_t insn, Priv p) {
    m.put32(kCode, insn);
    m.hart.pc = kCode;
    m.set_priv(p);
    m.step();
  }
  TestMachine m;
};

TEST_F(PmpTest, SupervisorWithoutAMatchingEntryIsDenied) {
  exec(enc::addi(a0, zero, 1), Priv::kS);
  EXPECT_EQ(m.hart.pc, kTrapVector);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kInstructionAccessFault));
  EXPECT_EQ(m.csr(kMtval), kCode);
  // Entry 0: TOR [kRam, kRam + 64 KiB) readable and executable.
  m.set_csr(kPmpaddr0, kRam >> 2);
  m.set_csr(kPmpaddr0 + 1, (kRam + 0x10000) >> 2);
  m.set_csr(kPmpcfg0, static_cast<uint64_t>(pmp::kTor | pmp::kR | pmp::kX) << 8);
  m.hart.x[a1] = kRam + 0x8000;
  exec(enc::ld(a0, a1, 0), Priv::kS);
  EXPECT_EQ(m.hart.pc, kCode + 4);
  exec(enc::sd(a0, a1, 0), Priv::kS);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kStoreAccessFault));
  EXPECT_EQ(m.csr(kMtval), kRam + 0x8000);
  m.hart.x[a1] = kRam + 0x10000;  // just past the entry
  exec(enc::ld(a0, a1, 0), Priv::kS);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kLoadAccessFault));
  EXPECT_EQ(m.csr(kMtval), kRam + 0x10000);
  m.hart.x[a1] = kRam + 0xfffc;  // straddles the entry's end
  exec(enc::ld(a0, a1, 0), Priv::kS);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kLoadAccessFault));
  // M is not bound by unlocked entries (that match all bytes of the access).
  m.hart.x[a1] = kRam + 0x8000;
  exec(enc::sd(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.hart.pc, kCode + 4);
}

TEST_F(PmpTest, LockedEntriesBindMachineMode) {
  const uint64_t region = kRam + 0x40000;
  m.set_csr(kPmpaddr0, (region >> 2) | 0x1ff);  // NAPOT 4 KiB
  m.set_csr(kPmpcfg0, pmp::kL | pmp::kNapot | pmp::kR);
  m.hart.x[a1] = region + 0x10;
  exec(enc::ld(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.hart.pc, kCode + 4);
  exec(enc::sd(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kStoreAccessFault));
  EXPECT_EQ(m.csr(kMtval), region + 0x10);
}

TEST_F(PmpTest, MprvTranslatesAndChecksMachineDataAccessesAsMpp) {
  PageTables pt(m, 3);
  pt.map(kRam, kRam, kRwxad, 2);
  pt.map(0x10000000, kData, kRwad);
  m.put64(kData, 0xabcd);
  m.set_csr(kPmpaddr0 + 15, ~0ULL);
  m.set_csr(kPmpcfg0 + 2, static_cast<uint64_t>(pmp::kNapot | pmp::kR | pmp::kW | pmp::kX) << 56);
  m.set_csr(kSatp, pt.satp());
  m.set_csr(kMstatus,
            (m.csr(kMstatus) & ~mstatus::kMPP) | 1ULL << mstatus::kMPPShift | mstatus::kMPRV);
  m.hart.x[a1] = 0x10000000;
  exec(enc::ld(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.hart.pc, kCode + 4) << "fetch stays untranslated in M";
  EXPECT_EQ(m.hart.x[a0], 0xabcdu);
  m.set_csr(kMstatus, m.csr(kMstatus) & ~mstatus::kMPRV);
  m.hart.x[a1] = kData;
  exec(enc::ld(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.hart.x[a0], 0xabcdu) << "without MPRV, M accesses are physical";
}

TEST_F(PmpTest, MisalignedAccessesInMachineMode) {
  m.put64(kRam + 0x3000, 0x0807060504030201ULL);
  m.put64(kRam + 0x3008, 0x100f0e0d0c0b0a09ULL);
  m.hart.x[a1] = kRam + 0x3003;
  exec(enc::ld(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.hart.x[a0], 0x0b0a090807060504ULL);
  m.hart.x[a1] = kRam + 0x3fff;  // across a page boundary, physically contiguous
  m.put64(kRam + 0x3ff8, 0x1100000000000000ULL);
  m.put64(kRam + 0x4000, 0x0000000000003322ULL);
  exec(enc::lh(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.hart.x[a0], 0x2211u);
}

TEST_F(PmpTest, AccessesOutsideMemoryFault) {
  m.hart.x[a1] = 0x1000;  // nothing is mapped there
  exec(enc::ld(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kLoadAccessFault));
  EXPECT_EQ(m.csr(kMtval), 0x1000u);
  exec(enc::sd(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kStoreAccessFault));
  exec(enc::amoadd_w(a0, a2, a1), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kStoreAccessFault));
  m.hart.x[a1] = kRam + TestMachine::kRamSize - 4;  // an 8-byte load running off the end
  exec(enc::ld(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kLoadAccessFault));
}

// A device window that records what reaches it.
class RecordingDevice : public MmioDevice {
 public:
  struct Access {
    bool write;
    uint64_t offset;
    unsigned size;
    uint64_t value;
  };
  std::string_view name() const override { return "recorder"; }
  bool read(uint64_t offset, unsigned size, uint64_t& value) override {
    log.push_back({false, offset, size, 0});
    value = 0x1122334455667788ULL & (size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
    return offset < 0x80;  // the upper half of the window answers with a bus error
  }
  bool write(uint64_t offset, unsigned size, uint64_t value) override {
    log.push_back({true, offset, size, value});
    return offset < 0x80;
  }
  void add_fdt_node(FdtWriter&, const FdtContext&) const override {}
  void save(StateWriter&) const override {}
  Result<void> restore(StateReader&) override { return {}; }

  std::vector<Access> log;
};

class MmioTest : public PmpTest {
 protected:
  static constexpr uint64_t kDev = 0x10000000;
  void SetUp() override {
    PmpTest::SetUp();
    ASSERT_TRUE(m.bus.add_mmio(kDev, 0x100, &dev).ok());
  }
  RecordingDevice dev;
};

TEST_F(MmioTest, AlignedAccessesReachTheDeviceEveryTime) {
  m.hart.x[a1] = kDev + 8;
  for (int k = 0; k < 3; ++k) {
    exec(enc::lw(a0, a1, 0), Priv::kM);
    EXPECT_EQ(m.hart.pc, kCode + 4);
  }
  EXPECT_EQ(m.hart.x[a0], 0x55667788u);
  m.hart.x[a2] = 0xabcd;
  exec(enc::sh(a2, a1, 2), Priv::kM);
  exec(enc::sd(a2, a1, 8), Priv::kM);
  ASSERT_EQ(dev.log.size(), 5u) << "no access may be served from a cached mapping";
  EXPECT_TRUE(dev.log[3].write);
  EXPECT_EQ(dev.log[3].offset, 10u);
  EXPECT_EQ(dev.log[3].size, 2u);
  EXPECT_EQ(dev.log[3].value, 0xabcdu);
  EXPECT_EQ(dev.log[4].offset, 16u);
  EXPECT_EQ(dev.log[4].size, 8u);
  m.hart.x[a1] = kDev;
  exec(enc::lb(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.hart.x[a0], 0xffffffffffffff88ULL) << "lb sign-extends device data too";
}

TEST_F(MmioTest, MisalignedDeviceAccessesRaiseMisalignedExceptions) {
  m.hart.x[a1] = kDev + 2;
  exec(enc::lw(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kLoadAddressMisaligned));
  EXPECT_EQ(m.csr(kMtval), kDev + 2);
  exec(enc::sd(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kStoreAddressMisaligned));
  EXPECT_EQ(m.csr(kMtval), kDev + 2);
  EXPECT_TRUE(dev.log.empty());
}

TEST_F(MmioTest, DeviceErrorsAtomicsAndFetchesAreAccessFaults) {
  m.hart.x[a1] = kDev + 0x80;
  exec(enc::ld(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kLoadAccessFault));
  EXPECT_EQ(m.csr(kMtval), kDev + 0x80);
  exec(enc::sd(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kStoreAccessFault));
  m.hart.x[a1] = kDev + 0x100;  // just past the window
  exec(enc::ld(a0, a1, 0), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kLoadAccessFault));
  m.hart.x[a1] = kDev;
  exec(enc::amoadd_w(a0, a2, a1), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kStoreAccessFault));
  exec(enc::lr_w(a0, a1), Priv::kM);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kLoadAccessFault));
  const size_t before = dev.log.size();
  m.hart.x[a1] = kDev + 0x10;
  exec(enc::jalr(zero, a1, 0), Priv::kM);
  m.step();
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kInstructionAccessFault));
  EXPECT_EQ(m.csr(kMtval), kDev + 0x10);
  EXPECT_EQ(m.csr(kMepc), kDev + 0x10);
  EXPECT_EQ(dev.log.size(), before) << "atomics and fetches never reach the device";
}

}  // namespace
}  // namespace vessel::rv
