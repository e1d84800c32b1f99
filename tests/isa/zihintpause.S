/* Zihintpause and other HINT encodings: they execute as no-ops, neither
 * trapping nor changing registers or memory. */
#include "test_macros.h"

TEST_BEGIN

  SET_TESTNUM(1)
  li a0, 0x1234
  li a1, 0x5678
  /* pause = fence w, 0 with fm = 0, rd = rs1 = x0: 0x0100000f. */
  .4byte 0x0100000f
  CHECK_EQ(a0, 0x1234)
  CHECK_EQ(a1, 0x5678)
  /* A spin-wait loop as software writes it. */
  SET_TESTNUM(2)
  li a0, 100
1:
  .4byte 0x0100000f
  addi a0, a0, -1
  bnez a0, 1b
  CHECK_EQ(a0, 0)
  /* pause from U-mode is fine too. */
  TEST_OK_IN_MODE(3, PRV_U, .4byte 0x0100000f)
  TEST_OK_IN_MODE(4, PRV_S, .4byte 0x0100000f)

  /* Other HINTs: integer ops with rd = x0, c.nop with an immediate,
   * c.slli x0 ... Registers are untouched. */
  SET_TESTNUM(5)
  li a0, 7
  .option push
  .option norvc
  addi x0, a0, 1
  lui x0, 0x12345
  auipc x0, 0x12345
  slli x0, a0, 3
  add x0, a0, a0
  .option pop
  li ra, 0x99
  .2byte 0x0005 /* c.nop 1 */
  .2byte 0x1002 /* c.slli x0, 32 */
  .2byte 0x0082 /* c.slli ra, 0: shamt 0 is a HINT on RV64 */
  .2byte 0x4001 /* c.li x0, 0 */
  .2byte 0x802a /* c.mv x0, a0 */
  .2byte 0x902a /* c.add x0, a0 */
  CHECK_EQ(a0, 7)
  CHECK_EQ(ra, 0x99)
  /* fence with unusual predecessor/successor sets is still a fence. */
  SET_TESTNUM(6)
  fence r, r
  fence w, w
  fence io, io
  .4byte 0x0000000f /* fence with empty sets */
  CHECK_EQ(a0, 7)

TEST_END
