/* The guest's time and interrupts under the hypervisor extension: time at
 * V=1 is mtime + htimedelta; Sstc's vstimecmp compares against that guest
 * time and drives hip.VSTIP; the VS-level interrupts (hvip's VSEIP and
 * VSTIP, vstimecmp's VSTIP) as hip, mip and the guest's sip show them, and
 * where they are taken: in VS-mode as the guest's own supervisor interrupts
 * (causes 5 and 9) when hideleg delegates them, else in HS-mode as VS-level
 * ones (causes 6 and 10).
 *
 * The handlers are this test's own and touch only s11 and t6: the VS one
 * records scause in s11 and masks the guest's interrupts in sie (the guest
 * cannot lower hvip); the HS one records scause in s11, clears hvip and
 * turns vstimecmp off. */
#include "h_macros.h"

#define MENVCFG_STCE (1 << 63)
#define HENVCFG_STCE (1 << 63)
#define GUEST_DELTA (1 << 40)
#define CSR_VSTIMECMP 0x24d
#define CSR_MENVCFG 0x30a
#define CSR_HENVCFG 0x60a
#define IRQ_VS_TIMER 6
#define IRQ_VS_EXT 10

/* s11 = 0, then run `code` in VS-mode and spin there until a handler has
 * set s11, or give up after two seconds of the guest's time. */
#define WAIT_IN_VS(num, code...)          \
  li s11, 0;                              \
  TEST_OK_IN_VMODE(num, PRV_S, code; rdtime t5; li t6, 20000000; add t5, t5, t6; 90030: bnez s11, 90031f; rdtime t6; bltu t6, t5, 90030b; 90031: nop)

TEST_BEGIN
  H_IRQ_HANDLERS_INSTALL(vs_irq_entry, hs_irq_entry)
  li a0, -1
  csrw mcounteren, a0
  csrw hcounteren, a0
  csrw scounteren, a0
  li a0, MENVCFG_STCE
  csrs CSR_MENVCFG, a0
  li a0, HENVCFG_STCE
  csrs CSR_HENVCFG, a0
  csrw hideleg, zero
  csrw hie, zero
  csrw hvip, zero
  li a0, -1
  csrw CSR_VSTIMECMP, a0

  /* time at V=1 is mtime + htimedelta. */
  li a0, GUEST_DELTA
  csrw htimedelta, a0
  TEST_OK_IN_VMODE(1, PRV_S, rdtime s2)
  SET_TESTNUM(2)
  li a1, GUEST_DELTA
  bltu s2, a1, test_fail
  rdtime a0
  CHECK_LTU_REG(a0, a1)
  /* VU-mode sees the same guest time. */
  TEST_OK_IN_VMODE(3, PRV_U, rdtime s2)
  SET_TESTNUM(4)
  li a1, GUEST_DELTA
  bltu s2, a1, test_fail

  /* vstimecmp compares against the guest's time: a deadline a second after
   * mtime is long past for a guest whose time runs 2^40 ticks ahead ... */
  SET_TESTNUM(5)
  rdtime a0
  li a1, 10000000
  add a0, a0, a1
  csrw CSR_VSTIMECMP, a0
  CHECK_CSR_BITS(hip, MIP_VSTIP, MIP_VSTIP)
  CHECK_CSR_BITS(mip, MIP_VSTIP, MIP_VSTIP)
  /* ... and a second away for one whose time is mtime. */
  SET_TESTNUM(6)
  csrw htimedelta, zero
  CHECK_CSR_BITS(hip, MIP_VSTIP, 0)
  /* A deadline 100 ms ahead of the guest's time is not pending yet. */
  SET_TESTNUM(7)
  li a0, GUEST_DELTA
  csrw htimedelta, a0
  rdtime a0
  li a1, GUEST_DELTA + 1000000
  add a0, a0, a1
  csrw CSR_VSTIMECMP, a0
  CHECK_CSR_BITS(hip, MIP_VSTIP, 0)
  /* Without menvcfg.STCE vstimecmp drives nothing. */
  SET_TESTNUM(8)
  li a0, MIP_VSTIP
  li a1, 0
  csrw CSR_VSTIMECMP, a1
  CHECK_CSR_BITS(hip, MIP_VSTIP, MIP_VSTIP)
  li a0, MENVCFG_STCE
  csrc CSR_MENVCFG, a0
  CHECK_CSR_BITS(hip, MIP_VSTIP, 0)
  csrs CSR_MENVCFG, a0
  li a0, -1
  csrw CSR_VSTIMECMP, a0

  /* The guest's view: with hideleg.VSTIP, the pending VSTIP is sip.STIP in
   * VS-mode (hie.VSTIE = 0: not taken); without hideleg it is not there. */
  li a0, MIP_VSTIP
  csrw hideleg, a0
  csrw CSR_VSTIMECMP, zero
  TEST_OK_IN_VMODE(9, PRV_S, csrr s2, sip; csrr s3, sie)
  SET_TESTNUM(10)
  CHECK_EQ(s2, MIP_STIP)
  CHECK_EQ(s3, 0)
  csrw hideleg, zero
  TEST_OK_IN_VMODE(11, PRV_S, csrr s2, sip)
  SET_TESTNUM(12)
  CHECK_EQ(s2, 0)
  li a0, -1
  csrw CSR_VSTIMECMP, a0

  /* The VS timer at V=1, delegated: vstimecmp 100 ms ahead of the guest's
   * time (with htimedelta) fires in VS-mode as a supervisor timer
   * interrupt (5), and the guest's handler masks it in its sie (hie). */
  li a0, MIP_VSTIP
  csrw hideleg, a0
  csrs hie, a0
  li a0, MSTATUS_SIE
  csrs vsstatus, a0
  rdtime a0
  li a1, GUEST_DELTA + 1000000
  add a0, a0, a1
  csrw CSR_VSTIMECMP, a0
  WAIT_IN_VS(13, nop)
  SET_TESTNUM(14)
  CHECK_EQ(s11, CAUSE_INTERRUPT | IRQ_S_TIMER)
  CHECK_CSR_BITS(hie, MIP_VSTIP, 0)
  /* The guest's time is past the deadline now. */
  SET_TESTNUM(15)
  li a0, GUEST_DELTA
  rdtime a1
  add a1, a1, a0
  csrr a2, CSR_VSTIMECMP
  CHECK_LTU_REG(a2, a1)

  /* Not delegated: the same timer at V=1 goes to HS-mode as the VS timer
   * interrupt (6). */
  SET_TESTNUM(16)
  csrw hideleg, zero
  li a0, MIP_VSTIP
  csrs hie, a0
  csrw CSR_VSTIMECMP, zero
  WAIT_IN_VS(16, nop)
  SET_TESTNUM(17)
  CHECK_EQ(s11, CAUSE_INTERRUPT | IRQ_VS_TIMER)
  CHECK_CSR(CSR_VSTIMECMP, -1)

  /* hvip injects: VSEIP delegated is the guest's external interrupt (9) ... */
  SET_TESTNUM(18)
  li a0, MIP_VSEIP
  csrw hideleg, a0
  csrs hie, a0
  csrs hvip, a0
  CHECK_CSR_BITS(hip, MIP_VSEIP, MIP_VSEIP)
  CHECK_CSR_BITS(mip, MIP_VSEIP, MIP_VSEIP)
  WAIT_IN_VS(19, nop)
  SET_TESTNUM(20)
  CHECK_EQ(s11, CAUSE_INTERRUPT | IRQ_S_EXT)
  CHECK_CSR_BITS(hie, MIP_VSEIP, 0)
  /* ... not delegated, HS-mode's VS external interrupt (10) ... */
  SET_TESTNUM(21)
  csrw hideleg, zero
  li a0, MIP_VSEIP
  csrs hie, a0
  WAIT_IN_VS(21, nop)
  SET_TESTNUM(22)
  CHECK_EQ(s11, CAUSE_INTERRUPT | IRQ_VS_EXT)
  CHECK_CSR(hvip, 0)
  /* ... and hvip.VSTIP not delegated, HS-mode's VS timer interrupt (6),
   * also from VU-mode. */
  SET_TESTNUM(23)
  li a0, MIP_VSTIP
  csrs hie, a0
  csrs hvip, a0
  li s11, 0
  TEST_OK_IN_VMODE(23, PRV_U, nop; nop; nop)
  SET_TESTNUM(24)
  CHECK_EQ(s11, CAUSE_INTERRUPT | IRQ_VS_TIMER)
  /* From M-mode none of them is taken (they belong to HS and VS). */
  SET_TESTNUM(25)
  TRAP_CLEAR_RECORDS
  li a0, MIP_VSTIP | MIP_VSEIP
  csrs hvip, a0
  csrs hie, a0
  csrsi mstatus, MSTATUS_MIE
  nop
  nop
  csrci mstatus, MSTATUS_MIE
  CHECK_MTRAP_COUNT(0)
  csrw hvip, zero
  csrw hie, zero
TEST_END

  .text
  .align 6
vs_irq_entry:
  csrr s11, scause
  li t6, 0x222
  csrc sie, t6
  sret

  .align 6
hs_irq_entry:
  csrr s11, scause
  csrw hvip, zero
  li t6, -1
  csrw CSR_VSTIMECMP, t6
  sret

H_VS_HANDLER
