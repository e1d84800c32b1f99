/* Zcb and Zacas turned off by --cpu-features: each of their instructions is an illegal
 * instruction with the instruction in mtval (the 16-bit word for Zcb's), and leaves its
 * registers and memory alone. What C and A have next to them still runs. QEMU 7.2 has
 * neither extension (run-on-qemu.sh leaves their names out), so this passes there too. */
#define TEST_CPU_FEATURES -zcb,-zacas
#include "test_macros.h"

/* Runs `insn` expecting an illegal-instruction trap with mtval = `word` and a0 unchanged. */
#define TEST_ILLEGAL(num, word, insn...)                     \
  li a0, 0x5a5a;                                              \
  TEST_TRAP_TVAL(num, CAUSE_ILLEGAL_INSTRUCTION, word, insn); \
  CHECK_EQ(a0, 0x5a5a)

TEST_BEGIN
  .option norvc
  la a1, off_data
  li a2, -1
  sd a2, 0(a1)
  sd a2, 8(a1)

  /* Zcb (rd' = a0, rs1' = a1, rs2' = a2) */
  TEST_ILLEGAL(1, 0x81c8, c.lbu a0, 1, a1)
  TEST_ILLEGAL(2, 0x85a8, c.lhu a0, 2, a1)
  TEST_ILLEGAL(3, 0x85e8, c.lh a0, 2, a1)
  TEST_ILLEGAL(4, 0x89d0, c.sb a2, 1, a1)
  TEST_ILLEGAL(5, 0x8db0, c.sh a2, 2, a1)
  TEST_ILLEGAL(6, 0x9d61, c.zext.b a0)
  TEST_ILLEGAL(7, 0x9d65, c.sext.b a0)
  TEST_ILLEGAL(8, 0x9d69, c.zext.h a0)
  TEST_ILLEGAL(9, 0x9d6d, c.sext.h a0)
  TEST_ILLEGAL(10, 0x9d71, c.zext.w a0)
  TEST_ILLEGAL(11, 0x9d75, c.not a0)
  TEST_ILLEGAL(12, 0x9d51, c.mul a0, a2)

  /* Zacas */
  TEST_ILLEGAL(13, 0x28c5a52f, amocas.w a0, a2, a1)
  TEST_ILLEGAL(14, 0x28c5b52f, amocas.d a0, a2, a1)
  TEST_ILLEGAL(15, 0x28c5c52f, amocas.q a0, a2, a1)
  SET_TESTNUM(16)
  CHECK_MEM(off_data, 0, -1)
  CHECK_MEM(off_data, 8, -1)

  /* C and A still run. */
  TEST_CASE(17, a0, 0x5a5b, .option push; .option rvc; c.addi a0, 1; .option pop)
  TEST_CASE(18, a0, -1, amoswap.d a0, zero, (a1))
  CHECK_MEM(off_data, 0, 0)
TEST_END

  .data
  .balign 16
off_data:
  .dword 0, 0
