/* rv64ui-v-fence_i's shape: U-mode code patches instructions on a
 * demand-paged data page (its first touch a load, then stores), fences
 * with fence.i and jumps there; then patches and runs them again. */
#include "riscv_test.h"
#include "test_macros.h"

RVTEST_RV64U
RVTEST_CODE_BEGIN

  li a3, 111
  lh a0, insn
  lh a1, insn + 2

  /* The first run: 111 + 333 through the patched addi. */
  .align 6
  la t0, 2f
  sh a0, 0(t0)
  sh a1, 2(t0)
  fence.i
  la a5, 2f
  jalr t1, a5, 0
  TEST_CASE(2, a3, 444, nop)

  /* Patch code that has run already. */
  li a4, 100
1:
  addi a4, a4, -1
  bnez a4, 1b
  la t0, 3f
  sh a0, 0(t0)
  sh a1, 2(t0)
  fence.i
  la t0, 2f
  sh a0, 0(t0)
  sh a1, 2(t0)
  fence.i
  .align 6
  la a5, 3f
  jalr t1, a5, 0
  TEST_CASE(3, a3, 777, nop)
  la a5, 2f
  jalr t1, a5, 0
  TEST_CASE(4, a3, 1110, nop)

  TEST_PASSFAIL

RVTEST_CODE_END

  .data
RVTEST_DATA_BEGIN

insn:
  addi a3, a3, 333

  .balign 4096
2:
  addi a3, a3, 222
  jalr a5, t1, 0
3:
  addi a3, a3, 555
  jalr a5, t1, 0

RVTEST_DATA_END
