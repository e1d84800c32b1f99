// Random instructions from every row of the instruction table: the row's match bits with random
// bits elsewhere, then the fields the operand letters name constrained so that the program
// keeps its invariants (reserved registers unwritten, stores only near the base registers,
// control transfers only forward to a slot of the same run).
#include <cstring>

#include "base/bits.hpp"
#include "encode.hpp"
#include "torture/gen.hpp"
#include "torture/layout.hpp"

namespace vessel::rv::torture {

using namespace test;  // registers and encoders

bool reserved(unsigned reg) { return reg == sp || reg == s0 || reg == s1 || reg == s2; }

bool writes_int_rd(const DecodedInsn& d) {
  if (d.op == Op::kIllegal) return false;
  const char* ops = insn_info(d.op).operands;
  return ops[0] == 'd' || std::strncmp(ops, "a,d", 3) == 0;
}

namespace {

uint32_t with_field(uint32_t w, unsigned lo, unsigned width, uint32_t value) {
  const uint32_t mask = ((1u << width) - 1) << lo;
  return (w & ~mask) | ((value << lo) & mask);
}
uint32_t with_rd(uint32_t w, unsigned r) { return with_field(w, 7, 5, r); }
uint32_t with_rs1(uint32_t w, unsigned r) { return with_field(w, 15, 5, r); }

bool is_store_row(const InsnInfo& row) {
  return (row.operands[0] == 't' || row.operands[0] == 'T') && row.operands[2] == 'o';
}

// CSRs a random write cannot hurt: nothing the generator relies on reads them back.
constexpr uint16_t kFreeCsrs[] = {
    kFflags, kFrm,     kFcsr,       kSscratch,     kSepc,          kScause,   kStval,
    kSie,    kSip,     kStimecmp,   kScounteren,   kSenvcfg,       kMscratch, kMepc,
    kMcause, kMtval,   kMie,        kMip,          kMcountinhibit, kMinstret, kMcycle,
    kMisa,   kMenvcfg, kMcounteren, kMhpmcounter3, kMhpmevent3};
// CSRs whose value the generator relies on: read only.
constexpr uint16_t kReadCsrs[] = {kMstatus, kSstatus, kSatp,    kMedeleg,  kMideleg,
                                  kMtvec,   kStvec,   kPmpcfg0, kPmpaddr0, kPmpaddr0 + 15};
// Read-only by number (writes are illegal), or not there at all (everything is illegal).
constexpr uint16_t kFixedCsrs[] = {kCycle,       kTime,   kInstret,      kHpmcounter3, kMvendorid,
                                   kMarchid,     kMimpid, kMhartid,      kMconfigptr,  0x7c0,
                                   kPmpcfg0 + 1, 0x5a8,   kPmpaddr0 + 20};

}  // namespace

unsigned Gen::pick_rd() {
  if (rng_.chance(6)) return zero;
  for (;;) {
    const auto r = static_cast<unsigned>(rng_.below(32));
    if (r != zero && !reserved(r)) return r;
  }
}

unsigned Gen::pick_tmp() {
  for (;;) {
    const auto r = static_cast<unsigned>(rng_.below(28));  // not t3..t6 (x28..x31)
    if (r != zero && !reserved(r)) return r;
  }
}

unsigned Gen::pick_base() {
  const unsigned bases[] = {s0, s0, s1, s1, sp};
  return rng_.pick(bases);
}

uint8_t Gen::pick_rm() {
  if (rng_.chance(1)) return static_cast<uint8_t>(5 + rng_.below(2));  // reserved: illegal
  const uint8_t modes[] = {0, 1, 2, 3, 4, 7, 7};
  return rng_.pick(modes);
}

Label Gen::target(const Targets& t, unsigned max_ahead) {
  const auto last = static_cast<unsigned>(t.slots->size() - 1);
  const unsigned reach = std::min(max_ahead, last - t.current);
  return (*t.slots)[t.current + 1 + rng_.below(reach)];
}

void Gen::run(unsigned slots) {
  std::vector<Label> labels(slots + 1);
  for (Label& l : labels) l = a_.label();
  run_slots_ = slots;
  for (unsigned i = 0; i < slots; ++i) {
    a_.bind(labels[i]);
    random_row(Targets{&labels, i});
  }
  a_.bind(labels[slots]);
}

void Gen::random_row(const Targets& t) {
  unsigned base_count = 0, compressed_count = 0;
  insn_table(base_count);
  compressed_table(compressed_count);
  // Now and then an instruction no row matches.
  if (rng_.chance(1)) {
    const uint32_t illegal[] = {0xffffffff, 0x0000007f, 0x00000000, 0xfc00007b, 0x0000000b};
    const uint32_t w = rng_.pick(illegal);
    if (w == 0) {
      a_.half(0);
    } else {
      a_.word(w);
    }
    return;
  }
  const uint64_t k = rng_.below(base_count + compressed_count);
  if (k < base_count) {
    base_row(static_cast<unsigned>(k), t);
  } else {
    compressed_row(static_cast<unsigned>(k - base_count), t);
  }
}

void Gen::base_row(unsigned index, const Targets& t) {
  unsigned count = 0;
  const InsnInfo& row = insn_table(count)[index];
  const auto op = static_cast<Op>(index);
  switch (op) {
    case Op::jal: a_.jal(pick_rd(), target(t, run_slots_)); return;
    case Op::jalr: a_.jalr_to(pick_tmp(), pick_rd(), target(t, run_slots_)); return;
    case Op::beq:
    case Op::bne:
    case Op::blt:
    case Op::bge:
    case Op::bltu:
    case Op::bgeu: {
      const uint32_t w = row.match | rng_.small(32) << 15 | rng_.small(32) << 20;
      a_.branch(w, target(t, 16));
      return;
    }
    case Op::csrrw:
    case Op::csrrs:
    case Op::csrrc:
    case Op::csrrwi:
    case Op::csrrsi:
    case Op::csrrci: csr_row(op, row); return;
    case Op::mret: mret_row(); return;
    case Op::sret: sret_row(); return;
    case Op::wfi: wfi_row(); return;
    default: break;
  }
  if (row.ext == Ext::A || row.ext == Ext::Zacas) {
    amo_row(row);
  } else {
    generic_row(row);
  }
}

void Gen::generic_row(const InsnInfo& row) {
  uint32_t w = row.match | (rng_.u32() & ~row.mask);
  for (const char* p = row.operands; *p != '\0'; ++p) {
    switch (*p) {
      case 'd': w = with_rd(w, pick_rd()); break;
      case 'm': w = with_field(w, 12, 3, pick_rm()); break;
      case 'o':
        // Stores only near a base register; loads from anywhere now and then (they fault).
        if (is_store_row(row) || rng_.chance(75)) w = with_rs1(w, pick_base());
        break;
      case '(':  // a cache-block operation: cbo.zero writes 64 bytes, so near a base too
        w = with_rs1(w, pick_base());
        break;
      default: break;
    }
  }
  a_.word(w);
}

void Gen::amo_row(const InsnInfo& row) {
  const unsigned size = 1u << ((row.match >> 12) & 7);  // 4, 8, amocas.q 16
  const unsigned tmp = pick_tmp();
  auto off = static_cast<int32_t>(rng_.below(4096)) - 2048;
  if (!rng_.chance(10)) off &= ~static_cast<int32_t>(size - 1);  // else misaligned: a trap
  a_.word(enc::addi(tmp, pick_base(), off));
  const uint32_t w = row.match | (rng_.u32() & ~row.mask);
  a_.word(with_rs1(with_rd(w, pick_rd()), tmp));
}

void Gen::csr_row(Op op, const InsnInfo& row) {
  const bool always_writes = op == Op::csrrw || op == Op::csrrwi;
  uint16_t csr = 0;
  bool may_write = true;
  // U-mode reaches only the FP CSRs and the counters: mostly those there.
  constexpr uint16_t kUserCsrs[] = {kFflags, kFrm, kFcsr, kCycle, kTime, kInstret, kHpmcounter3};
  switch (st_.priv == Priv::kU && rng_.chance(80) ? 3 : rng_.below(always_writes ? 2 : 3)) {
    case 3: csr = rng_.pick(kUserCsrs); break;
    case 0: csr = rng_.pick(kFreeCsrs); break;
    case 1: csr = rng_.pick(kFixedCsrs); break;
    default:
      csr = rng_.pick(kReadCsrs);
      may_write = false;
      break;
  }
  uint32_t w = row.match | with_field(0, 20, 12, csr) | with_field(0, 7, 5, pick_rd());
  // The source: a register, or a 5-bit immediate; zero (no write) for the read-only CSRs.
  w = with_rs1(w, may_write ? static_cast<unsigned>(rng_.below(32)) : 0);
  a_.word(w);
  // A random frm of 5..7 makes every FP instruction with the dynamic rounding mode illegal:
  // keep that short-lived.
  if ((csr == kFrm || csr == kFcsr) && may_write && rng_.chance(75)) {
    a_.word(enc::csrrwi(zero, kFrm, rng_.small(5)));
  }
}

void Gen::same_mode_return(bool machine) {
  const unsigned tmp = pick_tmp();
  const Label next = a_.label();
  const uint16_t status = machine ? kMstatus : kSstatus;
  // MIE (SIE) off: no interrupt may take mepc (sepc) between its write and the return.
  a_.word(enc::csrrci(zero, status, machine ? 8 : 2));
  a_.li(tmp, machine ? mstatus::kMPP : mstatus::kSPP);
  a_.word(enc::csrrs(zero, status, tmp));
  a_.la(tmp, next);
  a_.word(enc::csrrw(zero, machine ? kMepc : kSepc, tmp));
  a_.word(machine ? enc::mret() : enc::sret());
  a_.bind(next);
}

void Gen::mret_row() {
  if (st_.priv == Priv::kM) {
    same_mode_return(true);
  } else {
    a_.word(enc::mret());  // illegal below M
  }
}

void Gen::sret_row() {
  if (st_.priv == Priv::kU || (st_.priv == Priv::kS && st_.tsr)) {
    a_.word(enc::sret());  // illegal
  } else {
    same_mode_return(st_.priv == Priv::kM);  // sret in M changes mode: the templates do that
  }
}

void Gen::wfi_row() {
  // WFI must not wait for nothing: it traps (U, or S with TW), or an interrupt is pending in
  // mip & mie when it runs (taken or not).
  if (st_.priv == Priv::kU || (st_.priv == Priv::kS && st_.tw)) {
    a_.word(enc::wfi());
    return;
  }
  if (st_.priv == Priv::kM) {
    a_.word(enc::csrrsi(zero, kMip, 2));
    a_.word(enc::csrrsi(zero, kMie, 2));
  } else if (cfg_.mideleg & irq::kSSIP) {
    a_.word(enc::csrrsi(zero, kSip, 2));
    a_.word(enc::csrrsi(zero, kSie, 2));
  } else {
    return;
  }
  a_.word(enc::wfi());
}

void Gen::compressed_row(unsigned index, const Targets& t) {
  unsigned count = 0;
  const CompressedInfo& row = compressed_table(count)[index];
  const std::string_view name = row.mnemonic;
  if (name == "c.j") {
    a_.c_j(target(t, 8));
    return;
  }
  if (name == "c.beqz" || name == "c.bnez") {
    a_.c_bz(name == "c.bnez", 8 + static_cast<unsigned>(rng_.below(8)), target(t, 2));
    return;
  }
  const bool store =
      name == "c.sw" || name == "c.sd" || name == "c.fsd" || name == "c.sb" || name == "c.sh";
  for (unsigned tries = 0; tries < 64; ++tries) {
    auto h = static_cast<uint16_t>(row.match | (rng_.u32() & ~row.mask & 0xffff));
    if (store) h = static_cast<uint16_t>((h & ~0x380u) | rng_.below(2) << 7);  // s0 or s1
    const DecodedInsn d = decode(h);
    if (d.op == Op::jalr) {  // c.jr / c.jalr: to a slot ahead, through a register
      const unsigned reg = pick_tmp();
      a_.la(reg, target(t, run_slots_));
      a_.half(name == "c.mv" ? enc::c_jr(reg) : enc::c_jalr(reg));
      return;
    }
    if (writes_int_rd(d) && reserved(d.rd)) {
      if (d.rd == sp && name == "c.lui") {  // c.addi16sp: move sp and back
        const auto imm = static_cast<int32_t>(16 * (1 + rng_.below(31)));
        a_.half(enc::c_addi16sp(imm));
        a_.half(enc::c_addi16sp(-imm));
        return;
      }
      continue;
    }
    a_.half(h);  // reserved encodings included: they raise illegal-instruction
    return;
  }
  a_.half(enc::c_nop());
}

uint32_t Gen::plain_alu_word(unsigned avoid) {
  static constexpr Op kOps[] = {Op::addi, Op::slti, Op::xori, Op::ori,   Op::andi, Op::slli,
                                Op::add,  Op::sub,  Op::xor_, Op::sra,   Op::addw, Op::mul,
                                Op::divu, Op::remw, Op::lui,  Op::sraiw, Op::sltu, Op::mulhsu};
  const InsnInfo& row = insn_info(rng_.pick(kOps));
  const uint32_t w = row.match | (rng_.u32() & ~row.mask);
  unsigned rd = pick_tmp();
  while (rd == avoid) rd = pick_tmp();
  return with_rd(w, rd);
}

}  // namespace vessel::rv::torture
