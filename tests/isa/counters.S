/* Counters (Zicntr/Zihpm): cycle, instret and time readable and
 * increasing, mcycle/minstret writable, and access from S and U gated by
 * mcounteren and scounteren (an illegal instruction when not enabled). */
#include "test_macros.h"

#define COUNTEREN_CY (1 << 0)
#define COUNTEREN_TM (1 << 1)
#define COUNTEREN_IR (1 << 2)
#define COUNTEREN_HPM3 (1 << 3)

#define SPIN(n)        \
  li t5, n;            \
  90020:               \
  addi t5, t5, -1;     \
  bnez t5, 90020b

TEST_BEGIN

  /* cycle and instret count up. */
  SET_TESTNUM(1)
  rdcycle a0
  SPIN(100)
  rdcycle a1
  CHECK_LTU_REG(a0, a1)
  SET_TESTNUM(2)
  rdinstret a0
  SPIN(100)
  rdinstret a1
  CHECK_LTU_REG(a0, a1)
  /* At least the instructions of the loop (201) have retired. */
  sub a1, a1, a0
  li a2, 190
  CHECK_LTU_REG(a2, a1)
  /* The machine counters are the same counters. */
  SET_TESTNUM(3)
  csrr a0, mcycle
  rdcycle a1
  csrr a2, mcycle
  CHECK_LTU_REG(a0, a2)
  bltu a1, a0, test_fail
  bltu a2, a1, test_fail
  SET_TESTNUM(4)
  csrr a0, minstret
  rdinstret a1
  csrr a2, minstret
  CHECK_LTU_REG(a0, a2)
  bltu a1, a0, test_fail
  bltu a2, a1, test_fail
  /* mcycle and minstret can be written and go on from there. */
  SET_TESTNUM(5)
  li a1, 0x100000000000
  csrw minstret, a1
  csrr a0, minstret
  bltu a0, a1, test_fail
  li a2, 0x100000100000
  CHECK_LTU_REG(a0, a2)
  SET_TESTNUM(6)
  li a1, 0x200000000000
  csrw mcycle, a1
  csrr a0, mcycle
  bltu a0, a1, test_fail
  li a2, 0x200100000000
  CHECK_LTU_REG(a0, a2)
  /* The hardware performance counters and their events exist (they may
   * read zero). */
  SET_TESTNUM(7)
  csrr a0, mhpmcounter3
  csrr a0, mhpmevent3
  csrr a0, hpmcounter3
  csrr a0, mcountinhibit

  /* mcounteren = 0: S and U cannot read cycle or instret. */
  csrw mcounteren, zero
  csrw scounteren, zero
  TEST_IN_MODE(8, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, rdcycle a0)
  CHECK_MTVAL(0xc0002573)
  TEST_IN_MODE(9, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, rdcycle a0)
  TEST_IN_MODE(10, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, rdinstret a0)
  TEST_IN_MODE(11, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, hpmcounter3)
  /* mcounteren enables S; U also needs scounteren. */
  li a1, COUNTEREN_CY | COUNTEREN_IR | COUNTEREN_HPM3
  csrw mcounteren, a1
  TEST_OK_IN_MODE(12, PRV_S, rdcycle a0; rdinstret a0; csrr a0, hpmcounter3)
  TEST_IN_MODE(13, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, rdcycle a0)
  TEST_IN_MODE(14, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, rdinstret a0)
  li a1, COUNTEREN_CY
  csrw scounteren, a1
  TEST_OK_IN_MODE(15, PRV_U, rdcycle a0)
  TEST_IN_MODE(16, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, rdinstret a0)
  li a1, COUNTEREN_CY | COUNTEREN_IR
  csrw scounteren, a1
  TEST_OK_IN_MODE(17, PRV_U, rdcycle s0; SPIN(50); rdcycle s1; rdinstret s2)
  CHECK_LTU_REG(s0, s1)
  /* scounteren alone does not open what mcounteren closes. */
  li a1, COUNTEREN_IR
  csrw mcounteren, a1
  TEST_IN_MODE(18, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, rdcycle a0)
  TEST_IN_MODE(19, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, rdcycle a0)
  /* The counters are read-only from every mode. */
  li a1, -1
  csrw mcounteren, a1
  csrw scounteren, a1
  TEST_IN_MODE(20, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, csrw cycle, zero)
  TEST_TRAP(21, CAUSE_ILLEGAL_INSTRUCTION, csrw instret, zero)
  /* S cannot reach the machine counters. */
  TEST_IN_MODE(22, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, mcycle)

  /* All 29 hardware performance counters exist, if only as read-only
   * zeros. QEMU 7.2 implements 16 of them and traps on the rest. */
  SET_TESTNUM(29)
  csrr a0, mhpmcounter31
  csrr a0, mhpmevent31
  csrr a0, hpmcounter31

  /* time: QEMU's spike machine has no time CSR (its CLINT is created
   * without rdtime support, unlike on virt), so QEMU fails from here on. */
  /* time follows the CLINT's mtime. */
  SET_TESTNUM(23)
  li a1, CLINT_MTIME
  ld a2, 0(a1)
  rdtime a0
  ld a3, 0(a1)
  bltu a0, a2, test_fail
  bltu a3, a0, test_fail
  SPIN(1000)
  rdtime a4
  CHECK_LTU_REG(a0, a4)
  /* Gated like the others. */
  csrw mcounteren, zero
  TEST_IN_MODE(24, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, rdtime a0)
  li a1, COUNTEREN_TM
  csrw mcounteren, a1
  csrw scounteren, zero
  TEST_OK_IN_MODE(25, PRV_S, rdtime a0)
  TEST_IN_MODE(26, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, rdtime a0)
  CHECK_MTVAL(0xc0102573)
  csrw scounteren, a1
  TEST_OK_IN_MODE(27, PRV_U, rdtime a0)
  TEST_TRAP(28, CAUSE_ILLEGAL_INSTRUCTION, csrw time, zero)

TEST_END
