/* Executes random words. The garbage runs in U-mode, and PMP gives U access to
 * its own 64 KiB only, so whatever it does (jumps, stores, CSR accesses, wfi,
 * endless loops) ends in a trap to M-mode or is cut short by the machine
 * timer; the handler checks the cause, counts the trap and re-enters the
 * garbage at another random point. After TRAPS_WANTED traps it passes through
 * the SiFive test device; an impossible cause fails with code 3. The test is
 * that the host survives all of it. */
#include "guest.h"

#define GARBAGE_BASE 0x80400000
#define GARBAGE_SIZE 0x10000
#define TRAPS_WANTED 50000
#define TIMER_TICKS 1000 /* 100 us at 10 MHz: bounds a loop that never traps */

/* xorshift64 step on \r (clobbers t6) */
.macro xorshift r
  slli t6, \r, 13
  xor \r, \r, t6
  srli t6, \r, 7
  xor \r, \r, t6
  slli t6, \r, 17
  xor \r, \r, t6
.endm

  start_with_handler handler

  li s0, 0x9e3779b97f4a7c15
  li t0, GARBAGE_BASE
  li t1, GARBAGE_BASE + GARBAGE_SIZE
fill:
  xorshift s0
  sd s0, 0(t0)
  addi t0, t0, 8
  bltu t0, t1, fill
  la t0, rng
  sd s0, 0(t0)

  pmp0_napot_rwx GARBAGE_BASE, GARBAGE_SIZE
  li t0, MSTATUS_TW
  csrs mstatus, t0
  li t0, MIP_MTIP
  csrw mie, t0
  j enter

  /* U-mode registers are garbage too: nothing needs saving. */
  .balign 4
handler:
  csrr t0, mcause
  bltz t0, interrupt
  li t1, 9                  /* U-mode with satp = 0: causes 0..8 only */
  bgeu t0, t1, bad_cause
  j count
interrupt:
  expect_mti bad_cause
count:
  count_to traps, TRAPS_WANTED, done

enter:
  timer_in TIMER_TICKS

  la t0, rng
  ld s0, 0(t0)
  xorshift s0
  sd s0, 0(t0)
  li t1, (GARBAGE_SIZE - 1) & ~1 /* any 2-byte boundary: compressed code too */
  and t1, s0, t1
  li t2, GARBAGE_BASE
  add t1, t1, t2
  csrw mepc, t1
  li t0, MSTATUS_MPP        /* MPP = U */
  csrc mstatus, t0
  mret

done:
  test_pass
bad_cause:
  test_fail 3

  .data
  .balign 8
rng: .dword 0
traps: .dword 0
