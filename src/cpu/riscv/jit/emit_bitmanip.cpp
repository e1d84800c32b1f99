// Emitters for Zba, Zbb, Zbs and Zicond: the address arithmetic compilers emit for array
// indexing (shNadd, add.uw, slli.uw), extensions, the negated logic ops, rotates, rev8, orc.b
// (the string functions' zero-byte test), min/max, the single-bit ops, the conditional zeroes,
// and the counts Linux uses for its bit operations (clz, ctz, cpop). All but the counts are
// baseline x86-64 (lea, movzx/movsx, not, bswap, bt*, cmov, SSE2); the counts need the
// host's LZCNT, TZCNT (BMI1) and POPCNT, and run their semantics on a host without them.
#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/jit/emitter.hpp"

#include <xbyak/xbyak_util.h>

namespace vessel::rv::jit {

using namespace Xbyak::util;

namespace {
// The host's count instructions. Each gives RISC-V's result for zero too (the operand's
// width), but a host without one runs its encoding as another instruction (lzcnt as bsr,
// tzcnt as bsf) with other results: then the op runs its semantics.
struct HostCounts {
  bool lzcnt, tzcnt, popcnt;
};
const HostCounts& host_counts() {
  static const HostCounts counts = [] {
    const Xbyak::util::Cpu cpu;
    return HostCounts{cpu.has(Xbyak::util::Cpu::tLZCNT), cpu.has(Xbyak::util::Cpu::tBMI1),
                      cpu.has(Xbyak::util::Cpu::tPOPCNT)};
  }();
  return counts;
}

// The emitter an op has here, or kNone (it runs its semantics): the one list of the ops this
// file emits, read by has_bitmanip_emitter() and emit_bitmanip().
enum class Form : uint8_t { kNone, kShiftAdd, kSelect, kUnary, kByRegister };

Form form_of(Op op) {
  switch (op) {
    case Op::add_uw:
    case Op::sh1add:
    case Op::sh2add:
    case Op::sh3add:
    case Op::sh1add_uw:
    case Op::sh2add_uw:
    case Op::sh3add_uw: return Form::kShiftAdd;
    case Op::andn:
    case Op::orn:
    case Op::xnor:
    case Op::rol:
    case Op::ror:
    case Op::rolw:
    case Op::rorw:
    case Op::bclr:
    case Op::bset:
    case Op::binv:
    case Op::bext: return Form::kByRegister;
    case Op::max:
    case Op::maxu:
    case Op::min:
    case Op::minu:
    case Op::czero_eqz:
    case Op::czero_nez: return Form::kSelect;
    case Op::sext_b:
    case Op::sext_h:
    case Op::zext_h:
    case Op::rori:
    case Op::roriw:
    case Op::slli_uw:
    case Op::orc_b:
    case Op::bclri:
    case Op::bseti:
    case Op::binvi:
    case Op::bexti:
    case Op::rev8: return Form::kUnary;
    case Op::clz:
    case Op::clzw: return host_counts().lzcnt ? Form::kUnary : Form::kNone;
    case Op::ctz:
    case Op::ctzw: return host_counts().tzcnt ? Form::kUnary : Form::kNone;
    case Op::cpop:
    case Op::cpopw: return host_counts().popcnt ? Form::kUnary : Form::kNone;
    default: return Form::kNone;
  }
}
}  // namespace

bool has_bitmanip_emitter(Op op) { return form_of(op) != Form::kNone; }

bool Emitter::emit_bitmanip(const DecodedInsn& d) {
  switch (form_of(d.op)) {
    case Form::kShiftAdd: emit_shift_add(d); return true;
    case Form::kByRegister: emit_by_register(d); return true;
    case Form::kSelect: emit_select(d); return true;
    case Form::kUnary: emit_unary(d); return true;
    // Nothing may be emitted for an op this does not know: emit() asks every emitter in turn
    // (an FP op whose emitter declined among them), and the op then runs as a helper.
    case Form::kNone: break;
  }
  return false;
}

// rd = f(rs1), computed in rd's register.
void Emitter::emit_unary(const DecodedInsn& d) {
  const Xbyak::Reg64 out = dest(d.rd);
  const Xbyak::Reg64 a = src(d.rs1, out);
  switch (d.op) {
    case Op::sext_b: movsx(out, a.cvt8()); break;
    case Op::sext_h: movsx(out, a.cvt16()); break;
    // A 32-bit write zeroes the upper half. A count is at most 64, so zero-extending the W
    // forms' counts is the sign extension they ask for.
    case Op::zext_h: movzx(out.cvt32(), a.cvt16()); break;
    case Op::clz: lzcnt(out, a); break;
    case Op::clzw: lzcnt(out.cvt32(), a.cvt32()); break;
    case Op::ctz: tzcnt(out, a); break;
    case Op::ctzw: tzcnt(out.cvt32(), a.cvt32()); break;
    case Op::cpop: popcnt(out, a); break;
    case Op::cpopw: popcnt(out.cvt32(), a.cvt32()); break;
    case Op::rori:
      if (a.getIdx() != out.getIdx()) mov(out, a);
      ror(out, static_cast<uint8_t>(d.imm));
      break;
    case Op::roriw:
      if (a.getIdx() != out.getIdx()) mov(out, a);
      ror(out.cvt32(), static_cast<uint8_t>(d.imm));
      movsxd(out, out.cvt32());
      break;
    case Op::slli_uw:
      mov(out.cvt32(), a.cvt32());  // zero-extends
      shl(out, static_cast<uint8_t>(d.imm));
      break;
    case Op::bclri:
    case Op::bseti:
    case Op::binvi:
    case Op::bexti: {
      if (a.getIdx() != out.getIdx()) mov(out, a);
      const auto bit = static_cast<uint8_t>(d.imm & 63);
      if (d.op == Op::bclri) btr(out, bit);
      if (d.op == Op::bseti) bts(out, bit);
      if (d.op == Op::binvi) btc(out, bit);
      if (d.op == Op::bexti) {
        shr(out, bit);
        and_(out, 1);
      }
      break;
    }
    case Op::orc_b:  // each byte 0xff where it is nonzero, else 0: pcmpeqb finds the zeros
      movq(xmm0, a);
      pxor(xmm1, xmm1);
      pcmpeqb(xmm0, xmm1);
      pcmpeqb(xmm1, xmm1);
      pxor(xmm0, xmm1);
      movq(out, xmm0);
      break;
    default:  // rev8
      if (a.getIdx() != out.getIdx()) mov(out, a);
      bswap(out);
      break;
  }
  write_x(d.rd, out);
}

// rd = rs1 op rs2 for the ops whose x86 form wants rs2 in rcx, which it goes to first (rd's
// register may be rs2's): the logic ops with a negated operand, rol, ror (and their W forms),
// and Zbs's bclr, bset, binv and bext. x86 takes the count modulo the width as RISC-V does,
// for the rotates and for bt* on a register.
void Emitter::emit_by_register(const DecodedInsn& d) {
  load_x(rcx, d.rs2);
  if (d.op == Op::andn || d.op == Op::orn) not_(rcx);
  const Xbyak::Reg64 out = dest(d.rd);
  load_x(out, d.rs1);
  switch (d.op) {
    case Op::andn: and_(out, rcx); break;
    case Op::orn: or_(out, rcx); break;
    case Op::xnor:
      xor_(out, rcx);
      not_(out);
      break;
    case Op::rol: rol(out, cl); break;
    case Op::ror: ror(out, cl); break;
    case Op::rolw:
    case Op::rorw:
      d.op == Op::rolw ? rol(out.cvt32(), cl) : ror(out.cvt32(), cl);
      movsxd(out, out.cvt32());
      break;
    case Op::bclr: btr(out, rcx); break;
    case Op::bset: bts(out, rcx); break;
    case Op::binv: btc(out, rcx); break;
    default:  // bext
      shr(out, cl);
      and_(out, 1);
      break;
  }
  write_x(d.rd, out);
}

// rd = rs2 + (rs1 << n), rs1 zero-extended from its low word for the .uw forms: one lea.
void Emitter::emit_shift_add(const DecodedInsn& d) {
  const bool uw =
      d.op == Op::add_uw || d.op == Op::sh1add_uw || d.op == Op::sh2add_uw || d.op == Op::sh3add_uw;
  int scale = 1;
  if (d.op == Op::sh1add || d.op == Op::sh1add_uw) scale = 2;
  if (d.op == Op::sh2add || d.op == Op::sh2add_uw) scale = 4;
  if (d.op == Op::sh3add || d.op == Op::sh3add_uw) scale = 8;
  Xbyak::Reg64 index = src(d.rs1, rcx);
  if (uw) {
    mov(ecx, index.cvt32());  // a 32-bit move zero-extends
    index = rcx;
  }
  const Xbyak::Reg64 base = src(d.rs2, rdx);
  const Xbyak::Reg64 out = dest(d.rd);
  lea(out, ptr[base + index * scale]);
  write_x(d.rd, out);
}

// rd = one of rs1, rs2 (min, max) or zero (czero) by a compare, with a cmov. The result is
// made in rdx: rd's register may be either source's.
void Emitter::emit_select(const DecodedInsn& d) {
  const Xbyak::Reg64 a = src(d.rs1, rax);
  const Xbyak::Reg64 b = src(d.rs2, rcx);
  if (d.op == Op::czero_eqz || d.op == Op::czero_nez) {
    xor_(edx, edx);
    test(b, b);
    if (d.op == Op::czero_eqz) {
      cmovnz(rdx, a);  // rs1 where rs2 is nonzero, else 0
    } else {
      cmovz(rdx, a);
    }
  } else {
    mov(rdx, a);
    cmp(a, b);
    switch (d.op) {
      case Op::max: cmovl(rdx, b); break;  // rs1 < rs2: rs2
      case Op::maxu: cmovb(rdx, b); break;
      case Op::min: cmovg(rdx, b); break;  // rs1 > rs2: rs2
      default: cmova(rdx, b); break;       // minu
    }
  }
  write_x(d.rd, rdx);
}

}  // namespace vessel::rv::jit
