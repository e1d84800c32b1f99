/* Zihpm's programmable counters with Sscofpmf: mhpmcounter3 counting
 * instructions retired exactly, mcountinhibit, the mode filters of mhpmevent
 * (MINH, SINH, UINH), overflow setting OF and raising the local
 * counter-overflow interrupt (13) in M and, delegated, in S, scountovf and
 * its mcounteren gating, and no second interrupt while OF is set. */
#include "test_macros.h"

#define CSR_SCOUNTOVF 0xda0
#define IRQ_LCOF 13
#define MIP_LCOFIP (1 << IRQ_LCOF)
#define EV_INSTRET 2
#define EV_CYCLES 1
#define EV_OF (1 << 63)
#define EV_MINH (1 << 62)
#define EV_SINH (1 << 61)
#define EV_UINH (1 << 60)
#define HPM3 (1 << 3)

#define NOPS5 nop; nop; nop; nop; nop

#define SPIN(n)        \
  li t5, n;            \
  90020:               \
  addi t5, t5, -1;     \
  bnez t5, 90020b

/* mhpmcounter3 = -20 with LCOFIP clear and enabled in mie, then 100 loop
 * rounds in M-mode with MIE set: the counter wraps in there. */
#define WRAP_IN_M            \
  TRAP_CLEAR_RECORDS;        \
  li a1, MIP_LCOFIP;         \
  csrc mip, a1;              \
  csrs mie, a1;              \
  li a0, -20;                \
  csrw mhpmcounter3, a0;     \
  csrsi mstatus, MSTATUS_MIE; \
  SPIN(100);                 \
  csrci mstatus, MSTATUS_MIE

#define SET_EVENT3(v) \
  li t6, v;           \
  csrw mhpmevent3, t6

TEST_BEGIN
  csrw mcountinhibit, zero
  li t0, -1
  csrw mcounteren, t0
  csrw scounteren, t0

  /* Event 0 counts nothing: the counter holds what was written. */
  SET_TESTNUM(1)
  csrw mhpmevent3, zero
  li a1, 12345
  csrw mhpmcounter3, a1
  NOPS5
  CHECK_CSR(mhpmcounter3, 12345)
  /* Counters past the implemented ones are hardwired to zero. */
  SET_TESTNUM(2)
  csrw mhpmcounter31, a1
  CHECK_CSR(mhpmcounter31, 0)
  /* An event this hart does not count reads back as none. */
  SET_TESTNUM(3)
  SET_EVENT3(0x10019)
  CHECK_CSR(mhpmevent3, 0)

  /* Instructions retired, exactly: the write stands in for the writing
   * instruction, then five nops retire before the read. */
  SET_TESTNUM(4)
  SET_EVENT3(EV_INSTRET)
  csrw mhpmcounter3, zero
  NOPS5
  csrr a0, mhpmcounter3
  CHECK_EQ(a0, 5)
  /* The user view is the same counter. */
  SET_TESTNUM(5)
  csrw mhpmcounter3, zero
  nop
  csrr a0, hpmcounter3
  CHECK_EQ(a0, 1)
  /* Cycles are counted too (one per instruction here, at least). */
  SET_TESTNUM(6)
  SET_EVENT3(EV_CYCLES)
  csrw mhpmcounter3, zero
  NOPS5
  csrr a0, mhpmcounter3
  li a1, 4
  CHECK_LTU_REG(a1, a0)

  /* mcountinhibit bit 3 stops it, clearing it resumes from the same value. */
  SET_TESTNUM(7)
  SET_EVENT3(EV_INSTRET)
  csrsi mcountinhibit, 8
  csrr a0, mhpmcounter3
  NOPS5
  csrr a1, mhpmcounter3
  CHECK_EQ_REG(a0, a1)
  csrci mcountinhibit, 8
  NOPS5
  csrr a1, mhpmcounter3
  sub a1, a1, a0
  li a2, 5
  CHECK_LTU_REG(a2, a1)
  li a2, 9
  CHECK_LTU_REG(a1, a2)

  /* MINH: nothing counted in M-mode. */
  SET_TESTNUM(8)
  SET_EVENT3(EV_INSTRET | EV_MINH)
  csrw mhpmcounter3, zero
  NOPS5
  CHECK_CSR(mhpmcounter3, 0)
  /* Counting in U only (MINH, SINH): exactly the five nops, none of the
   * M-mode instructions around them (the mret retires in M, the ecall does
   * not retire). */
  SET_EVENT3(EV_INSTRET | EV_MINH | EV_SINH)
  csrw mhpmcounter3, zero
  TEST_OK_IN_MODE(9, PRV_U, NOPS5)
  SET_TESTNUM(10)
  CHECK_CSR(mhpmcounter3, 5)
  /* The same in S-mode counts nothing. */
  csrw mhpmcounter3, zero
  TEST_OK_IN_MODE(11, PRV_S, NOPS5)
  SET_TESTNUM(12)
  CHECK_CSR(mhpmcounter3, 0)
  /* Counting in S only (MINH, UINH). */
  SET_EVENT3(EV_INSTRET | EV_MINH | EV_UINH)
  csrw mhpmcounter3, zero
  TEST_OK_IN_MODE(13, PRV_S, nop; nop; nop)
  SET_TESTNUM(14)
  CHECK_CSR(mhpmcounter3, 3)
  csrw mhpmcounter3, zero
  TEST_OK_IN_MODE(15, PRV_U, NOPS5)
  SET_TESTNUM(16)
  CHECK_CSR(mhpmcounter3, 0)
  /* The inhibit bits read back. */
  SET_TESTNUM(17)
  CHECK_CSR(mhpmevent3, EV_INSTRET | EV_MINH | EV_UINH)

  /* Overflow in M-mode: OF is set, mip.LCOFIP rises and interrupt 13 is
   * taken in M. */
  SET_TESTNUM(18)
  SET_EVENT3(EV_INSTRET)
  WRAP_IN_M
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_INTERRUPT | IRQ_LCOF)
  SET_TESTNUM(19)
  CHECK_CSR_MASKED(mhpmevent3, EV_OF, EV_OF)
  CHECK_CSR_MASKED(mip, MIP_LCOFIP, MIP_LCOFIP)
  csrr a0, CSR_SCOUNTOVF
  CHECK_EQ(a0, HPM3)
  /* The counter wrapped and went on from zero. */
  SET_TESTNUM(20)
  csrr a0, mhpmcounter3
  li a1, 1000
  CHECK_LTU_REG(a0, a1)
  /* While OF is set, another wrap raises nothing. */
  SET_TESTNUM(21)
  WRAP_IN_M
  CHECK_MTRAP_COUNT(0)
  CHECK_CSR_MASKED(mip, MIP_LCOFIP, 0)
  li a1, MIP_LCOFIP
  csrc mie, a1

  /* Delegated to S: the counter counts S only, overflows there, and the
   * interrupt goes to the S-mode handler; scountovf shows it from S. */
  SET_TESTNUM(22)
  li a1, MIP_LCOFIP
  csrs mideleg, a1
  CHECK_CSR_MASKED(mideleg, MIP_LCOFIP, MIP_LCOFIP)
  SET_EVENT3(EV_INSTRET | EV_MINH | EV_UINH)
  li a0, -10
  csrw mhpmcounter3, a0
  csrs mie, a1
  TEST_OK_IN_MODE(23, PRV_S, csrsi sstatus, MSTATUS_SIE; SPIN(50); csrci sstatus, MSTATUS_SIE; csrr s2, CSR_SCOUNTOVF; csrr s3, sip)
  SET_TESTNUM(24)
  CHECK_STRAP_COUNT(1)
  CHECK_SCAUSE(CAUSE_INTERRUPT | IRQ_LCOF)
  CHECK_EQ(s2, HPM3)
  li a1, MIP_LCOFIP
  and s3, s3, a1
  CHECK_EQ(s3, MIP_LCOFIP)
  /* S clears LCOFIP through sip. */
  TEST_OK_IN_MODE(25, PRV_S, li a1, MIP_LCOFIP; csrc sip, a1; csrr s3, sip)
  SET_TESTNUM(26)
  li a1, MIP_LCOFIP
  and s3, s3, a1
  CHECK_EQ(s3, 0)
  CHECK_CSR_MASKED(mip, MIP_LCOFIP, 0)
  /* scountovf hides the counters mcounteren does not give S. */
  li a1, HPM3
  csrc mcounteren, a1
  TEST_OK_IN_MODE(27, PRV_S, csrr s2, CSR_SCOUNTOVF)
  SET_TESTNUM(28)
  CHECK_EQ(s2, 0)
  /* ... and U-mode may not read it at all. */
  TEST_IN_MODE(29, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, csrr s2, CSR_SCOUNTOVF)
  /* Software clears OF by writing mhpmevent. */
  SET_TESTNUM(30)
  SET_EVENT3(EV_INSTRET)
  CHECK_CSR(CSR_SCOUNTOVF, 0)
  csrw mhpmevent3, zero
TEST_END
