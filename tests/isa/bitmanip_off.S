/* The bit-manipulation and conditional extensions turned off (--cpu-features=-zba,-zbb,
 * -zbs,-zicond): every instruction of Zba, Zbb, Zbs and Zicond is an illegal instruction, with
 * the instruction in mtval, and leaves rd alone; so are Zcb's forms of them. On QEMU the same line turns Zba, Zbb and Zbs
 * off (-cpu rv64,zba=false,...); QEMU 7.2 has no Zicond at all. */
#define TEST_CPU_FEATURES -zba,-zbb,-zbs,-zicond
#include "test_macros.h"

/* Runs `insn` expecting an illegal-instruction trap with mtval = `word` and a0 unchanged. */
#define TEST_ILLEGAL(num, word, insn...)                                 \
  li a0, 0x5a5a;                                                          \
  li a1, 0x1234;                                                          \
  li a2, 3;                                                               \
  TEST_TRAP_TVAL(num, CAUSE_ILLEGAL_INSTRUCTION, word, insn);             \
  CHECK_EQ(a0, 0x5a5a)

TEST_BEGIN
  .option norvc
  .option arch, +zba, +zbb, +zbs

  TEST_ILLEGAL(1, 0x08c5853b, add.uw a0, a1, a2)
  TEST_ILLEGAL(2, 0x20c5a533, sh1add a0, a1, a2)
  TEST_ILLEGAL(3, 0x20c5c533, sh2add a0, a1, a2)
  TEST_ILLEGAL(4, 0x20c5e533, sh3add a0, a1, a2)
  TEST_ILLEGAL(5, 0x20c5a53b, sh1add.uw a0, a1, a2)
  TEST_ILLEGAL(6, 0x20c5c53b, sh2add.uw a0, a1, a2)
  TEST_ILLEGAL(7, 0x20c5e53b, sh3add.uw a0, a1, a2)
  TEST_ILLEGAL(8, 0x0bf5951b, slli.uw a0, a1, 63)
  TEST_ILLEGAL(9, 0x40c5f533, andn a0, a1, a2)
  TEST_ILLEGAL(10, 0x40c5e533, orn a0, a1, a2)
  TEST_ILLEGAL(11, 0x40c5c533, xnor a0, a1, a2)
  TEST_ILLEGAL(12, 0x60059513, clz a0, a1)
  TEST_ILLEGAL(13, 0x6005951b, clzw a0, a1)
  TEST_ILLEGAL(14, 0x60159513, ctz a0, a1)
  TEST_ILLEGAL(15, 0x6015951b, ctzw a0, a1)
  TEST_ILLEGAL(16, 0x60259513, cpop a0, a1)
  TEST_ILLEGAL(17, 0x6025951b, cpopw a0, a1)
  TEST_ILLEGAL(18, 0x0ac5e533, max a0, a1, a2)
  TEST_ILLEGAL(19, 0x0ac5f533, maxu a0, a1, a2)
  TEST_ILLEGAL(20, 0x0ac5c533, min a0, a1, a2)
  TEST_ILLEGAL(21, 0x0ac5d533, minu a0, a1, a2)
  TEST_ILLEGAL(22, 0x60459513, sext.b a0, a1)
  TEST_ILLEGAL(23, 0x60559513, sext.h a0, a1)
  TEST_ILLEGAL(24, 0x0805c53b, zext.h a0, a1)
  TEST_ILLEGAL(25, 0x60c59533, rol a0, a1, a2)
  TEST_ILLEGAL(26, 0x60c5953b, rolw a0, a1, a2)
  TEST_ILLEGAL(27, 0x60c5d533, ror a0, a1, a2)
  TEST_ILLEGAL(28, 0x63f5d513, rori a0, a1, 63)
  TEST_ILLEGAL(29, 0x61f5d51b, roriw a0, a1, 31)
  TEST_ILLEGAL(30, 0x60c5d53b, rorw a0, a1, a2)
  TEST_ILLEGAL(31, 0x2875d513, orc.b a0, a1)
  TEST_ILLEGAL(32, 0x6b85d513, rev8 a0, a1)
  TEST_ILLEGAL(33, 0x48c59533, bclr a0, a1, a2)
  TEST_ILLEGAL(34, 0x4bf59513, bclri a0, a1, 63)
  TEST_ILLEGAL(35, 0x48c5d533, bext a0, a1, a2)
  TEST_ILLEGAL(36, 0x4bf5d513, bexti a0, a1, 63)
  TEST_ILLEGAL(37, 0x68c59533, binv a0, a1, a2)
  TEST_ILLEGAL(38, 0x6bf59513, binvi a0, a1, 63)
  TEST_ILLEGAL(39, 0x28c59533, bset a0, a1, a2)
  TEST_ILLEGAL(40, 0x2bf59513, bseti a0, a1, 63)
  TEST_ILLEGAL(41, 0x0ec5d533, czero.eqz a0, a1, a2)
  TEST_ILLEGAL(42, 0x0ec5f533, czero.nez a0, a1, a2)

  /* What RV64I has next to them still runs (sext.w, zext.b, and the srai beside bexti). */
  TEST_NO_TRAP(43, li a1, -1; addiw a0, a1, 0; andi a2, a1, 0xff; srai a1, a1, 63)
  CHECK_EQ(a0, -1)
  CHECK_EQ(a2, 0xff)
  CHECK_EQ(a1, -1)

  /* Zcb (still on) has 16-bit forms of Zbb's sext.b, zext.h and sext.h and of Zba's zext.w
   * (add.uw): they go with the instructions they stand for, mtval the 16-bit word. Zcb's
   * others stay (QEMU 7.2 has no Zcb: check 48 fails there). */
  TEST_ILLEGAL(44, 0x9d65, c.sext.b a0)
  TEST_ILLEGAL(45, 0x9d69, c.zext.h a0)
  TEST_ILLEGAL(46, 0x9d6d, c.sext.h a0)
  TEST_ILLEGAL(47, 0x9d71, c.zext.w a0)
  TEST_CASE(48, a0, 0x80, li a0, -128; c.zext.b a0)
  TEST_CASE(49, a1, 0, li a1, -1; c.not a1)
  TEST_CASE(50, a2, 6, li a2, 2; li a3, 3; c.mul a2, a3)
TEST_END
