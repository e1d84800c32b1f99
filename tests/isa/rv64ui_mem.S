/* RV64I loads, stores, branches, jal/jalr and fence. */
#include "test_macros.h"

TEST_BEGIN
  .option norvc

  /* Loads: sign and zero extension, positive and negative offsets. */
  TEST_LD_OP(1, lb, 0xffffffffffffffff, 0, tdat_b)
  TEST_LD_OP(2, lb, 0x0000000000000000, 1, tdat_b)
  TEST_LD_OP(3, lb, 0xfffffffffffffff0, 2, tdat_b)
  TEST_LD_OP(4, lb, 0x000000000000000f, 3, tdat_b)
  TEST_LD_OP(5, lb, 0xffffffffffffffff, -3, tdat_b_3)
  TEST_LD_OP(6, lbu, 0x00000000000000ff, 0, tdat_b)
  TEST_LD_OP(7, lbu, 0x00000000000000f0, -1, tdat_b_3)
  TEST_LD_OP(8, lh, 0x00000000000000ff, 0, tdat_h)
  TEST_LD_OP(9, lh, 0xffffffffffffff00, 2, tdat_h)
  TEST_LD_OP(10, lh, 0xfffffffffffff00f, 6, tdat_h)
  TEST_LD_OP(11, lh, 0x0000000000000ff0, -2, tdat_h_6)
  TEST_LD_OP(12, lhu, 0x000000000000ff00, 2, tdat_h)
  TEST_LD_OP(13, lhu, 0x000000000000f00f, 0, tdat_h_6)
  TEST_LD_OP(14, lw, 0x0000000000ff00ff, 0, tdat_w)
  TEST_LD_OP(15, lw, 0xffffffffff00ff00, 4, tdat_w)
  TEST_LD_OP(16, lw, 0xfffffffff00ff00f, 12, tdat_w)
  TEST_LD_OP(17, lw, 0x000000000ff00ff0, -4, tdat_w_12)
  TEST_LD_OP(18, lwu, 0x00000000ff00ff00, 4, tdat_w)
  TEST_LD_OP(19, lwu, 0x00000000f00ff00f, 0, tdat_w_12)
  TEST_LD_OP(20, ld, 0x00ff00ff00ff00ff, 0, tdat_d)
  TEST_LD_OP(21, ld, 0xff00ff00ff00ff00, 8, tdat_d)
  TEST_LD_OP(22, ld, 0xf00ff00ff00ff00f, 24, tdat_d)
  TEST_LD_OP(23, ld, 0x0ff00ff00ff00ff0, -8, tdat_d_24)
  /* Offset limits of the 12-bit immediate. */
  TEST_LD_OP(24, ld, 0x00ff00ff00ff00ff, -2048, tdat_d + 2048)
  TEST_LD_OP(25, ld, 0x0123456789abcdef, 2047, tdat_far - 2047)
  /* A load to x0 is performed but discarded. */
  TEST_CASE(26, x0, 0, la a1, tdat_d; ld x0, 0(a1))
  /* Base register equal to the destination. */
  TEST_CASE(27, a1, 0xff00ff00ff00ff00, la a1, tdat_d; ld a1, 8(a1))

  /* Stores write exactly their width; the neighbours stay. */
#define TEST_ST_NEIGHBOURS(num, store, offset, value, after)              \
  SET_TESTNUM(num);                                                        \
  la a1, sbuf;                                                             \
  li a2, 0x1111111111111111;                                               \
  sd a2, 0(a1);                                                            \
  sd a2, 8(a1);                                                            \
  li a2, value;                                                            \
  store a2, offset(a1);                                                    \
  ld a0, 0(a1);                                                            \
  CHECK_EQ(a0, after);                                                     \
  ld a0, 8(a1);                                                            \
  CHECK_EQ(a0, 0x1111111111111111)

  TEST_ST_NEIGHBOURS(28, sb, 0, 0xffffffffffffffaa, 0x11111111111111aa)
  TEST_ST_NEIGHBOURS(29, sb, 7, 0x00000000000000bb, 0xbb11111111111111)
  TEST_ST_NEIGHBOURS(30, sh, 2, 0xffffffffffffcafe, 0x11111111cafe1111)
  TEST_ST_NEIGHBOURS(31, sh, 6, 0x000000000000beef, 0xbeef111111111111)
  TEST_ST_NEIGHBOURS(32, sw, 0, 0xffffffffdeadbeef, 0x11111111deadbeef)
  TEST_ST_NEIGHBOURS(33, sw, 4, 0x0000000012345678, 0x1234567811111111)
  TEST_ST_NEIGHBOURS(34, sd, 0, 0x0123456789abcdef, 0x0123456789abcdef)
  TEST_ST_OP(35, lb, sb, 0xffffffffffffffa0, 15, sbuf)
  TEST_ST_OP(36, lh, sh, 0xffffffffffffa00a, -2, sbuf_16)
  TEST_ST_OP(37, lw, sw, 0x000000007eadbeef, 12, sbuf)
  TEST_ST_OP(38, ld, sd, 0xdeadbeefcafebabe, -8, sbuf_16)
  TEST_ST_OP(39, lbu, sb, 0x0000000000000080, 3, sbuf)
  TEST_ST_OP(40, lhu, sh, 0x0000000000008001, 4, sbuf)
  TEST_ST_OP(41, lwu, sw, 0x0000000080000001, 8, sbuf)
  /* Storing x0 stores zeros. */
  TEST_CASE(42, a0, 0, la a1, sbuf; li a2, -1; sd a2, 0(a1); sd x0, 0(a1); ld a0, 0(a1))
  /* Store with the base register also the data register. */
  TEST_CASE(43, a0, 1, la a1, sbuf; sd a1, 0(a1); ld a0, 0(a1); sub a0, a0, a1; addi a0, a0, 1)

  /* Branches: taken and not taken, signed against unsigned at the sign boundary. */
  TEST_BR_TAKEN(44, beq, 0, 0)
  TEST_BR_TAKEN(45, beq, -1, -1)
  TEST_BR_NOT_TAKEN(46, beq, 0, 1)
  TEST_BR_NOT_TAKEN(47, beq, 0x8000000000000000, 0)
  TEST_BR_TAKEN(48, bne, 0, 1)
  TEST_BR_TAKEN(49, bne, 0x0000000100000000, 0)
  TEST_BR_NOT_TAKEN(50, bne, -1, -1)
  TEST_BR_TAKEN(51, blt, -1, 1)
  TEST_BR_TAKEN(52, blt, 0x8000000000000000, 0x7fffffffffffffff)
  TEST_BR_NOT_TAKEN(53, blt, 1, -1)
  TEST_BR_NOT_TAKEN(54, blt, 5, 5)
  TEST_BR_TAKEN(55, bge, 1, -1)
  TEST_BR_TAKEN(56, bge, 5, 5)
  TEST_BR_NOT_TAKEN(57, bge, -1, 1)
  TEST_BR_NOT_TAKEN(58, bge, 0x8000000000000000, 0x7fffffffffffffff)
  TEST_BR_TAKEN(59, bltu, 1, -1)
  TEST_BR_TAKEN(60, bltu, 0x7fffffffffffffff, 0x8000000000000000)
  TEST_BR_NOT_TAKEN(61, bltu, -1, 1)
  TEST_BR_NOT_TAKEN(62, bltu, 5, 5)
  TEST_BR_TAKEN(63, bgeu, -1, 1)
  TEST_BR_TAKEN(64, bgeu, 5, 5)
  TEST_BR_NOT_TAKEN(65, bgeu, 1, -1)
  TEST_BR_NOT_TAKEN(66, bgeu, 0, 0x8000000000000000)

  /* Backward branch: a counted loop. */
  SET_TESTNUM(67)
  li a0, 0
  li a1, 10
1:
  addi a0, a0, 1
  blt a0, a1, 1b
  CHECK_EQ(a0, 10)

  /* jal links the address of the next instruction. */
  SET_TESTNUM(68)
  li ra, 0
  jal ra, 1f
test68_link:
  j test_fail
1:
  CHECK_ADDR(ra, test68_link)
  /* jal with rd = x0 is a plain jump. */
  SET_TESTNUM(69)
  jal x0, 1f
  j test_fail
1:
  /* Backward jal. */
  SET_TESTNUM(70)
  li a0, 0
  j 2f
1:
  addi a0, a0, 1
  j 3f
2:
  jal a2, 1b
3:
  CHECK_EQ(a0, 1)

  /* jalr: target = (rs1 + imm) with bit 0 cleared, link = pc + 4. */
  SET_TESTNUM(71)
  la a1, 1f
  jalr a0, 0(a1)
test71_link:
  j test_fail
1:
  CHECK_ADDR(a0, test71_link)
  SET_TESTNUM(72)
  la a1, 1f
  addi a1, a1, -16
  jalr a0, 16(a1)
  j test_fail
1:
  /* Odd target: the low bit is dropped, so this lands on 1f. */
  SET_TESTNUM(73)
  la a1, 1f
  jalr a0, 1(a1)
  j test_fail
1:
  SET_TESTNUM(74)
  la a1, 1f
  addi a1, a1, 1
  jalr x0, 0(a1)
  j test_fail
1:
  /* rd == rs1: the target uses the old value. */
  SET_TESTNUM(75)
  la a1, 1f
  jalr a1, 0(a1)
test75_link:
  j test_fail
1:
  CHECK_ADDR(a1, test75_link)
  /* Negative offset. */
  SET_TESTNUM(76)
  la a1, 1f
  addi a1, a1, 2047
  jalr ra, -2047(a1)
  j test_fail
1:

  /* A call/return pair. */
  SET_TESTNUM(77)
  li a0, 0
  call test77_fn
  CHECK_EQ(a0, 42)

  /* fence and fence.tso order memory; architecturally they are no-ops here. */
  SET_TESTNUM(78)
  la a1, sbuf
  li a2, 77
  sd a2, 0(a1)
  fence
  fence rw, rw
  fence.tso
  fence i, o
  ld a0, 0(a1)
  CHECK_EQ(a0, 77)

  TEST_PASS

test77_fn:
  li a0, 42
  ret

TEST_END

  .data
  .align 4
tdat_b:
  .byte 0xff, 0x00, 0xf0
tdat_b_3:
  .byte 0x0f
  .align 3
tdat_h:
  .half 0x00ff, 0xff00, 0x0ff0
tdat_h_6:
  .half 0xf00f
  .align 3
tdat_w:
  .word 0x00ff00ff, 0xff00ff00, 0x0ff00ff0
tdat_w_12:
  .word 0xf00ff00f
  .align 3
tdat_d:
  .dword 0x00ff00ff00ff00ff, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0
tdat_d_24:
  .dword 0xf00ff00ff00ff00f
  .zero 4096
tdat_far:
  .dword 0x0123456789abcdef

  .align 4
sbuf:
  .zero 16
sbuf_16:
  .zero 16
