/* --cpu-features=-sdtrig: a hart without Sdtrig, whose trigger CSRs (tselect, tdata1,
 * tdata2, tdata3, tinfo) are illegal instructions, read or written, with mtval = the
 * instruction. (QEMU 7.2 calls the feature "debug": run-on-qemu.sh turns it off there.) */
#define TEST_CPU_FEATURES -sdtrig
#include "test_macros.h"

TEST_BEGIN
  TEST_TRAP_TVAL(1, CAUSE_ILLEGAL_INSTRUCTION, 0x7a002573, csrr a0, 0x7a0)
  TEST_TRAP_TVAL(2, CAUSE_ILLEGAL_INSTRUCTION, 0x7a059073, csrw 0x7a0, a1)
  TEST_TRAP_TVAL(3, CAUSE_ILLEGAL_INSTRUCTION, 0x7a102573, csrr a0, 0x7a1)
  TEST_TRAP_TVAL(4, CAUSE_ILLEGAL_INSTRUCTION, 0x7a202573, csrr a0, 0x7a2)
  TEST_TRAP_TVAL(5, CAUSE_ILLEGAL_INSTRUCTION, 0x7a302573, csrr a0, 0x7a3)
  TEST_TRAP_TVAL(6, CAUSE_ILLEGAL_INSTRUCTION, 0x7a402573, csrr a0, 0x7a4)
TEST_END
