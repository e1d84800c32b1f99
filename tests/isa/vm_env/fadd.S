/* rv64ud-v-fadd's shape: an FP test (RVTEST_RV64UF: the first user
 * instruction writes fcsr) with its operands on a demand-paged data page. */
#include "riscv_test.h"
#include "test_macros.h"

RVTEST_RV64UF
RVTEST_CODE_BEGIN

  TEST_FP_OP2_D(2, fadd.d, 0, 3.5, 2.5, 1.0)
  TEST_FP_OP2_D(3, fadd.d, 1, -1234, -1235.1, 1.1)
  TEST_FP_OP2_D(4, fadd.d, 1, 3.14159266, 3.14159265, 0.00000001)
  TEST_FP_OP2_D(5, fsub.d, 0, 1.5, 2.5, 1.0)
  TEST_FP_OP2_D(6, fmul.d, 0, 2.5, 2.5, 1.0)
  TEST_FP_OP2_D(7, fmul.d, 1, 1358.61, -1235.1, -1.1)
  TEST_FP_OP2_D(8, fdiv.d, 1, 1.1557273520668288, 3.14159265, 2.71828182)

  TEST_PASSFAIL

RVTEST_CODE_END

  .data
RVTEST_DATA_BEGIN
RVTEST_DATA_END
