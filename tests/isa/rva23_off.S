/* Zcb, Zacas and Zfhmin turned off by --cpu-features: each of their instructions is an
 * illegal instruction with the instruction in mtval (the 16-bit word for Zcb's), and leaves
 * its registers and memory alone. What C, A, F and D have next to them still runs. QEMU 7.2
 * has neither Zcb nor Zacas (run-on-qemu.sh leaves their names out) and turns Zfhmin off by
 * its property, so this passes there too. */
#define TEST_CPU_FEATURES -zcb,-zacas,-zfhmin
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

  /* Zfhmin */
  .option push
  .option arch, +zfhmin
  li a3, -1
  fmv.d.x fa0, a3
  TEST_ILLEGAL(17, 0x00259507, flh fa0, 2(a1))
  TEST_ILLEGAL(18, 0x00a59127, fsh fa0, 2(a1))
  TEST_ILLEGAL(19, 0x40258553, fcvt.s.h fa0, fa1)
  TEST_ILLEGAL(20, 0x4405f553, fcvt.h.s fa0, fa1)
  TEST_ILLEGAL(21, 0x42258553, fcvt.d.h fa0, fa1)
  TEST_ILLEGAL(22, 0x4415f553, fcvt.h.d fa0, fa1)
  TEST_ILLEGAL(23, 0xe4058553, fmv.x.h a0, fa1)
  TEST_ILLEGAL(24, 0xf4058553, fmv.h.x fa0, a1)
  .option pop
  SET_TESTNUM(25)
  fmv.x.d a4, fa0
  CHECK_EQ(a4, -1)
  CHECK_MEM(off_data, 0, -1)

  /* C, A, F and D still run. */
  TEST_CASE(26, a0, 0x5a5b, .option push; .option rvc; c.addi a0, 1; .option pop)
  TEST_CASE(27, a0, -1, amoswap.d a0, zero, (a1))
  CHECK_MEM(off_data, 0, 0)
  TEST_CASE(28, a0, 0x3ff0000000000000, li a0, 1; fcvt.d.w fa0, a0; fcvt.s.d fa1, fa0; fcvt.d.s fa2, fa1; fmv.x.d a0, fa2)
TEST_END

  .data
  .balign 16
off_data:
  .dword 0, 0
