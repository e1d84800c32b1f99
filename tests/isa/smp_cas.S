/* Zacas under contention: four harts each add 1 to three shared counters
 * ITERS times, each through a compare-and-swap retry loop (the load, then
 * amocas with the value loaded as the expected one, again while amocas
 * returns another): a word with amocas.w, a doubleword with amocas.d.aqrl
 * and a 128-bit counter with amocas.q whose low half starts 2 * ITERS below
 * the wrap, so that the carry into the high half happens midway. A CAS that
 * were not atomic, or one that stored on a mismatch, would lose updates.
 * Hart 0 works like the others, then waits for a done counter to reach 4
 * and checks. Every counter sits in a cache line of its own. QEMU 7.2 has no
 * Zacas (run-on-qemu.sh knows this test fails there). */
#define TEST_HARTS 4
#include "test_macros.h"

#define ITERS 20000
#define TOTAL (TEST_HARTS * ITERS)
#define Q_START_LO (-2 * ITERS)

TEST_BEGIN
  SET_TESTNUM(1)
  call cas_worker
  /* Wait until every hart has finished. */
  SET_TESTNUM(2)
  la a1, cas_done
  li a2, TEST_HARTS
  SPIN_UNTIL(lw, beq, a1, a2)
  fence r, rw
  SET_TESTNUM(3)
  la a1, cas_word
  lw a0, 0(a1)
  CHECK_EQ(a0, TOTAL)
  SET_TESTNUM(4)
  la a1, cas_dword
  ld a0, 0(a1)
  CHECK_EQ(a0, TOTAL)
  SET_TESTNUM(5)
  la a1, cas_quad
  ld a0, 0(a1)
  ld a2, 8(a1)
  CHECK_EQ(a0, Q_START_LO + TOTAL)
  CHECK_EQ(a2, 1)
TEST_END

  .text
test_secondary:
  SET_HART_TESTNUM(0)
  call cas_worker
  j test_park

cas_worker:
  li s0, ITERS
1:
  /* The word: rd is the expected value, then what memory held. */
  la t1, cas_word
  lw a0, 0(t1)
2:
  mv a2, a0
  addiw a1, a0, 1
  amocas.w a0, a1, t1
  bne a0, a2, 2b

  /* The doubleword, with aq and rl. */
  la t1, cas_dword
  ld a0, 0(t1)
2:
  mv a2, a0
  addi a1, a0, 1
  .insn r 0x2f, 3, 0x17, a0, t1, a1 /* amocas.d.aqrl a0, a1, (t1) */
  bne a0, a2, 2b

  /* The 128-bit counter: (a4, a5) expected, (a6, a7) new. Its two halves
   * are loaded apart and may not match: amocas.q then returns a pair that
   * does. */
  la t1, cas_quad
  ld a4, 0(t1)
  ld a5, 8(t1)
2:
  mv t3, a4
  mv t4, a5
  addi a6, a4, 1
  sltu t0, a6, a4
  add a7, a5, t0
  amocas.q.aqrl a4, a6, t1
  bne a4, t3, 2b
  bne a5, t4, 2b

  addi s0, s0, -1
  bnez s0, 1b
  la t1, cas_done
  li t0, 1
  amoadd.w zero, t0, (t1)
  ret

  .data
  .balign 64
cas_quad:
  .dword Q_START_LO, 0
  .balign 64
cas_word:
  .word 0
  .balign 64
cas_dword:
  .dword 0
  .balign 64
cas_done:
  .word 0
  .balign 64
