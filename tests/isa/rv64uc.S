/* RV64C: every compressed instruction of RV64GC, written with explicit c.*
 * mnemonics so that the assembler cannot pick the full-size encoding, and the
 * all-zero halfword, which is defined to be an illegal instruction. */
#include "test_macros.h"

TEST_BEGIN
  .option rvc

  /* c.li / c.addi / c.addiw / c.lui: 6-bit immediates, sign-extended. */
  TEST_CASE(1, a0, 31, c.li a0, 31)
  TEST_CASE(2, a0, -32, c.li a0, -32)
  TEST_CASE(3, s1, 0x10, c.li s1, 0x1f; c.addi s1, -15)
  TEST_CASE(4, a0, -1, c.li a0, 0; c.addi a0, -1)
  TEST_CASE(5, t2, 30, c.li t2, -1; c.addi t2, 31)
  TEST_CASE(6, a0, 0xffffffff80000000, li a0, 0x7fffffff; c.addiw a0, 1)
  TEST_CASE(7, a0, 0xffffffff89abcdef, li a0, 0x0123456789abcdef; c.addiw a0, 0)
  TEST_CASE(8, a0, 0x000000007fffffe0, li a0, 0xffffffff80000000; c.addiw a0, -32)
  TEST_CASE(9, a0, 0x0000000000001000, c.lui a0, 1)
  TEST_CASE(10, a0, 0x000000000001f000, c.lui a0, 0x1f)
  TEST_CASE(11, a0, 0xfffffffffffe0000, c.lui a0, 0xfffe0)
  TEST_CASE(12, t0, 0xfffffffffffff000, c.lui t0, 0xfffff)
  /* c.nop does nothing. */
  TEST_CASE(13, a0, 5, li a0, 5; c.nop; c.nop)

  /* c.addi4spn and c.addi16sp work on sp. */
  SET_TESTNUM(14)
  mv s2, sp
  la sp, cbuf
  c.addi4spn a0, sp, 4
  la a1, cbuf + 4
  CHECK_EQ_REG(a0, a1)
  c.addi4spn s1, sp, 1020
  la a1, cbuf + 1020
  CHECK_EQ_REG(s1, a1)
  SET_TESTNUM(15)
  c.addi16sp sp, 496
  la a1, cbuf + 496
  CHECK_EQ_REG(sp, a1)
  c.addi16sp sp, -512
  la a1, cbuf - 16
  CHECK_EQ_REG(sp, a1)
  c.addi16sp sp, 16
  mv sp, s2

  /* Shifts and logic on x8-x15. */
  TEST_CASE(16, a0, 0x8000000000000000, li a0, 1; c.slli a0, 63)
  TEST_CASE(17, t1, 0x0000000100000000, li t1, 1; c.slli t1, 32)
  TEST_CASE(18, a1, 0x0000000000000001, li a1, 0x8000000000000000; c.srli a1, 63)
  TEST_CASE(19, a1, 0x0000000080000000, li a1, 0x8000000000000000; c.srli a1, 32)
  TEST_CASE(20, a2, 0xffffffffffffffff, li a2, 0x8000000000000000; c.srai a2, 63)
  TEST_CASE(21, a2, 0xffffffff80000000, li a2, 0x8000000000000000; c.srai a2, 32)
  TEST_CASE(22, a2, 0x0000000000000001, li a2, 0x0000000000000003; c.srai a2, 1)
  TEST_CASE(23, a3, 0x0000000000000010, li a3, 0x1234567800000013; c.andi a3, 0x1c)
  TEST_CASE(24, a3, 0x12345678000000e0, li a3, 0x12345678000000f3; c.andi a3, -32)
  TEST_CASE(25, a4, 0xfffffffffffffffe, li a4, 3; li a5, 5; c.sub a4, a5)
  TEST_CASE(26, a4, 0x0f0f0f0f0f0f0f0f, li a4, 0xff00ff00ff00ff00; li a5, 0xf00ff00ff00ff00f; c.xor a4, a5)
  TEST_CASE(27, s0, 0xff0fff0fff0fff0f, li s0, 0xff00ff00ff00ff00; li a5, 0x0f0f0f0f0f0f0f0f; c.or s0, a5)
  TEST_CASE(28, s0, 0x0f000f000f000f00, li s0, 0xff00ff00ff00ff00; li a5, 0x0f0f0f0f0f0f0f0f; c.and s0, a5)
  TEST_CASE(29, a0, 0xffffffff80000000, li a0, 0x7fffffff; li a1, 0xffffffff; c.subw a0, a1)
  TEST_CASE(30, a0, 0x000000007fffffff, li a0, 0x80000000; li a1, 1; c.subw a0, a1)
  TEST_CASE(31, a0, 0xffffffff80000000, li a0, 0x7fffffff; li a1, 0x100000001; c.addw a0, a1)
  TEST_CASE(32, a0, 0x0000000000000000, li a0, 0xffffffff; li a1, 1; c.addw a0, a1)

  /* c.mv and c.add use any register. */
  TEST_CASE(33, t3, 0x0123456789abcdef, li t4, 0x0123456789abcdef; c.mv t3, t4)
  TEST_CASE(34, s5, 0x0000000000000000, li s5, 0xffffffffffffffff; li s6, 1; c.add s5, s6)
  TEST_CASE(35, ra, 0x8000000000000000, li ra, 0x7fffffffffffffff; li a7, 1; c.add ra, a7)

  /* Loads and stores, register-based (x8-x15) and sp-based. */
  SET_TESTNUM(36)
  la s0, cdata
  c.lw a0, 0(s0)
  CHECK_EQ(a0, 0xffffffff89abcdef)
  c.lw a0, 4(s0)
  CHECK_EQ(a0, 0x0000000001234567)
  c.ld a1, 0(s0)
  CHECK_EQ(a1, 0x0123456789abcdef)
  c.ld a1, 8(s0)
  CHECK_EQ(a1, 0xfedcba9876543210)
  SET_TESTNUM(37)
  la s1, cbuf
  li a2, 0x1111111111111111
  c.sd a2, 0(s1)
  c.sd a2, 248(s1)
  li a3, 0x00000000deadbeef
  c.sw a3, 4(s1)
  c.sw a3, 124(s1)
  ld a0, 0(s1)
  CHECK_EQ(a0, 0xdeadbeef11111111)
  ld a0, 248(s1)
  CHECK_EQ(a0, 0x1111111111111111)
  lwu a0, 124(s1)
  CHECK_EQ(a0, 0xdeadbeef)
  c.ld a4, 0(s1)
  CHECK_EQ(a4, 0xdeadbeef11111111)
  SET_TESTNUM(38)
  mv s2, sp
  la sp, cbuf
  li a0, 0x0123456789abcdef
  c.sdsp a0, 0(sp)
  c.sdsp a0, 504(sp)
  li a1, 0x80000000
  c.swsp a1, 8(sp)
  c.swsp a1, 252(sp)
  c.ldsp t0, 504(sp)
  c.lwsp t1, 8(sp)
  c.lwsp t2, 252(sp)
  c.ldsp t3, 0(sp)
  mv sp, s2
  CHECK_EQ(t0, 0x0123456789abcdef)
  CHECK_EQ(t1, 0xffffffff80000000)
  CHECK_EQ(t2, 0xffffffff80000000)
  CHECK_EQ(t3, 0x0123456789abcdef)
  /* Floating-point loads and stores. */
  SET_TESTNUM(39)
  la s0, cdata
  c.fld fa0, 8(s0)
  fmv.x.d a0, fa0
  CHECK_EQ(a0, 0xfedcba9876543210)
  la s1, cbuf
  c.fsd fa0, 16(s1)
  c.fsd fa0, 248(s1)
  ld a0, 16(s1)
  CHECK_EQ(a0, 0xfedcba9876543210)
  ld a0, 248(s1)
  CHECK_EQ(a0, 0xfedcba9876543210)
  SET_TESTNUM(40)
  mv s2, sp
  la sp, cdata
  c.fldsp ft0, 0(sp)
  la sp, cbuf
  c.fsdsp ft0, 32(sp)
  c.fsdsp ft0, 504(sp)
  c.fldsp ft1, 504(sp)
  mv sp, s2
  ld a0, 32(s1)
  CHECK_EQ(a0, 0x0123456789abcdef)
  fmv.x.d a0, ft1
  CHECK_EQ(a0, 0x0123456789abcdef)

  /* Control transfer. */
  SET_TESTNUM(41)
  c.j 1f
  j test_fail
1:
  SET_TESTNUM(42)
  li a0, 0
  c.beqz a0, 1f
  j test_fail
1:
  li a0, 1
  c.beqz a0, 2f
  j 3f
2:
  j test_fail
3:
  SET_TESTNUM(43)
  li a1, 0x8000000000000000
  c.bnez a1, 1f
  j test_fail
1:
  li a1, 0
  c.bnez a1, 2f
  j 3f
2:
  j test_fail
3:
  /* Backward c.bnez loop. */
  SET_TESTNUM(44)
  li a2, 5
  li a0, 0
1:
  addi a0, a0, 3
  addi a2, a2, -1
  c.bnez a2, 1b
  CHECK_EQ(a0, 15)
  /* c.jr */
  SET_TESTNUM(45)
  la t0, 1f
  c.jr t0
  j test_fail
1:
  /* c.jalr links pc + 2. */
  SET_TESTNUM(46)
  la t0, 1f
  c.jalr t0
test46_link:
  j test_fail
1:
  CHECK_ADDR(ra, test46_link)
  /* c.jalr with rs1 = ra uses the old ra as target. */
  SET_TESTNUM(47)
  la ra, 1f
  c.jalr ra
test47_link:
  j test_fail
1:
  CHECK_ADDR(ra, test47_link)
  /* A 32-bit instruction at an address that is only 2-byte aligned. */
  SET_TESTNUM(48)
  .balign 4
  c.nop
  .option push
  .option norvc
  addi a0, zero, 0x123
  .option pop
  CHECK_EQ(a0, 0x123)
  la t0, test48_target
  c.jr t0
  .balign 4
  c.nop
test48_target:
  .option push
  .option norvc
  addi a0, a0, 1
  .option pop
  CHECK_EQ(a0, 0x124)

  /* c.ebreak: breakpoint, mepc at the c.ebreak. */
  SET_TESTNUM(49)
  TRAP_ARM_LABEL(1f)
test49_insn:
  c.ebreak
  j test_fail
1:
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_BREAKPOINT)
  CHECK_MEPC_LABEL(test49_insn)

  /* The all-zero halfword is illegal; mtval holds the (zero) instruction bits. */
  SET_TESTNUM(50)
  TRAP_ARM_LABEL(1f)
test50_insn:
  .2byte 0
  j test_fail
1:
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_ILLEGAL_INSTRUCTION)
  CHECK_MEPC_LABEL(test50_insn)
  CHECK_MTVAL(0)

TEST_END

  .data
  .align 4
cdata:
  .dword 0x0123456789abcdef
  .dword 0xfedcba9876543210
  .align 4
  .zero 512
cbuf:
  .zero 1024
