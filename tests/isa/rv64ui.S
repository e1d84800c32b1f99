/* RV64I computational instructions: register/immediate ALU ops, the W forms,
 * shifts at edge amounts, lui/auipc. Loads, stores and control transfer are
 * in rv64ui_mem.S. */
#include "test_macros.h"

TEST_BEGIN
  /* Full-size encodings only: c.* forms are covered by rv64uc.S. */
  .option norvc

  TEST_RR_OP(1, add, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000)
  TEST_RR_OP(2, add, 0x0000000000000002, 0x0000000000000001, 0x0000000000000001)
  TEST_RR_OP(3, add, 0x0000000080000000, 0x000000007fffffff, 0x0000000000000001)
  TEST_RR_OP(4, add, 0x8000000000000000, 0x7fffffffffffffff, 0x0000000000000001)
  TEST_RR_OP(5, add, 0x0000000000000000, 0xffffffffffffffff, 0x0000000000000001)
  TEST_RR_OP(6, add, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff)
  TEST_RR_SRC1_EQ_DEST(7, add, 24, 13, 11)
  TEST_RR_SRC2_EQ_DEST(8, add, 25, 14, 11)
  TEST_RR_SRC12_EQ_DEST(9, add, 26, 13)
  TEST_RR_ZEROSRC1(10, add, 15, 15)
  TEST_RR_ZEROSRC2(11, add, 32, 32)
  TEST_RR_ZERODEST(12, add, 16, 30)

  TEST_RR_OP(13, sub, 0x0000000000000000, 0x0000000000000003, 0x0000000000000003)
  TEST_RR_OP(14, sub, 0xfffffffffffffffc, 0x0000000000000003, 0x0000000000000007)
  TEST_RR_OP(15, sub, 0x7fffffffffffffff, 0x8000000000000000, 0x0000000000000001)
  TEST_RR_OP(16, sub, 0x8000000000000001, 0x0000000000000000, 0x7fffffffffffffff)
  TEST_RR_SRC12_EQ_DEST(17, sub, 0, 13)
  TEST_RR_ZEROSRC1(18, sub, -15, 15)

  TEST_IMM_OP(19, addi, 0x0000000000000000, 0x0000000000000000, 0x000)
  TEST_IMM_OP(20, addi, 0x0000000000000800 - 1, 0x0000000000000000, 0x7ff)
  TEST_IMM_OP(21, addi, 0xfffffffffffff800, 0x0000000000000000, -0x800)
  TEST_IMM_OP(22, addi, 0x7fffffffffffffff, 0x8000000000000000, -1)
  TEST_IMM_OP(23, addi, 0x8000000000000000, 0x7fffffffffffffff, 1)
  TEST_IMM_SRC1_EQ_DEST(24, addi, 24, 13, 11)
  TEST_IMM_ZEROSRC1(25, addi, 32, 32)

  /* Signed/unsigned comparisons at the sign boundary. */
  TEST_RR_OP(26, slt, 0, 0x0000000000000000, 0x0000000000000000)
  TEST_RR_OP(27, slt, 1, 0xffffffffffffffff, 0x0000000000000001)
  TEST_RR_OP(28, slt, 0, 0x0000000000000001, 0xffffffffffffffff)
  TEST_RR_OP(29, slt, 1, 0x8000000000000000, 0x7fffffffffffffff)
  TEST_RR_OP(30, sltu, 0, 0xffffffffffffffff, 0x0000000000000001)
  TEST_RR_OP(31, sltu, 1, 0x0000000000000001, 0xffffffffffffffff)
  TEST_RR_OP(32, sltu, 0, 0x8000000000000000, 0x7fffffffffffffff)
  TEST_RR_ZEROSRC1(33, sltu, 1, 5)
  TEST_IMM_OP(34, slti, 1, 0xffffffffffffffff, 0)
  TEST_IMM_OP(35, slti, 0, 0x0000000000000000, -1)
  TEST_IMM_OP(36, slti, 1, 0x8000000000000000, -0x800)
  /* sltiu sign-extends the immediate, then compares unsigned. */
  TEST_IMM_OP(37, sltiu, 1, 0x0000000000000000, -1)
  TEST_IMM_OP(38, sltiu, 0, 0xffffffffffffffff, -1)
  TEST_IMM_OP(39, sltiu, 1, 0xfffffffffffff7ff, -0x800)
  TEST_IMM_OP(40, sltiu, 1, 0x0000000000000000, 1)

  TEST_RR_OP(41, and, 0x0f000f00, 0xff00ff00, 0x0f0f0f0f)
  TEST_RR_OP(42, or, 0xff0fff0f, 0xff00ff00, 0x0f0f0f0f)
  TEST_RR_OP(43, xor, 0xf00ff00f, 0xff00ff00, 0x0f0f0f0f)
  TEST_RR_OP(44, and, 0x00f000f000f000f0, 0x00ff00ff00ff00ff, 0xf0f0f0f0f0f0f0f0)
  TEST_RR_OP(45, or, 0xf0fff0fff0fff0ff, 0x00ff00ff00ff00ff, 0xf0f0f0f0f0f0f0f0)
  TEST_RR_OP(46, xor, 0xf00ff00ff00ff00f, 0x00ff00ff00ff00ff, 0xf0f0f0f0f0f0f0f0)
  /* Immediates are sign-extended to 64 bits. */
  TEST_IMM_OP(47, andi, 0xffffffffff00ff00, 0xffffffffff00ff00, -1)
  TEST_IMM_OP(48, andi, 0x00000000000000f0, 0x00ff00ff00ff00ff, 0x0f0)
  TEST_IMM_OP(49, ori, 0xffffffffffffff0f, 0x00000000ff00ff00, -0x0f1)
  TEST_IMM_OP(50, ori, 0x00ff00ff00ff07ff, 0x00ff00ff00ff00ff, 0x7f0)
  TEST_IMM_OP(51, xori, 0xffffffffff00f00f, 0x0000000000ff0f00, -0x0f1)
  TEST_IMM_OP(52, xori, 0xffffffffffffffff, 0x0000000000000000, -1)
  TEST_IMM_ZEROSRC1(53, ori, 0x7ff, 0x7ff)

  /* 64-bit shifts use the low 6 bits of rs2. */
  TEST_RR_OP(54, sll, 0x0000000000000001, 0x0000000000000001, 0)
  TEST_RR_OP(55, sll, 0x8000000000000000, 0x0000000000000001, 63)
  TEST_RR_OP(56, sll, 0x0000000100000000, 0x0000000000000001, 32)
  TEST_RR_OP(57, sll, 0x0000000000000001, 0x0000000000000001, 64)
  TEST_RR_OP(58, sll, 0x8000000000000000, 0x0000000000000001, 0xffffffffffffffff)
  TEST_RR_OP(59, sll, 0x4242424200000000, 0x2121212121212121, 0xffffffffffffffe1)
  TEST_RR_OP(60, srl, 0x0000000000000001, 0x8000000000000000, 63)
  TEST_RR_OP(61, srl, 0x8000000000000000, 0x8000000000000000, 64)
  TEST_RR_OP(62, srl, 0x0000000080000000, 0x8000000000000000, 32)
  TEST_RR_OP(63, srl, 0x0000000000000001, 0xffffffffffffffff, 0xffffffffffffffff)
  TEST_RR_OP(64, sra, 0xffffffffffffffff, 0x8000000000000000, 63)
  TEST_RR_OP(65, sra, 0xffffffff80000000, 0x8000000000000000, 32)
  TEST_RR_OP(66, sra, 0x8000000000000000, 0x8000000000000000, 64)
  TEST_RR_OP(67, sra, 0x0000000000000000, 0x7fffffffffffffff, 63)
  TEST_RR_OP(68, sra, 0xfffffffffe000000, 0xffffffff80000000, 6)
  TEST_IMM_OP(69, slli, 0x8000000000000000, 0x0000000000000001, 63)
  TEST_IMM_OP(70, slli, 0x0000000100000000, 0x0000000000000001, 32)
  TEST_IMM_OP(71, slli, 0x0000000000000001, 0x0000000000000001, 0)
  TEST_IMM_OP(72, srli, 0x0000000000000001, 0x8000000000000000, 63)
  TEST_IMM_OP(73, srli, 0x00000000ffffffff, 0xffffffffffffffff, 32)
  TEST_IMM_OP(74, srli, 0xffffffffffffffff, 0xffffffffffffffff, 0)
  TEST_IMM_OP(75, srai, 0xffffffffffffffff, 0x8000000000000000, 63)
  TEST_IMM_OP(76, srai, 0xffffffff80000000, 0x8000000000000000, 32)
  TEST_IMM_OP(77, srai, 0x3fffffffffffffff, 0x7fffffffffffffff, 1)
  TEST_IMM_SRC1_EQ_DEST(78, srai, 0xfffffffffffffff8, 0xffffffffffffff80, 4)
  TEST_RR_SRC12_EQ_DEST(79, sll, 0x0000000000000380, 7)

  /* W forms: operate on the low 32 bits, sign-extend the 32-bit result. */
  TEST_RR_OP(80, addw, 0xffffffff80000000, 0x000000007fffffff, 0x0000000000000001)
  TEST_RR_OP(81, addw, 0x0000000000000000, 0xffffffffffffffff, 0x0000000000000001)
  TEST_RR_OP(82, addw, 0x0000000000000002, 0x1234567800000001, 0xabcdef0100000001)
  TEST_RR_OP(83, addw, 0x000000007fffffff, 0xffffffff80000000, 0xffffffffffffffff)
  TEST_RR_OP(84, subw, 0x000000007fffffff, 0xffffffff80000000, 0x0000000000000001)
  TEST_RR_OP(85, subw, 0xffffffff80000000, 0x000000007fffffff, 0xffffffffffffffff)
  TEST_RR_OP(86, subw, 0x0000000000000000, 0x1234567800000005, 0x8765432100000005)
  TEST_IMM_OP(87, addiw, 0xffffffff80000000, 0x000000007fffffff, 1)
  TEST_IMM_OP(88, addiw, 0x000000007fffffff, 0xffffffff80000000, -1)
  TEST_IMM_OP(89, addiw, 0xfffffffffffff800, 0x0000000000000000, -0x800)
  /* sext.w is addiw rd, rs, 0. */
  TEST_IMM_OP(90, addiw, 0xffffffff89abcdef, 0x0123456789abcdef, 0)
  TEST_IMM_OP(91, addiw, 0x0000000001234567, 0xfedcba9801234567, 0)

  /* 32-bit shifts use the low 5 bits of rs2 and ignore the upper input half. */
  TEST_RR_OP(92, sllw, 0xffffffff80000000, 0x0000000000000001, 31)
  TEST_RR_OP(93, sllw, 0x0000000000000001, 0x0000000000000001, 32)
  TEST_RR_OP(94, sllw, 0x0000000000000002, 0xffffffff00000001, 33)
  TEST_RR_OP(95, sllw, 0x0000000012345678, 0x1111111112345678, 0)
  TEST_RR_OP(96, srlw, 0x0000000000000001, 0x0000000080000000, 31)
  TEST_RR_OP(97, srlw, 0xffffffff80000000, 0x0000000080000000, 0)
  TEST_RR_OP(98, srlw, 0xffffffff80000000, 0x0000000080000000, 32)
  TEST_RR_OP(99, srlw, 0x000000007fffffff, 0xffffffffffffffff, 1)
  TEST_RR_OP(100, srlw, 0x0000000000000001, 0xffffffff80000000, 0xffffffffffffffff)
  TEST_RR_OP(101, sraw, 0xffffffffffffffff, 0x0000000080000000, 31)
  TEST_RR_OP(102, sraw, 0xffffffffc0000000, 0x0000000080000000, 1)
  TEST_RR_OP(103, sraw, 0x0000000000000000, 0xffffffff7fffffff, 31)
  TEST_RR_OP(104, sraw, 0xffffffff80000000, 0x0000000080000000, 32)
  TEST_IMM_OP(105, slliw, 0xffffffff80000000, 0x0000000000000001, 31)
  TEST_IMM_OP(106, slliw, 0x0000000012345678, 0xabcdef0012345678, 0)
  TEST_IMM_OP(107, slliw, 0xffffffffc0000000, 0x0000000000000003, 30)
  TEST_IMM_OP(108, srliw, 0x0000000000000001, 0x0000000080000000, 31)
  TEST_IMM_OP(109, srliw, 0xffffffff80000000, 0x0000000080000000, 0)
  TEST_IMM_OP(110, srliw, 0x0000000000ffffff, 0x12345678ffffffff, 8)
  TEST_IMM_OP(111, sraiw, 0xffffffffffffffff, 0x0000000080000000, 31)
  TEST_IMM_OP(112, sraiw, 0xffffffffff800000, 0x0000000080000000, 8)
  TEST_IMM_OP(113, sraiw, 0x0000000000123456, 0xffffffff12345678, 8)
  TEST_IMM_OP(114, sraiw, 0xffffffff80000000, 0x0000000080000000, 0)

  /* lui sign-extends bit 31 of the 32-bit result. */
  TEST_CASE(115, a0, 0x0000000000000000, lui a0, 0x00000)
  TEST_CASE(116, a0, 0xfffffffffffff800, lui a0, 0xfffff; sra a0, a0, 1)
  TEST_CASE(117, a0, 0xffffffff80000000, lui a0, 0x80000)
  TEST_CASE(118, a0, 0x000000007ffff000, lui a0, 0x7ffff)
  TEST_CASE(119, x0, 0, lui x0, 0x80000)

  /* auipc adds to the address of the auipc itself. */
  SET_TESTNUM(120)
test120_pc:
  auipc a0, 0
  CHECK_ADDR(a0, test120_pc)
  SET_TESTNUM(121)
test121_pc:
  auipc a0, 1
  la a1, test121_pc
  sub a0, a0, a1
  CHECK_EQ(a0, 0x1000)
  SET_TESTNUM(122)
test122_pc:
  auipc a0, 0xfffff
  la a1, test122_pc
  sub a0, a1, a0
  CHECK_EQ(a0, 0x1000)
  /* auipc with bit 19 of the immediate set: the offset is sign-extended. */
  SET_TESTNUM(123)
test123_pc:
  auipc a0, 0x80000
  la a1, test123_pc
  sub a0, a0, a1
  CHECK_EQ(a0, 0xffffffff80000000)

  /* Writes to x0 are discarded. */
  TEST_CASE(124, x0, 0, li a1, 5; addi x0, a1, 1; add x0, a1, a1; sll x0, a1, a1)
  TEST_CASE(125, a0, 0, addi a0, x0, 0; add a0, a0, x0)

TEST_END
