/* Writes fresh random code before every entry and jumps into it. Before each
 * of ROUNDS rounds the M-mode handler fills a randomly chosen 256-byte slot of
 * a 64 KiB region with new words from a 64-bit LCG (their upper halves), runs
 * fence.i, and enters the slot at a random 2-byte boundary in U-mode or S-mode
 * (a random bit picks which). PMP gives U and S the region only, and nothing
 * is delegated, so whatever the garbage does (stores into itself, satp, sret
 * to anywhere, CSR writes, wfi, endless loops) ends in a trap to M-mode or is
 * cut short by the machine timer. Every round runs code that was never run
 * before, so each one decodes (and under the translator, compiles) at least
 * one new block. After ROUNDS traps: pass through the SiFive test device. A
 * cause that a U- or S-mode program cannot raise fails with code 3. */
#include "guest.h"

#define GARBAGE_BASE 0x80400000
#define GARBAGE_SIZE 0x10000
#define SLOT_SIZE 256
#define ROUNDS 20000
#define TIMER_TICKS 1000 /* 100 us at 10 MHz: bounds a loop that never traps */

#define LCG_MUL 6364136223846793005 /* Knuth's MMIX constants */
#define LCG_INC 1442695040888963407

/* s0 = s0 * LCG_MUL + LCG_INC; s10 and s11 hold the constants. */
.macro lcg
  mul s0, s0, s10
  add s0, s0, s11
.endm

  start_with_handler handler
  li s10, LCG_MUL
  li s11, LCG_INC
  li s0, 0x2545f4914f6cdd1d

  /* The whole region starts as garbage too: the entry code jumps around it. */
  li t0, GARBAGE_BASE
  li t1, GARBAGE_BASE + GARBAGE_SIZE
fill:
  lcg
  srli t2, s0, 32
  sw t2, 0(t0)
  addi t0, t0, 4
  bltu t0, t1, fill
  la t0, rng
  sd s0, 0(t0)

  pmp0_napot_rwx GARBAGE_BASE, GARBAGE_SIZE
  li t0, MSTATUS_TW | MSTATUS_FS_INITIAL /* floating point on: its garbage runs too */
  csrs mstatus, t0
  li t0, MIP_MTIP
  csrw mie, t0
  j enter

  /* The garbage's registers are garbage too: nothing needs saving. */
  .balign 4
handler:
  csrr t0, mcause
  bltz t0, interrupt
  li t1, 16                 /* 0..15 but 10, 11 (ecall from M) and 14 (reserved) */
  bgeu t0, t1, bad_cause
  li t1, 10
  beq t0, t1, bad_cause
  li t1, 11
  beq t0, t1, bad_cause
  li t1, 14
  beq t0, t1, bad_cause
  j count
interrupt:
  expect_mti bad_cause
count:
  count_to rounds, ROUNDS, done

enter:
  /* S-mode garbage may have turned paging on: off again for the next round. */
  csrr t0, satp
  beqz t0, 1f
  csrw satp, zero
  sfence.vma
1:
  li t0, MSTATUS_FS_INITIAL /* S-mode garbage may have turned it off */
  csrs mstatus, t0
  li s10, LCG_MUL
  li s11, LCG_INC
  la t0, rng
  ld s0, 0(t0)

  /* A new slot, filled with words never seen before. */
  lcg
  srli t1, s0, 40
  li t2, (GARBAGE_SIZE - 1) & ~(SLOT_SIZE - 1)
  and t1, t1, t2
  li t2, GARBAGE_BASE
  add s1, t1, t2            /* s1 = slot */
  mv t0, s1
  addi t1, s1, SLOT_SIZE
2:
  lcg
  srli t2, s0, 32
  sw t2, 0(t0)
  addi t0, t0, 4
  bltu t0, t1, 2b
  fence.i

  /* Entry point and privilege. */
  lcg
  srli t1, s0, 33
  andi t1, t1, (SLOT_SIZE - 1) & ~1
  add t1, t1, s1
  csrw mepc, t1
  li t0, MSTATUS_MPP        /* MPP = U ... */
  csrc mstatus, t0
  srli t1, s0, 60
  andi t1, t1, 1
  beqz t1, 3f
  li t0, MSTATUS_MPP_S      /* ... or S */
  csrs mstatus, t0
3:
  la t0, rng
  sd s0, 0(t0)

  timer_in TIMER_TICKS
  mret

done:
  test_pass
bad_cause:
  test_fail 3

  .data
  .balign 8
rng: .dword 0
rounds: .dword 0
