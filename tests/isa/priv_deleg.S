/* Trap delegation with medeleg: delegated exceptions from U and S go to
 * the S-mode handler with scause/sepc/stval and sstatus updated, the others
 * stay in M; nothing taken in M is ever delegated; the read-only bits of
 * medeleg and mideleg; sie/sip show only delegated interrupts. */
#include "test_macros.h"

#define DELEG(cause) (1 << (cause))

/* Runs `code` in `mode`; expects it to trap once into S with `cause` (the
 * S handler then ecalls into M, which resumes here). */
#define TEST_S_TRAP(num, mode, cause, code...) \
  TEST_IN_MODE(num, mode, CAUSE_SUPERVISOR_ECALL, code); \
  CHECK_STRAP_COUNT(1);                                  \
  CHECK_SCAUSE(cause)

TEST_BEGIN

  /* The usual exceptions are delegable. */
  SET_TESTNUM(2)
  li a1, -1
  csrw medeleg, a1
  li a2, DELEG(CAUSE_MISALIGNED_FETCH) | DELEG(CAUSE_FETCH_ACCESS) | DELEG(CAUSE_ILLEGAL_INSTRUCTION) | DELEG(CAUSE_BREAKPOINT) | DELEG(CAUSE_MISALIGNED_LOAD) | DELEG(CAUSE_LOAD_ACCESS) | DELEG(CAUSE_MISALIGNED_STORE) | DELEG(CAUSE_STORE_ACCESS) | DELEG(CAUSE_USER_ECALL) | DELEG(CAUSE_FETCH_PAGE_FAULT) | DELEG(CAUSE_LOAD_PAGE_FAULT) | DELEG(CAUSE_STORE_PAGE_FAULT)
  csrr a0, medeleg
  and a0, a0, a2
  CHECK_EQ_REG(a0, a2)
  csrw medeleg, zero
  CHECK_CSR(medeleg, 0)
  /* mideleg: the supervisor interrupts are delegable. */
  SET_TESTNUM(3)
  csrw mideleg, a1
  CHECK_CSR_MASKED(mideleg, MIP_SSIP | MIP_STIP | MIP_SEIP, MIP_SSIP | MIP_STIP | MIP_SEIP)
  csrw mideleg, zero
  CHECK_CSR_MASKED(mideleg, MIP_SSIP | MIP_STIP | MIP_SEIP, 0)

  /* ecall from U, delegated: taken in S with scause 8, sepc at the ecall,
   * stval 0, SPP = U, SPIE = the old SIE, SIE cleared. */
  li a1, DELEG(CAUSE_USER_ECALL)
  csrw medeleg, a1
  li a1, MSTATUS_SIE
  csrs mstatus, a1
  SET_TESTNUM(4)
  TRAP_ARM_LABEL(1f)
  GOTO_MODE(PRV_U, 2f)
2:
test4_ecall:
  ecall
1:
  TRAP_DISARM
  CHECK_STRAP_COUNT(1)
  CHECK_SCAUSE(CAUSE_USER_ECALL)
  CHECK_SEPC_LABEL(test4_ecall)
  CHECK_STVAL(0)
  CHECK_STRAP_STATUS_MASKED(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SPIE)
  /* Then the S handler's own ecall reached M. */
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  /* The delegated trap did not go through M: M saw only the S handler's
   * ecall. */
  SET_TESTNUM(5)
  la t5, trap_m
  ld t5, TR_EPC(t5)
  la t6, strap_entry
  CHECK_LTU_REG(t6, t5)
  la t6, test_pass
  CHECK_LTU_REG(t5, t6)
  li a1, MSTATUS_SIE
  csrc mstatus, a1
  /* Not delegated: ecall from U goes to M. */
  csrw medeleg, zero
  TEST_IN_MODE(6, PRV_U, CAUSE_USER_ECALL, nop)
  CHECK_STRAP_COUNT(0)

  /* Illegal instruction in U, delegated: stval = the instruction bits. */
  li a1, DELEG(CAUSE_ILLEGAL_INSTRUCTION)
  csrw medeleg, a1
  TEST_S_TRAP(7, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, .4byte 0x1234500b)
  CHECK_STVAL(0x1234500b)
  /* ... and in S: SPP = S. */
  TEST_S_TRAP(8, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, mstatus)
  CHECK_STVAL(0x30002573)
  CHECK_STRAP_STATUS_MASKED(MSTATUS_SPP, MSTATUS_SPP)
  /* M-mode exceptions are never delegated. */
  SET_TESTNUM(9)
  TRAP_ARM_LABEL(1f)
  .4byte 0x1234500b
1:
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_ILLEGAL_INSTRUCTION)
  CHECK_STRAP_COUNT(0)
  /* Breakpoints from S, delegated. */
  li a1, DELEG(CAUSE_BREAKPOINT) | DELEG(CAUSE_ILLEGAL_INSTRUCTION)
  csrw medeleg, a1
  SET_TESTNUM(10)
  TRAP_ARM_LABEL(1f)
  GOTO_MODE(PRV_S, 2f)
2:
test10_ebreak:
  ebreak
  ecall
1:
  TRAP_DISARM
  CHECK_STRAP_COUNT(1)
  CHECK_SCAUSE(CAUSE_BREAKPOINT)
  CHECK_SEPC_LABEL(test10_ebreak)
  /* Only the delegated cause goes to S: U ecall still goes to M. */
  TEST_IN_MODE(11, PRV_U, CAUSE_USER_ECALL, nop)
  CHECK_STRAP_COUNT(0)
  /* Access faults, delegated: stval = the address. */
  li a1, DELEG(CAUSE_LOAD_ACCESS) | DELEG(CAUSE_STORE_ACCESS) | DELEG(CAUSE_FETCH_ACCESS)
  csrw medeleg, a1
  li a1, 0x40000000
  TEST_S_TRAP(12, PRV_U, CAUSE_LOAD_ACCESS, lw a0, 8(a1))
  CHECK_STVAL(0x40000008)
  TEST_S_TRAP(13, PRV_S, CAUSE_STORE_ACCESS, sd a0, 16(a1))
  CHECK_STVAL(0x40000010)
  TEST_S_TRAP(14, PRV_U, CAUSE_FETCH_ACCESS, jr a1)
  CHECK_STVAL(0x40000000)
  CHECK_MEM(trap_s, TR_EPC, 0x40000000)
  csrw medeleg, zero

  /* S-mode's trap CSRs are its own: scause/sepc/stval hold what the
   * S handler saw, mcause that of the ecall. */
  SET_TESTNUM(15)
  csrr a0, scause
  CHECK_EQ(a0, CAUSE_FETCH_ACCESS)
  csrr a0, stval
  CHECK_EQ(a0, 0x40000000)

  /* sie and sip show only what mideleg delegates. */
  SET_TESTNUM(16)
  csrw mideleg, zero
  csrw mie, zero
  li a1, MIP_SSIP | MIP_STIP | MIP_SEIP
  csrs sie, a1
  CHECK_CSR(sie, 0)
  CHECK_CSR(mie, 0)
  csrs mip, a1
  CHECK_CSR(sip, 0)
  csrc mip, a1
  SET_TESTNUM(17)
  li a1, MIP_SSIP
  csrw mideleg, a1
  li a1, MIP_SSIP | MIP_STIP
  csrs sie, a1
  CHECK_CSR(sie, MIP_SSIP)
  CHECK_CSR_MASKED(mie, MIP_SSIP | MIP_STIP, MIP_SSIP)
  csrs mip, a1
  CHECK_CSR(sip, MIP_SSIP)
  /* sip.SSIP is writable from S when delegated; STIP is not writable
   * through sip. */
  SET_TESTNUM(18)
  csrc sip, a1
  CHECK_CSR_MASKED(mip, MIP_SSIP | MIP_STIP, MIP_STIP)
  li a1, MIP_STIP
  csrc mip, a1
  csrw mie, zero
  csrw mideleg, zero

  /* medeleg[11] (ecall from M) is read-only zero. QEMU 7.2 lets it be set. */
  SET_TESTNUM(1)
  li a1, -1
  csrw medeleg, a1
  csrr a0, medeleg
  csrw medeleg, zero
  srli a0, a0, CAUSE_MACHINE_ECALL
  andi a0, a0, 1
  CHECK_EQ(a0, 0)

TEST_END
