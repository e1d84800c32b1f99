/* F/D conversions between floating point and integers: the saturation table
 * (out of range and infinities clamp, any NaN gives the largest positive
 * value, NV raised; values that round to zero do not), every rounding mode,
 * sign extension of 32-bit results, the W forms reading only the low word,
 * and inexact int-to-float rounding. Expected values come from an exact
 * model of IEEE 754 with RISC-V's rules. */
#include "test_macros.h"

TEST_BEGIN

  /* float to integer: saturation and NaN (largest positive value for any NaN) */
  /* fcvt.w.s */
  TEST_FP_S_INT1(1, fcvt.w.s, 0, 0x0000000000000000, 0x00000000, rtz) /* 0 rtz */
  TEST_FP_S_INT1(2, fcvt.w.s, 0, 0x0000000000000000, 0x80000000, rtz) /* -0 rtz */
  TEST_FP_S_INT1(3, fcvt.w.s, 0, 0x0000000000000001, 0x3f800000, rtz) /* 1 rtz */
  TEST_FP_S_INT1(4, fcvt.w.s, 0, 0xffffffffffffffff, 0xbf800000, rtz) /* -1 rtz */
  TEST_FP_S_INT1(5, fcvt.w.s, FFLAGS_NX, 0x0000000000000000, 0x3f666666, rtz) /* 0.9 rtz */
  TEST_FP_S_INT1(6, fcvt.w.s, FFLAGS_NX, 0x0000000000000000, 0xbf666666, rtz) /* -0.9 rtz */
  TEST_FP_S_INT1(7, fcvt.w.s, 0, 0x000000007fffff80, 0x4effffff, rtz) /* 0x4effffff rtz */
  TEST_FP_S_INT1(8, fcvt.w.s, FFLAGS_NV, 0x000000007fffffff, 0x4f000000, rtz) /* 0x4f000000 rtz */
  TEST_FP_S_INT1(9, fcvt.w.s, 0, 0xffffffff80000000, 0xcf000000, rtz) /* 0xcf000000 rtz */
  TEST_FP_S_INT1(10, fcvt.w.s, FFLAGS_NV, 0xffffffff80000000, 0xcf000001, rtz) /* 0xcf000001 rtz */
  TEST_FP_S_INT1(11, fcvt.w.s, FFLAGS_NV, 0x000000007fffffff, 0x7f800000, rtz) /* inf rtz */
  TEST_FP_S_INT1(12, fcvt.w.s, FFLAGS_NV, 0xffffffff80000000, 0xff800000, rtz) /* -inf rtz */
  TEST_FP_S_INT1(13, fcvt.w.s, FFLAGS_NV, 0x000000007fffffff, 0x7fc00000, rtz) /* qnan rtz */
  TEST_FP_S_INT1(14, fcvt.w.s, FFLAGS_NV, 0x000000007fffffff, 0xffc00000, rtz) /* -qnan rtz */
  TEST_FP_S_INT1(15, fcvt.w.s, FFLAGS_NV, 0x000000007fffffff, 0x7f800001, rtz) /* snan rtz */
  /* fcvt.wu.s: negative results saturate to 0 unless they round to zero */
  TEST_FP_S_INT1(16, fcvt.wu.s, 0, 0x0000000000000000, 0x00000000, rtz) /* 0 rtz */
  TEST_FP_S_INT1(17, fcvt.wu.s, 0, 0x0000000000000000, 0x80000000, rtz) /* -0 rtz */
  TEST_FP_S_INT1(18, fcvt.wu.s, 0, 0x0000000000000001, 0x3f800000, rtz) /* 1 rtz */
  TEST_FP_S_INT1(19, fcvt.wu.s, FFLAGS_NV, 0x0000000000000000, 0xbf800000, rtz) /* -1 rtz */
  TEST_FP_S_INT1(20, fcvt.wu.s, FFLAGS_NX, 0x0000000000000000, 0xbf666666, rtz) /* -0.9 rtz */
  TEST_FP_S_INT1(21, fcvt.wu.s, 0, 0xffffffffffffff00, 0x4f7fffff, rtz) /* 0x4f7fffff rtz */
  TEST_FP_S_INT1(22, fcvt.wu.s, FFLAGS_NV, 0xffffffffffffffff, 0x4f800000, rtz) /* 0x4f800000 rtz */
  TEST_FP_S_INT1(23, fcvt.wu.s, FFLAGS_NV, 0xffffffffffffffff, 0x7f800000, rtz) /* inf rtz */
  TEST_FP_S_INT1(24, fcvt.wu.s, FFLAGS_NV, 0x0000000000000000, 0xff800000, rtz) /* -inf rtz */
  TEST_FP_S_INT1(25, fcvt.wu.s, FFLAGS_NV, 0xffffffffffffffff, 0x7fc00000, rtz) /* qnan rtz */
  TEST_FP_S_INT1(26, fcvt.wu.s, FFLAGS_NV, 0xffffffffffffffff, 0xff800001, rtz) /* -snan rtz */
  TEST_FP_S_INT1(27, fcvt.wu.s, FFLAGS_NX, 0x0000000000000000, 0xbf000000, rne) /* -0.5 rne */
  TEST_FP_S_INT1(28, fcvt.wu.s, FFLAGS_NV, 0x0000000000000000, 0xbf666666, rne) /* -0.9 rne */
  /* fcvt.l.s */
  TEST_FP_S_INT1(29, fcvt.l.s, 0, 0xffffffffffffffff, 0xbf800000, rtz) /* -1 rtz */
  TEST_FP_S_INT1(30, fcvt.l.s, 0, 0x7fffff8000000000, 0x5effffff, rtz) /* 0x5effffff rtz */
  TEST_FP_S_INT1(31, fcvt.l.s, FFLAGS_NV, 0x7fffffffffffffff, 0x5f000000, rtz) /* 0x5f000000 rtz */
  TEST_FP_S_INT1(32, fcvt.l.s, 0, 0x8000000000000000, 0xdf000000, rtz) /* 0xdf000000 rtz */
  TEST_FP_S_INT1(33, fcvt.l.s, FFLAGS_NV, 0x8000000000000000, 0xdf000001, rtz) /* 0xdf000001 rtz */
  TEST_FP_S_INT1(34, fcvt.l.s, FFLAGS_NV, 0x7fffffffffffffff, 0x7f800000, rtz) /* inf rtz */
  TEST_FP_S_INT1(35, fcvt.l.s, FFLAGS_NV, 0x8000000000000000, 0xff800000, rtz) /* -inf rtz */
  TEST_FP_S_INT1(36, fcvt.l.s, FFLAGS_NV, 0x7fffffffffffffff, 0x7fc00000, rtz) /* qnan rtz */
  TEST_FP_S_INT1(37, fcvt.l.s, FFLAGS_NV, 0x7fffffffffffffff, 0x7f800001, rtz) /* snan rtz */
  TEST_FP_S_INT1(38, fcvt.l.s, 0, 0x0000000080000000, 0x4f000000, rtz) /* 0x4f000000 rtz */
  /* fcvt.lu.s */
  TEST_FP_S_INT1(39, fcvt.lu.s, FFLAGS_NV, 0x0000000000000000, 0xbf800000, rtz) /* -1 rtz */
  TEST_FP_S_INT1(40, fcvt.lu.s, FFLAGS_NX, 0x0000000000000000, 0xbf666666, rtz) /* -0.9 rtz */
  TEST_FP_S_INT1(41, fcvt.lu.s, 0, 0xffffff0000000000, 0x5f7fffff, rtz) /* 0x5f7fffff rtz */
  TEST_FP_S_INT1(42, fcvt.lu.s, FFLAGS_NV, 0xffffffffffffffff, 0x5f800000, rtz) /* 0x5f800000 rtz */
  TEST_FP_S_INT1(43, fcvt.lu.s, FFLAGS_NV, 0xffffffffffffffff, 0x7f800000, rtz) /* inf rtz */
  TEST_FP_S_INT1(44, fcvt.lu.s, FFLAGS_NV, 0x0000000000000000, 0xff800000, rtz) /* -inf rtz */
  TEST_FP_S_INT1(45, fcvt.lu.s, FFLAGS_NV, 0xffffffffffffffff, 0x7fc00000, rtz) /* qnan rtz */
  TEST_FP_S_INT1(46, fcvt.lu.s, 0, 0x0000000100000000, 0x4f800000, rtz) /* 0x4f800000 rtz */
  /* fcvt.w.d */
  TEST_FP_D_INT1(47, fcvt.w.d, 0, 0x000000007fffffff, 0x41dfffffffc00000, rtz) /* 0x41dfffffffc00000 rtz */
  TEST_FP_D_INT1(48, fcvt.w.d, FFLAGS_NX, 0x000000007fffffff, 0x41dfffffffe00000, rtz) /* 2147483647.5 rtz */
  TEST_FP_D_INT1(49, fcvt.w.d, FFLAGS_NX, 0xffffffff80000000, 0xc1e0000000100000, rtz) /* -2147483648.5 rtz */
  TEST_FP_D_INT1(50, fcvt.w.d, FFLAGS_NV, 0xffffffff80000000, 0xc1e0000000200000, rtz) /* -2147483649 rtz */
  TEST_FP_D_INT1(51, fcvt.w.d, FFLAGS_NV, 0x000000007fffffff, 0x7ff0000000000000, rtz) /* inf rtz */
  TEST_FP_D_INT1(52, fcvt.w.d, FFLAGS_NV, 0xffffffff80000000, 0xfff0000000000000, rtz) /* -inf rtz */
  TEST_FP_D_INT1(53, fcvt.w.d, FFLAGS_NV, 0x000000007fffffff, 0x7ff8000000000000, rtz) /* qnan rtz */
  TEST_FP_D_INT1(54, fcvt.w.d, FFLAGS_NV, 0x000000007fffffff, 0x7ff0000000000001, rtz) /* snan rtz */
  TEST_FP_D_INT1(55, fcvt.w.d, FFLAGS_NV, 0x000000007fffffff, 0x7e37e43c8800759c, rtz) /* 1e300 rtz */
  TEST_FP_D_INT1(56, fcvt.w.d, FFLAGS_NV, 0x000000007fffffff, 0x41dfffffffe00000, rne) /* 2147483647.5 rne */
  TEST_FP_D_INT1(57, fcvt.w.d, FFLAGS_NX, 0xffffffff80000000, 0xc1e0000000100000, rne) /* -2147483648.5 rne */
  TEST_FP_D_INT1(58, fcvt.w.d, FFLAGS_NV, 0xffffffff80000000, 0xc1e0000000100000, rdn) /* -2147483648.5 rdn */
  /* fcvt.wu.d */
  TEST_FP_D_INT1(59, fcvt.wu.d, FFLAGS_NX, 0xffffffffffffffff, 0x41effffffff00000, rtz) /* 4294967295.5 rtz */
  TEST_FP_D_INT1(60, fcvt.wu.d, FFLAGS_NX, 0x0000000000000000, 0xbfeccccccccccccd, rtz) /* -0.9 rtz */
  TEST_FP_D_INT1(61, fcvt.wu.d, FFLAGS_NV, 0x0000000000000000, 0xbff0000000000000, rtz) /* -1 rtz */
  TEST_FP_D_INT1(62, fcvt.wu.d, FFLAGS_NV, 0xffffffffffffffff, 0x41f0000000000000, rtz) /* 4294967296 rtz */
  TEST_FP_D_INT1(63, fcvt.wu.d, FFLAGS_NV, 0xffffffffffffffff, 0x7ff0000000000000, rtz) /* inf rtz */
  TEST_FP_D_INT1(64, fcvt.wu.d, FFLAGS_NV, 0x0000000000000000, 0xfff0000000000000, rtz) /* -inf rtz */
  TEST_FP_D_INT1(65, fcvt.wu.d, FFLAGS_NV, 0xffffffffffffffff, 0x7ff8000000000000, rtz) /* qnan rtz */
  TEST_FP_D_INT1(66, fcvt.wu.d, FFLAGS_NV, 0xffffffffffffffff, 0x41effffffff00000, rne) /* 4294967295.5 rne */
  /* fcvt.l.d */
  TEST_FP_D_INT1(67, fcvt.l.d, 0, 0x7ffffffffffffc00, 0x43dfffffffffffff, rtz) /* 0x43dfffffffffffff rtz */
  TEST_FP_D_INT1(68, fcvt.l.d, FFLAGS_NV, 0x7fffffffffffffff, 0x43e0000000000000, rtz) /* 0x43e0000000000000 rtz */
  TEST_FP_D_INT1(69, fcvt.l.d, 0, 0x8000000000000000, 0xc3e0000000000000, rtz) /* 0xc3e0000000000000 rtz */
  TEST_FP_D_INT1(70, fcvt.l.d, FFLAGS_NV, 0x8000000000000000, 0xc3e0000000000001, rtz) /* 0xc3e0000000000001 rtz */
  TEST_FP_D_INT1(71, fcvt.l.d, FFLAGS_NV, 0x7fffffffffffffff, 0x7ff0000000000000, rtz) /* inf rtz */
  TEST_FP_D_INT1(72, fcvt.l.d, FFLAGS_NV, 0x8000000000000000, 0xfff0000000000000, rtz) /* -inf rtz */
  TEST_FP_D_INT1(73, fcvt.l.d, FFLAGS_NV, 0x7fffffffffffffff, 0x7ff8000000000000, rtz) /* qnan rtz */
  TEST_FP_D_INT1(74, fcvt.l.d, FFLAGS_NV, 0x7fffffffffffffff, 0xfff8000000000000, rtz) /* -qnan rtz */
  TEST_FP_D_INT1(75, fcvt.l.d, FFLAGS_NX, 0x0000000000000000, 0xbfe0000000000000, rtz) /* -0.5 rtz */
  /* fcvt.lu.d */
  TEST_FP_D_INT1(76, fcvt.lu.d, 0, 0xfffffffffffff800, 0x43efffffffffffff, rtz) /* 0x43efffffffffffff rtz */
  TEST_FP_D_INT1(77, fcvt.lu.d, FFLAGS_NV, 0xffffffffffffffff, 0x43f0000000000000, rtz) /* 0x43f0000000000000 rtz */
  TEST_FP_D_INT1(78, fcvt.lu.d, FFLAGS_NV, 0x0000000000000000, 0xbff0000000000000, rtz) /* -1 rtz */
  TEST_FP_D_INT1(79, fcvt.lu.d, FFLAGS_NX, 0x0000000000000000, 0xbfeccccccccccccd, rtz) /* -0.9 rtz */
  TEST_FP_D_INT1(80, fcvt.lu.d, FFLAGS_NV, 0xffffffffffffffff, 0x7ff0000000000000, rtz) /* inf rtz */
  TEST_FP_D_INT1(81, fcvt.lu.d, FFLAGS_NV, 0x0000000000000000, 0xfff0000000000000, rtz) /* -inf rtz */
  TEST_FP_D_INT1(82, fcvt.lu.d, FFLAGS_NV, 0xffffffffffffffff, 0x7ff0000000000001, rtz) /* snan rtz */
  /* float to integer in every rounding mode */
  TEST_FP_S_INT1(83, fcvt.w.s, FFLAGS_NX, 0x0000000000000002, 0x40200000, rne) /* 2.5 rne */
  TEST_FP_S_INT1(84, fcvt.w.s, FFLAGS_NX, 0xfffffffffffffffe, 0xc0200000, rne) /* -2.5 rne */
  TEST_FP_S_INT1(85, fcvt.w.s, FFLAGS_NX, 0x0000000000000002, 0x3fc00000, rne) /* 1.5 rne */
  TEST_FP_S_INT1(86, fcvt.w.s, FFLAGS_NX, 0x0000000000000000, 0xbf000000, rne) /* -0.5 rne */
  TEST_FP_S_INT1(87, fcvt.w.s, FFLAGS_NX, 0x0000000000000000, 0x3dcccccd, rne) /* 0.1 rne */
  TEST_FP_S_INT1(88, fcvt.w.s, FFLAGS_NX, 0x0000000000000002, 0x40200000, rtz) /* 2.5 rtz */
  TEST_FP_S_INT1(89, fcvt.w.s, FFLAGS_NX, 0xfffffffffffffffe, 0xc0200000, rtz) /* -2.5 rtz */
  TEST_FP_S_INT1(90, fcvt.w.s, FFLAGS_NX, 0x0000000000000001, 0x3fc00000, rtz) /* 1.5 rtz */
  TEST_FP_S_INT1(91, fcvt.w.s, FFLAGS_NX, 0x0000000000000000, 0xbf000000, rtz) /* -0.5 rtz */
  TEST_FP_S_INT1(92, fcvt.w.s, FFLAGS_NX, 0x0000000000000000, 0x3dcccccd, rtz) /* 0.1 rtz */
  TEST_FP_S_INT1(93, fcvt.w.s, FFLAGS_NX, 0x0000000000000002, 0x40200000, rdn) /* 2.5 rdn */
  TEST_FP_S_INT1(94, fcvt.w.s, FFLAGS_NX, 0xfffffffffffffffd, 0xc0200000, rdn) /* -2.5 rdn */
  TEST_FP_S_INT1(95, fcvt.w.s, FFLAGS_NX, 0x0000000000000001, 0x3fc00000, rdn) /* 1.5 rdn */
  TEST_FP_S_INT1(96, fcvt.w.s, FFLAGS_NX, 0xffffffffffffffff, 0xbf000000, rdn) /* -0.5 rdn */
  TEST_FP_S_INT1(97, fcvt.w.s, FFLAGS_NX, 0x0000000000000000, 0x3dcccccd, rdn) /* 0.1 rdn */
  TEST_FP_S_INT1(98, fcvt.w.s, FFLAGS_NX, 0x0000000000000003, 0x40200000, rup) /* 2.5 rup */
  TEST_FP_S_INT1(99, fcvt.w.s, FFLAGS_NX, 0xfffffffffffffffe, 0xc0200000, rup) /* -2.5 rup */
  TEST_FP_S_INT1(100, fcvt.w.s, FFLAGS_NX, 0x0000000000000002, 0x3fc00000, rup) /* 1.5 rup */
  TEST_FP_S_INT1(101, fcvt.w.s, FFLAGS_NX, 0x0000000000000000, 0xbf000000, rup) /* -0.5 rup */
  TEST_FP_S_INT1(102, fcvt.w.s, FFLAGS_NX, 0x0000000000000001, 0x3dcccccd, rup) /* 0.1 rup */
  TEST_FP_S_INT1(103, fcvt.w.s, FFLAGS_NX, 0x0000000000000003, 0x40200000, rmm) /* 2.5 rmm */
  TEST_FP_S_INT1(104, fcvt.w.s, FFLAGS_NX, 0xfffffffffffffffd, 0xc0200000, rmm) /* -2.5 rmm */
  TEST_FP_S_INT1(105, fcvt.w.s, FFLAGS_NX, 0x0000000000000002, 0x3fc00000, rmm) /* 1.5 rmm */
  TEST_FP_S_INT1(106, fcvt.w.s, FFLAGS_NX, 0xffffffffffffffff, 0xbf000000, rmm) /* -0.5 rmm */
  TEST_FP_S_INT1(107, fcvt.w.s, FFLAGS_NX, 0x0000000000000000, 0x3dcccccd, rmm) /* 0.1 rmm */
  TEST_FP_D_INT1(108, fcvt.l.d, FFLAGS_NX, 0xfffffffffffffffc, 0xc00c000000000000, rne) /* -3.5 rne */
  TEST_FP_D_INT1(109, fcvt.l.d, FFLAGS_NX, 0x0000000000000001, 0x3fe0000035afe535, rne) /* 0.5000001 rne */
  TEST_FP_D_INT1(110, fcvt.l.d, FFLAGS_NX, 0xffffffffffffffff, 0xbff4000000000000, rne) /* -1.25 rne */
  TEST_FP_D_INT1(111, fcvt.l.d, FFLAGS_NX, 0xfffffffffffffffd, 0xc00c000000000000, rtz) /* -3.5 rtz */
  TEST_FP_D_INT1(112, fcvt.l.d, FFLAGS_NX, 0x0000000000000000, 0x3fe0000035afe535, rtz) /* 0.5000001 rtz */
  TEST_FP_D_INT1(113, fcvt.l.d, FFLAGS_NX, 0xffffffffffffffff, 0xbff4000000000000, rtz) /* -1.25 rtz */
  TEST_FP_D_INT1(114, fcvt.l.d, FFLAGS_NX, 0xfffffffffffffffc, 0xc00c000000000000, rdn) /* -3.5 rdn */
  TEST_FP_D_INT1(115, fcvt.l.d, FFLAGS_NX, 0x0000000000000000, 0x3fe0000035afe535, rdn) /* 0.5000001 rdn */
  TEST_FP_D_INT1(116, fcvt.l.d, FFLAGS_NX, 0xfffffffffffffffe, 0xbff4000000000000, rdn) /* -1.25 rdn */
  TEST_FP_D_INT1(117, fcvt.l.d, FFLAGS_NX, 0xfffffffffffffffd, 0xc00c000000000000, rup) /* -3.5 rup */
  TEST_FP_D_INT1(118, fcvt.l.d, FFLAGS_NX, 0x0000000000000001, 0x3fe0000035afe535, rup) /* 0.5000001 rup */
  TEST_FP_D_INT1(119, fcvt.l.d, FFLAGS_NX, 0xffffffffffffffff, 0xbff4000000000000, rup) /* -1.25 rup */
  TEST_FP_D_INT1(120, fcvt.l.d, FFLAGS_NX, 0xfffffffffffffffc, 0xc00c000000000000, rmm) /* -3.5 rmm */
  TEST_FP_D_INT1(121, fcvt.l.d, FFLAGS_NX, 0x0000000000000001, 0x3fe0000035afe535, rmm) /* 0.5000001 rmm */
  TEST_FP_D_INT1(122, fcvt.l.d, FFLAGS_NX, 0xffffffffffffffff, 0xbff4000000000000, rmm) /* -1.25 rmm */
  TEST_FP_S_INT1(123, fcvt.lu.s, FFLAGS_NX, 0x0000000000000000, 0x3f000000, rne) /* 0.5 rne */
  TEST_FP_D_INT1(124, fcvt.wu.d, FFLAGS_NX, 0x0000000000000000, 0xbfe0000000000000, rne) /* -0.5 rne */
  TEST_FP_S_INT1(125, fcvt.lu.s, FFLAGS_NX, 0x0000000000000000, 0x3f000000, rtz) /* 0.5 rtz */
  TEST_FP_D_INT1(126, fcvt.wu.d, FFLAGS_NX, 0x0000000000000000, 0xbfe0000000000000, rtz) /* -0.5 rtz */
  TEST_FP_S_INT1(127, fcvt.lu.s, FFLAGS_NX, 0x0000000000000000, 0x3f000000, rdn) /* 0.5 rdn */
  TEST_FP_D_INT1(128, fcvt.wu.d, FFLAGS_NV, 0x0000000000000000, 0xbfe0000000000000, rdn) /* -0.5 rdn */
  TEST_FP_S_INT1(129, fcvt.lu.s, FFLAGS_NX, 0x0000000000000001, 0x3f000000, rup) /* 0.5 rup */
  TEST_FP_D_INT1(130, fcvt.wu.d, FFLAGS_NX, 0x0000000000000000, 0xbfe0000000000000, rup) /* -0.5 rup */
  TEST_FP_S_INT1(131, fcvt.lu.s, FFLAGS_NX, 0x0000000000000001, 0x3f000000, rmm) /* 0.5 rmm */
  TEST_FP_D_INT1(132, fcvt.wu.d, FFLAGS_NV, 0x0000000000000000, 0xbfe0000000000000, rmm) /* -0.5 rmm */
  /* integer to float; the W forms use only the low word */
  TEST_FP_S_FROM_INT(133, fcvt.s.w, 0, 0x00000000, 0x0000000000000000) /* 0 */
  TEST_FP_S_FROM_INT(134, fcvt.s.w, 0, 0x3f800000, 0x0000000000000001) /* 1 */
  TEST_FP_S_FROM_INT(135, fcvt.s.w, 0, 0xbf800000, 0xffffffffffffffff) /* -1 */
  TEST_FP_S_FROM_INT(136, fcvt.s.w, FFLAGS_NX, 0x4f000000, 0x000000007fffffff) /* 0x7fffffff */
  TEST_FP_S_FROM_INT(137, fcvt.s.w, 0, 0xcf000000, 0x0000000080000000) /* 0x80000000 */
  TEST_FP_S_FROM_INT(138, fcvt.s.w, 0, 0x3f800000, 0xffffffff00000001) /* 0xffffffff00000001 */
  TEST_FP_S_FROM_INT(139, fcvt.s.w, FFLAGS_NX, 0x4b800000, 0x0000000001000001) /* 16777217 */
  TEST_FP_S_FROM_INT(140, fcvt.s.w, FFLAGS_NX, 0xcb800000, 0xfffffffffeffffff) /* -16777217 */
  TEST_FP_S_FROM_INT(141, fcvt.s.wu, FFLAGS_NX, 0x4f800000, 0x00000000ffffffff) /* 0xffffffff */
  TEST_FP_S_FROM_INT(142, fcvt.s.wu, 0, 0x40000000, 0xffffffff00000002) /* 0xffffffff00000002 */
  TEST_FP_S_FROM_INT(143, fcvt.s.wu, 0, 0x4f000000, 0x0000000080000000) /* 0x80000000 */
  TEST_FP_S_FROM_INT(144, fcvt.s.wu, FFLAGS_NX, 0x4b800000, 0x0000000001000001) /* 16777217 */
  TEST_FP_S_FROM_INT(145, fcvt.s.l, FFLAGS_NX, 0x5f000000, 0x7fffffffffffffff) /* 0x7fffffffffffffff */
  TEST_FP_S_FROM_INT(146, fcvt.s.l, 0, 0xdf000000, 0x8000000000000000) /* 0x8000000000000000 */
  TEST_FP_S_FROM_INT(147, fcvt.s.l, 0, 0xbf800000, 0xffffffffffffffff) /* -1 */
  TEST_FP_S_FROM_INT(148, fcvt.s.l, FFLAGS_NX, 0x4b800000, 0x0000000001000001) /* 16777217 */
  TEST_FP_S_FROM_INT(149, fcvt.s.l, 0, 0x4f800000, 0x0000000100000000) /* 0x0000000100000000 */
  TEST_FP_S_FROM_INT(150, fcvt.s.lu, FFLAGS_NX, 0x5f800000, 0xffffffffffffffff) /* 0xffffffffffffffff */
  TEST_FP_S_FROM_INT(151, fcvt.s.lu, 0, 0x5f000000, 0x8000000000000000) /* 0x8000000000000000 */
  TEST_FP_S_FROM_INT(152, fcvt.s.lu, FFLAGS_NX, 0x4b800000, 0x0000000001000001) /* 16777217 */
  TEST_FP_S_FROM_INT(153, fcvt.s.lu, FFLAGS_NX, 0x5f7fffff, 0xffffff7fffffffff) /* 0xffffff7fffffffff */
  TEST_FP_D_FROM_INT(154, fcvt.d.w, 0, 0x41dfffffffc00000, 0x000000007fffffff) /* 0x7fffffff */
  TEST_FP_D_FROM_INT(155, fcvt.d.w, 0, 0xc1e0000000000000, 0x0000000080000000) /* 0x80000000 */
  TEST_FP_D_FROM_INT(156, fcvt.d.w, 0, 0xbff0000000000000, 0x12345678ffffffff) /* 0x12345678ffffffff */
  TEST_FP_D_FROM_INT(157, fcvt.d.w, 0, 0x0000000000000000, 0x0000000000000000) /* 0 */
  TEST_FP_D_FROM_INT(158, fcvt.d.wu, 0, 0x41efffffffe00000, 0x00000000ffffffff) /* 0xffffffff */
  TEST_FP_D_FROM_INT(159, fcvt.d.wu, 0, 0x41efffffffe00000, 0x12345678ffffffff) /* 0x12345678ffffffff */
  TEST_FP_D_FROM_INT(160, fcvt.d.l, FFLAGS_NX, 0x4340000000000000, 0x0020000000000001) /* 9007199254740993 */
  TEST_FP_D_FROM_INT(161, fcvt.d.l, FFLAGS_NX, 0x43e0000000000000, 0x7fffffffffffffff) /* 0x7fffffffffffffff */
  TEST_FP_D_FROM_INT(162, fcvt.d.l, 0, 0xc3e0000000000000, 0x8000000000000000) /* 0x8000000000000000 */
  TEST_FP_D_FROM_INT(163, fcvt.d.l, FFLAGS_NX, 0xc340000000000000, 0xffdfffffffffffff) /* -9007199254740993 */
  TEST_FP_D_FROM_INT(164, fcvt.d.lu, FFLAGS_NX, 0x43f0000000000000, 0xffffffffffffffff) /* 0xffffffffffffffff */
  TEST_FP_D_FROM_INT(165, fcvt.d.lu, FFLAGS_NX, 0x4340000000000000, 0x0020000000000001) /* 9007199254740993 */
  /* integer to float in every rounding mode */
  TEST_FP_S_FROM_INT(166, fcvt.s.w, FFLAGS_NX, 0x4b800002, 0x0000000001000003, rne) /* 16777219 rne */
  TEST_FP_S_FROM_INT(167, fcvt.s.w, FFLAGS_NX, 0xcb800002, 0xfffffffffefffffd, rne) /* -16777219 rne */
  TEST_FP_S_FROM_INT(168, fcvt.s.lu, FFLAGS_NX, 0x5f800000, 0xffffffffffffffff, rne) /* 0xffffffffffffffff rne */
  TEST_FP_D_FROM_INT(169, fcvt.d.l, FFLAGS_NX, 0xc340000000000002, 0xffdffffffffffffd, rne) /* -9007199254740995 rne */
  TEST_FP_D_FROM_INT(170, fcvt.d.lu, FFLAGS_NX, 0x43f0000000000000, 0xfffffffffffffc01, rne) /* 0xfffffffffffffc01 rne */
  TEST_FP_S_FROM_INT(171, fcvt.s.w, FFLAGS_NX, 0x4b800001, 0x0000000001000003, rtz) /* 16777219 rtz */
  TEST_FP_S_FROM_INT(172, fcvt.s.w, FFLAGS_NX, 0xcb800001, 0xfffffffffefffffd, rtz) /* -16777219 rtz */
  TEST_FP_S_FROM_INT(173, fcvt.s.lu, FFLAGS_NX, 0x5f7fffff, 0xffffffffffffffff, rtz) /* 0xffffffffffffffff rtz */
  TEST_FP_D_FROM_INT(174, fcvt.d.l, FFLAGS_NX, 0xc340000000000001, 0xffdffffffffffffd, rtz) /* -9007199254740995 rtz */
  TEST_FP_D_FROM_INT(175, fcvt.d.lu, FFLAGS_NX, 0x43efffffffffffff, 0xfffffffffffffc01, rtz) /* 0xfffffffffffffc01 rtz */
  TEST_FP_S_FROM_INT(176, fcvt.s.w, FFLAGS_NX, 0x4b800001, 0x0000000001000003, rdn) /* 16777219 rdn */
  TEST_FP_S_FROM_INT(177, fcvt.s.w, FFLAGS_NX, 0xcb800002, 0xfffffffffefffffd, rdn) /* -16777219 rdn */
  TEST_FP_S_FROM_INT(178, fcvt.s.lu, FFLAGS_NX, 0x5f7fffff, 0xffffffffffffffff, rdn) /* 0xffffffffffffffff rdn */
  TEST_FP_D_FROM_INT(179, fcvt.d.l, FFLAGS_NX, 0xc340000000000002, 0xffdffffffffffffd, rdn) /* -9007199254740995 rdn */
  TEST_FP_D_FROM_INT(180, fcvt.d.lu, FFLAGS_NX, 0x43efffffffffffff, 0xfffffffffffffc01, rdn) /* 0xfffffffffffffc01 rdn */
  TEST_FP_S_FROM_INT(181, fcvt.s.w, FFLAGS_NX, 0x4b800002, 0x0000000001000003, rup) /* 16777219 rup */
  TEST_FP_S_FROM_INT(182, fcvt.s.w, FFLAGS_NX, 0xcb800001, 0xfffffffffefffffd, rup) /* -16777219 rup */
  TEST_FP_S_FROM_INT(183, fcvt.s.lu, FFLAGS_NX, 0x5f800000, 0xffffffffffffffff, rup) /* 0xffffffffffffffff rup */
  TEST_FP_D_FROM_INT(184, fcvt.d.l, FFLAGS_NX, 0xc340000000000001, 0xffdffffffffffffd, rup) /* -9007199254740995 rup */
  TEST_FP_D_FROM_INT(185, fcvt.d.lu, FFLAGS_NX, 0x43f0000000000000, 0xfffffffffffffc01, rup) /* 0xfffffffffffffc01 rup */
  TEST_FP_S_FROM_INT(186, fcvt.s.w, FFLAGS_NX, 0x4b800002, 0x0000000001000003, rmm) /* 16777219 rmm */
  TEST_FP_S_FROM_INT(187, fcvt.s.w, FFLAGS_NX, 0xcb800002, 0xfffffffffefffffd, rmm) /* -16777219 rmm */
  TEST_FP_S_FROM_INT(188, fcvt.s.lu, FFLAGS_NX, 0x5f800000, 0xffffffffffffffff, rmm) /* 0xffffffffffffffff rmm */
  TEST_FP_D_FROM_INT(189, fcvt.d.l, FFLAGS_NX, 0xc340000000000002, 0xffdffffffffffffd, rmm) /* -9007199254740995 rmm */
  TEST_FP_D_FROM_INT(190, fcvt.d.lu, FFLAGS_NX, 0x43f0000000000000, 0xfffffffffffffc01, rmm) /* 0xfffffffffffffc01 rmm */

TEST_END
