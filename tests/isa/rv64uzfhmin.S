/* Zfhmin: half-precision values NaN-boxed in the f registers (flh, fmv.h.x and the
 * conversions box; fsh and fmv.x.h move the low 16 bits as they are; an improperly boxed
 * value reads as the canonical NaN), the exact widening conversions (subnormal halves, NaNs:
 * canonical, NV only for a signaling one), the narrowing ones in every rounding mode at ties,
 * overflow, the subnormal range and tininess after rounding, the dynamic rounding mode, a
 * reserved rounding mode and FS off. Expected values come from an exact model of IEEE 754
 * with RISC-V's rules (rationals, tininess after rounding). QEMU 7.2 has Zfhmin: run-on-qemu.sh
 * turns it on there (TEST_CPU_FEATURES). */
#define TEST_CPU_FEATURES +zfhmin
#include "test_macros.h"

/* fcvt.h.FMT of the value `bits` (put in fa0 by `mv`) with rounding mode rm: fa1 must hold
 * the boxed half, and fflags exactly `flags`. */
#define TEST_CVT_H(num, insn, mv, bits, rm, half, flags) \
  SET_TESTNUM(num);                                      \
  li a0, bits;                                           \
  mv fa0, a0;                                            \
  fsflags zero;                                          \
  insn fa1, fa0, rm;                                     \
  fmv.x.d a1, fa1;                                       \
  frflags a2;                                            \
  CHECK_EQ(a1, 0xffffffffffff0000 | (half));             \
  CHECK_EQ(a2, flags)

/* fcvt.FMT.h of the register value `reg` (a boxed half, or not): the result's bits in fa1
 * (a single boxed) and fflags. */
#define TEST_CVT_FROM_H(num, insn, reg, result, flags) \
  SET_TESTNUM(num);                                    \
  li a0, reg;                                          \
  fmv.d.x fa0, a0;                                     \
  fsflags zero;                                        \
  insn fa1, fa0;                                       \
  fmv.x.d a1, fa1;                                     \
  frflags a2;                                          \
  CHECK_EQ(a1, result);                                \
  CHECK_EQ(a2, flags)

#define BOX16 0xffffffffffff0000
#define BOX32 0xffffffff00000000

TEST_BEGIN
  .option norvc
  .option arch, +zfhmin

  /* 65520: between 65504 and 2^16 */
  TEST_CVT_H(1, fcvt.h.s, fmv.w.x, 0x477ff000, rne, 0x7c00, 0x05)
  TEST_CVT_H(2, fcvt.h.s, fmv.w.x, 0x477ff000, rtz, 0x7bff, 0x01)
  TEST_CVT_H(3, fcvt.h.s, fmv.w.x, 0x477ff000, rdn, 0x7bff, 0x01)
  TEST_CVT_H(4, fcvt.h.s, fmv.w.x, 0x477ff000, rup, 0x7c00, 0x05)
  TEST_CVT_H(5, fcvt.h.s, fmv.w.x, 0x477ff000, rmm, 0x7c00, 0x05)
  /* 1 + 2^-11: a tie */
  TEST_CVT_H(6, fcvt.h.s, fmv.w.x, 0x3f801000, rne, 0x3c00, 0x01)
  TEST_CVT_H(7, fcvt.h.s, fmv.w.x, 0x3f801000, rtz, 0x3c00, 0x01)
  TEST_CVT_H(8, fcvt.h.s, fmv.w.x, 0x3f801000, rdn, 0x3c00, 0x01)
  TEST_CVT_H(9, fcvt.h.s, fmv.w.x, 0x3f801000, rup, 0x3c01, 0x01)
  TEST_CVT_H(10, fcvt.h.s, fmv.w.x, 0x3f801000, rmm, 0x3c01, 0x01)
  /* -(1 + 2^-11) */
  TEST_CVT_H(11, fcvt.h.s, fmv.w.x, 0xbf801000, rne, 0xbc00, 0x01)
  TEST_CVT_H(12, fcvt.h.s, fmv.w.x, 0xbf801000, rtz, 0xbc00, 0x01)
  TEST_CVT_H(13, fcvt.h.s, fmv.w.x, 0xbf801000, rdn, 0xbc01, 0x01)
  TEST_CVT_H(14, fcvt.h.s, fmv.w.x, 0xbf801000, rup, 0xbc00, 0x01)
  TEST_CVT_H(15, fcvt.h.s, fmv.w.x, 0xbf801000, rmm, 0xbc01, 0x01)
  /* 2^-25: half the smallest subnormal */
  TEST_CVT_H(16, fcvt.h.s, fmv.w.x, 0x33000000, rne, 0x0000, 0x03)
  TEST_CVT_H(17, fcvt.h.s, fmv.w.x, 0x33000000, rtz, 0x0000, 0x03)
  TEST_CVT_H(18, fcvt.h.s, fmv.w.x, 0x33000000, rdn, 0x0000, 0x03)
  TEST_CVT_H(19, fcvt.h.s, fmv.w.x, 0x33000000, rup, 0x0001, 0x03)
  TEST_CVT_H(20, fcvt.h.s, fmv.w.x, 0x33000000, rmm, 0x0001, 0x03)
  /* 2^-14 - 2^-26: tiny only if it rounds down */
  TEST_CVT_H(21, fcvt.h.s, fmv.w.x, 0x387ff800, rne, 0x0400, 0x01)
  TEST_CVT_H(22, fcvt.h.s, fmv.w.x, 0x387ff800, rtz, 0x03ff, 0x03)
  TEST_CVT_H(23, fcvt.h.s, fmv.w.x, 0x387ff800, rdn, 0x03ff, 0x03)
  TEST_CVT_H(24, fcvt.h.s, fmv.w.x, 0x387ff800, rup, 0x0400, 0x01)
  TEST_CVT_H(25, fcvt.h.s, fmv.w.x, 0x387ff800, rmm, 0x0400, 0x01)
  /* -65520 */
  TEST_CVT_H(26, fcvt.h.s, fmv.w.x, 0xc77ff000, rne, 0xfc00, 0x05)
  TEST_CVT_H(27, fcvt.h.s, fmv.w.x, 0xc77ff000, rtz, 0xfbff, 0x01)
  TEST_CVT_H(28, fcvt.h.s, fmv.w.x, 0xc77ff000, rdn, 0xfc00, 0x05)
  TEST_CVT_H(29, fcvt.h.s, fmv.w.x, 0xc77ff000, rup, 0xfbff, 0x01)
  TEST_CVT_H(30, fcvt.h.s, fmv.w.x, 0xc77ff000, rmm, 0xfc00, 0x05)
  /* 1 + 2^-11 + 2^-40: just above a tie */
  TEST_CVT_H(31, fcvt.h.d, fmv.d.x, 0x3ff0020000010000, rne, 0x3c01, 0x01)
  TEST_CVT_H(32, fcvt.h.d, fmv.d.x, 0x3ff0020000010000, rtz, 0x3c00, 0x01)
  TEST_CVT_H(33, fcvt.h.d, fmv.d.x, 0x3ff0020000010000, rdn, 0x3c00, 0x01)
  TEST_CVT_H(34, fcvt.h.d, fmv.d.x, 0x3ff0020000010000, rup, 0x3c01, 0x01)
  TEST_CVT_H(35, fcvt.h.d, fmv.d.x, 0x3ff0020000010000, rmm, 0x3c01, 0x01)
  /* 1e10: overflow */
  TEST_CVT_H(36, fcvt.h.d, fmv.d.x, 0x4202a05f20000000, rne, 0x7c00, 0x05)
  TEST_CVT_H(37, fcvt.h.d, fmv.d.x, 0x4202a05f20000000, rtz, 0x7bff, 0x05)
  TEST_CVT_H(38, fcvt.h.d, fmv.d.x, 0x4202a05f20000000, rdn, 0x7bff, 0x05)
  TEST_CVT_H(39, fcvt.h.d, fmv.d.x, 0x4202a05f20000000, rup, 0x7c00, 0x05)
  TEST_CVT_H(40, fcvt.h.d, fmv.d.x, 0x4202a05f20000000, rmm, 0x7c00, 0x05)
  /* 2^-30: far below the subnormals */
  TEST_CVT_H(41, fcvt.h.d, fmv.d.x, 0x3e10000000000000, rne, 0x0000, 0x03)
  TEST_CVT_H(42, fcvt.h.d, fmv.d.x, 0x3e10000000000000, rtz, 0x0000, 0x03)
  TEST_CVT_H(43, fcvt.h.d, fmv.d.x, 0x3e10000000000000, rdn, 0x0000, 0x03)
  TEST_CVT_H(44, fcvt.h.d, fmv.d.x, 0x3e10000000000000, rup, 0x0001, 0x03)
  TEST_CVT_H(45, fcvt.h.d, fmv.d.x, 0x3e10000000000000, rmm, 0x0000, 0x03)
  /* -2^-30 */
  TEST_CVT_H(46, fcvt.h.d, fmv.d.x, 0xbe10000000000000, rne, 0x8000, 0x03)
  TEST_CVT_H(47, fcvt.h.d, fmv.d.x, 0xbe10000000000000, rtz, 0x8000, 0x03)
  TEST_CVT_H(48, fcvt.h.d, fmv.d.x, 0xbe10000000000000, rdn, 0x8001, 0x03)
  TEST_CVT_H(49, fcvt.h.d, fmv.d.x, 0xbe10000000000000, rup, 0x8000, 0x03)
  TEST_CVT_H(50, fcvt.h.d, fmv.d.x, 0xbe10000000000000, rmm, 0x8000, 0x03)

  /* Exact narrowing: no flags. Infinities, zeros and NaNs (canonical; NV for a signaling one). */
  TEST_CVT_H(51, fcvt.h.s, fmv.w.x, 0x477fe000, rne, 0x7bff, 0)
  TEST_CVT_H(52, fcvt.h.s, fmv.w.x, 0x33800000, rtz, 0x0001, 0)
  TEST_CVT_H(53, fcvt.h.s, fmv.w.x, 0xff800000, rtz, 0xfc00, 0)
  TEST_CVT_H(54, fcvt.h.s, fmv.w.x, 0x80000000, rup, 0x8000, 0)
  TEST_CVT_H(55, fcvt.h.s, fmv.w.x, 0xffc00001, rne, 0x7e00, 0)
  TEST_CVT_H(56, fcvt.h.s, fmv.w.x, 0x7f800001, rne, 0x7e00, FFLAGS_NV)
  TEST_CVT_H(57, fcvt.h.d, fmv.d.x, 0x3ff0000000000000, rne, 0x3c00, 0)
  TEST_CVT_H(58, fcvt.h.d, fmv.d.x, 0x7ff0000000000001, rtz, 0x7e00, FFLAGS_NV)
  TEST_CVT_H(59, fcvt.h.d, fmv.d.x, 0xfff0000000000000, rne, 0xfc00, 0)
  /* fcvt.h.s reads a single: an improperly boxed one is the canonical NaN (no NV). */
  TEST_CVT_H(60, fcvt.h.s, fmv.d.x, 0x000000003f800000, rne, 0x7e00, 0)

  /* Widening is exact. */
  TEST_CVT_FROM_H(61, fcvt.s.h, BOX16 | 0x3c00, BOX32 | 0x3f800000, 0)
  TEST_CVT_FROM_H(62, fcvt.s.h, BOX16 | 0x0001, BOX32 | 0x33800000, 0)
  TEST_CVT_FROM_H(63, fcvt.s.h, BOX16 | 0x83ff, BOX32 | 0xb87fc000, 0)
  TEST_CVT_FROM_H(64, fcvt.s.h, BOX16 | 0x7bff, BOX32 | 0x477fe000, 0)
  TEST_CVT_FROM_H(65, fcvt.s.h, BOX16 | 0xfc00, BOX32 | 0xff800000, 0)
  TEST_CVT_FROM_H(66, fcvt.s.h, BOX16 | 0x8000, BOX32 | 0x80000000, 0)
  TEST_CVT_FROM_H(67, fcvt.s.h, BOX16 | 0x7e01, BOX32 | 0x7fc00000, 0)
  TEST_CVT_FROM_H(68, fcvt.s.h, BOX16 | 0xfc01, BOX32 | 0x7fc00000, FFLAGS_NV)
  TEST_CVT_FROM_H(69, fcvt.s.h, 0x0000000000003c00, BOX32 | 0x7fc00000, 0)  /* not boxed */
  TEST_CVT_FROM_H(70, fcvt.s.h, 0xfffffffeffff3c00, BOX32 | 0x7fc00000, 0)  /* not boxed */
  TEST_CVT_FROM_H(71, fcvt.d.h, BOX16 | 0x3c00, 0x3ff0000000000000, 0)
  TEST_CVT_FROM_H(72, fcvt.d.h, BOX16 | 0xfbff, 0xc0effc0000000000, 0)
  TEST_CVT_FROM_H(73, fcvt.d.h, BOX16 | 0x0001, 0x3e70000000000000, 0)
  TEST_CVT_FROM_H(74, fcvt.d.h, BOX16 | 0x7c00, 0x7ff0000000000000, 0)
  TEST_CVT_FROM_H(75, fcvt.d.h, BOX16 | 0x7c01, 0x7ff8000000000000, FFLAGS_NV)
  TEST_CVT_FROM_H(76, fcvt.d.h, 0xffffffff00003c00, 0x7ff8000000000000, 0)  /* not boxed */

  /* The dynamic rounding mode is frm's. */
  li t0, FRM_RUP
  fsrm t0
  TEST_CVT_H(77, fcvt.h.s, fmv.w.x, 0x3f801000, dyn, 0x3c01, FFLAGS_NX)
  li t0, FRM_RDN
  fsrm t0
  TEST_CVT_H(78, fcvt.h.d, fmv.d.x, 0xbe10000000000000, dyn, 0x8001, FFLAGS_NX | FFLAGS_UF)
  fsrm zero

  /* flh boxes; fsh stores the low 16 bits, boxed or not. */
  la s0, half_data
  SET_TESTNUM(79)
  flh fa0, 0(s0)
  fmv.x.d a0, fa0
  CHECK_EQ(a0, BOX16 | 0x8001)
  flh fa1, 2(s0)
  fmv.x.d a1, fa1
  CHECK_EQ(a1, BOX16 | 0x3c00)
  SET_TESTNUM(80)
  li a0, 0x123456789abc
  fmv.d.x fa2, a0
  fsh fa2, 4(s0)
  fsh fa1, 6(s0)
  lwu a1, 4(s0)
  CHECK_EQ(a1, 0x3c009abc)
  CHECK_MEM(half_data, 0, 0x3c009abc3c008001)

  /* fmv.x.h sign-extends bits 15:0, boxed or not; fmv.h.x boxes rs1's low 16 bits. */
  SET_TESTNUM(81)
  fmv.x.h a2, fa0
  CHECK_EQ(a2, 0xffffffffffff8001)
  fmv.x.h a3, fa2
  CHECK_EQ(a3, 0xffffffffffff9abc)
  fmv.x.h a4, fa1
  CHECK_EQ(a4, 0x3c00)
  SET_TESTNUM(82)
  li a0, 0x7654321012345678
  fmv.h.x fa3, a0
  fmv.x.d a1, fa3
  CHECK_EQ(a1, BOX16 | 0x5678)
  fmv.h.x fa4, zero
  fmv.x.d a2, fa4
  CHECK_EQ(a2, BOX16)

  /* Reserved rounding mode 5: illegal. FS off: every Zfhmin instruction is illegal. */
  TEST_TRAP_TVAL(83, CAUSE_ILLEGAL_INSTRUCTION, 0x4405d553, .insn r 0x53, 5, 0x22, fa0, fa1, f0)
  li t0, MSTATUS_FS
  csrc mstatus, t0
  TEST_TRAP(84, CAUSE_ILLEGAL_INSTRUCTION, flh fa0, 0(s0))
  TEST_TRAP(85, CAUSE_ILLEGAL_INSTRUCTION, fsh fa0, 0(s0))
  TEST_TRAP(86, CAUSE_ILLEGAL_INSTRUCTION, fcvt.s.h fa0, fa1)
  TEST_TRAP(87, CAUSE_ILLEGAL_INSTRUCTION, fcvt.h.d fa0, fa1)
  TEST_TRAP(88, CAUSE_ILLEGAL_INSTRUCTION, fmv.x.h a0, fa1)
  TEST_TRAP(89, CAUSE_ILLEGAL_INSTRUCTION, fmv.h.x fa0, a1)
  li t0, MSTATUS_FS_INITIAL
  csrs mstatus, t0
  /* fmv.h.x made FS dirty. */
  SET_TESTNUM(90)
  fmv.h.x fa0, zero
  CHECK_CSR_MASKED(mstatus, MSTATUS_FS, MSTATUS_FS_DIRTY)
TEST_END

  .data
  .balign 8
half_data:
  .half 0x8001, 0x3c00, 0, 0
