// What runs before the body and around it: the configuration, the M-mode prologue, both trap
// handlers, the page tables and the data pages.
#include <cstring>

#include "base/bits.hpp"
#include "encode.hpp"
#include "torture/gen.hpp"
#include "torture/layout.hpp"

namespace vessel::rv::torture {

using namespace test;  // registers and encoders
using namespace layout;

namespace {

constexpr uint64_t kMppM = 3ULL << mstatus::kMPPShift;

// Values worth having in registers: edges of every width, and data addresses.
constexpr uint64_t kIntValues[] = {0,
                                   1,
                                   ~0ULL,
                                   0x8000000000000000ULL,
                                   0x7fffffffffffffffULL,
                                   0x80000000,
                                   0x7fffffff,
                                   0xffffffff,
                                   0xffffffff80000000ULL,
                                   2,
                                   31,
                                   32,
                                   63,
                                   64,
                                   kS0 + 8,
                                   kS1 - 8,
                                   kSp,
                                   kS0 + 0xffd};

// IEEE values worth computing with: zeros, infinities, NaNs (quiet, signalling, payloads),
// subnormals, the extremes of the normals, ones, and single-precision values boxed properly,
// boxed badly (upper half not all ones: read as the canonical NaN) and not boxed.
constexpr uint64_t kFpValues[] = {
    0x0000000000000000ULL, 0x8000000000000000ULL, 0x7ff0000000000000ULL, 0xfff0000000000000ULL,
    0x7ff8000000000000ULL, 0x7ff4000000000000ULL, 0xfff8000000000001ULL, 0x0000000000000001ULL,
    0x800fffffffffffffULL, 0x0010000000000000ULL, 0x7fefffffffffffffULL, 0x3ff0000000000000ULL,
    0xbff0000000000000ULL, 0x4340000000000000ULL, 0x43e0000000000000ULL, 0xc3e0000000000001ULL,
    0xffffffff00000000ULL, 0xffffffff80000000ULL, 0xffffffff7f800000ULL, 0xffffffffff800000ULL,
    0xffffffff7fc00000ULL, 0xffffffff7fa00000ULL, 0xffffffff00000001ULL, 0xffffffff807fffffULL,
    0xffffffff3f800000ULL, 0xffffffff4f000000ULL, 0xffffffffcf000001ULL, 0x000000003f800000ULL,
    0xfffffffe3f800000ULL, 0xffffffff7f7fffffULL, 0xffffffff00800000ULL, 0x3fd5555555555555ULL};

}  // namespace

void Gen::choose_config() {
  cfg_.vectored_m = rng_.chance(30);
  cfg_.vectored_s = rng_.chance(30);
  // Any delegable exception but ecall from S (the handlers' way up to M) and the reserved ones.
  constexpr uint64_t kDelegable = 0xb1ffULL;
  cfg_.medeleg = rng_.chance(25) ? 0 : rng_.next() & kDelegable;
  cfg_.mideleg = rng_.chance(25) ? 0 : rng_.next() & irq::kSupervisor;
  cfg_.stce = rng_.chance(50);
  cfg_.mcounteren = rng_.chance(70) ? 0xffffffff : rng_.u32();
  cfg_.scounteren = rng_.chance(50) ? 0xffffffff : rng_.u32();
  cfg_.probe_flags = rng_.pick(kProbeChoices);
  cfg_.ad_preset = rng_.chance(60);
  cfg_.tsr_allowed = cfg_.medeleg == 0 && cfg_.mideleg == 0;
  const unsigned satps[] = {0, 39, 48};
  st_.satp = rng_.pick(satps);
  // From a stream of its own, so that the programs of the seeds that do not run at V=1 stay
  // what they were.
  Rng v(opt_.seed ^ 0x4879'0001ULL);
  cfg_.virt = opt_.virt < 0 ? v.below(3) == 0 : opt_.virt > 0;
  if (cfg_.virt) {
    cfg_.hgatp = v.chance(50) ? 39 : 48;
    cfg_.hedeleg = v.chance(40) ? 0 : v.next() & cfg_.medeleg;
    cfg_.tsr_allowed = false;  // VS-mode's sret answers to VTSR, which stays clear
  }
}

// The hypervisor's set-up: the G stage, what goes to VS-mode, the guest's own CSRs as the
// program's S-mode ones are, and MPV and SPV, so that M's returns go to V=1.
void Gen::virt_prologue() {
  csr_write_imm(kHgatp, (cfg_.hgatp == 39 ? 8ULL : 9ULL) << 60 | kGRoot >> 12);
  csr_write_imm(kHedeleg, cfg_.hedeleg);
  csr_write_imm(kHcounteren, rng_.chance(70) ? 0xffffffff : rng_.u32());
  csr_write_imm(kVstvec, kSHandler | (cfg_.vectored_s ? 1 : 0));
  uint64_t vs = (1ULL << mstatus::kFSShift) | (2ULL << 32);
  if (rng_.chance(50)) vs |= mstatus::kSIE;
  csr_write_imm(kVsstatus, vs);
  csr_write_imm(kVsatp, satp_value(st_.satp));
  csr_write_imm(kHstatus, hstatus::kSPV);
}

void Gen::virt_return(bool sret, unsigned tmp) {
  if (!cfg_.virt || st_.priv != Priv::kM) return;
  a_.li(tmp, sret ? hstatus::kSPV : mstatus::kMPV);
  a_.word(enc::csrrs(zero, sret ? kHstatus : kMstatus, tmp));
}

void Gen::csr_write_imm(uint16_t csr, uint64_t value) {
  a_.li(t0, value);
  a_.word(enc::csrrw(zero, csr, t0));
}

void Gen::prologue() {
  a_.org(kEntry);
  csr_write_imm(kMtvec, kMHandler | (cfg_.vectored_m ? 1 : 0));
  csr_write_imm(kStvec, kSHandler | (cfg_.vectored_s ? 1 : 0));
  csr_write_imm(kMedeleg, cfg_.medeleg);
  csr_write_imm(kMideleg, cfg_.mideleg);
  csr_write_imm(kMcounteren, cfg_.mcounteren);
  csr_write_imm(kScounteren, cfg_.scounteren);
  csr_write_imm(kMenvcfg, cfg_.stce ? envcfg::kSTCE : 0);
  // PMP entry 15 opens everything to S and U; the lower entries are the program's to change.
  csr_write_imm(kPmpaddr0 + 15, ~0ULL);
  csr_write_imm(kPmpcfg0 + 2, 0x1fULL << 56);
  uint64_t status = 1ULL << mstatus::kFSShift;  // FS = Initial
  if (rng_.chance(50)) status |= mstatus::kMIE;
  if (rng_.chance(50)) status |= mstatus::kSIE;
  if (cfg_.virt) {
    virt_prologue();
    status |= mstatus::kMPV;
  }
  csr_write_imm(kMstatus, status | (2ULL << 32) | (2ULL << 34));
  csr_write_imm(kSatp, satp_value(st_.satp));
  csr_write_imm(kMie, rng_.next() & irq::kAll);
  csr_write_imm(kFcsr, rng_.below(256));
  // Every register from a table (t0, the table's address, last), then the bases.
  const Label table = a_.label();
  a_.la(t0, table);
  for (unsigned r = 1; r < 32; ++r) {
    if (r != t0) a_.word(enc::ld(r, t0, static_cast<int32_t>(8 * r)));
  }
  for (unsigned r = 0; r < 32; ++r) a_.word(enc::fld(r, t0, static_cast<int32_t>(256 + 8 * r)));
  a_.word(enc::ld(t0, t0, 8 * t0));
  set_bases();
  a_.li(s2, 0);
  a_.li(t1, kCode);
  a_.word(enc::jalr(zero, t1, 0));
  a_.bind(done_);
  a_.word(enc::jal(zero, 0));
  a_.org(align_up(a_.here(), 8));
  a_.bind(table);
  for (unsigned r = 0; r < 32; ++r) {
    const uint64_t v = rng_.chance(60) ? rng_.pick(kIntValues) : rng_.next();
    a_.word(static_cast<uint32_t>(v));
    a_.word(static_cast<uint32_t>(v >> 32));
  }
  for (unsigned r = 0; r < 32; ++r) {
    const uint64_t v = rng_.chance(80) ? rng_.pick(kFpValues) : rng_.next();
    a_.word(static_cast<uint32_t>(v));
    a_.word(static_cast<uint32_t>(v >> 32));
  }
}

// Skips the trapping instruction, whose length the handler reads from memory at epc (the
// alias bit cleared: the identity mapping, which M reads physically and S through its tables).
static void emit_skip(Asm& a, uint16_t epc_csr, uint32_t xret) {
  a.word(enc::srli(t3, t4, 32));
  a.word(enc::andi(t3, t3, 1));
  a.word(enc::slli(t3, t3, 32));
  a.word(enc::sub(t3, t4, t3));
  a.word(enc::lhu(t3, t3, 0));
  a.word(enc::andi(t3, t3, 3));
  a.word(enc::addi(t3, t3, -3));
  a.word(enc::addi(t4, t4, 2));
  const Label wide_done = a.label();
  a.branch(enc::bne(t3, zero, 0), wide_done);
  a.word(enc::addi(t4, t4, 2));
  a.bind(wide_done);
  a.word(enc::csrrw(zero, epc_csr, t4));
  a.word(xret);
}

void Gen::handler(bool machine) {
  const uint16_t cause = machine ? kMcause : kScause, epc = machine ? kMepc : kSepc;
  const uint16_t tval = machine ? kMtval : kStval, ie = machine ? kMie : kSie;
  const uint16_t ip = machine ? kMip : kSip, status = machine ? kMstatus : kSstatus;
  const uint32_t xret = machine ? enc::mret() : enc::sret();
  const uint64_t log = kLog + (machine ? 0 : kLogS);
  a_.org(machine ? kMHandler : kSHandler);
  const Label common = a_.label(), intr = a_.label(), not_ecall = a_.label();
  const Label fetch = a_.label(), up = a_.label(), end = a_.label();
  if (machine ? cfg_.vectored_m : cfg_.vectored_s) {
    for (unsigned k = 0; k < 16; ++k) a_.jal(zero, common);
  }
  a_.bind(common);
  a_.word(enc::csrrs(t6, cause, zero));
  a_.la(t5, log);
  a_.branch(enc::b(4, t6, zero, 0), intr);  // blt t6, zero: the interrupt bit
  a_.word(enc::sd(t6, t5, kLogCause));
  a_.word(enc::csrrs(t4, epc, zero));
  a_.word(enc::sd(t4, t5, kLogEpc));
  a_.word(enc::csrrs(t3, tval, zero));
  a_.word(enc::sd(t3, t5, kLogTval));
  a_.word(enc::ld(t3, t5, kLogCount));
  a_.word(enc::addi(t3, t3, 1));
  a_.word(enc::sd(t3, t5, kLogCount));
  // ecall (causes 8, 9, 11) with a7 asking for something.
  a_.word(enc::addi(t3, t6, -8));
  a_.word(enc::sltiu(t3, t3, 4));
  a_.branch(enc::beq(t3, zero, 0), not_ecall);
  a_.li(t3, kMagicUp);
  a_.branch(enc::beq(a7, t3, 0), up);
  a_.li(t3, kMagicEnd);
  a_.branch(enc::beq(a7, t3, 0), end);
  a_.bind(not_ecall);
  a_.word(enc::addi(t3, zero, 1));  // instruction access fault
  a_.branch(enc::beq(t6, t3, 0), fetch);
  a_.word(enc::addi(t3, zero, 12));  // instruction page fault
  a_.branch(enc::beq(t6, t3, 0), fetch);
  if (cfg_.virt) {
    a_.word(enc::addi(t3, zero, 20));  // instruction guest-page fault
    a_.branch(enc::beq(t6, t3, 0), fetch);
  }
  emit_skip(a_, epc, xret);
  // After a fetch fault: back to the jalr's link.
  a_.bind(fetch);
  a_.word(enc::csrrw(zero, epc, ra));
  a_.word(xret);
  // Up: continue after the ecall, in this handler's mode, at the identity address.
  a_.bind(up);
  a_.word(enc::srli(t3, t4, 32));
  a_.word(enc::andi(t3, t3, 1));
  a_.word(enc::slli(t3, t3, 32));
  a_.word(enc::sub(t4, t4, t3));
  a_.word(enc::addi(t4, t4, 4));
  a_.word(enc::csrrw(zero, epc, t4));
  a_.li(t3, machine ? kMppM : mstatus::kSPP);
  a_.word(enc::csrrs(zero, status, t3));
  a_.word(xret);
  // The end: M-mode goes to the final loop; S-mode asks M (ecall from S is never delegated).
  a_.bind(end);
  if (machine) {
    a_.jal(zero, done_);
  } else {
    a_.word(enc::ecall());
  }
  // An interrupt: record it, then clear and disable it, so that it cannot come back at once.
  a_.bind(intr);
  a_.word(enc::sd(t6, t5, kLogIntCause));
  a_.word(enc::ld(t3, t5, kLogIntCount));
  a_.word(enc::addi(t3, t3, 1));
  a_.word(enc::sd(t3, t5, kLogIntCount));
  a_.word(enc::addi(t3, zero, 1));
  a_.word(enc::sll(t3, t3, t6));
  a_.word(enc::csrrc(zero, ie, t3));
  a_.word(enc::csrrc(zero, ip, t3));
  a_.word(xret);
}

void Gen::page_tables(std::vector<uint8_t>& image) const {
  auto put = [&](uint64_t table, unsigned index, uint64_t pte) {
    store_le<uint64_t>(image.data() + (table - kRamBase) + 8 * index, pte);
  };
  Rng rng(opt_.seed ^ 0x7ab1e5);
  auto ad = [&] { return cfg_.ad_preset || rng.chance(50) ? pte::kA | pte::kD : 0; };
  constexpr uint64_t kR = pte::kV | pte::kR, kRw = kR | pte::kW;
  put(kRoot39, 2, pte::table(kL1Identity));
  put(kRoot39, 6, pte::table(kL1Alias));
  put(kRoot39, 8, pte::table(kL1Window));
  put(kRoot39, 3, pte::leaf(kRamBase, kR | ad() | (rng.chance(50) ? pte::kU : 0)));
  put(kRoot39, 4, pte::leaf(page(1), kRw | ad()));  // a gigapage not aligned: faults
  put(kL1Identity, 0, pte::table(kL0Identity));
  put(kL1Alias, 0, pte::table(kL0Alias));
  put(kL1Window, 0, pte::leaf(kRamBase, kR | ad() | (rng.chance(50) ? pte::kU : 0)));
  put(kRoot48, 0, pte::table(kRoot39));
  put(kRoot48, 1, pte::table(kRoot39));
  if (cfg_.virt) {
    // G stage: GPA = PA for RAM, a user gigapage (Sv48x4 reaches it through entry 0, which
    // points back at the root as its level-2 table).
    put(kGRoot, 2, pte::leaf(kRamBase, kRw | pte::kX | pte::kU | ad()));
    put(kGRoot, 0, pte::table(kGRoot));
  }
  for (unsigned p = 0; p < kEndDataPage; ++p) {
    const bool code = p >= kFirstCodePage && p < kEndCodePage;
    const bool data = p >= kFirstDataPage;
    uint64_t flags = 0;
    if (p < 3) flags = kR | pte::kX;
    if (p == 3) flags = kRw;
    if (code) flags = kRw | pte::kX;
    if (data) flags = p == kProbePage ? cfg_.probe_flags : kRw;
    if (flags == 0) continue;
    put(kL0Identity, p, pte::leaf(page(p), flags | ad()));
    if (code || data) put(kL0Alias, p, pte::leaf(page(p), flags | ad() | pte::kU));
  }
}

void Gen::data(std::vector<uint8_t>& image) {
  for (unsigned p = kFirstDataPage; p < kEndDataPage; ++p) {
    for (uint64_t off = 0; off < kPageSize; off += 8) {
      const uint64_t v = rng_.chance(20) ? rng_.pick(kFpValues) : rng_.next();
      store_le<uint64_t>(image.data() + (page(p) - kRamBase) + off, v);
    }
  }
}

}  // namespace vessel::rv::torture
