/* Sscofpmf's local counter-overflow interrupt (LCOFI, 13) under the
 * hypervisor extension. hideleg.13 and hvip.13 are writable (with
 * Sscofpmf: sscofpmf_off.S checks them read-only zero without it), and
 * interrupt 13 reaches VS-mode as the AIA defines interrupts 13-63 (hvien.13
 * taken as one): with hideleg.13 set the guest's sie.13 and sip.13 are
 * HS-mode's (a counter overflow, delegated on to the guest); with it clear
 * they are the guest's own, sip.13 being hvip.13, which the hypervisor sets
 * to inject one. Shown: the CSR views, an overflow at V=1 taken in VS-mode
 * (scause = interrupt 13) with hideleg.13 and in HS-mode without, and an
 * injected one taken in VS and VU-mode only, cleared by the guest.
 *
 * The handlers are this test's own and touch only s8-s11 and t6: the VS one
 * records scause in s11 and scountovf in s9 and clears its sip.13; the HS
 * one records scause in s10 and hstatus's SPV and SPVP in s8 and clears
 * sip.13. */
#include "h_macros.h"

#define CSR_SCOUNTOVF 0xda0
#define IRQ_LCOF 13
#define MIP_LCOFIP (1 << IRQ_LCOF)
#define VS_INTERRUPTS (MIP_VSSIP | MIP_VSTIP | MIP_VSEIP)
#define EV_INSTRET 2
#define EV_OF (1 << 63)
#define EV_MINH (1 << 62)
#define EV_SINH (1 << 61)
#define EV_UINH (1 << 60)
#define HPM3 (1 << 3)

#define SPIN(n)        \
  li t5, n;            \
  90020:               \
  addi t5, t5, -1;     \
  bnez t5, 90020b

/* mhpmcounter3 counts instructions in VS and VU-mode only, OF clear, and
 * wraps 20 of them from now. */
#define ARM_OVERFLOW                                  \
  li t6, EV_INSTRET | EV_MINH | EV_SINH | EV_UINH;    \
  csrw mhpmevent3, t6;                                \
  li t6, -20;                                         \
  csrw mhpmcounter3, t6

#define CLEAR_RECORDS \
  li s8, 0;           \
  li s9, 0;           \
  li s10, 0;          \
  li s11, 0

TEST_BEGIN
  H_IRQ_HANDLERS_INSTALL(vs_irq_entry, hs_irq_entry)
  csrw mcountinhibit, zero
  li a0, -1
  csrw mcounteren, a0
  csrw hcounteren, a0
  csrw scounteren, a0
  li a0, MIP_LCOFIP
  csrs mideleg, a0
  csrw hie, zero

  /* hideleg and hvip take bit 13 beside the VS-level interrupts ... */
  SET_TESTNUM(1)
  li a0, -1
  csrw hideleg, a0
  CHECK_CSR(hideleg, VS_INTERRUPTS | MIP_LCOFIP)
  csrw hvip, a0
  CHECK_CSR(hvip, VS_INTERRUPTS | MIP_LCOFIP)
  /* ... and hvip.13 is neither mip's nor hip's. */
  SET_TESTNUM(2)
  CHECK_CSR_MASKED(mip, MIP_LCOFIP, 0)
  CHECK_CSR_MASKED(hip, MIP_LCOFIP, 0)
  csrw hvip, zero

  /* hideleg.13 set: vsie.13 and vsip.13 are sie's and sip's. */
  SET_TESTNUM(3)
  li a0, MIP_LCOFIP
  csrw hideleg, a0
  csrc mie, a0
  csrs vsie, a0
  CHECK_CSR_MASKED(mie, MIP_LCOFIP, MIP_LCOFIP)
  csrs mip, a0
  CHECK_CSR_MASKED(vsip, MIP_LCOFIP, MIP_LCOFIP)
  csrc vsip, a0
  CHECK_CSR_MASKED(mip, MIP_LCOFIP, 0)
  /* Clear: vsie.13 is a bit of the guest's own, vsip.13 is hvip.13. */
  SET_TESTNUM(4)
  csrw hideleg, zero
  csrc mie, a0
  CHECK_CSR_MASKED(vsie, MIP_LCOFIP, 0)
  csrs vsie, a0
  CHECK_CSR_MASKED(vsie, MIP_LCOFIP, MIP_LCOFIP)
  CHECK_CSR_MASKED(mie, MIP_LCOFIP, 0)
  csrs mip, a0
  CHECK_CSR_MASKED(vsip, MIP_LCOFIP, 0)
  csrc mip, a0
  csrs hvip, a0
  CHECK_CSR_MASKED(vsip, MIP_LCOFIP, MIP_LCOFIP)
  csrc vsip, a0
  CHECK_CSR(hvip, 0)
  csrc vsie, a0

  /* An overflow at V=1 with hideleg.13 goes to VS-mode as interrupt 13 (the
   * guest's sie.13 being HS-mode's): the guest reads it in scountovf and
   * clears it in its sip, which clears mip.13. */
  li a0, MIP_LCOFIP
  csrw hideleg, a0
  csrs mie, a0
  li a0, MSTATUS_SIE
  csrs vsstatus, a0
  CLEAR_RECORDS
  ARM_OVERFLOW
  TEST_OK_IN_VMODE(5, PRV_S, SPIN(100))
  SET_TESTNUM(6)
  CHECK_EQ(s11, CAUSE_INTERRUPT | IRQ_LCOF)
  CHECK_EQ(s10, 0)
  CHECK_EQ(s9, HPM3)
  CHECK_CSR(vscause, CAUSE_INTERRUPT | IRQ_LCOF)
  CHECK_CSR_MASKED(mip, MIP_LCOFIP, 0)
  CHECK_CSR_MASKED(mhpmevent3, EV_OF, EV_OF)

  /* Without hideleg.13 the same overflow goes to HS-mode (from VS: SPV and
   * SPVP), and the guest sees nothing. */
  csrw hideleg, zero
  CLEAR_RECORDS
  ARM_OVERFLOW
  TEST_OK_IN_VMODE(7, PRV_S, SPIN(100))
  SET_TESTNUM(8)
  CHECK_EQ(s10, CAUSE_INTERRUPT | IRQ_LCOF)
  CHECK_EQ(s8, HSTATUS_SPV | HSTATUS_SPVP)
  CHECK_EQ(s11, 0)
  CHECK_CSR(scause, CAUSE_INTERRUPT | IRQ_LCOF)
  CHECK_CSR_MASKED(mip, MIP_LCOFIP, 0)
  li a0, MIP_LCOFIP
  csrc mie, a0
  csrw mhpmevent3, zero

  /* Injected through hvip.13 (hideleg.13 clear): nothing while the guest's
   * own vsie.13 is clear ... */
  li a0, MIP_LCOFIP
  csrs hvip, a0
  CLEAR_RECORDS
  TEST_OK_IN_VMODE(9, PRV_S, nop; nop; nop)
  SET_TESTNUM(10)
  CHECK_EQ(s11, 0)
  CHECK_EQ(s10, 0)
  /* ... taken in VS-mode once it is set; the guest clears hvip.13 through
   * its sip. */
  csrs vsie, a0
  TEST_OK_IN_VMODE(11, PRV_S, nop; nop; nop)
  SET_TESTNUM(12)
  CHECK_EQ(s11, CAUSE_INTERRUPT | IRQ_LCOF)
  CHECK_EQ(s10, 0)
  CHECK_CSR(hvip, 0)
  /* HS-mode never takes it, sstatus.SIE set or not. */
  csrs hvip, a0
  CLEAR_RECORDS
  TEST_IN_HMODE(13, PRV_S, CAUSE_SUPERVISOR_ECALL, csrsi sstatus, MSTATUS_SIE; nop; nop; csrci sstatus, MSTATUS_SIE)
  SET_TESTNUM(14)
  CHECK_EQ(s10, 0)
  CHECK_EQ(s11, 0)
  /* VS-mode with vsstatus.SIE clear does not take it, VU-mode does. */
  li a0, MSTATUS_SIE
  csrc vsstatus, a0
  TEST_OK_IN_VMODE(15, PRV_S, nop; nop; nop)
  SET_TESTNUM(16)
  CHECK_EQ(s11, 0)
  TEST_OK_IN_VMODE(17, PRV_U, nop; nop; nop)
  SET_TESTNUM(18)
  CHECK_EQ(s11, CAUSE_INTERRUPT | IRQ_LCOF)
  CHECK_CSR(hvip, 0)
  li a0, MIP_LCOFIP
  csrc vsie, a0
TEST_END

  .text
  .align 6
vs_irq_entry:
  csrr s11, scause
  csrr s9, CSR_SCOUNTOVF
  li t6, MIP_LCOFIP
  csrc sip, t6
  sret

  .align 6
hs_irq_entry:
  csrr s10, scause
  csrr s8, hstatus
  li t6, HSTATUS_SPV | HSTATUS_SPVP
  and s8, s8, t6
  li t6, MIP_LCOFIP
  csrc sip, t6
  sret

H_VS_HANDLER
