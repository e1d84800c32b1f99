/* RV64A: every AMO in .w and .d form (old value returned, .w sign-extended,
 * neighbouring bytes untouched), LR/SC success and failure, and the
 * address-misaligned exceptions that Vessel raises for LR/SC/AMO (cause 4 for
 * LR, 6 for SC/AMO) even though it performs misaligned plain loads/stores. */
#include "test_macros.h"

/* amo rd, rs2, (rs1) on a dword holding `init`. */
#define TEST_AMO_D(num, inst, old, new, init, operand) \
  SET_TESTNUM(num);                                    \
  la a1, abuf;                                         \
  li a2, init;                                         \
  sd a2, 0(a1);                                        \
  li a2, operand;                                      \
  inst a0, a2, (a1);                                   \
  CHECK_EQ(a0, old);                                   \
  ld a3, 0(a1);                                        \
  CHECK_EQ(a3, new)

/* The word AMO acts on the low word of a dword whose high word is a guard. */
#define TEST_AMO_W(num, inst, old, new, init, operand) \
  SET_TESTNUM(num);                                    \
  la a1, abuf;                                         \
  li a2, 0x5a5a5a5a00000000 | (init);                  \
  sd a2, 0(a1);                                        \
  li a2, operand;                                      \
  inst a0, a2, (a1);                                   \
  CHECK_EQ(a0, old);                                   \
  ld a3, 0(a1);                                        \
  CHECK_EQ(a3, 0x5a5a5a5a00000000 | (new))

TEST_BEGIN
  .option norvc

  /* every AMO returns the old memory value; .w sign-extends it */
  TEST_AMO_D(1, amoswap.d, 0x0123456789abcdef, 0xfedcba9876543210, 0x0123456789abcdef, 0xfedcba9876543210)
  TEST_AMO_W(2, amoswap.w, 0xffffffff89abcdef, 0x0000000076543210, 0x0000000089abcdef, 0x0000000076543210)
  TEST_AMO_D(3, amoadd.d, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff, 0x0000000000000001)
  TEST_AMO_W(4, amoadd.w, 0x000000007fffffff, 0x0000000080000000, 0x000000007fffffff, 0x0000000000000001)
  TEST_AMO_W(5, amoadd.w, 0xffffffffffffffff, 0x0000000000000000, 0x00000000ffffffff, 0xffffffff00000001)
  TEST_AMO_D(6, amoxor.d, 0xff00ff00ff00ff00, 0xf0f0f0f0f0f0f0f0, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0)
  TEST_AMO_W(7, amoxor.w, 0xffffffffff00ff00, 0x00000000f0f0f0f0, 0x00000000ff00ff00, 0x123456780ff00ff0)
  TEST_AMO_D(8, amoand.d, 0xff00ff00ff00ff00, 0x0f000f000f000f00, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0)
  TEST_AMO_W(9, amoand.w, 0xffffffffff00ff00, 0x000000000f000f00, 0x00000000ff00ff00, 0x000000000ff00ff0)
  TEST_AMO_D(10, amoor.d, 0xff00ff00ff00ff00, 0xfff0fff0fff0fff0, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0)
  TEST_AMO_W(11, amoor.w, 0x000000000f00ff00, 0x00000000fff0ff00, 0x000000000f00ff00, 0xfffffffff0f00000)
  /* min/max compare signed, minu/maxu unsigned; .w compares only the low words */
  TEST_AMO_D(12, amomin.d, 0x8000000000000000, 0x8000000000000000, 0x8000000000000000, 0x0000000000000001)
  TEST_AMO_D(13, amomin.d, 0x0000000000000005, 0xfffffffffffffffd, 0x0000000000000005, 0xfffffffffffffffd)
  TEST_AMO_W(14, amomin.w, 0xffffffff80000000, 0x0000000080000000, 0x0000000080000000, 0x0000000000000001)
  TEST_AMO_W(15, amomin.w, 0x0000000000000001, 0x00000000ffffffff, 0x0000000000000001, 0x00000000ffffffff)
  TEST_AMO_D(16, amomax.d, 0x8000000000000000, 0x0000000000000001, 0x8000000000000000, 0x0000000000000001)
  TEST_AMO_W(17, amomax.w, 0xffffffff80000000, 0x000000007fffffff, 0x0000000080000000, 0x000000007fffffff)
  TEST_AMO_W(18, amomax.w, 0x000000007fffffff, 0x000000007fffffff, 0x000000007fffffff, 0x0000000180000000)
  TEST_AMO_D(19, amominu.d, 0x8000000000000000, 0x0000000000000001, 0x8000000000000000, 0x0000000000000001)
  TEST_AMO_W(20, amominu.w, 0xffffffff80000000, 0x0000000000000001, 0x0000000080000000, 0x0000000100000001)
  TEST_AMO_W(21, amominu.w, 0x0000000000000001, 0x0000000000000001, 0x0000000000000001, 0x00000000ffffffff)
  TEST_AMO_D(22, amomaxu.d, 0x8000000000000000, 0x8000000000000000, 0x8000000000000000, 0x0000000000000001)
  TEST_AMO_W(23, amomaxu.w, 0xffffffff80000000, 0x0000000080000000, 0x0000000080000000, 0x000000007fffffff)
  TEST_AMO_W(24, amomaxu.w, 0x0000000000000001, 0x0000000000000002, 0x0000000000000001, 0xfffffffe00000002)

  /* Ordering bits do not change the result. */
  TEST_AMO_D(25, amoadd.d.aqrl, 0x10, 0x11, 0x10, 1)
  TEST_AMO_W(26, amoor.w.aq, 0x10, 0x11, 0x10, 1)
  TEST_AMO_D(27, amoswap.d.rl, 0x10, 0x22, 0x10, 0x22)
  /* rd = x0 still performs the memory update. */
  SET_TESTNUM(28)
  la a1, abuf
  li a2, 40
  sd a2, 0(a1)
  li a2, 2
  amoadd.d x0, a2, (a1)
  ld a0, 0(a1)
  CHECK_EQ(a0, 42)
  /* rd == rs2: the old value lands in rd, memory gets the old rs2. */
  SET_TESTNUM(29)
  la a1, abuf
  li a2, 7
  sd a2, 0(a1)
  li a0, 9
  amoswap.d a0, a0, (a1)
  CHECK_EQ(a0, 7)
  ld a3, 0(a1)
  CHECK_EQ(a3, 9)
  /* The word AMO on the high word of a dword. */
  SET_TESTNUM(30)
  la a1, abuf
  li a2, 0x8000000012345678
  sd a2, 0(a1)
  li a2, 1
  addi a1, a1, 4
  amoadd.w a0, a2, (a1)
  addi a1, a1, -4
  CHECK_EQ(a0, 0xffffffff80000000)
  ld a3, 0(a1)
  CHECK_EQ(a3, 0x8000000112345678)

  /* LR/SC: a pair on the same address succeeds (rd = 0). */
  SET_TESTNUM(31)
  la a1, abuf
  li a2, 100
  sd a2, 0(a1)
  lr.d a0, (a1)
  addi a0, a0, 1
  sc.d a3, a0, (a1)
  CHECK_EQ(a3, 0)
  ld a4, 0(a1)
  CHECK_EQ(a4, 101)
  /* lr.w sign-extends; sc.w stores only the word. */
  SET_TESTNUM(32)
  la a1, abuf
  li a2, 0x1111111180000000
  sd a2, 0(a1)
  lr.w a0, (a1)
  CHECK_EQ(a0, 0xffffffff80000000)
  li a0, 0x7777777700000005
  sc.w a3, a0, (a1)
  CHECK_EQ(a3, 0)
  ld a4, 0(a1)
  CHECK_EQ(a4, 0x1111111100000005)
  /* An SC consumes the reservation: a second SC fails and stores nothing. */
  SET_TESTNUM(33)
  la a1, abuf
  sd zero, 0(a1)
  lr.d a0, (a1)
  li a2, 1
  sc.d a3, a2, (a1)
  CHECK_EQ(a3, 0)
  li a2, 2
  sc.d a3, a2, (a1)
  CHECK_NE(a3, 0)
  ld a4, 0(a1)
  CHECK_EQ(a4, 1)
  /* SC without any LR fails. */
  SET_TESTNUM(34)
  la a1, abuf2
  li a2, 0x66
  sd a2, 0(a1)
  li a2, 0x77
  sc.d a3, a2, (a1)
  CHECK_NE(a3, 0)
  ld a4, 0(a1)
  CHECK_EQ(a4, 0x66)
  /* SC to an address other than the reserved one (a different page) fails. */
  SET_TESTNUM(35)
  la a1, abuf
  la a5, abuf2
  sd zero, 0(a5)
  lr.d a0, (a1)
  li a2, 0x99
  sc.d a3, a2, (a5)
  CHECK_NE(a3, 0)
  ld a4, 0(a5)
  CHECK_EQ(a4, 0)
  /* A failed SC also ends the reservation. */
  la a1, abuf
  sc.d a3, a2, (a1)
  CHECK_NE(a3, 0)
  /* lr/sc with ordering bits, and a retry loop as software writes it. */
  SET_TESTNUM(36)
  la a1, abuf
  li a2, 5
  sd a2, 0(a1)
1:
  lr.d.aq a0, (a1)
  addi a0, a0, 10
  sc.d.rl a3, a0, (a1)
  bnez a3, 1b
  ld a4, 0(a1)
  CHECK_EQ(a4, 15)
  /* The reservation survives a plain load in between. */
  SET_TESTNUM(37)
  la a1, abuf
  lr.w a0, (a1)
  ld a5, 8(a1)
  sc.w a3, a0, (a1)
  CHECK_EQ(a3, 0)

  /* Misaligned LR/SC/AMO raise address-misaligned with mtval = the address;
   * memory and rd are left alone. (Plain misaligned accesses do not trap:
   * misaligned.S.) */
  la a1, abuf
  li a2, 0x0123456789abcdef
  sd a2, 0(a1)
  sd a2, 8(a1)
  addi a1, a1, 2
  li a0, 0x5555
  li a2, 1
  TEST_TRAP(38, CAUSE_MISALIGNED_STORE, amoadd.w a0, a2, (a1))
  CHECK_MTVAL_REG(a1)
  CHECK_EQ(a0, 0x5555)
  TEST_TRAP(39, CAUSE_MISALIGNED_STORE, amoswap.d a0, a2, (a1))
  CHECK_MTVAL_REG(a1)
  addi a1, a1, 2
  TEST_TRAP(40, CAUSE_MISALIGNED_STORE, amoor.d a0, a2, (a1))
  CHECK_MTVAL_REG(a1)
  TEST_TRAP(41, CAUSE_MISALIGNED_STORE, amomaxu.d a0, a2, (a1))
  CHECK_MTVAL_REG(a1)
  CHECK_EQ(a0, 0x5555)
  addi a1, a1, -3
  TEST_TRAP(42, CAUSE_MISALIGNED_STORE, amomin.w a0, a2, (a1))
  CHECK_MTVAL_REG(a1)
  TEST_TRAP(43, CAUSE_MISALIGNED_LOAD, lr.w a0, (a1))
  CHECK_MTVAL_REG(a1)
  CHECK_EQ(a0, 0x5555)
  addi a1, a1, 3
  TEST_TRAP(44, CAUSE_MISALIGNED_LOAD, lr.d a0, (a1))
  CHECK_MTVAL_REG(a1)
  /* QEMU (7.2) makes a misaligned SC simply fail (rd = 1) when no
   * reservation matches, without the exception the spec requires. */
  TEST_TRAP(45, CAUSE_MISALIGNED_STORE, sc.d a0, a2, (a1))
  CHECK_MTVAL_REG(a1)
  addi a1, a1, -2
  TEST_TRAP(46, CAUSE_MISALIGNED_STORE, sc.w a0, a2, (a1))
  CHECK_MTVAL_REG(a1)
  CHECK_EQ(a0, 0x5555)
  SET_TESTNUM(47)
  la a1, abuf
  ld a0, 0(a1)
  CHECK_EQ(a0, 0x0123456789abcdef)
  ld a0, 8(a1)
  CHECK_EQ(a0, 0x0123456789abcdef)

TEST_END

  .data
  .align 12
abuf:
  .zero 4096
abuf2:
  .zero 64
