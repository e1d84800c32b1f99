/* Sscofpmf turned off (--cpu-features=-sscofpmf): scountovf is an illegal
 * instruction, mhpmevent keeps its event but has no OF or inhibit bits, a
 * counter that wraps raises nothing, and LCOFIP (13) is not in mip, mie or
 * mideleg, nor in the hypervisor's hideleg and hvip or the guest's vsie
 * (h_lcofi.S has them with Sscofpmf). The counters themselves (Zihpm) still
 * count. */
#define TEST_CPU_FEATURES -sscofpmf
#include "h_macros.h"

#define CSR_SCOUNTOVF 0xda0
#define MIP_LCOFIP (1 << 13)

TEST_BEGIN
  TEST_TRAP_TVAL(1, CAUSE_ILLEGAL_INSTRUCTION, 0xda002573, csrr a0, CSR_SCOUNTOVF)
  /* Event 2 (instructions) with every Sscofpmf bit: only the event stays. */
  SET_TESTNUM(2)
  li a0, 0xfc00000000000002
  csrw mhpmevent3, a0
  CHECK_CSR(mhpmevent3, 2)
  SET_TESTNUM(3)
  li a0, MIP_LCOFIP
  csrs mideleg, a0
  csrs mie, a0
  csrs mip, a0
  CHECK_CSR_MASKED(mideleg, MIP_LCOFIP, 0)
  CHECK_CSR_MASKED(mie, MIP_LCOFIP, 0)
  CHECK_CSR_MASKED(mip, MIP_LCOFIP, 0)
  /* The counter counts and wraps, silently. */
  SET_TESTNUM(4)
  csrw mcountinhibit, zero
  li a0, -5
  csrw mhpmcounter3, a0
  nop; nop; nop; nop; nop; nop; nop; nop; nop; nop
  csrr a0, mhpmcounter3
  CHECK_EQ(a0, 5)
  CHECK_CSR(mhpmevent3, 2)
  CHECK_CSR_MASKED(mip, MIP_LCOFIP, 0)
  /* H keeps its VS-level bits in hideleg and hvip, without bit 13. */
  SET_TESTNUM(5)
  li a0, -1
  csrw hideleg, a0
  CHECK_CSR(hideleg, MIP_VSSIP | MIP_VSTIP | MIP_VSEIP)
  csrw hvip, a0
  CHECK_CSR(hvip, MIP_VSSIP | MIP_VSTIP | MIP_VSEIP)
  csrw hvip, zero
  SET_TESTNUM(6)
  csrw hideleg, zero
  li a0, MIP_LCOFIP
  csrs vsie, a0
  CHECK_CSR_MASKED(vsie, MIP_LCOFIP, 0)
TEST_END
