/* Inter-processor interrupts through the CLINT, and per-hart timers, on four
 * harts in M-mode.
 *
 * Phase 1, polled: hart 0 sets the msip of each other hart in turn; the
 * target sees mip.MSIP rise without taking an interrupt (mie = 0), hart 0
 * reads its msip back as 1 and its own mip.MSIP as 0; the target clears its
 * msip and sees mip.MSIP fall, and hart 0 reads the msip back as 0.
 * Phase 2, interrupts: the secondaries sleep in wfi with mie.MSIE and
 * mstatus.MIE set. ROUNDS times for each in turn, hart 0 sets its msip and
 * sleeps in wfi itself; the target takes the machine software interrupt,
 * finds mip.MSIP set, clears its msip, sees mip.MSIP clear, counts, and
 * answers with an IPI to hart 0, which takes it and counts the replies.
 * Then one round to all three at once.
 * Phase 3: the secondaries sleep in wfi with mie.MSIE but mstatus.MIE = 0;
 * an msip must wake them without a trap.
 * Phase 4, timers: hart 1 takes its own timer interrupt from wfi; hart 2
 * wakes from wfi on its own mtimecmp with mstatus.MIE = 0; hart 3 sleeps
 * until hart 0 writes hart 3's mtimecmp (which must not touch hart 0's
 * mip.MTIP); each one's mtime must have reached its mtimecmp, and mtime read
 * by hart 0 afterwards is no less than any reading they made; then hart 0
 * sleeps on its own timer.
 *
 * Hart 0 tells a secondary to go on through the CMD field of its records
 * and the secondary reports progress in ACK (the values are the states
 * below); neither waits on the other in any other way. */
#define TEST_HARTS 4
#include "test_macros.h"

#define ROUNDS 100
/* 200 us at the 10 MHz timebase of QEMU's machines and Vessel. */
#define TIMER_DELTA 2000

/* Each hart's records, one line per hart in `records`. */
#define ACK 0         /* written by the secondary */
#define CMD 8         /* written by hart 0 */
#define MSI_TAKEN 16  /* software interrupts the handler took */
#define MTI_TAKEN 24  /* timer interrupts the handler took */
#define DEADLINE 32   /* the mtimecmp the hart armed */
#define REPLIED 40    /* MSI_TAKEN after the handler's reply IPI */
#define NOW 48        /* mtime as the secondary read it at the end */

/* ACK states of a secondary. */
#define ACK_ALIVE 1
#define ACK_SAW_MSIP 2
#define ACK_CLEARED 3
#define ACK_ARMED 4
#define ACK_PHASE2_DONE 5
#define ACK_SLEEPING 6
#define ACK_WOKE 7
#define ACK_TIMER_READY 8
#define ACK_TIMER_DONE 9

#define INTERRUPT(cause) (CAUSE_INTERRUPT | (cause))

/* s2 = the records of the hart in s1. */
#define RECORDS_OF_S1 \
  la s2, records;     \
  slli t0, s1, 6;     \
  add s2, s2, t0

/* Waits until `field` of the records at `base` equals `value`. */
#define WAIT_FIELD(base, field, value) \
  addi a1, base, field;                \
  li a2, value;                        \
  SPIN_UNTIL(ld, beq, a1, a2);         \
  fence r, rw

/* Loops over the secondaries with s1 = the hart, s2 = its records. */
#define FOR_SECONDARIES \
  li s1, 1;             \
  90080:                \
  RECORDS_OF_S1

#define NEXT_SECONDARY   \
  addi s1, s1, 1;        \
  li t0, TEST_HARTS;     \
  bltu s1, t0, 90080b

/* Sets the msip of the hart in `hart` (a register) to 1. */
#define SEND_IPI(hart)        \
  CLINT_MSIP_OF(t5, hart);    \
  li t6, 1;                   \
  sw t6, 0(t5)

TEST_BEGIN
  li a1, CLINT_MTIMECMP
  li a2, -1
  sd a2, 0(a1)
  SET_TESTNUM(1)
  CHECK_CSR_MASKED(mip, MIP_MSIP | MIP_MTIP, 0)
  li a1, CLINT_MSIP
  lw a0, 0(a1)
  CHECK_EQ(a0, 0)
  FOR_SECONDARIES
  WAIT_FIELD(s2, ACK, ACK_ALIVE)
  NEXT_SECONDARY

  /* Phase 1. */
  FOR_SECONDARIES
  SET_TESTNUM(2)
  CLINT_MSIP_OF(s3, s1)
  li t0, 1
  sw t0, 0(s3)
  CHECK_CSR_MASKED(mip, MIP_MSIP, 0)
  WAIT_FIELD(s2, ACK, ACK_SAW_MSIP)
  SET_TESTNUM(3)
  lw a0, 0(s3)
  CHECK_EQ(a0, 1)
  li t0, 1
  sd t0, CMD(s2)
  WAIT_FIELD(s2, ACK, ACK_CLEARED)
  SET_TESTNUM(4)
  lw a0, 0(s3)
  CHECK_EQ(a0, 0)
  CHECK_CSR_MASKED(mip, MIP_MSIP, 0)
  NEXT_SECONDARY

  /* Phase 2: s4 counts the replies hart 0 took, s5 the round. */
  FOR_SECONDARIES
  li t0, 2
  sd t0, CMD(s2)
  WAIT_FIELD(s2, ACK, ACK_ARMED)
  NEXT_SECONDARY
  li s4, 0
  li s5, 1
ipi_round:
  FOR_SECONDARIES
  SET_TESTNUM(5)
  TRAP_CLEAR_RECORDS
  li t0, MIP_MSIP
  csrs mie, t0
  csrsi mstatus, MSTATUS_MIE
  SEND_IPI(s1)
1:
  wfi
  la t0, trap_m
  ld t0, TR_COUNT(t0)
  beqz t0, 1b
  csrci mstatus, MSTATUS_MIE
  /* The runtime's handler masked MSIE again after one interrupt. */
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(INTERRUPT(IRQ_M_SOFT))
  addi s4, s4, 1
  /* The target counted the round before it answered. */
  SET_TESTNUM(6)
  addi a1, s2, REPLIED
  SPIN_UNTIL(ld, beq, a1, s5)
  fence r, rw
  ld a0, MSI_TAKEN(s2)
  CHECK_EQ_REG(a0, s5)
  SET_TESTNUM(7)
  li a1, CLINT_MSIP
  sw zero, 0(a1)
  CHECK_CSR_MASKED(mip, MIP_MSIP, 0)
  NEXT_SECONDARY
  addi s5, s5, 1
  li t0, ROUNDS
  bleu s5, t0, ipi_round
  SET_TESTNUM(8)
  CHECK_EQ(s4, ROUNDS * (TEST_HARTS - 1))

  /* All three at once; hart 0 does not take the replies but finds its
   * mip.MSIP set once each target has answered. */
  SET_TESTNUM(9)
  li s1, 1
  SEND_IPI(s1)
  li s1, 2
  SEND_IPI(s1)
  li s1, 3
  SEND_IPI(s1)
  FOR_SECONDARIES
  WAIT_FIELD(s2, REPLIED, ROUNDS + 1)
  WAIT_FIELD(s2, ACK, ACK_PHASE2_DONE)
  NEXT_SECONDARY
  CHECK_CSR_MASKED(mip, MIP_MSIP, MIP_MSIP)
  li a1, CLINT_MSIP
  sw zero, 0(a1)
  CHECK_CSR_MASKED(mip, MIP_MSIP, 0)

  /* Phase 3. */
  SET_TESTNUM(10)
  FOR_SECONDARIES
  li t0, 3
  sd t0, CMD(s2)
  WAIT_FIELD(s2, ACK, ACK_SLEEPING)
  NEXT_SECONDARY
  FOR_SECONDARIES
  SEND_IPI(s1)
  NEXT_SECONDARY
  FOR_SECONDARIES
  WAIT_FIELD(s2, ACK, ACK_WOKE)
  NEXT_SECONDARY
  /* Nobody answered: no handler ran. */
  CHECK_CSR_MASKED(mip, MIP_MSIP, 0)

  /* Phase 4. */
  FOR_SECONDARIES
  li t0, 4
  sd t0, CMD(s2)
  NEXT_SECONDARY
  SET_TESTNUM(11)
  li s1, 3
  RECORDS_OF_S1
  WAIT_FIELD(s2, ACK, ACK_TIMER_READY)
  CLINT_MTIMECMP_OF(a1, s1)
  sd zero, 0(a1)
  /* Hart 3's timer is not hart 0's. */
  CHECK_CSR_MASKED(mip, MIP_MTIP, 0)
  FOR_SECONDARIES
  WAIT_FIELD(s2, ACK, ACK_TIMER_DONE)
  NEXT_SECONDARY
  /* Only hart 1 took its timer as an interrupt. */
  SET_TESTNUM(12)
  CHECK_MEM(records, 64 * 1 + MTI_TAKEN, 1)
  CHECK_MEM(records, 64 * 2 + MTI_TAKEN, 0)
  CHECK_MEM(records, 64 * 3 + MTI_TAKEN, 0)
  /* One mtime for all: hart 0 reads it after the others did, so it reads
   * no less than any of them. */
  SET_TESTNUM(14)
  li a1, CLINT_MTIME
  ld s3, 0(a1)
  FOR_SECONDARIES
  ld a0, NOW(s2)
  bgeu s3, a0, 1f
  j test_fail
1:
  NEXT_SECONDARY

  /* Hart 0's own timer wakes it from wfi. */
  SET_TESTNUM(13)
  li a1, MIP_MTIP
  csrw mie, a1
  li a1, CLINT_MTIME
  ld a2, 0(a1)
  addi a2, a2, TIMER_DELTA
  li a1, CLINT_MTIMECMP
  sd a2, 0(a1)
1:
  wfi
  csrr a0, mip
  andi a0, a0, MIP_MTIP
  beqz a0, 1b
  li a1, CLINT_MTIME
  ld a0, 0(a1)
  bgeu a0, a2, 2f
  j test_fail
2:
  li a1, CLINT_MTIMECMP
  li a2, -1
  sd a2, 0(a1)
  CHECK_CSR_MASKED(mip, MIP_MTIP, 0)
  csrw mie, zero

TEST_END

  .text
  /* s0 = this hart's records, s1 = its msip, s2 = its mtimecmp. */
test_secondary:
  la s0, records
  slli t0, tp, 6
  add s0, s0, t0
  la t0, handler_save
  slli t1, tp, 6
  add t0, t0, t1
  csrw mscratch, t0
  la t0, ipi_mtrap
  csrw mtvec, t0
  CLINT_MSIP_OF(s1, tp)
  CLINT_MTIMECMP_OF(s2, tp)
  li t0, -1
  sd t0, 0(s2)
  li t0, ACK_ALIVE
  sd t0, ACK(s0)

  /* Phase 1: no interrupt enabled; poll mip. */
  SET_HART_TESTNUM(1)
1:
  csrr t0, mip
  andi t0, t0, MIP_MSIP
  beqz t0, 1b
  li t0, ACK_SAW_MSIP
  sd t0, ACK(s0)
  WAIT_FIELD(s0, CMD, 1)
  lw t0, 0(s1)
  CHECK_EQ(t0, 1)
  sw zero, 0(s1)
  SET_HART_TESTNUM(2)
  CHECK_CSR_MASKED(mip, MIP_MSIP, 0)
  lw t0, 0(s1)
  CHECK_EQ(t0, 0)
  fence rw, w
  li t0, ACK_CLEARED
  sd t0, ACK(s0)

  /* Phase 2: the handler takes each msip and answers; wfi until all the
   * rounds and the broadcast have come. */
  WAIT_FIELD(s0, CMD, 2)
  li t0, MIP_MSIP
  csrw mie, t0
  csrsi mstatus, MSTATUS_MIE
  li t0, ACK_ARMED
  sd t0, ACK(s0)
1:
  wfi
  ld t0, MSI_TAKEN(s0)
  li t1, ROUNDS + 1
  bltu t0, t1, 1b
  csrci mstatus, MSTATUS_MIE
  li t0, ACK_PHASE2_DONE
  sd t0, ACK(s0)

  /* Phase 3: wfi with MIE = 0 wakes on the msip; no trap. */
  WAIT_FIELD(s0, CMD, 3)
  li t0, ACK_SLEEPING
  sd t0, ACK(s0)
1:
  wfi
  csrr t0, mip
  andi t0, t0, MIP_MSIP
  beqz t0, 1b
  sw zero, 0(s1)
  SET_HART_TESTNUM(5)
  CHECK_CSR_MASKED(mip, MIP_MSIP, 0)
  ld t0, MSI_TAKEN(s0)
  CHECK_EQ(t0, ROUNDS + 1)
  fence rw, w
  li t0, ACK_WOKE
  sd t0, ACK(s0)

  /* Phase 4: the timers, a different way on each hart. */
  WAIT_FIELD(s0, CMD, 4)
  li t0, MIP_MTIP
  csrw mie, t0
  li t0, 2
  beq tp, t0, timer_polled
  li t0, 3
  beq tp, t0, timer_remote
  /* Hart 1: the handler takes it, checks the time and disarms. */
  li t0, CLINT_MTIME
  ld t0, 0(t0)
  addi t0, t0, TIMER_DELTA
  sd t0, DEADLINE(s0)
  sd t0, 0(s2)
  csrsi mstatus, MSTATUS_MIE
1:
  wfi
  ld t0, MTI_TAKEN(s0)
  beqz t0, 1b
  csrci mstatus, MSTATUS_MIE
  j timer_done
timer_polled:
  li t0, CLINT_MTIME
  ld t0, 0(t0)
  addi t0, t0, TIMER_DELTA
  sd t0, DEADLINE(s0)
  sd t0, 0(s2)
1:
  wfi
  csrr t0, mip
  andi t0, t0, MIP_MTIP
  beqz t0, 1b
  SET_HART_TESTNUM(6)
  li t0, CLINT_MTIME
  ld t0, 0(t0)
  ld t1, DEADLINE(s0)
  bgeu t0, t1, 1f
  j test_fail
1:
  j timer_disarm
timer_remote:
  li t0, ACK_TIMER_READY
  sd t0, ACK(s0)
1:
  wfi
  csrr t0, mip
  andi t0, t0, MIP_MTIP
  beqz t0, 1b
  /* Hart 0 armed it in the past. */
  SET_HART_TESTNUM(8)
  ld t0, 0(s2)
  CHECK_EQ(t0, 0)
timer_disarm:
  li t0, -1
  sd t0, 0(s2)
  SET_HART_TESTNUM(7)
  CHECK_CSR_MASKED(mip, MIP_MTIP, 0)
timer_done:
  csrw mie, zero
  li t0, CLINT_MTIME
  ld t0, 0(t0)
  sd t0, NOW(s0)
  fence rw, w
  li t0, ACK_TIMER_DONE
  sd t0, ACK(s0)
  j test_park

  /* The secondaries' M-mode handler: software and timer interrupts. */
  .align 2
ipi_mtrap:
  csrrw t6, mscratch, t6
  sd t0, 0(t6)
  sd t1, 8(t6)
  sd t2, 16(t6)
  sd t5, 24(t6)
  la t0, records
  slli t1, tp, 6
  add t0, t0, t1
  csrr t1, mcause
  li t2, INTERRUPT(IRQ_M_SOFT)
  beq t1, t2, ipi_msi
  li t2, INTERRUPT(IRQ_M_TIMER)
  beq t1, t2, ipi_mti
  SET_HART_TESTNUM(9)
  j test_fail

ipi_msi:
  csrr t1, mip
  andi t1, t1, MIP_MSIP
  bnez t1, 1f
  SET_HART_TESTNUM(3)
  j test_fail
1:
  slli t1, tp, 2
  li t2, CLINT_MSIP
  add t1, t1, t2
  sw zero, 0(t1)
  csrr t1, mip
  andi t1, t1, MIP_MSIP
  beqz t1, 1f
  SET_HART_TESTNUM(4)
  j test_fail
1:
  ld t1, MSI_TAKEN(t0)
  addi t1, t1, 1
  sd t1, MSI_TAKEN(t0)
  /* In phase 2, answer hart 0, then say so. */
  ld t2, CMD(t0)
  li t5, 2
  bne t2, t5, ipi_return
  fence
  li t2, CLINT_MSIP
  li t5, 1
  sw t5, 0(t2)
  fence
  sd t1, REPLIED(t0)
  j ipi_return

ipi_mti:
  li t1, CLINT_MTIME
  ld t1, 0(t1)
  ld t2, DEADLINE(t0)
  bgeu t1, t2, 1f
  SET_HART_TESTNUM(6)
  j test_fail
1:
  slli t1, tp, 3
  li t2, CLINT_MTIMECMP
  add t1, t1, t2
  li t2, -1
  sd t2, 0(t1)
  csrr t1, mip
  andi t1, t1, MIP_MTIP
  beqz t1, 1f
  SET_HART_TESTNUM(7)
  j test_fail
1:
  ld t1, MTI_TAKEN(t0)
  addi t1, t1, 1
  sd t1, MTI_TAKEN(t0)

ipi_return:
  ld t0, 0(t6)
  ld t1, 8(t6)
  ld t2, 16(t6)
  ld t5, 24(t6)
  csrrw t6, mscratch, t6
  mret

  .data
  .align 6
records:
  .zero 64 * TEST_HARTS
handler_save:
  .zero 64 * TEST_HARTS
