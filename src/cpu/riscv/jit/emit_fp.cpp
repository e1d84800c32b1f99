// F and D instructions on the host's SSE. In round to nearest even, SSE computes every IEEE 754
// operation the F and D extensions define the same way, flags included (tininess after
// rounding, UF only with NX); fpu/host_flags.hpp keeps the flags in MXCSR while translated
// code runs. What differs is NaNs: RISC-V always produces the canonical NaN, the host
// propagates payloads. So any NaN result, a single not NaN-boxed, FS not Dirty, and a dynamic
// rounding mode other than RNE take the instruction's semantics on a cold path (the host's
// flags raised on the way there are ones the semantics raise too). Other static rounding modes,
// and the ops listed nowhere below, always run their semantics.
#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/fpu/host_flags.hpp"
#include "cpu/riscv/jit/emitter.hpp"

namespace vessel::rv::jit {

using namespace Xbyak::util;

bool host_has_fma() {
  static const bool fma = __builtin_cpu_supports("fma") != 0 && __builtin_cpu_supports("avx") != 0;
  return fma;
}

namespace {

bool is_single(Op op) { return insn_info(op).ext == Ext::F; }

// Ops that round need RNE; conversions that are always exact (int32 to double, single to
// double, and the moves and sign injections, which have no rounding mode) take any.
bool rounding_ok(const DecodedInsn& d, bool exact) {
  if (!uses_rm(d.op)) return true;
  return exact || d.rm == 0 || d.rm == 7;
}

bool is_fused(Op op) {
  switch (op) {
    case Op::fmadd_s:
    case Op::fmsub_s:
    case Op::fnmsub_s:
    case Op::fnmadd_s:
    case Op::fmadd_d:
    case Op::fmsub_d:
    case Op::fnmsub_d:
    case Op::fnmadd_d: return true;
    default: return false;
  }
}

}  // namespace

bool has_fp_emitter(Op op) {
  if (is_fused(op)) return host_has_fma();
  switch (op) {
    case Op::fadd_s:
    case Op::fsub_s:
    case Op::fmul_s:
    case Op::fdiv_s:
    case Op::fsqrt_s:
    case Op::fadd_d:
    case Op::fsub_d:
    case Op::fmul_d:
    case Op::fdiv_d:
    case Op::fsqrt_d:
    case Op::fsgnj_s:
    case Op::fsgnjn_s:
    case Op::fsgnjx_s:
    case Op::fsgnj_d:
    case Op::fsgnjn_d:
    case Op::fsgnjx_d:
    case Op::fmin_s:
    case Op::fmax_s:
    case Op::fmin_d:
    case Op::fmax_d:
    case Op::feq_s:
    case Op::flt_s:
    case Op::fle_s:
    case Op::feq_d:
    case Op::flt_d:
    case Op::fle_d:
    case Op::fmv_x_w:
    case Op::fmv_w_x:
    case Op::fmv_x_d:
    case Op::fmv_d_x:
    case Op::fcvt_s_d:
    case Op::fcvt_d_s:
    case Op::fcvt_w_s:
    case Op::fcvt_l_s:
    case Op::fcvt_w_d:
    case Op::fcvt_l_d:
    case Op::fcvt_s_w:
    case Op::fcvt_s_wu:
    case Op::fcvt_s_l:
    case Op::fcvt_d_w:
    case Op::fcvt_d_wu:
    case Op::fcvt_d_l: return true;
    default: return false;
  }
}

void Emitter::fp_guard(const DecodedInsn& d, Xbyak::Label& slow) {
  const bool dynamic = uses_rm(d.op) && d.rm == 7;
  test(byte[rbx + off::kFpReady], dynamic ? HartState::kFpRne : HartState::kFpDirty);
  jz(slow, T_NEAR);
}

void Emitter::fp_boxed(unsigned r, bool single, Xbyak::Label& slow) {
  if (!single) return;
  cmp(dword[rbx + off::f(r) + 4], -1);  // else it reads as the canonical NaN
  jne(slow, T_NEAR);
}

Xbyak::Address Emitter::fp_reg(unsigned r, bool single) {
  return single ? dword[rbx + off::f(r)] : qword[rbx + off::f(r)];
}

void Emitter::fp_load(const Xbyak::Xmm& x, unsigned r, bool single) {
  single ? movss(x, fp_reg(r, true)) : movsd(x, fp_reg(r, false));
}

void Emitter::fp_result(const Xbyak::Xmm& x, unsigned rd, bool single, Xbyak::Label& slow) {
  single ? ucomiss(x, x) : ucomisd(x, x);
  jp(slow, T_NEAR);  // a NaN: the semantics make it the canonical one
  fp_store(x, rd, single);
}

void Emitter::fp_store(const Xbyak::Xmm& x, unsigned rd, bool single) {
  if (single) {
    movss(fp_reg(rd, true), x);
    mov(dword[rbx + off::f(rd) + 4], -1);
  } else {
    movsd(fp_reg(rd, false), x);
  }
}

void Emitter::fp_store(const Xbyak::Reg64& bits, unsigned rd, bool single) {
  if (single) {
    mov(dword[rbx + off::f(rd)], bits.cvt32());
    mov(dword[rbx + off::f(rd) + 4], -1);
  } else {
    mov(qword[rbx + off::f(rd)], bits);
  }
}

bool Emitter::emit_fp(const DecodedInsn& d) {
  if (!has_fp_emitter(d.op) || !fp::host::controls_default()) return false;
  const bool single = is_single(d.op);
  switch (d.op) {
    case Op::fsgnj_s:
    case Op::fsgnjn_s:
    case Op::fsgnjx_s:
    case Op::fsgnj_d:
    case Op::fsgnjn_d:
    case Op::fsgnjx_d: emit_fp_sign(d, single); break;
    case Op::fmv_x_w:
    case Op::fmv_w_x:
    case Op::fmv_x_d:
    case Op::fmv_d_x: emit_fp_move(d); break;
    case Op::feq_s:
    case Op::flt_s:
    case Op::fle_s:
    case Op::feq_d:
    case Op::flt_d:
    case Op::fle_d: emit_fp_compare(d, single); break;
    case Op::fcvt_w_s:
    case Op::fcvt_l_s:
    case Op::fcvt_w_d:
    case Op::fcvt_l_d:
      if (!(d.rm == 0 || d.rm == 1 || d.rm == 7)) return false;  // RNE or RTZ
      emit_fp_to_int(d, single);
      break;
    case Op::fcvt_s_w:
    case Op::fcvt_s_wu:
    case Op::fcvt_s_l:
    case Op::fcvt_d_w:
    case Op::fcvt_d_wu:
    case Op::fcvt_d_l:
      if (!rounding_ok(d, d.op == Op::fcvt_d_w || d.op == Op::fcvt_d_wu)) return false;
      emit_fp_from_int(d, single);
      break;
    default:
      if (!rounding_ok(d, d.op == Op::fcvt_d_s)) return false;
      emit_fp_arith(d, single);
      break;
  }
  ++retired_;
  return true;
}

// add, sub, mul, div, sqrt, min, max, the fused multiply-adds and the conversions between
// single and double: FP registers in, one FP register out.
void Emitter::emit_fp_arith(const DecodedInsn& d, bool single) {
  Xbyak::Label& slow = new_label();
  Xbyak::Label& done = new_label();
  cold_helper(d, HelperKind::kFloat, slow, done);
  fp_guard(d, slow);
  const bool from_single = d.op == Op::fcvt_d_s || (single && d.op != Op::fcvt_s_d);
  fp_boxed(d.rs1, from_single, slow);
  const bool two =
      d.op != Op::fsqrt_s && d.op != Op::fsqrt_d && d.op != Op::fcvt_s_d && d.op != Op::fcvt_d_s;
  if (two) fp_boxed(d.rs2, single, slow);
  const auto b = [&] { return fp_reg(d.rs2, single); };
  switch (d.op) {
    case Op::fsqrt_s: sqrtss(xmm0, fp_reg(d.rs1, true)); break;
    case Op::fsqrt_d: sqrtsd(xmm0, fp_reg(d.rs1, false)); break;
    case Op::fcvt_s_d: cvtsd2ss(xmm0, fp_reg(d.rs1, false)); break;
    case Op::fcvt_d_s: cvtss2sd(xmm0, fp_reg(d.rs1, true)); break;
    default: fp_load(xmm0, d.rs1, single); break;
  }
  switch (d.op) {
    case Op::fadd_s: addss(xmm0, b()); break;
    case Op::fadd_d: addsd(xmm0, b()); break;
    case Op::fsub_s: subss(xmm0, b()); break;
    case Op::fsub_d: subsd(xmm0, b()); break;
    case Op::fmul_s: mulss(xmm0, b()); break;
    case Op::fmul_d: mulsd(xmm0, b()); break;
    case Op::fdiv_s: divss(xmm0, b()); break;
    case Op::fdiv_d: divsd(xmm0, b()); break;
    case Op::fmin_s:
    case Op::fmax_s:
    case Op::fmin_d:
    case Op::fmax_d: {
      // The host's min and max differ on NaNs and on zeros of either sign: both go slow.
      fp_load(xmm1, d.rs2, single);
      single ? ucomiss(xmm0, xmm1) : ucomisd(xmm0, xmm1);
      jp(slow, T_NEAR);
      je(slow, T_NEAR);
      const bool min = d.op == Op::fmin_s || d.op == Op::fmin_d;
      if (single) {
        min ? minss(xmm0, xmm1) : maxss(xmm0, xmm1);
      } else {
        min ? minsd(xmm0, xmm1) : maxsd(xmm0, xmm1);
      }
      break;
    }
    default:  // sqrt and the conversions were done above
      if (is_fused(d.op)) emit_fp_fused(d, single, slow);
      break;
  }
  fp_result(xmm0, d.rd, single || d.op == Op::fcvt_s_d, slow);  // fcvt.s.d is D's, to a single
  L(done);
}

// xmm0 = (+-rs1 * rs2) +- rs3 with one rounding, rs1 already in xmm0. x86's fnmadd is
// -(a*b)+c, RISC-V's fnmsub; x86's fnmsub is RISC-V's fnmadd.
void Emitter::emit_fp_fused(const DecodedInsn& d, bool single, Xbyak::Label& slow) {
  fp_boxed(d.rs3, single, slow);
  fp_load(xmm1, d.rs2, single);
  const Xbyak::Address c = fp_reg(d.rs3, single);
  switch (d.op) {
    case Op::fmadd_s: vfmadd213ss(xmm0, xmm1, c); break;
    case Op::fmadd_d: vfmadd213sd(xmm0, xmm1, c); break;
    case Op::fmsub_s: vfmsub213ss(xmm0, xmm1, c); break;
    case Op::fmsub_d: vfmsub213sd(xmm0, xmm1, c); break;
    case Op::fnmsub_s: vfnmadd213ss(xmm0, xmm1, c); break;
    case Op::fnmsub_d: vfnmadd213sd(xmm0, xmm1, c); break;
    case Op::fnmadd_s: vfnmsub213ss(xmm0, xmm1, c); break;
    default: vfnmsub213sd(xmm0, xmm1, c); break;
  }
}

// fsgnj, fsgnjn, fsgnjx: bit operations on the sign, no flags and no NaN rules (the value is
// copied as it is, a NaN's payload too).
void Emitter::emit_fp_sign(const DecodedInsn& d, bool single) {
  Xbyak::Label& slow = new_label();
  Xbyak::Label& done = new_label();
  cold_helper(d, HelperKind::kFloat, slow, done);
  fp_guard(d, slow);
  fp_boxed(d.rs1, single, slow);
  fp_boxed(d.rs2, single, slow);
  const uint8_t sign = single ? 31 : 63;
  single ? mov(eax, dword[rbx + off::f(d.rs1)]) : mov(rax, qword[rbx + off::f(d.rs1)]);
  const bool plain = d.op == Op::fsgnj_s || d.op == Op::fsgnj_d;
  const bool negate = d.op == Op::fsgnjn_s || d.op == Op::fsgnjn_d;
  if (d.rs1 == d.rs2) {  // fmv, fneg, fabs
    if (negate) btc(rax, sign);
    if (!plain && !negate) btr(rax, sign);
  } else {
    single ? mov(ecx, dword[rbx + off::f(d.rs2)]) : mov(rcx, qword[rbx + off::f(d.rs2)]);
    if (negate) not_(rcx);
    shr(rcx, sign);  // the sign bit alone (of the low 32 bits for a single: ecx was zero-extended)
    if (single) and_(ecx, 1);
    shl(rcx, sign);
    if (!plain && !negate) {
      xor_(rax, rcx);
    } else {
      btr(rax, sign);
      or_(rax, rcx);
    }
  }
  fp_store(rax, d.rd, single);
  L(done);
}

// fmv.x.w, fmv.w.x, fmv.x.d, fmv.d.x: raw bits between the register files.
void Emitter::emit_fp_move(const DecodedInsn& d) {
  Xbyak::Label& slow = new_label();
  Xbyak::Label& done = new_label();
  if (d.op == Op::fmv_w_x || d.op == Op::fmv_d_x) {
    // rs1 into its cache register before the cold path is made: both paths reach `done` with
    // the cache as the cold path found it.
    const Xbyak::Reg64 v = src(d.rs1, rax);
    cold_helper(d, HelperKind::kFloat, slow, done);
    fp_guard(d, slow);
    fp_store(v, d.rd, d.op == Op::fmv_w_x);
    L(done);
    return;
  }
  const Xbyak::Reg64 out = dest(d.rd);
  fp_to_x_entry(d, false, slow, done, out);  // raw bits: no unboxing
  if (d.op == Op::fmv_x_d) {
    mov(out, qword[rbx + off::f(d.rs1)]);
  } else {
    movsxd(out, dword[rbx + off::f(d.rs1)]);
  }
  L(done);
  write_x(d.rd, out);
}

void Emitter::fp_to_x_entry(const DecodedInsn& d, bool single, Xbyak::Label& from,
                            Xbyak::Label& back, const Xbyak::Reg64& out) {
  const unsigned rd = d.rd;
  cold_call(
      from, back, reinterpret_cast<const void*>(d.fn), HelperKind::kFloat,
      [this, &d] {
        mov(rdi, rbx);
        mov(rsi, reinterpret_cast<uintptr_t>(&d));
      },
      [this, rd, out] { mov(out, xreg(rd)); });
  fp_guard(d, from);
  fp_boxed(d.rs1, single, from);
}

// feq (a quiet compare: NV for signaling NaNs only), flt and fle (signalling: NV for any NaN),
// as ucomis and comis raise IE. Unordered sets ZF, PF and CF, so "above" is false then.
void Emitter::emit_fp_compare(const DecodedInsn& d, bool single) {
  Xbyak::Label& slow = new_label();
  Xbyak::Label& done = new_label();
  const Xbyak::Reg64 out = dest(d.rd);
  fp_to_x_entry(d, single, slow, done, out);
  fp_boxed(d.rs2, single, slow);
  if (d.op == Op::feq_s || d.op == Op::feq_d) {
    fp_load(xmm0, d.rs1, single);
    single ? ucomiss(xmm0, fp_reg(d.rs2, true)) : ucomisd(xmm0, fp_reg(d.rs2, false));
    sete(al);
    setnp(cl);
    and_(al, cl);
  } else {
    fp_load(xmm0, d.rs2, single);  // rs2 > rs1 for flt, rs2 >= rs1 for fle
    single ? comiss(xmm0, fp_reg(d.rs1, true)) : comisd(xmm0, fp_reg(d.rs1, false));
    (d.op == Op::flt_s || d.op == Op::flt_d) ? seta(al) : setae(al);
  }
  movzx(out.cvt32(), al);
  L(done);
  write_x(d.rd, out);
}

// fcvt.w and fcvt.l from single or double, in RNE (by MXCSR) or RTZ (cvtt). The host's answer
// to NaNs and values out of range is the "integer indefinite", the most negative value, where
// RISC-V saturates: that value goes to the semantics (which also give it when it is right).
void Emitter::emit_fp_to_int(const DecodedInsn& d, bool single) {
  Xbyak::Label& slow = new_label();
  Xbyak::Label& done = new_label();
  const Xbyak::Reg64 out = dest(d.rd);
  fp_to_x_entry(d, single, slow, done, out);
  const bool wide = d.op == Op::fcvt_l_s || d.op == Op::fcvt_l_d;
  const bool truncate = d.rm == 1;
  const Xbyak::Reg r = wide ? static_cast<const Xbyak::Reg&>(rax) : eax;
  const Xbyak::Address a = fp_reg(d.rs1, single);
  if (single) {
    truncate ? cvttss2si(r, a) : cvtss2si(r, a);
  } else {
    truncate ? cvttsd2si(r, a) : cvtsd2si(r, a);
  }
  if (wide) {
    mov(rcx, rax);
    neg(rcx);  // overflows only for the most negative value
  } else {
    mov(ecx, eax);
    neg(ecx);
  }
  jo(slow, T_NEAR);
  wide ? mov(out, rax) : movsxd(out, eax);
  L(done);
  write_x(d.rd, out);
}

// fcvt.s and fcvt.d from w, wu and l (RNE by MXCSR where the result rounds).
void Emitter::emit_fp_from_int(const DecodedInsn& d, bool single) {
  Xbyak::Label& slow = new_label();
  Xbyak::Label& done = new_label();
  const Xbyak::Reg64 v = src(d.rs1, rax);  // before the cold path, as in emit_fp_move
  cold_helper(d, HelperKind::kFloat, slow, done);
  fp_guard(d, slow);
  xorps(xmm0, xmm0);  // cvtsi2s* write only the low element: no false dependence
  switch (d.op) {
    case Op::fcvt_s_w: cvtsi2ss(xmm0, v.cvt32()); break;
    case Op::fcvt_d_w: cvtsi2sd(xmm0, v.cvt32()); break;
    case Op::fcvt_s_l: cvtsi2ss(xmm0, v); break;
    case Op::fcvt_d_l: cvtsi2sd(xmm0, v); break;
    default:  // wu: the zero-extended value, converted as a signed 64-bit one
      mov(ecx, v.cvt32());
      d.op == Op::fcvt_s_wu ? cvtsi2ss(xmm0, rcx) : cvtsi2sd(xmm0, rcx);
      break;
  }
  fp_store(xmm0, d.rd, single);  // a converted integer is never a NaN
  L(done);
}

}  // namespace vessel::rv::jit
