/* rv64ui-v-ld/sd's shape: loads and stores on demand-paged data pages,
 * with code running across page ends. The data spans three pages: the
 * first is only read (A set, D clear at the end), the others are written
 * (the kernel faults for D, and copies them back at the end). */
#include "riscv_test.h"
#include "test_macros.h"

RVTEST_RV64U
RVTEST_CODE_BEGIN

  TEST_LD_OP(2, ld, 0x00ff00ff00ff00ff, 0, tdat)
  TEST_LD_OP(3, ld, 0xff00ff00ff00ff00, 8, tdat)
  TEST_LD_OP(4, lw, 0xffffffffff00ff00, 12, tdat)
  TEST_LD_OP(5, lhu, 0x000000000000ff00, 14, tdat)
  TEST_LD_OP(6, lb, 0xffffffffffffffff, 15, tdat)

  /* Code on the next pages: each fetch past a page end faults twice
   * (mapping, then A). */
  .rept 300
  nop
  .endr

  TEST_ST_OP(7, ld, sd, 0x00aa00aa00aa00aa, 0, wdat)
  TEST_ST_OP(8, ld, sd, 0xaa00aa00aa00aa00, 8, wdat)
  TEST_ST_OP(9, lw, sw, 0xffffffffaa00aa00, 16, wdat)
  TEST_ST_OP(10, lbu, sb, 0x00000000000000ef, 24, wdat)
  TEST_ST_OP(11, lh, sh, 0xffffffffffffa00a, 26, wdat)

  .rept 1100
  nop
  .endr

  /* A page first loaded from, then stored to: a fault for D alone. */
  TEST_LD_OP(12, ld, 0, 0, wdat2)
  TEST_ST_OP(13, ld, sd, 0x1234567887654321, 0, wdat2)
  TEST_ST_OP(14, ld, sd, 0x0fedcba987654321, -8, wdat2 + 4096)
  /* Reads of what was stored: unchanged by the faults in between. */
  TEST_LD_OP(15, ld, 0x00aa00aa00aa00aa, 0, wdat)
  TEST_LD_OP(16, lbu, 0xef, 24, wdat)

  TEST_PASSFAIL

RVTEST_CODE_END

  .data
RVTEST_DATA_BEGIN

tdat:
  .dword 0x00ff00ff00ff00ff
  .dword 0xff00ff00ff00ff00

  .balign 4096
wdat:
  .dword 0xdeadbeefdeadbeef
  .dword 0xdeadbeefdeadbeef
  .dword 0xdeadbeefdeadbeef
  .dword 0xdeadbeefdeadbeef
  .balign 4096
wdat2:
  .fill 512, 8, 0

RVTEST_DATA_END
