/* Rounding modes: each of RNE, RTZ, RDN, RUP, RMM given statically in the
 * instruction and dynamically through frm (rm = dyn, written explicitly or
 * left to the assembler's default), on ties, inexact quotients and roots,
 * fused operations, overflow (to infinity or the largest finite value) and
 * underflow; then the reserved static modes 5/6 and dyn with frm >= 5,
 * which are illegal instructions. Expected values come from an exact model
 * of IEEE 754 with RISC-V's rules. */
#include "test_macros.h"

TEST_BEGIN

  /* static rounding modes in the instruction */
  TEST_FP_S_OP2(1, fadd.s, FFLAGS_NX, 0x3f800000, 0x3f800000, 0x33800000, rne) /* 1 0x33800000 rne */
  TEST_FP_S_OP2(2, fadd.s, FFLAGS_NX, 0x3f800000, 0x3f800000, 0x33800000, rtz) /* 1 0x33800000 rtz */
  TEST_FP_S_OP2(3, fadd.s, FFLAGS_NX, 0x3f800000, 0x3f800000, 0x33800000, rdn) /* 1 0x33800000 rdn */
  TEST_FP_S_OP2(4, fadd.s, FFLAGS_NX, 0x3f800001, 0x3f800000, 0x33800000, rup) /* 1 0x33800000 rup */
  TEST_FP_S_OP2(5, fadd.s, FFLAGS_NX, 0x3f800001, 0x3f800000, 0x33800000, rmm) /* 1 0x33800000 rmm */
  TEST_FP_S_OP2(6, fadd.s, FFLAGS_NX, 0xbf800000, 0xbf800000, 0xb3800000, rne) /* -1 0xb3800000 rne */
  TEST_FP_S_OP2(7, fadd.s, FFLAGS_NX, 0xbf800000, 0xbf800000, 0xb3800000, rtz) /* -1 0xb3800000 rtz */
  TEST_FP_S_OP2(8, fadd.s, FFLAGS_NX, 0xbf800001, 0xbf800000, 0xb3800000, rdn) /* -1 0xb3800000 rdn */
  TEST_FP_S_OP2(9, fadd.s, FFLAGS_NX, 0xbf800000, 0xbf800000, 0xb3800000, rup) /* -1 0xb3800000 rup */
  TEST_FP_S_OP2(10, fadd.s, FFLAGS_NX, 0xbf800001, 0xbf800000, 0xb3800000, rmm) /* -1 0xb3800000 rmm */
  TEST_FP_S_OP2(11, fadd.s, FFLAGS_NX, 0x3f800001, 0x3f800000, 0x33c00000, rne) /* 1 0x33c00000 rne */
  TEST_FP_S_OP2(12, fadd.s, FFLAGS_NX, 0x3f800000, 0x3f800000, 0x33c00000, rtz) /* 1 0x33c00000 rtz */
  TEST_FP_S_OP2(13, fadd.s, FFLAGS_NX, 0x3f800000, 0x3f800000, 0x33c00000, rdn) /* 1 0x33c00000 rdn */
  TEST_FP_S_OP2(14, fadd.s, FFLAGS_NX, 0x3f800001, 0x3f800000, 0x33c00000, rup) /* 1 0x33c00000 rup */
  TEST_FP_S_OP2(15, fadd.s, FFLAGS_NX, 0x3f800001, 0x3f800000, 0x33c00000, rmm) /* 1 0x33c00000 rmm */
  TEST_FP_S_OP2(16, fsub.s, FFLAGS_NX, 0x3f800000, 0x3f800000, 0x33000000, rne) /* 1 0x33000000 rne */
  TEST_FP_S_OP2(17, fsub.s, FFLAGS_NX, 0x3f7fffff, 0x3f800000, 0x33000000, rtz) /* 1 0x33000000 rtz */
  TEST_FP_S_OP2(18, fsub.s, FFLAGS_NX, 0x3f7fffff, 0x3f800000, 0x33000000, rdn) /* 1 0x33000000 rdn */
  TEST_FP_S_OP2(19, fsub.s, FFLAGS_NX, 0x3f800000, 0x3f800000, 0x33000000, rup) /* 1 0x33000000 rup */
  TEST_FP_S_OP2(20, fsub.s, FFLAGS_NX, 0x3f800000, 0x3f800000, 0x33000000, rmm) /* 1 0x33000000 rmm */
  TEST_FP_S_OP2(21, fdiv.s, FFLAGS_NX, 0x3eaaaaab, 0x3f800000, 0x40400000, rne) /* 1 3 rne */
  TEST_FP_S_OP2(22, fdiv.s, FFLAGS_NX, 0x3eaaaaaa, 0x3f800000, 0x40400000, rtz) /* 1 3 rtz */
  TEST_FP_S_OP2(23, fdiv.s, FFLAGS_NX, 0x3eaaaaaa, 0x3f800000, 0x40400000, rdn) /* 1 3 rdn */
  TEST_FP_S_OP2(24, fdiv.s, FFLAGS_NX, 0x3eaaaaab, 0x3f800000, 0x40400000, rup) /* 1 3 rup */
  TEST_FP_S_OP2(25, fdiv.s, FFLAGS_NX, 0x3eaaaaab, 0x3f800000, 0x40400000, rmm) /* 1 3 rmm */
  TEST_FP_S_OP2(26, fdiv.s, FFLAGS_NX, 0xbeaaaaab, 0xbf800000, 0x40400000, rne) /* -1 3 rne */
  TEST_FP_S_OP2(27, fdiv.s, FFLAGS_NX, 0xbeaaaaaa, 0xbf800000, 0x40400000, rtz) /* -1 3 rtz */
  TEST_FP_S_OP2(28, fdiv.s, FFLAGS_NX, 0xbeaaaaab, 0xbf800000, 0x40400000, rdn) /* -1 3 rdn */
  TEST_FP_S_OP2(29, fdiv.s, FFLAGS_NX, 0xbeaaaaaa, 0xbf800000, 0x40400000, rup) /* -1 3 rup */
  TEST_FP_S_OP2(30, fdiv.s, FFLAGS_NX, 0xbeaaaaab, 0xbf800000, 0x40400000, rmm) /* -1 3 rmm */
  TEST_FP_S_OP1(31, fsqrt.s, FFLAGS_NX, 0x3fb504f3, 0x40000000, rne) /* 2 rne */
  TEST_FP_S_OP1(32, fsqrt.s, FFLAGS_NX, 0x3fb504f3, 0x40000000, rtz) /* 2 rtz */
  TEST_FP_S_OP1(33, fsqrt.s, FFLAGS_NX, 0x3fb504f3, 0x40000000, rdn) /* 2 rdn */
  TEST_FP_S_OP1(34, fsqrt.s, FFLAGS_NX, 0x3fb504f4, 0x40000000, rup) /* 2 rup */
  TEST_FP_S_OP1(35, fsqrt.s, FFLAGS_NX, 0x3fb504f3, 0x40000000, rmm) /* 2 rmm */
  TEST_FP_S_OP3(36, fmadd.s, 0, 0x33000000, 0x40400000, 0x3eaaaaab, 0xbf800000, rne) /* 3 0x3eaaaaab -1 rne */
  TEST_FP_S_OP3(37, fmadd.s, 0, 0x33000000, 0x40400000, 0x3eaaaaab, 0xbf800000, rtz) /* 3 0x3eaaaaab -1 rtz */
  TEST_FP_S_OP3(38, fmadd.s, 0, 0x33000000, 0x40400000, 0x3eaaaaab, 0xbf800000, rdn) /* 3 0x3eaaaaab -1 rdn */
  TEST_FP_S_OP3(39, fmadd.s, 0, 0x33000000, 0x40400000, 0x3eaaaaab, 0xbf800000, rup) /* 3 0x3eaaaaab -1 rup */
  TEST_FP_S_OP3(40, fmadd.s, 0, 0x33000000, 0x40400000, 0x3eaaaaab, 0xbf800000, rmm) /* 3 0x3eaaaaab -1 rmm */
  TEST_FP_S_OP3(41, fnmsub.s, FFLAGS_NX, 0xb4800000, 0x3f800001, 0x3f800001, 0x3f800000, rne) /* 0x3f800001 0x3f800001 1 rne */
  TEST_FP_S_OP3(42, fnmsub.s, FFLAGS_NX, 0xb4800000, 0x3f800001, 0x3f800001, 0x3f800000, rtz) /* 0x3f800001 0x3f800001 1 rtz */
  TEST_FP_S_OP3(43, fnmsub.s, FFLAGS_NX, 0xb4800001, 0x3f800001, 0x3f800001, 0x3f800000, rdn) /* 0x3f800001 0x3f800001 1 rdn */
  TEST_FP_S_OP3(44, fnmsub.s, FFLAGS_NX, 0xb4800000, 0x3f800001, 0x3f800001, 0x3f800000, rup) /* 0x3f800001 0x3f800001 1 rup */
  TEST_FP_S_OP3(45, fnmsub.s, FFLAGS_NX, 0xb4800001, 0x3f800001, 0x3f800001, 0x3f800000, rmm) /* 0x3f800001 0x3f800001 1 rmm */
  TEST_FP_S_OP2(46, fmul.s, FFLAGS_OF|FFLAGS_NX, 0x7f800000, 0x7f7fffff, 0x40000000, rne) /* max 2 rne */
  TEST_FP_S_OP2(47, fmul.s, FFLAGS_OF|FFLAGS_NX, 0x7f7fffff, 0x7f7fffff, 0x40000000, rtz) /* max 2 rtz */
  TEST_FP_S_OP2(48, fmul.s, FFLAGS_OF|FFLAGS_NX, 0x7f7fffff, 0x7f7fffff, 0x40000000, rdn) /* max 2 rdn */
  TEST_FP_S_OP2(49, fmul.s, FFLAGS_OF|FFLAGS_NX, 0x7f800000, 0x7f7fffff, 0x40000000, rup) /* max 2 rup */
  TEST_FP_S_OP2(50, fmul.s, FFLAGS_OF|FFLAGS_NX, 0x7f800000, 0x7f7fffff, 0x40000000, rmm) /* max 2 rmm */
  TEST_FP_S_OP2(51, fmul.s, FFLAGS_OF|FFLAGS_NX, 0xff800000, 0xff7fffff, 0x40000000, rne) /* -max 2 rne */
  TEST_FP_S_OP2(52, fmul.s, FFLAGS_OF|FFLAGS_NX, 0xff7fffff, 0xff7fffff, 0x40000000, rtz) /* -max 2 rtz */
  TEST_FP_S_OP2(53, fmul.s, FFLAGS_OF|FFLAGS_NX, 0xff800000, 0xff7fffff, 0x40000000, rdn) /* -max 2 rdn */
  TEST_FP_S_OP2(54, fmul.s, FFLAGS_OF|FFLAGS_NX, 0xff7fffff, 0xff7fffff, 0x40000000, rup) /* -max 2 rup */
  TEST_FP_S_OP2(55, fmul.s, FFLAGS_OF|FFLAGS_NX, 0xff800000, 0xff7fffff, 0x40000000, rmm) /* -max 2 rmm */
  TEST_FP_S_OP2(56, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x00000000, 0x00000001, 0x3f000000, rne) /* min 0.5 rne */
  TEST_FP_S_OP2(57, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x00000000, 0x00000001, 0x3f000000, rtz) /* min 0.5 rtz */
  TEST_FP_S_OP2(58, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x00000000, 0x00000001, 0x3f000000, rdn) /* min 0.5 rdn */
  TEST_FP_S_OP2(59, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x00000001, 0x00000001, 0x3f000000, rup) /* min 0.5 rup */
  TEST_FP_S_OP2(60, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x00000001, 0x00000001, 0x3f000000, rmm) /* min 0.5 rmm */
  TEST_FP_S_OP2(61, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x80000000, 0x80000001, 0x3f000000, rne) /* -min 0.5 rne */
  TEST_FP_S_OP2(62, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x80000000, 0x80000001, 0x3f000000, rtz) /* -min 0.5 rtz */
  TEST_FP_S_OP2(63, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x80000001, 0x80000001, 0x3f000000, rdn) /* -min 0.5 rdn */
  TEST_FP_S_OP2(64, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x80000000, 0x80000001, 0x3f000000, rup) /* -min 0.5 rup */
  TEST_FP_S_OP2(65, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x80000001, 0x80000001, 0x3f000000, rmm) /* -min 0.5 rmm */
  TEST_FP_S_OP2(66, fadd.s, 0, 0x00000000, 0x3f800000, 0xbf800000, rne) /* 1 -1 rne */
  TEST_FP_S_OP2(67, fadd.s, 0, 0x00000000, 0x3f800000, 0xbf800000, rtz) /* 1 -1 rtz */
  TEST_FP_S_OP2(68, fadd.s, 0, 0x80000000, 0x3f800000, 0xbf800000, rdn) /* 1 -1 rdn */
  TEST_FP_S_OP2(69, fadd.s, 0, 0x00000000, 0x3f800000, 0xbf800000, rup) /* 1 -1 rup */
  TEST_FP_S_OP2(70, fadd.s, 0, 0x00000000, 0x3f800000, 0xbf800000, rmm) /* 1 -1 rmm */
  TEST_FP_D_OP2(71, fadd.d, FFLAGS_NX, 0x3ff0000000000000, 0x3ff0000000000000, 0x3ca0000000000000, rne) /* 1 0x3ca0000000000000 rne */
  TEST_FP_D_OP2(72, fadd.d, FFLAGS_NX, 0x3ff0000000000000, 0x3ff0000000000000, 0x3ca0000000000000, rtz) /* 1 0x3ca0000000000000 rtz */
  TEST_FP_D_OP2(73, fadd.d, FFLAGS_NX, 0x3ff0000000000000, 0x3ff0000000000000, 0x3ca0000000000000, rdn) /* 1 0x3ca0000000000000 rdn */
  TEST_FP_D_OP2(74, fadd.d, FFLAGS_NX, 0x3ff0000000000001, 0x3ff0000000000000, 0x3ca0000000000000, rup) /* 1 0x3ca0000000000000 rup */
  TEST_FP_D_OP2(75, fadd.d, FFLAGS_NX, 0x3ff0000000000001, 0x3ff0000000000000, 0x3ca0000000000000, rmm) /* 1 0x3ca0000000000000 rmm */
  TEST_FP_D_OP2(76, fadd.d, FFLAGS_NX, 0xbff0000000000000, 0xbff0000000000000, 0xbca0000000000000, rne) /* -1 0xbca0000000000000 rne */
  TEST_FP_D_OP2(77, fadd.d, FFLAGS_NX, 0xbff0000000000000, 0xbff0000000000000, 0xbca0000000000000, rtz) /* -1 0xbca0000000000000 rtz */
  TEST_FP_D_OP2(78, fadd.d, FFLAGS_NX, 0xbff0000000000001, 0xbff0000000000000, 0xbca0000000000000, rdn) /* -1 0xbca0000000000000 rdn */
  TEST_FP_D_OP2(79, fadd.d, FFLAGS_NX, 0xbff0000000000000, 0xbff0000000000000, 0xbca0000000000000, rup) /* -1 0xbca0000000000000 rup */
  TEST_FP_D_OP2(80, fadd.d, FFLAGS_NX, 0xbff0000000000001, 0xbff0000000000000, 0xbca0000000000000, rmm) /* -1 0xbca0000000000000 rmm */
  TEST_FP_D_OP2(81, fdiv.d, FFLAGS_NX, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, rne) /* 1 3 rne */
  TEST_FP_D_OP2(82, fdiv.d, FFLAGS_NX, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, rtz) /* 1 3 rtz */
  TEST_FP_D_OP2(83, fdiv.d, FFLAGS_NX, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, rdn) /* 1 3 rdn */
  TEST_FP_D_OP2(84, fdiv.d, FFLAGS_NX, 0x3fd5555555555556, 0x3ff0000000000000, 0x4008000000000000, rup) /* 1 3 rup */
  TEST_FP_D_OP2(85, fdiv.d, FFLAGS_NX, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, rmm) /* 1 3 rmm */
  TEST_FP_D_OP2(86, fdiv.d, FFLAGS_NX, 0xbfe5555555555555, 0xc000000000000000, 0x4008000000000000, rne) /* -2 3 rne */
  TEST_FP_D_OP2(87, fdiv.d, FFLAGS_NX, 0xbfe5555555555555, 0xc000000000000000, 0x4008000000000000, rtz) /* -2 3 rtz */
  TEST_FP_D_OP2(88, fdiv.d, FFLAGS_NX, 0xbfe5555555555556, 0xc000000000000000, 0x4008000000000000, rdn) /* -2 3 rdn */
  TEST_FP_D_OP2(89, fdiv.d, FFLAGS_NX, 0xbfe5555555555555, 0xc000000000000000, 0x4008000000000000, rup) /* -2 3 rup */
  TEST_FP_D_OP2(90, fdiv.d, FFLAGS_NX, 0xbfe5555555555555, 0xc000000000000000, 0x4008000000000000, rmm) /* -2 3 rmm */
  TEST_FP_D_OP1(91, fsqrt.d, FFLAGS_NX, 0x3ff6a09e667f3bcd, 0x4000000000000000, rne) /* 2 rne */
  TEST_FP_D_OP1(92, fsqrt.d, FFLAGS_NX, 0x3ff6a09e667f3bcc, 0x4000000000000000, rtz) /* 2 rtz */
  TEST_FP_D_OP1(93, fsqrt.d, FFLAGS_NX, 0x3ff6a09e667f3bcc, 0x4000000000000000, rdn) /* 2 rdn */
  TEST_FP_D_OP1(94, fsqrt.d, FFLAGS_NX, 0x3ff6a09e667f3bcd, 0x4000000000000000, rup) /* 2 rup */
  TEST_FP_D_OP1(95, fsqrt.d, FFLAGS_NX, 0x3ff6a09e667f3bcd, 0x4000000000000000, rmm) /* 2 rmm */
  TEST_FP_D_OP3(96, fmsub.d, FFLAGS_NX, 0x3cc0000000000000, 0x3ff0000000000001, 0x3ff0000000000001, 0x3ff0000000000000, rne) /* 0x3ff0000000000001 0x3ff0000000000001 1 rne */
  TEST_FP_D_OP3(97, fmsub.d, FFLAGS_NX, 0x3cc0000000000000, 0x3ff0000000000001, 0x3ff0000000000001, 0x3ff0000000000000, rtz) /* 0x3ff0000000000001 0x3ff0000000000001 1 rtz */
  TEST_FP_D_OP3(98, fmsub.d, FFLAGS_NX, 0x3cc0000000000000, 0x3ff0000000000001, 0x3ff0000000000001, 0x3ff0000000000000, rdn) /* 0x3ff0000000000001 0x3ff0000000000001 1 rdn */
  TEST_FP_D_OP3(99, fmsub.d, FFLAGS_NX, 0x3cc0000000000001, 0x3ff0000000000001, 0x3ff0000000000001, 0x3ff0000000000000, rup) /* 0x3ff0000000000001 0x3ff0000000000001 1 rup */
  TEST_FP_D_OP3(100, fmsub.d, FFLAGS_NX, 0x3cc0000000000001, 0x3ff0000000000001, 0x3ff0000000000001, 0x3ff0000000000000, rmm) /* 0x3ff0000000000001 0x3ff0000000000001 1 rmm */
  TEST_FP_D_OP2(101, fmul.d, FFLAGS_OF|FFLAGS_NX, 0x7ff0000000000000, 0x7fefffffffffffff, 0x4000000000000000, rne) /* max 2 rne */
  TEST_FP_D_OP2(102, fmul.d, FFLAGS_OF|FFLAGS_NX, 0x7fefffffffffffff, 0x7fefffffffffffff, 0x4000000000000000, rtz) /* max 2 rtz */
  TEST_FP_D_OP2(103, fmul.d, FFLAGS_OF|FFLAGS_NX, 0x7fefffffffffffff, 0x7fefffffffffffff, 0x4000000000000000, rdn) /* max 2 rdn */
  TEST_FP_D_OP2(104, fmul.d, FFLAGS_OF|FFLAGS_NX, 0x7ff0000000000000, 0x7fefffffffffffff, 0x4000000000000000, rup) /* max 2 rup */
  TEST_FP_D_OP2(105, fmul.d, FFLAGS_OF|FFLAGS_NX, 0x7ff0000000000000, 0x7fefffffffffffff, 0x4000000000000000, rmm) /* max 2 rmm */
  TEST_FP_D_OP2(106, fmul.d, FFLAGS_OF|FFLAGS_NX, 0xfff0000000000000, 0xffefffffffffffff, 0x4000000000000000, rne) /* -max 2 rne */
  TEST_FP_D_OP2(107, fmul.d, FFLAGS_OF|FFLAGS_NX, 0xffefffffffffffff, 0xffefffffffffffff, 0x4000000000000000, rtz) /* -max 2 rtz */
  TEST_FP_D_OP2(108, fmul.d, FFLAGS_OF|FFLAGS_NX, 0xfff0000000000000, 0xffefffffffffffff, 0x4000000000000000, rdn) /* -max 2 rdn */
  TEST_FP_D_OP2(109, fmul.d, FFLAGS_OF|FFLAGS_NX, 0xffefffffffffffff, 0xffefffffffffffff, 0x4000000000000000, rup) /* -max 2 rup */
  TEST_FP_D_OP2(110, fmul.d, FFLAGS_OF|FFLAGS_NX, 0xfff0000000000000, 0xffefffffffffffff, 0x4000000000000000, rmm) /* -max 2 rmm */
  TEST_FP_D_OP2(111, fmul.d, FFLAGS_UF|FFLAGS_NX, 0x8000000000000000, 0x8000000000000001, 0x3fe0000000000000, rne) /* -min 0.5 rne */
  TEST_FP_D_OP2(112, fmul.d, FFLAGS_UF|FFLAGS_NX, 0x8000000000000000, 0x8000000000000001, 0x3fe0000000000000, rtz) /* -min 0.5 rtz */
  TEST_FP_D_OP2(113, fmul.d, FFLAGS_UF|FFLAGS_NX, 0x8000000000000001, 0x8000000000000001, 0x3fe0000000000000, rdn) /* -min 0.5 rdn */
  TEST_FP_D_OP2(114, fmul.d, FFLAGS_UF|FFLAGS_NX, 0x8000000000000000, 0x8000000000000001, 0x3fe0000000000000, rup) /* -min 0.5 rup */
  TEST_FP_D_OP2(115, fmul.d, FFLAGS_UF|FFLAGS_NX, 0x8000000000000001, 0x8000000000000001, 0x3fe0000000000000, rmm) /* -min 0.5 rmm */
  TEST_FP_D_OP2(116, fsub.d, 0, 0x0000000000000000, 0xbff0000000000000, 0xbff0000000000000, rne) /* -1 -1 rne */
  TEST_FP_D_OP2(117, fsub.d, 0, 0x0000000000000000, 0xbff0000000000000, 0xbff0000000000000, rtz) /* -1 -1 rtz */
  TEST_FP_D_OP2(118, fsub.d, 0, 0x8000000000000000, 0xbff0000000000000, 0xbff0000000000000, rdn) /* -1 -1 rdn */
  TEST_FP_D_OP2(119, fsub.d, 0, 0x0000000000000000, 0xbff0000000000000, 0xbff0000000000000, rup) /* -1 -1 rup */
  TEST_FP_D_OP2(120, fsub.d, 0, 0x0000000000000000, 0xbff0000000000000, 0xbff0000000000000, rmm) /* -1 -1 rmm */
  /* dynamic rounding: rm = dyn takes frm, also when written explicitly */
  csrwi frm, 0
  TEST_FP_S_OP2(121, fadd.s, FFLAGS_NX, 0x3f800000, 0x3f800000, 0x33800000) /* 1 0x33800000 def:rne */
  TEST_FP_S_OP2(122, fadd.s, FFLAGS_NX, 0xbf800000, 0xbf800000, 0xb3800000, dyn) /* -1 0xb3800000 dyn:rne */
  TEST_FP_S_OP2(123, fdiv.s, FFLAGS_NX, 0x3eaaaaab, 0x3f800000, 0x40400000, dyn) /* 1 3 dyn:rne */
  TEST_FP_S_OP2(124, fdiv.s, FFLAGS_NX, 0xbeaaaaab, 0xbf800000, 0x40400000, dyn) /* -1 3 dyn:rne */
  TEST_FP_S_OP2(125, fmul.s, FFLAGS_OF|FFLAGS_NX, 0x7f800000, 0x7f7fffff, 0x40000000, dyn) /* max 2 dyn:rne */
  TEST_FP_S_OP2(126, fmul.s, FFLAGS_OF|FFLAGS_NX, 0xff800000, 0xff7fffff, 0x40000000, dyn) /* -max 2 dyn:rne */
  TEST_FP_D_OP2(127, fdiv.d, FFLAGS_NX, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, dyn) /* 1 3 dyn:rne */
  TEST_FP_D_OP2(128, fmul.d, FFLAGS_OF|FFLAGS_NX, 0xfff0000000000000, 0xffefffffffffffff, 0x4000000000000000, dyn) /* -max 2 dyn:rne */
  TEST_FP_S_INT1(129, fcvt.w.s, FFLAGS_NX, 0xfffffffffffffffe, 0xc0200000, dyn) /* -2.5 dyn:rne */
  TEST_FP_S_FROM_INT(130, fcvt.s.lu, FFLAGS_NX, 0x5f800000, 0xffffffffffffffff) /* 0xffffffffffffffff def:rne */
  csrwi frm, 1
  TEST_FP_S_OP2(131, fadd.s, FFLAGS_NX, 0x3f800000, 0x3f800000, 0x33800000) /* 1 0x33800000 def:rtz */
  TEST_FP_S_OP2(132, fadd.s, FFLAGS_NX, 0xbf800000, 0xbf800000, 0xb3800000, dyn) /* -1 0xb3800000 dyn:rtz */
  TEST_FP_S_OP2(133, fdiv.s, FFLAGS_NX, 0x3eaaaaaa, 0x3f800000, 0x40400000, dyn) /* 1 3 dyn:rtz */
  TEST_FP_S_OP2(134, fdiv.s, FFLAGS_NX, 0xbeaaaaaa, 0xbf800000, 0x40400000, dyn) /* -1 3 dyn:rtz */
  TEST_FP_S_OP2(135, fmul.s, FFLAGS_OF|FFLAGS_NX, 0x7f7fffff, 0x7f7fffff, 0x40000000, dyn) /* max 2 dyn:rtz */
  TEST_FP_S_OP2(136, fmul.s, FFLAGS_OF|FFLAGS_NX, 0xff7fffff, 0xff7fffff, 0x40000000, dyn) /* -max 2 dyn:rtz */
  TEST_FP_D_OP2(137, fdiv.d, FFLAGS_NX, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, dyn) /* 1 3 dyn:rtz */
  TEST_FP_D_OP2(138, fmul.d, FFLAGS_OF|FFLAGS_NX, 0xffefffffffffffff, 0xffefffffffffffff, 0x4000000000000000, dyn) /* -max 2 dyn:rtz */
  TEST_FP_S_INT1(139, fcvt.w.s, FFLAGS_NX, 0xfffffffffffffffe, 0xc0200000, dyn) /* -2.5 dyn:rtz */
  TEST_FP_S_FROM_INT(140, fcvt.s.lu, FFLAGS_NX, 0x5f7fffff, 0xffffffffffffffff) /* 0xffffffffffffffff def:rtz */
  csrwi frm, 2
  TEST_FP_S_OP2(141, fadd.s, FFLAGS_NX, 0x3f800000, 0x3f800000, 0x33800000) /* 1 0x33800000 def:rdn */
  TEST_FP_S_OP2(142, fadd.s, FFLAGS_NX, 0xbf800001, 0xbf800000, 0xb3800000, dyn) /* -1 0xb3800000 dyn:rdn */
  TEST_FP_S_OP2(143, fdiv.s, FFLAGS_NX, 0x3eaaaaaa, 0x3f800000, 0x40400000, dyn) /* 1 3 dyn:rdn */
  TEST_FP_S_OP2(144, fdiv.s, FFLAGS_NX, 0xbeaaaaab, 0xbf800000, 0x40400000, dyn) /* -1 3 dyn:rdn */
  TEST_FP_S_OP2(145, fmul.s, FFLAGS_OF|FFLAGS_NX, 0x7f7fffff, 0x7f7fffff, 0x40000000, dyn) /* max 2 dyn:rdn */
  TEST_FP_S_OP2(146, fmul.s, FFLAGS_OF|FFLAGS_NX, 0xff800000, 0xff7fffff, 0x40000000, dyn) /* -max 2 dyn:rdn */
  TEST_FP_D_OP2(147, fdiv.d, FFLAGS_NX, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, dyn) /* 1 3 dyn:rdn */
  TEST_FP_D_OP2(148, fmul.d, FFLAGS_OF|FFLAGS_NX, 0xfff0000000000000, 0xffefffffffffffff, 0x4000000000000000, dyn) /* -max 2 dyn:rdn */
  TEST_FP_S_INT1(149, fcvt.w.s, FFLAGS_NX, 0xfffffffffffffffd, 0xc0200000, dyn) /* -2.5 dyn:rdn */
  TEST_FP_S_FROM_INT(150, fcvt.s.lu, FFLAGS_NX, 0x5f7fffff, 0xffffffffffffffff) /* 0xffffffffffffffff def:rdn */
  csrwi frm, 3
  TEST_FP_S_OP2(151, fadd.s, FFLAGS_NX, 0x3f800001, 0x3f800000, 0x33800000) /* 1 0x33800000 def:rup */
  TEST_FP_S_OP2(152, fadd.s, FFLAGS_NX, 0xbf800000, 0xbf800000, 0xb3800000, dyn) /* -1 0xb3800000 dyn:rup */
  TEST_FP_S_OP2(153, fdiv.s, FFLAGS_NX, 0x3eaaaaab, 0x3f800000, 0x40400000, dyn) /* 1 3 dyn:rup */
  TEST_FP_S_OP2(154, fdiv.s, FFLAGS_NX, 0xbeaaaaaa, 0xbf800000, 0x40400000, dyn) /* -1 3 dyn:rup */
  TEST_FP_S_OP2(155, fmul.s, FFLAGS_OF|FFLAGS_NX, 0x7f800000, 0x7f7fffff, 0x40000000, dyn) /* max 2 dyn:rup */
  TEST_FP_S_OP2(156, fmul.s, FFLAGS_OF|FFLAGS_NX, 0xff7fffff, 0xff7fffff, 0x40000000, dyn) /* -max 2 dyn:rup */
  TEST_FP_D_OP2(157, fdiv.d, FFLAGS_NX, 0x3fd5555555555556, 0x3ff0000000000000, 0x4008000000000000, dyn) /* 1 3 dyn:rup */
  TEST_FP_D_OP2(158, fmul.d, FFLAGS_OF|FFLAGS_NX, 0xffefffffffffffff, 0xffefffffffffffff, 0x4000000000000000, dyn) /* -max 2 dyn:rup */
  TEST_FP_S_INT1(159, fcvt.w.s, FFLAGS_NX, 0xfffffffffffffffe, 0xc0200000, dyn) /* -2.5 dyn:rup */
  TEST_FP_S_FROM_INT(160, fcvt.s.lu, FFLAGS_NX, 0x5f800000, 0xffffffffffffffff) /* 0xffffffffffffffff def:rup */
  csrwi frm, 4
  TEST_FP_S_OP2(161, fadd.s, FFLAGS_NX, 0x3f800001, 0x3f800000, 0x33800000) /* 1 0x33800000 def:rmm */
  TEST_FP_S_OP2(162, fadd.s, FFLAGS_NX, 0xbf800001, 0xbf800000, 0xb3800000, dyn) /* -1 0xb3800000 dyn:rmm */
  TEST_FP_S_OP2(163, fdiv.s, FFLAGS_NX, 0x3eaaaaab, 0x3f800000, 0x40400000, dyn) /* 1 3 dyn:rmm */
  TEST_FP_S_OP2(164, fdiv.s, FFLAGS_NX, 0xbeaaaaab, 0xbf800000, 0x40400000, dyn) /* -1 3 dyn:rmm */
  TEST_FP_S_OP2(165, fmul.s, FFLAGS_OF|FFLAGS_NX, 0x7f800000, 0x7f7fffff, 0x40000000, dyn) /* max 2 dyn:rmm */
  TEST_FP_S_OP2(166, fmul.s, FFLAGS_OF|FFLAGS_NX, 0xff800000, 0xff7fffff, 0x40000000, dyn) /* -max 2 dyn:rmm */
  TEST_FP_D_OP2(167, fdiv.d, FFLAGS_NX, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, dyn) /* 1 3 dyn:rmm */
  TEST_FP_D_OP2(168, fmul.d, FFLAGS_OF|FFLAGS_NX, 0xfff0000000000000, 0xffefffffffffffff, 0x4000000000000000, dyn) /* -max 2 dyn:rmm */
  TEST_FP_S_INT1(169, fcvt.w.s, FFLAGS_NX, 0xfffffffffffffffd, 0xc0200000, dyn) /* -2.5 dyn:rmm */
  TEST_FP_S_FROM_INT(170, fcvt.s.lu, FFLAGS_NX, 0x5f800000, 0xffffffffffffffff) /* 0xffffffffffffffff def:rmm */
  csrwi frm, 0

  /* Static rm 5 and 6 are reserved: illegal instruction, mtval = the bits. */
  LOAD_S(f1, 0x3f800000)
  LOAD_S(f2, 0x3f800000)
  SET_TESTNUM(171)
  TRAP_ARM_LABEL(1f)
  .4byte 0x0020d053 /* fadd.s f0, f1, f2, rm = 5 */
1:
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_ILLEGAL_INSTRUCTION)
  CHECK_MTVAL(0x0020d053)
  TEST_TRAP_TVAL(172, CAUSE_ILLEGAL_INSTRUCTION, 0x0020e053, .4byte 0x0020e053)
  /* dyn with frm = 5, 6, 7 is illegal too, but operations without a
   * rounding mode still run. */
  csrwi frm, 5
  TEST_TRAP_TVAL(173, CAUSE_ILLEGAL_INSTRUCTION, 0x0020f053, fadd.s f0, f1, f2, dyn)
  csrwi frm, 6
  TEST_TRAP(174, CAUSE_ILLEGAL_INSTRUCTION, fdiv.d f0, f1, f2, dyn)
  csrwi frm, 7
  TEST_TRAP(175, CAUSE_ILLEGAL_INSTRUCTION, fcvt.w.s a0, f1, dyn)
  TEST_TRAP(176, CAUSE_ILLEGAL_INSTRUCTION, fmadd.d f0, f1, f2, f3, dyn)
  TEST_TRAP(177, CAUSE_ILLEGAL_INSTRUCTION, fsqrt.s f0, f1, dyn)
  SET_TESTNUM(178)
  fsgnj.s f3, f1, f2
  fmin.s f3, f1, f2
  feq.s a0, f1, f2
  CHECK_EQ(a0, 1)
  fclass.s a0, f1
  CHECK_EQ(a0, 0x40)
  fmv.x.w a0, f1
  CHECK_CSR(frm, 7)
  /* A static mode works whatever frm holds, and does not change frm. */
  SET_TESTNUM(179)
  fsflags zero
  LOAD_S(f1, 0x3f800000)
  LOAD_S(f2, 0x40400000)
  fdiv.s f0, f1, f2, rup
  CHECK_FREG_S(f0, 0x3eaaaaab)
  fdiv.s f0, f1, f2, rdn
  CHECK_FREG_S(f0, 0x3eaaaaaa)
  CHECK_CSR(frm, 7)
  CHECK_FFLAGS(FFLAGS_NX)
  csrwi frm, 0

TEST_END
