/* Zcb: the byte and halfword loads and stores with their offsets, the unary operations on
 * the edge values of their widths, c.mul, and every register of the 3-bit fields. binutils
 * 2.40 has no Zcb, so the instructions are .insn from the fields the specification gives
 * them (test_macros.h, where c.lbu rd, uimm, rs1 stands for c.lbu rd, uimm(rs1)). QEMU 7.2
 * has no Zcb (run-on-qemu.sh knows this test fails there). */
#include "test_macros.h"

TEST_BEGIN
  .option norvc

  /* c.lbu: each of the four offsets, zero-extended */
  la s0, zcb_data
  TEST_CASE(1, a0, 0x80, li a0, -1; c.lbu a0, 0, s0)
  TEST_CASE(2, a1, 0x01, c.lbu a1, 1, s0)
  TEST_CASE(3, a2, 0xff, c.lbu a2, 2, s0)
  TEST_CASE(4, s0, 0x7f, c.lbu s0, 3, s0)  /* rd = rs1 */

  /* c.lhu and c.lh: both offsets, zero- and sign-extended */
  la s1, zcb_data
  TEST_CASE(5, a3, 0x0180, c.lhu a3, 0, s1)
  TEST_CASE(6, a4, 0x7fff, c.lhu a4, 2, s1)
  TEST_CASE(7, a5, 0x8001, addi a5, s1, 4; c.lhu a5, 0, a5)
  TEST_CASE(8, a0, 0xffffffffffff8001, addi a0, s1, 4; c.lh a0, 0, a0)
  TEST_CASE(9, a1, 0x7fff, c.lh a1, 2, s1)
  TEST_CASE(10, a2, 0xffffffffffffff00, addi a2, s1, 4; c.lh a2, 2, a2)

  /* c.sb and c.sh: the low byte or halfword of rs2, at each offset */
  la s1, zcb_scratch
  sd zero, 0(s1)
  li a0, 0x1234567890abcdef
  c.sb a0, 0, s1
  li a1, 0x11
  c.sb a1, 1, s1
  li a2, -1
  c.sb a2, 2, s1
  li a3, 0x80
  c.sb a3, 3, s1
  TEST_CASE(11, a4, 0x80ff11ef, lwu a4, 0(s1))
  li a4, 0x8765
  c.sh a4, 0, s1
  li a5, 0xffffffffffff1234
  c.sh a5, 2, s1
  TEST_CASE(12, s0, 0x12348765, lwu s0, 0(s1))
  TEST_CASE(13, a0, 0, lwu a0, 4(s1))

  /* c.zext.b (andi 0xff), c.sext.b, c.zext.h, c.sext.h */
  TEST_CASE(14, a0, 0x80, li a0, 0xffffffffffffff80; c.zext.b a0)
  TEST_CASE(15, s1, 0x7f, li s1, 0x123456789abcde7f; c.zext.b s1)
  TEST_CASE(16, a1, 0xffffffffffffff80, li a1, 0x0123456789abcd80; c.sext.b a1)
  TEST_CASE(17, a2, 0x7f, li a2, 0xffffffffffffff7f; c.sext.b a2)
  TEST_CASE(18, a3, 0, li a3, 0x100; c.sext.b a3)
  TEST_CASE(19, a4, 0x8001, li a4, 0xffffffffffff8001; c.zext.h a4)
  TEST_CASE(20, a5, 0xffff, li a5, -1; c.zext.h a5)
  TEST_CASE(21, s0, 0xffffffffffff8001, li s0, 0x8001; c.sext.h s0)
  TEST_CASE(22, s1, 0x7fff, li s1, 0xffffffff00007fff; c.sext.h s1)

  /* c.zext.w (add.uw rd, rd, zero) and c.not (xori rd, rd, -1) */
  TEST_CASE(23, a0, 0x80000000, li a0, 0xffffffff80000000; c.zext.w a0)
  TEST_CASE(24, a1, 0xffffffff, li a1, -1; c.zext.w a1)
  TEST_CASE(25, a2, 0x0123456789abcdef, li a2, 0xfedcba9876543210; c.not a2)
  TEST_CASE(26, a3, -1, li a3, 0; c.not a3)

  /* c.mul: the low 64 bits of the product, signed or not alike */
  TEST_CASE(27, a4, -21, li a4, -3; li a5, 7; c.mul a4, a5)
  TEST_CASE(28, s0, 0x8000000000000003, li s0, 0x8000000000000001; li s1, 3; c.mul s0, s1)
  TEST_CASE(29, a0, 25, li a0, 5; c.mul a0, a0)  /* rs2 = rd */
  TEST_CASE(30, a1, 0, li a1, 0x100000000; li a2, 0x100000000; c.mul a1, a2)
  TEST_CASE(31, a5, 0x7fff, li a5, 0x7fff; li a3, 1; c.mul a5, a3)
TEST_END

  .data
  .balign 8
zcb_data:
  .byte 0x80, 0x01, 0xff, 0x7f
  .half 0x8001, 0xff00
zcb_scratch:
  .dword 0
