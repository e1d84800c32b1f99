/* rv64ua-v-amo*'s shape: AMOs and LR/SC whose first touch of a data page
 * is the atomic itself (a store page fault, even for lr.d's page a load
 * fault), in U-mode on demand-paged pages. */
#include "riscv_test.h"
#include "test_macros.h"

RVTEST_RV64U
RVTEST_CODE_BEGIN

  TEST_CASE(2, a4, 0xffffffff80000000, \
    li a0, 0xffffffff80000000; \
    li a1, 0xfffffffffffff800; \
    la a3, amo1; \
    sd a0, 0(a3); \
    amoadd.d a4, a1, 0(a3))
  TEST_CASE(3, a5, 0xffffffff7ffff800, ld a5, 0(a3))

  /* The page's first access is the AMO. */
  TEST_CASE(4, a4, 0, \
    li a1, 0x55; \
    la a3, amo2; \
    amoswap.w a4, a1, 0(a3))
  TEST_CASE(5, a5, 0x55, lw a5, 0(a3))
  TEST_CASE(6, a4, 0x55, li a1, 0xf0; amoor.w a4, a1, 0(a3))
  TEST_CASE(7, a5, 0xf5, lw a5, 0(a3))

  /* LR/SC on a page first touched by the lr.d. */
  TEST_CASE(8, a4, 0, \
    la a3, amo3; \
    lr.d a4, (a3); \
    li a1, 9; \
    sc.d a5, a1, (a3); \
    bnez a5, fail)
  TEST_CASE(9, a5, 9, ld a5, 0(a3))
  TEST_CASE(10, a4, 9, li a1, -1; amomaxu.d a4, a1, 0(a3))
  TEST_CASE(11, a5, -1, ld a5, 0(a3))

  TEST_PASSFAIL

RVTEST_CODE_END

  .data
RVTEST_DATA_BEGIN

  .balign 8
amo1:
  .dword 0
  .balign 4096
amo2:
  .dword 0
  .balign 4096
amo3:
  .dword 0

RVTEST_DATA_END
