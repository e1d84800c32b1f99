/* Zacas: amocas.w, amocas.d and amocas.q, as the specification's pseudocode has them: a
 * match stores rs2 and a mismatch stores nothing, rd gets the old value either way (the word
 * sign-extended, compared on its low 32 bits), x0 as rd compares with zero and writes
 * nothing, x0 as rs2 (a pair for amocas.q) swaps in zero, rd may be rs2; then the
 * specification's 128-bit counter increment, and the AMO rules: natural alignment (a
 * store-address-misaligned trap), device windows (a store access fault) and odd register
 * pairs (reserved: illegal). binutils 2.40 has no Zacas: test_macros.h spells the
 * instructions with .insn (amocas.w rd, rs2, rs1 for amocas.w rd, rs2, (rs1)). QEMU 7.2 has
 * no Zacas (run-on-qemu.sh knows this test fails there). */
#include "test_macros.h"

/* The dword at cas_data after an amocas that leaves rd in a0. */
#define CHECK_CAS(num, a0_value, mem_value) \
  SET_TESTNUM(num);                         \
  CHECK_EQ(a0, a0_value);                   \
  CHECK_MEM(cas_data, 0, mem_value)

TEST_BEGIN
  .option norvc
  la s0, cas_data

  /* amocas.w: equal on the low 32 bits (rd's upper half is not looked at) */
  SET_TESTNUM(1)
  li t0, 0x1111111180000000; sd t0, 0(s0)
  li a0, 0x0000000080000000; li a1, 0x2222222212345678
  amocas.w a0, a1, s0
  CHECK_CAS(1, 0xffffffff80000000, 0x1111111112345678)
  /* not equal: nothing stored, rd the old word sign-extended */
  li a0, 0x12345679; li a1, -1
  amocas.w a0, a1, s0
  CHECK_CAS(2, 0x12345678, 0x1111111112345678)

  /* amocas.d */
  li t0, 0x8000000000000001; sd t0, 0(s0)
  li a0, 0x8000000000000001; li a1, 0x0123456789abcdef
  amocas.d a0, a1, s0
  CHECK_CAS(3, 0x8000000000000001, 0x0123456789abcdef)
  li a0, 0x0123456789abcdee; li a1, 0
  amocas.d a0, a1, s0
  CHECK_CAS(4, 0x0123456789abcdef, 0x0123456789abcdef)

  /* x0 as rd: compares with zero, writes no register */
  sd zero, 0(s0)
  li a1, 0x5555
  amocas.d zero, a1, s0
  CHECK_MEM(cas_data, 0, 0x5555)
  amocas.d zero, a1, s0  /* 0x5555 is not zero: nothing stored */
  SET_TESTNUM(5)
  CHECK_MEM(cas_data, 0, 0x5555)
  /* rd = rs2: the expected value is also the one stored */
  li a0, 0x5555
  amocas.d a0, a0, s0
  CHECK_CAS(6, 0x5555, 0x5555)
  li a0, 0x7777
  amocas.w a0, a0, s0
  CHECK_CAS(7, 0x5555, 0x5555)

  /* amocas.q: the pairs (a0, a1) and (a2, a3), low half in the even register */
  la s1, cas_quad
  li t0, 0x0123456789abcdef; sd t0, 0(s1)
  li t0, 0xfedcba9876543210; sd t0, 8(s1)
  li a0, 0x0123456789abcdef; li a1, 0xfedcba9876543210
  li a2, 0x1111111111111111; li a3, 0x2222222222222222
  amocas.q a0, a2, s1
  SET_TESTNUM(8)
  CHECK_EQ(a0, 0x0123456789abcdef)
  CHECK_EQ(a1, 0xfedcba9876543210)
  CHECK_MEM(cas_quad, 0, 0x1111111111111111)
  CHECK_MEM(cas_quad, 8, 0x2222222222222222)
  /* the low halves equal, the high ones not: nothing stored */
  li a0, 0x1111111111111111; li a1, 0x2222222222222223
  li a4, -1; li a5, -1
  amocas.q a0, a4, s1
  SET_TESTNUM(9)
  CHECK_EQ(a0, 0x1111111111111111)
  CHECK_EQ(a1, 0x2222222222222222)
  CHECK_MEM(cas_quad, 0, 0x1111111111111111)
  CHECK_MEM(cas_quad, 8, 0x2222222222222222)
  /* x0 as rd: compares with zero in both halves; neither x0 nor x1 is written */
  sd zero, 0(s1); sd zero, 8(s1)
  li ra, 0x3333
  amocas.q zero, a4, s1
  SET_TESTNUM(10)
  CHECK_EQ(ra, 0x3333)
  CHECK_MEM(cas_quad, 0, -1)
  CHECK_MEM(cas_quad, 8, -1)
  /* x0 as rs2: swaps in zero in both halves (x1 is not read) */
  li a0, -1; li a1, -1
  amocas.q a0, zero, s1
  SET_TESTNUM(11)
  CHECK_EQ(a0, -1)
  CHECK_EQ(a1, -1)
  CHECK_MEM(cas_quad, 0, 0)
  CHECK_MEM(cas_quad, 8, 0)

  /* The specification's counter increment, made 128-bit: retry until the CAS sees the
   * value it read. */
  li t0, -1; sd t0, 0(s1)
  li t0, 5; sd t0, 8(s1)
  ld a2, 0(s1)
  ld a3, 8(s1)
1:
  mv a6, a2
  mv a7, a3
  addi a4, a2, 1
  sltu t1, a4, a2
  add a5, a3, t1
  amocas.q.aqrl a2, a4, s1
  bne a2, a6, 1b
  bne a3, a7, 1b
  SET_TESTNUM(12)
  CHECK_MEM(cas_quad, 0, 0)
  CHECK_MEM(cas_quad, 8, 6)

  /* Natural alignment, as for the other AMOs: a store-address-misaligned trap, tval the
   * address, and nothing written. */
  addi s2, s0, 2
  TEST_TRAP(13, CAUSE_MISALIGNED_STORE, li a0, 0x5555; amocas.w a0, a1, s2)
  CHECK_MTVAL_REG(s2)
  CHECK_EQ(a0, 0x5555)
  addi s2, s0, 4
  TEST_TRAP(14, CAUSE_MISALIGNED_STORE, amocas.d a0, a1, s2)
  CHECK_MTVAL_REG(s2)
  addi s2, s1, 8
  TEST_TRAP(15, CAUSE_MISALIGNED_STORE, amocas.q a0, a2, s2)
  CHECK_MTVAL_REG(s2)
  CHECK_MEM(cas_data, 0, 0x5555)
  /* Device registers take no atomics: a store access fault. */
  li s2, CLINT_MTIMECMP
  TEST_TRAP_TVAL(16, CAUSE_STORE_ACCESS, CLINT_MTIMECMP, amocas.d a0, a1, s2)
  /* amocas.q's odd registers are reserved: an illegal instruction, rd untouched. */
  li a1, 0x6666
  TEST_TRAP_TVAL(17, CAUSE_ILLEGAL_INSTRUCTION, 0x28c4c5af, .insn r 0x2f, 4, 0x14, a1, s1, a2)
  CHECK_EQ(a1, 0x6666)
  TEST_TRAP_TVAL(18, CAUSE_ILLEGAL_INSTRUCTION, 0x28b4c52f, .insn r 0x2f, 4, 0x14, a0, s1, a1)
TEST_END

  .data
  .balign 16
cas_quad:
  .dword 0, 0
cas_data:
  .dword 0
