/* RV64F: every single-precision instruction except the integer conversions
 * (fp_cvt.S): arithmetic with special operands, NaN canonicalisation,
 * signed zeros, flags, tininess detected after rounding, fused multiply-add
 * (one rounding; inf * 0 invalid even with a quiet NaN addend), fmin/fmax,
 * sign injection, compares, fclass, moves, loads and stores. Every result is
 * also checked to be NaN-boxed. Operands are bit patterns; the comment
 * after each check gives them in readable form. Generated expected values
 * come from an exact rational model of IEEE 754 with RISC-V's rules. */
#include "test_macros.h"

TEST_BEGIN

  /* arithmetic */
  TEST_FP_S_OP2(1, fadd.s, 0, 0x40600000, 0x40200000, 0x3f800000) /* 2.5 1 */
  TEST_FP_S_OP2(2, fadd.s, FFLAGS_NX, 0xc49a4000, 0xc49a6333, 0x3f8ccccd) /* -1235.1 1.1 */
  TEST_FP_S_OP2(3, fadd.s, FFLAGS_NX, 0x40490fdb, 0x40490fdb, 0x322bcc77) /* 3.14159265 0.00000001 */
  TEST_FP_S_OP2(4, fsub.s, 0, 0x3fc00000, 0x40200000, 0x3f800000) /* 2.5 1 */
  TEST_FP_S_OP2(5, fsub.s, FFLAGS_NX, 0xc49a4000, 0xc49a6333, 0xbf8ccccd) /* -1235.1 -1.1 */
  TEST_FP_S_OP2(6, fsub.s, FFLAGS_NX, 0x40490fdb, 0x40490fdb, 0x322bcc77) /* 3.14159265 0.00000001 */
  TEST_FP_S_OP2(7, fmul.s, 0, 0x40200000, 0x40200000, 0x3f800000) /* 2.5 1 */
  TEST_FP_S_OP2(8, fmul.s, FFLAGS_NX, 0x44a9d385, 0xc49a6333, 0xbf8ccccd) /* -1235.1 -1.1 */
  TEST_FP_S_OP2(9, fmul.s, FFLAGS_NX, 0x3306ee2d, 0x40490fdb, 0x322bcc77) /* 3.14159265 0.00000001 */
  TEST_FP_S_OP2(10, fdiv.s, FFLAGS_NX, 0x3f93eee0, 0x40490fdb, 0x402df854) /* 3.14159265 2.71828183 */
  TEST_FP_S_OP2(11, fdiv.s, FFLAGS_NX, 0xbf7fc5a2, 0xc49a4000, 0x449a6333) /* -1234 1235.1 */
  TEST_FP_S_OP2(12, fdiv.s, FFLAGS_NX, 0x3eaaaaab, 0x3f800000, 0x40400000) /* 1 3 */
  TEST_FP_S_OP2(13, fdiv.s, 0, 0xc0400000, 0x40c00000, 0xc0000000) /* 6 -2 */
  TEST_FP_S_OP1(14, fsqrt.s, FFLAGS_NX, 0x3fe2dfc5, 0x40490fdb) /* 3.14159265 */
  TEST_FP_S_OP1(15, fsqrt.s, 0, 0x42c80000, 0x461c4000) /* 10000 */
  TEST_FP_S_OP1(16, fsqrt.s, FFLAGS_NX, 0x41513a26, 0x432b0000) /* 171 */
  TEST_FP_S_OP1(17, fsqrt.s, 0, 0x3f000000, 0x3e800000) /* 0.25 */
  TEST_FP_S_OP1(18, fsqrt.s, FFLAGS_NX, 0x1a3504f3, 0x00000001) /* min */
  /* infinities and invalid operations */
  TEST_FP_S_OP2(19, fadd.s, 0, 0x7f800000, 0x7f800000, 0x3f800000) /* inf 1 */
  TEST_FP_S_OP2(20, fadd.s, 0, 0xff800000, 0xff800000, 0xff800000) /* -inf -inf */
  TEST_FP_S_OP2(21, fadd.s, FFLAGS_NV, 0x7fc00000, 0x7f800000, 0xff800000) /* inf -inf */
  TEST_FP_S_OP2(22, fsub.s, FFLAGS_NV, 0x7fc00000, 0x7f800000, 0x7f800000) /* inf inf */
  TEST_FP_S_OP2(23, fsub.s, 0, 0xff800000, 0xff800000, 0x7f800000) /* -inf inf */
  TEST_FP_S_OP2(24, fmul.s, 0, 0xff800000, 0x7f800000, 0xc0000000) /* inf -2 */
  TEST_FP_S_OP2(25, fmul.s, FFLAGS_NV, 0x7fc00000, 0x7f800000, 0x00000000) /* inf 0 */
  TEST_FP_S_OP2(26, fmul.s, FFLAGS_NV, 0x7fc00000, 0x80000000, 0x7f800000) /* -0 inf */
  TEST_FP_S_OP2(27, fdiv.s, FFLAGS_NV, 0x7fc00000, 0x00000000, 0x00000000) /* 0 0 */
  TEST_FP_S_OP2(28, fdiv.s, FFLAGS_NV, 0x7fc00000, 0x7f800000, 0xff800000) /* inf -inf */
  TEST_FP_S_OP2(29, fdiv.s, 0, 0x7f800000, 0x7f800000, 0x00000000) /* inf 0 */
  TEST_FP_S_OP2(30, fdiv.s, 0, 0x00000000, 0x40a00000, 0x7f800000) /* 5 inf */
  /* division by zero */
  TEST_FP_S_OP2(31, fdiv.s, FFLAGS_DZ, 0x7f800000, 0x3f800000, 0x00000000) /* 1 0 */
  TEST_FP_S_OP2(32, fdiv.s, FFLAGS_DZ, 0xff800000, 0xbf800000, 0x00000000) /* -1 0 */
  TEST_FP_S_OP2(33, fdiv.s, FFLAGS_DZ, 0xff800000, 0x3f800000, 0x80000000) /* 1 -0 */
  TEST_FP_S_OP2(34, fdiv.s, FFLAGS_DZ, 0xff800000, 0x00000001, 0x80000000) /* min -0 */
  /* square root of negative numbers, zeros, infinity */
  TEST_FP_S_OP1(35, fsqrt.s, FFLAGS_NV, 0x7fc00000, 0xbf800000) /* -1 */
  TEST_FP_S_OP1(36, fsqrt.s, FFLAGS_NV, 0x7fc00000, 0x80000001) /* -min */
  TEST_FP_S_OP1(37, fsqrt.s, FFLAGS_NV, 0x7fc00000, 0xff800000) /* -inf */
  TEST_FP_S_OP1(38, fsqrt.s, 0, 0x80000000, 0x80000000) /* -0 */
  TEST_FP_S_OP1(39, fsqrt.s, 0, 0x00000000, 0x00000000) /* 0 */
  TEST_FP_S_OP1(40, fsqrt.s, 0, 0x7f800000, 0x7f800000) /* inf */
  /* NaN inputs give the canonical NaN; signalling NaNs raise NV */
  TEST_FP_S_OP2(41, fadd.s, 0, 0x7fc00000, 0x7fc00000, 0x3f800000) /* qnan 1 */
  TEST_FP_S_OP2(42, fadd.s, 0, 0x7fc00000, 0x7fc12345, 0x3f800000) /* 0x7fc12345 1 */
  TEST_FP_S_OP2(43, fadd.s, 0, 0x7fc00000, 0x3f800000, 0xffc00000) /* 1 0xffc00000 */
  TEST_FP_S_OP2(44, fadd.s, FFLAGS_NV, 0x7fc00000, 0x7f800001, 0x3f800000) /* snan 1 */
  TEST_FP_S_OP2(45, fadd.s, FFLAGS_NV, 0x7fc00000, 0x7fa00000, 0x7fc00000) /* 0x7fa00000 qnan */
  TEST_FP_S_OP2(46, fsub.s, FFLAGS_NV, 0x7fc00000, 0x7fc00000, 0x7f800001) /* qnan snan */
  TEST_FP_S_OP2(47, fmul.s, FFLAGS_NV, 0x7fc00000, 0x3f800000, 0x7f800001) /* 1 snan */
  TEST_FP_S_OP2(48, fmul.s, 0, 0x7fc00000, 0xffc00000, 0x00000000) /* -qnan 0 */
  TEST_FP_S_OP2(49, fdiv.s, FFLAGS_NV, 0x7fc00000, 0x7f800001, 0x7fc00000) /* snan qnan */
  TEST_FP_S_OP2(50, fdiv.s, FFLAGS_NV, 0x7fc00000, 0x7f812345, 0x00000000) /* 0x7f812345 0 */
  TEST_FP_S_OP1(51, fsqrt.s, FFLAGS_NV, 0x7fc00000, 0x7f800001) /* snan */
  TEST_FP_S_OP1(52, fsqrt.s, 0, 0x7fc00000, 0xffc00001) /* 0xffc00001 */
  /* overflow, underflow (tininess after rounding), inexact */
  TEST_FP_S_OP2(53, fmul.s, FFLAGS_OF|FFLAGS_NX, 0x7f800000, 0x7f7fffff, 0x40000000) /* max 2 */
  TEST_FP_S_OP2(54, fadd.s, FFLAGS_OF|FFLAGS_NX, 0x7f800000, 0x7f7fffff, 0x7f7fffff) /* max max */
  TEST_FP_S_OP2(55, fmul.s, FFLAGS_OF|FFLAGS_NX, 0xff800000, 0xff7fffff, 0x40000000) /* -max 2 */
  TEST_FP_S_OP2(56, fadd.s, FFLAGS_OF|FFLAGS_NX, 0x7f800000, 0x7f7fffff, 0x73000000) /* max 0x73000000 */
  TEST_FP_S_OP2(57, fadd.s, FFLAGS_OF|FFLAGS_NX, 0x7f800000, 0x7f7fffff, 0x73800000) /* max 0x73800000 */
  TEST_FP_S_OP2(58, fmul.s, 0, 0x00400000, 0x00800000, 0x3f000000) /* minn 0.5 */
  TEST_FP_S_OP2(59, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x00000000, 0x00000001, 0x3f000000) /* min 0.5 */
  TEST_FP_S_OP2(60, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x00000001, 0x00000001, 0x3f400000) /* min 0.75 */
  TEST_FP_S_OP2(61, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x00800000, 0x00800000, 0x3f7fffff) /* minn 0x3f7fffff */
  TEST_FP_S_OP2(62, fmul.s, 0, 0x007fffff, 0x00800000, 0x3f7ffffe) /* minn 0x3f7ffffe */
  TEST_FP_S_OP2(63, fdiv.s, 0, 0x00200000, 0x00800000, 0x40800000) /* minn 4 */
  TEST_FP_S_OP2(64, fdiv.s, FFLAGS_UF|FFLAGS_NX, 0x002aaaab, 0x00800000, 0x40400000) /* minn 3 */
  TEST_FP_S_OP2(65, fdiv.s, FFLAGS_UF|FFLAGS_NX, 0x00000000, 0x00000001, 0x40000000) /* min 2 */
  TEST_FP_S_OP2(66, fadd.s, FFLAGS_NX, 0x3f800000, 0x3f800000, 0x00000001) /* 1 min */
  TEST_FP_S_OP2(67, fsub.s, 0, 0x007fffff, 0x00800000, 0x00000001) /* minn min */
  TEST_FP_S_OP2(68, fmul.s, FFLAGS_UF|FFLAGS_NX, 0x00000000, 0x00800000, 0x00800000) /* minn minn */
  /* signed zeros */
  TEST_FP_S_OP2(69, fadd.s, 0, 0x80000000, 0x80000000, 0x80000000) /* -0 -0 */
  TEST_FP_S_OP2(70, fadd.s, 0, 0x00000000, 0x00000000, 0x80000000) /* 0 -0 */
  TEST_FP_S_OP2(71, fadd.s, 0, 0x00000000, 0x80000000, 0x00000000) /* -0 0 */
  TEST_FP_S_OP2(72, fsub.s, 0, 0x00000000, 0x3f800000, 0x3f800000) /* 1 1 */
  TEST_FP_S_OP2(73, fsub.s, 0, 0x80000000, 0x80000000, 0x00000000) /* -0 0 */
  TEST_FP_S_OP2(74, fsub.s, 0, 0x00000000, 0x00000000, 0x00000000) /* 0 0 */
  TEST_FP_S_OP2(75, fadd.s, 0, 0x00000000, 0xbf800000, 0x3f800000) /* -1 1 */
  TEST_FP_S_OP2(76, fadd.s, 0, 0x40a00000, 0x40a00000, 0x80000000) /* 5 -0 */
  TEST_FP_S_OP2(77, fadd.s, 0, 0xc0a00000, 0x80000000, 0xc0a00000) /* -0 -5 */
  TEST_FP_S_OP2(78, fmul.s, 0, 0x80000000, 0xbf800000, 0x00000000) /* -1 0 */
  TEST_FP_S_OP2(79, fmul.s, 0, 0x00000000, 0x80000000, 0x80000000) /* -0 -0 */
  TEST_FP_S_OP2(80, fdiv.s, 0, 0x80000000, 0x80000000, 0x40a00000) /* -0 5 */
  TEST_FP_S_OP2(81, fdiv.s, 0, 0x80000000, 0x00000000, 0xff800000) /* 0 -inf */
  /* fused multiply-add: one rounding, signs, invalid cases */
  TEST_FP_S_OP3(82, fmadd.s, 0, 0x40600000, 0x3f800000, 0x40200000, 0x3f800000) /* 1 2.5 1 */
  TEST_FP_S_OP3(83, fmadd.s, FFLAGS_NX, 0x449a8666, 0xbf800000, 0xc49a6333, 0x3f8ccccd) /* -1 -1235.1 1.1 */
  TEST_FP_S_OP3(84, fmadd.s, 0, 0xc1400000, 0x40000000, 0xc0a00000, 0xc0000000) /* 2 -5 -2 */
  TEST_FP_S_OP3(85, fnmadd.s, 0, 0xc0600000, 0x3f800000, 0x40200000, 0x3f800000) /* 1 2.5 1 */
  TEST_FP_S_OP3(86, fnmadd.s, FFLAGS_NX, 0xc49a8666, 0xbf800000, 0xc49a6333, 0x3f8ccccd) /* -1 -1235.1 1.1 */
  TEST_FP_S_OP3(87, fnmadd.s, 0, 0x41400000, 0x40000000, 0xc0a00000, 0xc0000000) /* 2 -5 -2 */
  TEST_FP_S_OP3(88, fmsub.s, 0, 0x3fc00000, 0x3f800000, 0x40200000, 0x3f800000) /* 1 2.5 1 */
  TEST_FP_S_OP3(89, fmsub.s, FFLAGS_NX, 0x449a4000, 0xbf800000, 0xc49a6333, 0x3f8ccccd) /* -1 -1235.1 1.1 */
  TEST_FP_S_OP3(90, fmsub.s, 0, 0xc1000000, 0x40000000, 0xc0a00000, 0xc0000000) /* 2 -5 -2 */
  TEST_FP_S_OP3(91, fnmsub.s, 0, 0xbfc00000, 0x3f800000, 0x40200000, 0x3f800000) /* 1 2.5 1 */
  TEST_FP_S_OP3(92, fnmsub.s, FFLAGS_NX, 0xc49a4000, 0xbf800000, 0xc49a6333, 0x3f8ccccd) /* -1 -1235.1 1.1 */
  TEST_FP_S_OP3(93, fnmsub.s, 0, 0x41000000, 0x40000000, 0xc0a00000, 0xc0000000) /* 2 -5 -2 */
  TEST_FP_S_OP3(94, fmsub.s, 0, 0xa8800000, 0x3f800001, 0x3f7ffffe, 0x3f800000) /* 0x3f800001 0x3f7ffffe 1 */
  TEST_FP_S_OP3(95, fmadd.s, 0, 0x7f7fffff, 0x7f7fffff, 0x40000000, 0xff7fffff) /* max 2 -max */
  TEST_FP_S_OP3(96, fmadd.s, 0, 0x33000000, 0x40400000, 0x3eaaaaab, 0xbf800000) /* 3 0x3eaaaaab -1 */
  TEST_FP_S_OP3(97, fmadd.s, FFLAGS_NV, 0x7fc00000, 0x7f800000, 0x00000000, 0x7fc00000) /* inf 0 qnan */
  TEST_FP_S_OP3(98, fmadd.s, FFLAGS_NV, 0x7fc00000, 0x00000000, 0x7f800000, 0x3f800000) /* 0 inf 1 */
  TEST_FP_S_OP3(99, fnmsub.s, FFLAGS_NV, 0x7fc00000, 0x80000000, 0xff800000, 0x7f800001) /* -0 -inf snan */
  TEST_FP_S_OP3(100, fmadd.s, FFLAGS_NV, 0x7fc00000, 0x7f800000, 0x3f800000, 0xff800000) /* inf 1 -inf */
  TEST_FP_S_OP3(101, fmsub.s, FFLAGS_NV, 0x7fc00000, 0x7f800000, 0x3f800000, 0x7f800000) /* inf 1 inf */
  TEST_FP_S_OP3(102, fnmadd.s, 0, 0xff800000, 0x7f800000, 0x3f800000, 0x7f800000) /* inf 1 inf */
  TEST_FP_S_OP3(103, fmadd.s, 0, 0x7f800000, 0x7f800000, 0x3f800000, 0x7f800000) /* inf 1 inf */
  TEST_FP_S_OP3(104, fmadd.s, FFLAGS_NV, 0x7fc00000, 0x3f800000, 0x3f800000, 0x7f800001) /* 1 1 snan */
  TEST_FP_S_OP3(105, fmadd.s, 0, 0x7fc00000, 0x7fc00000, 0x3f800000, 0x3f800000) /* qnan 1 1 */
  TEST_FP_S_OP3(106, fmadd.s, 0, 0x7fc00000, 0x3f800000, 0x7fc01234, 0x3f800000) /* 1 0x7fc01234 1 */
  TEST_FP_S_OP3(107, fmadd.s, 0, 0x00000000, 0x80000000, 0x3f800000, 0x00000000) /* -0 1 0 */
  TEST_FP_S_OP3(108, fmadd.s, 0, 0x80000000, 0x80000000, 0x3f800000, 0x80000000) /* -0 1 -0 */
  TEST_FP_S_OP3(109, fnmadd.s, 0, 0x80000000, 0x00000000, 0x3f800000, 0x00000000) /* 0 1 0 */
  TEST_FP_S_OP3(110, fnmsub.s, 0, 0x00000000, 0x00000000, 0x3f800000, 0x00000000) /* 0 1 0 */
  TEST_FP_S_OP3(111, fmsub.s, 0, 0x00000000, 0x00000000, 0x3f800000, 0x00000000) /* 0 1 0 */
  TEST_FP_S_OP3(112, fmsub.s, 0, 0x80000000, 0x80000000, 0x3f800000, 0x00000000) /* -0 1 0 */
  TEST_FP_S_OP3(113, fmadd.s, 0, 0x00000000, 0x3f800000, 0x3f800000, 0xbf800000) /* 1 1 -1 */
  TEST_FP_S_OP3(114, fmadd.s, FFLAGS_UF|FFLAGS_NX, 0x00000000, 0x00800000, 0x00800000, 0x00000000) /* minn minn 0 */
  TEST_FP_S_OP3(115, fmadd.s, FFLAGS_UF|FFLAGS_NX, 0x00000000, 0x00000001, 0x3f000000, 0x80000000) /* min 0.5 -0 */
  /* fmin/fmax: -0 < +0, a NaN operand is ignored, sNaN raises NV */
  TEST_FP_S_OP2(116, fmin.s, 0, 0x3f800000, 0x3f800000, 0x40000000) /* 1 2 */
  TEST_FP_S_OP2(117, fmin.s, 0, 0xbf800000, 0xbf800000, 0x40000000) /* -1 2 */
  TEST_FP_S_OP2(118, fmax.s, 0, 0x40000000, 0x3f800000, 0x40000000) /* 1 2 */
  TEST_FP_S_OP2(119, fmax.s, 0, 0xbf800000, 0xbf800000, 0xc0000000) /* -1 -2 */
  TEST_FP_S_OP2(120, fmin.s, 0, 0x80000000, 0x80000000, 0x00000000) /* -0 0 */
  TEST_FP_S_OP2(121, fmin.s, 0, 0x80000000, 0x00000000, 0x80000000) /* 0 -0 */
  TEST_FP_S_OP2(122, fmax.s, 0, 0x00000000, 0x80000000, 0x00000000) /* -0 0 */
  TEST_FP_S_OP2(123, fmax.s, 0, 0x00000000, 0x00000000, 0x80000000) /* 0 -0 */
  TEST_FP_S_OP2(124, fmin.s, 0, 0x3f800000, 0x7fc00000, 0x3f800000) /* qnan 1 */
  TEST_FP_S_OP2(125, fmin.s, 0, 0x3f800000, 0x3f800000, 0x7fc00000) /* 1 qnan */
  TEST_FP_S_OP2(126, fmax.s, 0, 0xff800000, 0xffc00000, 0xff800000) /* -qnan -inf */
  TEST_FP_S_OP2(127, fmax.s, 0, 0x40a00000, 0x7fc12345, 0x40a00000) /* 0x7fc12345 5 */
  TEST_FP_S_OP2(128, fmin.s, 0, 0x7fc00000, 0x7fc00000, 0x7fc00000) /* qnan qnan */
  TEST_FP_S_OP2(129, fmax.s, 0, 0x7fc00000, 0x7fc12345, 0xffc54321) /* 0x7fc12345 0xffc54321 */
  TEST_FP_S_OP2(130, fmin.s, FFLAGS_NV, 0x3f800000, 0x7f800001, 0x3f800000) /* snan 1 */
  TEST_FP_S_OP2(131, fmax.s, FFLAGS_NV, 0x3f800000, 0x3f800000, 0x7f800001) /* 1 snan */
  TEST_FP_S_OP2(132, fmax.s, FFLAGS_NV, 0x7fc00000, 0x7f800001, 0x7f800001) /* snan snan */
  TEST_FP_S_OP2(133, fmin.s, FFLAGS_NV, 0x7fc00000, 0x7f800001, 0x7fc00000) /* snan qnan */
  TEST_FP_S_OP2(134, fmin.s, 0, 0xff800000, 0xff800000, 0x7f800000) /* -inf inf */
  TEST_FP_S_OP2(135, fmax.s, 0, 0x7f800000, 0xff800000, 0x7f800000) /* -inf inf */
  TEST_FP_S_OP2(136, fmin.s, 0, 0x80000001, 0x00000001, 0x80000001) /* min -min */
  TEST_FP_S_OP2(137, fmax.s, 0, 0x7f800000, 0x7f7fffff, 0x7f800000) /* max inf */
  /* sign injection copies NaNs bit for bit and never raises flags */
  TEST_FP_S_OP2(138, fsgnj.s, 0, 0xbf800000, 0x3f800000, 0xc0000000) /* 1 -2 */
  TEST_FP_S_OP2(139, fsgnj.s, 0, 0x3f800000, 0xbf800000, 0x40000000) /* -1 2 */
  TEST_FP_S_OP2(140, fsgnjn.s, 0, 0x3f800000, 0x3f800000, 0xc0000000) /* 1 -2 */
  TEST_FP_S_OP2(141, fsgnjn.s, 0, 0xbf800000, 0x3f800000, 0x40000000) /* 1 2 */
  TEST_FP_S_OP2(142, fsgnjx.s, 0, 0x3f800000, 0xbf800000, 0xc0000000) /* -1 -2 */
  TEST_FP_S_OP2(143, fsgnjx.s, 0, 0xbf800000, 0xbf800000, 0x40000000) /* -1 2 */
  TEST_FP_S_OP2(144, fsgnjx.s, 0, 0xbf800000, 0x3f800000, 0xc0000000) /* 1 -2 */
  TEST_FP_S_OP2(145, fsgnj.s, 0, 0xffc12345, 0x7fc12345, 0xbf800000) /* 0x7fc12345 -1 */
  TEST_FP_S_OP2(146, fsgnjn.s, 0, 0xff800001, 0x7f800001, 0x7f800001) /* snan snan */
  TEST_FP_S_OP2(147, fsgnjx.s, 0, 0x7f800000, 0xff800000, 0x80000000) /* -inf -0 */
  TEST_FP_S_OP2(148, fsgnj.s, 0, 0x00000000, 0x80000000, 0x00000000) /* -0 0 */
  TEST_FP_S_OP2(149, fsgnjn.s, 0, 0xff812345, 0x7f812345, 0x7f812345) /* 0x7f812345 0x7f812345 */
  /* comparisons: feq is quiet, flt/fle signal on any NaN */
  TEST_FP_S_INT2(150, feq.s, 0, 1, 0x3f800000, 0x3f800000) /* 1 1 */
  TEST_FP_S_INT2(151, feq.s, 0, 0, 0x3f800000, 0x40000000) /* 1 2 */
  TEST_FP_S_INT2(152, feq.s, 0, 1, 0x80000000, 0x00000000) /* -0 0 */
  TEST_FP_S_INT2(153, feq.s, 0, 0, 0x7fc00000, 0x7fc00000) /* qnan qnan */
  TEST_FP_S_INT2(154, feq.s, 0, 0, 0x7fc00000, 0x3f800000) /* qnan 1 */
  TEST_FP_S_INT2(155, feq.s, FFLAGS_NV, 0, 0x7f800001, 0x3f800000) /* snan 1 */
  TEST_FP_S_INT2(156, feq.s, 0, 1, 0x7f800000, 0x7f800000) /* inf inf */
  TEST_FP_S_INT2(157, flt.s, 0, 1, 0xbf800000, 0x3f800000) /* -1 1 */
  TEST_FP_S_INT2(158, flt.s, 0, 0, 0x3f800000, 0x3f800000) /* 1 1 */
  TEST_FP_S_INT2(159, flt.s, 0, 0, 0x80000000, 0x00000000) /* -0 0 */
  TEST_FP_S_INT2(160, flt.s, 0, 1, 0xff800000, 0x7f7fffff) /* -inf max */
  TEST_FP_S_INT2(161, flt.s, FFLAGS_NV, 0, 0x7fc00000, 0x3f800000) /* qnan 1 */
  TEST_FP_S_INT2(162, flt.s, FFLAGS_NV, 0, 0x3f800000, 0x7f800001) /* 1 snan */
  TEST_FP_S_INT2(163, flt.s, 0, 0, 0x00000001, 0x00000000) /* min 0 */
  TEST_FP_S_INT2(164, flt.s, 0, 1, 0x00000000, 0x00000001) /* 0 min */
  TEST_FP_S_INT2(165, fle.s, 0, 1, 0x3f800000, 0x3f800000) /* 1 1 */
  TEST_FP_S_INT2(166, fle.s, 0, 1, 0x80000000, 0x00000000) /* -0 0 */
  TEST_FP_S_INT2(167, fle.s, 0, 0, 0x40000000, 0x3f800000) /* 2 1 */
  TEST_FP_S_INT2(168, fle.s, FFLAGS_NV, 0, 0x7fc00000, 0x7fc00000) /* qnan qnan */
  TEST_FP_S_INT2(169, fle.s, 0, 1, 0xff800000, 0xff800000) /* -inf -inf */
  TEST_FP_S_INT2(170, fle.s, FFLAGS_NV, 0, 0x7f800001, 0x00000000) /* snan 0 */
  /* fclass: one of ten classes */
  TEST_FP_S_INT1(171, fclass.s, 0, 0x1, 0xff800000) /* -inf */
  TEST_FP_S_INT1(172, fclass.s, 0, 0x2, 0xbf800000) /* -1 */
  TEST_FP_S_INT1(173, fclass.s, 0, 0x4, 0x80000001) /* -min */
  TEST_FP_S_INT1(174, fclass.s, 0, 0x8, 0x80000000) /* -0 */
  TEST_FP_S_INT1(175, fclass.s, 0, 0x10, 0x00000000) /* 0 */
  TEST_FP_S_INT1(176, fclass.s, 0, 0x20, 0x007fffff) /* maxsub */
  TEST_FP_S_INT1(177, fclass.s, 0, 0x40, 0x3f800000) /* 1 */
  TEST_FP_S_INT1(178, fclass.s, 0, 0x80, 0x7f800000) /* inf */
  TEST_FP_S_INT1(179, fclass.s, 0, 0x100, 0x7f800001) /* snan */
  TEST_FP_S_INT1(180, fclass.s, 0, 0x200, 0x7fc00000) /* qnan */
  TEST_FP_S_INT1(181, fclass.s, 0, 0x200, 0xffc00000) /* -qnan */
  TEST_FP_S_INT1(182, fclass.s, 0, 0x100, 0xff812345) /* 0xff812345 */
  TEST_FP_S_INT1(183, fclass.s, 0, 0x2, 0x80800000) /* -minn */
  TEST_FP_S_INT1(184, fclass.s, 0, 0x40, 0x7f7fffff) /* max */

  /* flw NaN-boxes; fsw stores the low word unchanged (no canonicalisation). */
  SET_TESTNUM(185)
  la a1, fdata
  flw f4, 0(a1)
  CHECK_FREG_S(f4, 0x7f800001)
  flw f5, 4(a1)
  CHECK_FREG_S(f5, 0xbf800000)
  fsw f4, 8(a1)
  fsw f5, 12(a1)
  ld a0, 8(a1)
  CHECK_EQ(a0, 0xbf8000007f800001)
  SET_TESTNUM(186)
  la a1, fdata + 2048
  flw f6, -2044(a1)
  CHECK_FREG_S(f6, 0xbf800000)
  fsw f6, -2048(a1)
  lwu a0, -2048(a1)
  CHECK_EQ(a0, 0xbf800000)
  /* fsw stores only the low word of a NaN-boxed register and leaves the
   * neighbouring word alone. */
  SET_TESTNUM(187)
  la a1, fdata
  li a2, 0x1111111111111111
  sd a2, 16(a1)
  LOAD_S(f7, 0x12345678)
  fsw f7, 20(a1)
  ld a0, 16(a1)
  CHECK_EQ(a0, 0x1234567811111111)

  /* fmv.x.w sign-extends bit 31; fmv.w.x takes the low word and NaN-boxes;
   * neither touches NaN payloads nor flags. */
  SET_TESTNUM(188)
  fsflags zero
  li a1, 0xffffffff80000000
  fmv.w.x f8, a1
  CHECK_FREG_S(f8, 0x80000000)
  fmv.x.w a0, f8
  CHECK_EQ(a0, 0xffffffff80000000)
  SET_TESTNUM(189)
  li a1, 0x123456787f800001
  fmv.w.x f8, a1
  CHECK_FREG_S(f8, 0x7f800001)
  fmv.x.w a0, f8
  CHECK_EQ(a0, 0x7f800001)
  CHECK_FFLAGS(0)
  SET_TESTNUM(190)
  li a1, 0x000000003f800000
  fmv.w.x f9, a1
  fmv.x.w a0, f9
  CHECK_EQ(a0, 0x3f800000)
  /* fmv.s, fneg.s and fabs.s are fsgnj aliases with rs1 = rs2. */
  SET_TESTNUM(191)
  LOAD_S(f10, 0xc0490fdb)
  fabs.s f11, f10
  CHECK_FREG_S(f11, 0x40490fdb)
  fneg.s f12, f11
  CHECK_FREG_S(f12, 0xc0490fdb)
  fmv.s f13, f12
  CHECK_FREG_S(f13, 0xc0490fdb)
  CHECK_FFLAGS(0)
  /* Destination equal to a source. */
  SET_TESTNUM(192)
  LOAD_S(f14, 0x40000000)
  fmul.s f14, f14, f14
  CHECK_FREG_S(f14, 0x40800000)
  fmadd.s f14, f14, f14, f14
  CHECK_FREG_S(f14, 0x41a00000)
  /* Flags accumulate until cleared. */
  SET_TESTNUM(193)
  fsflags zero
  LOAD_S(f1, 0x3f800000)
  LOAD_S(f2, 0x00000000)
  fdiv.s f0, f1, f2
  LOAD_S(f2, 0x40400000)
  fdiv.s f0, f1, f2
  CHECK_FFLAGS(FFLAGS_DZ | FFLAGS_NX)
  CHECK_CSR(fflags, 0)

TEST_END

  .data
  .align 3
fdata:
  .word 0x7f800001, 0xbf800000
  .zero 4096
