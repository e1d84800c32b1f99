// fadd, fsub, fmul and fdiv (S and D) on the host's SSE where that is exact, as
// fpu/hostfloat.hpp does for the semantics: round to nearest even, operands and result inside
// the normal range away from both ends, and the inexact flag from the operation's exact
// error (TwoSum for add and sub, an FMA residual for mul and div). Anything else, and every
// other FP op, runs the semantics (exact soft-float), so results and flags match the
// interpreter bit for bit.
#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/fpu/hostfloat.hpp"
#include "cpu/riscv/jit/emitter.hpp"

namespace vessel::rv::jit {

using namespace Xbyak::util;

bool host_has_fma() {
  static const bool fma = __builtin_cpu_supports("fma") != 0 && __builtin_cpu_supports("avx") != 0;
  return fma;
}

void Emitter::fp_guard(const DecodedInsn& d, Xbyak::Label& slow) {
  mov(ecx, dword[rbx + off::kMstatus]);
  and_(ecx, static_cast<uint32_t>(mstatus::kFS));
  cmp(ecx, static_cast<uint32_t>(mstatus::kFS));
  jne(slow, T_NEAR);
  if (d.rm == 7) {
    cmp(byte[rbx + off::kFrm], 0);
    jne(slow, T_NEAR);
  }
}

bool Emitter::emit_fp_arith(const DecodedInsn& d) {
  bool is_double = true;
  char kind = 0;
  switch (d.op) {
    case Op::fadd_d: kind = '+'; break;
    case Op::fsub_d: kind = '-'; break;
    case Op::fmul_d: kind = '*'; break;
    case Op::fdiv_d: kind = '/'; break;
    case Op::fadd_s:
      kind = '+';
      is_double = false;
      break;
    case Op::fsub_s:
      kind = '-';
      is_double = false;
      break;
    case Op::fmul_s:
      kind = '*';
      is_double = false;
      break;
    case Op::fdiv_s:
      kind = '/';
      is_double = false;
      break;
    default: return false;
  }
  if (d.rm != 0 && d.rm != 7) return false;  // a static mode other than RNE
  if ((kind == '*' || kind == '/') && !host_has_fma()) return false;
  const int shift = is_double ? 52 : 23;
  const unsigned exp_mask = is_double ? 0x7ff : 0xff;
  const unsigned low = is_double ? fp::host::Traits<double>::kLow : fp::host::Traits<float>::kLow;
  const unsigned high =
      is_double ? fp::host::Traits<double>::kHigh : fp::host::Traits<float>::kHigh;
  Xbyak::Label& slow = new_label();
  Xbyak::Label& done = new_label();
  cold_helper(d, HelperKind::kFloat, slow, done);
  fp_guard(d, slow);
  // rax = bits; the biased exponent must lie in [low, high] (zeros and the rest go slow).
  auto check_range = [&](const Xbyak::Reg64& bits) {
    mov(rcx, bits);
    shr(rcx, shift);
    and_(ecx, exp_mask);
    sub(ecx, low);
    cmp(ecx, high - low);
    ja(slow, T_NEAR);
  };
  auto load_operand = [&](const Xbyak::Xmm& x, unsigned r) {
    mov(rax, qword[rbx + off::f(r)]);
    if (!is_double) {  // a single must be NaN-boxed, or it reads as the canonical NaN
      mov(rdx, rax);
      shr(rdx, 32);
      cmp(edx, -1);
      jne(slow, T_NEAR);
      mov(eax, eax);
    }
    check_range(rax);
    movq(x, rax);
  };
  load_operand(xmm0, d.rs1);  // a
  load_operand(xmm1, d.rs2);  // b
  movaps(xmm2, xmm0);
  switch (kind) {
    case '+': is_double ? addsd(xmm2, xmm1) : addss(xmm2, xmm1); break;
    case '-': is_double ? subsd(xmm2, xmm1) : subss(xmm2, xmm1); break;
    case '*': is_double ? mulsd(xmm2, xmm1) : mulss(xmm2, xmm1); break;
    default: is_double ? divsd(xmm2, xmm1) : divss(xmm2, xmm1); break;
  }
  movq(rax, xmm2);  // r
  if (!is_double) mov(eax, eax);
  check_range(rax);
  // xmm3 = the exact error of r.
  switch (kind) {
    case '+':
    case '-':
      // TwoSum of a and b' (b' = b, or -b for sub): t = r - a, e = (a - (r - t)) + (b' - t).
      movaps(xmm4, xmm2);
      is_double ? subsd(xmm4, xmm0) : subss(xmm4, xmm0);  // t
      movaps(xmm5, xmm2);
      is_double ? subsd(xmm5, xmm4) : subss(xmm5, xmm4);  // r - t
      movaps(xmm3, xmm0);
      is_double ? subsd(xmm3, xmm5) : subss(xmm3, xmm5);  // a - (r - t)
      if (kind == '+') {
        movaps(xmm5, xmm1);
        is_double ? subsd(xmm5, xmm4) : subss(xmm5, xmm4);  // b - t
        is_double ? addsd(xmm3, xmm5) : addss(xmm3, xmm5);
      } else {
        movaps(xmm5, xmm1);
        is_double ? addsd(xmm5, xmm4) : addss(xmm5, xmm4);  // b + t = -(b' - t)
        is_double ? subsd(xmm3, xmm5) : subss(xmm3, xmm5);
      }
      break;
    case '*':  // a * b - r
      movaps(xmm3, xmm0);
      is_double ? vfmsub213sd(xmm3, xmm1, xmm2) : vfmsub213ss(xmm3, xmm1, xmm2);
      break;
    default:  // a - r * b
      movaps(xmm3, xmm2);
      is_double ? vfnmadd213sd(xmm3, xmm1, xmm0) : vfnmadd213ss(xmm3, xmm1, xmm0);
      break;
  }
  xorps(xmm4, xmm4);
  is_double ? ucomisd(xmm3, xmm4) : ucomiss(xmm3, xmm4);
  setne(cl);
  setp(dl);
  or_(cl, dl);
  or_(byte[rbx + off::kFflags], cl);  // NX is bit 0
  if (!is_double) {
    mov(rcx, 0xffffffff00000000ULL);
    or_(rax, rcx);
  }
  mov(qword[rbx + off::f(d.rd)], rax);
  L(done);
  ++retired_;
  return true;
}

}  // namespace vessel::rv::jit
