/* Memory ordering between two harts (RVWMO) with fences.
 *
 * Message passing, as a ping-pong: in round r (1..MP_ROUNDS) one hart
 * writes eight data dwords (each in a line of its own, values depending on
 * r), `fence w,w`, then flag = r; the other waits until flag = r,
 * `fence r,r`, and must read round r's data. Hart 1 produces the odd rounds
 * and hart 0 the even ones, so each is writer and reader in turn. Then the
 * same again with release/acquire instead of the fences: the writer sets
 * the flag with amoswap.d.rl, the reader reads it with amoor.d.aq.
 *
 * Store buffering: in iteration i both harts leave a barrier together; hart 0
 * stores x = i, `fence rw,rw`, loads y; hart 1 stores y = i, `fence rw,rw`,
 * loads x. With the fences at least one of them must see the other's i
 * (both seeing i - 1, the previous iteration's value, is forbidden).
 *
 * Load buffering: hart 0 loads u, `fence rw,rw`, stores v = i; hart 1 loads
 * v, `fence rw,rw`, stores u = i. Both seeing the other's i is forbidden.
 *
 * In the litmus tests every value read must be i - 1 or i: a barrier orders
 * the previous iteration before, and the next one cannot start until both
 * have arrived. Each hart keeps what it read in an array; hart 0 checks both
 * arrays once hart 1 is done.
 *
 * The harts wait for each other with SLEEP_UNTIL/WAKE_HART (spin a while,
 * then wfi until the other's IPI), so the test stays fast on a busy host.
 * To see that the store-buffering check can catch a missing fence, build
 * with -DSMP_FENCE_OMIT_SB_FENCES: where the host's store buffer then shows
 * through (Vessel and QEMU on x86), check 4 fails. Vessel fails it in most
 * runs; QEMU 7.2 only in some, with more iterations (-DLITMUS_ITERS=20000),
 * as the two harts must happen to run at the same moment. */
#define TEST_HARTS 2
#include "test_macros.h"

#ifndef MP_ROUNDS
#define MP_ROUNDS 5000
#endif
#define MP_WORDS 8
#ifndef LITMUS_ITERS
#define LITMUS_ITERS 5000
#endif
#define LITMUS_BYTES (8 * (LITMUS_ITERS + 1))

#ifdef SMP_FENCE_OMIT_SB_FENCES
#define SB_FENCE
#else
#define SB_FENCE fence rw, rw
#endif

/* a0 = the value of data word `index` (a register) in round `round`. */
#define MP_VALUE(round, index)     \
  li t6, 0x9e3779b97f4a7c15;       \
  mul a0, round, t6;               \
  slli t6, index, 32;              \
  add a0, a0, t6;                  \
  add a0, a0, index

/* Fails unless reg is i - 1 (s3) or i (s0). */
#define CHECK_OLD_OR_NEW(reg) \
  beq reg, s0, 90040f;       \
  CHECK_EQ_REG(reg, s3);     \
  90040:

TEST_BEGIN
  ENABLE_WAKEUPS
  li s11, 1 /* the other hart */
  SET_TESTNUM(1)
  li s9, 1
  li s10, 0
  call mp_pingpong
  SET_TESTNUM(7)
  li s9, MP_ROUNDS + 1
  li s10, 1
  call mp_pingpong

  /* Store buffering: hart 0 stores x and loads y. */
  SET_TESTNUM(2)
  la a2, sb_x
  la a3, sb_y
  la a4, sb_read_0
  call sb_run
  /* Load buffering: hart 0 loads u and stores v. */
  la a2, lb_v
  la a3, lb_u
  la a4, lb_read_0
  call lb_run
  la a1, litmus_done
  li a2, 1
  SLEEP_UNTIL(ld, beq, a1, a2)
  fence r, r

  /* s0 = i, s1/s2 = the arrays' entries, s3 = i - 1 */
  li s0, 1
  la s1, sb_read_0 + 8
  la s2, sb_read_1 + 8
1:
  ld a0, 0(s1)
  ld a1, 0(s2)
  addi s3, s0, -1
  SET_TESTNUM(3)
  CHECK_OLD_OR_NEW(a0)
  CHECK_OLD_OR_NEW(a1)
  /* Both reading the previous iteration's value is forbidden. */
  SET_TESTNUM(4)
  bne a0, s3, 2f
  CHECK_NE_REG(a1, s3)
2:
  addi s0, s0, 1
  addi s1, s1, 8
  addi s2, s2, 8
  li t0, LITMUS_ITERS
  bleu s0, t0, 1b

  li s0, 1
  la s1, lb_read_0 + 8
  la s2, lb_read_1 + 8
1:
  ld a0, 0(s1)
  ld a1, 0(s2)
  addi s3, s0, -1
  SET_TESTNUM(5)
  CHECK_OLD_OR_NEW(a0)
  CHECK_OLD_OR_NEW(a1)
  /* Both reading this iteration's value is forbidden. */
  SET_TESTNUM(6)
  bne a0, s0, 2f
  CHECK_NE_REG(a1, s0)
2:
  addi s0, s0, 1
  addi s1, s1, 8
  addi s2, s2, 8
  li t0, LITMUS_ITERS
  bleu s0, t0, 1b

TEST_END

  .text
test_secondary:
  ENABLE_WAKEUPS
  li s11, 0 /* the other hart */
  SET_HART_TESTNUM(1)
  li s9, 1
  li s10, 0
  call mp_pingpong
  SET_HART_TESTNUM(3)
  li s9, MP_ROUNDS + 1
  li s10, 1
  call mp_pingpong
  SET_HART_TESTNUM(2)
  la a2, sb_y
  la a3, sb_x
  la a4, sb_read_1
  call sb_run
  la a2, lb_u
  la a3, lb_v
  la a4, lb_read_1
  call lb_run
  fence rw, w
  la a1, litmus_done
  li a2, 1
  sd a2, 0(a1)
  WAKE_HART(s11)
  j test_park

  /* One hart's side of a litmus test, LITMUS_ITERS times: after each
   * barrier `pattern` runs with s0 = i and leaves what it read in t0, which
   * is kept at 8 * i(a4). */
#define LITMUS_RUN(barrier_label, pattern...) \
  mv s5, ra;                                  \
  li s0, 1;                                   \
  la a0, barrier_label;                       \
  90060:                                      \
  slli s1, s0, 1;                             \
  call barrier;                               \
  pattern;                                    \
  slli t1, s0, 3;                             \
  add t1, t1, a4;                             \
  sd t0, 0(t1);                               \
  addi s0, s0, 1;                             \
  li t0, LITMUS_ITERS;                        \
  bleu s0, t0, 90060b;                        \
  mv ra, s5;                                  \
  ret

  /* Store buffering: store i to 0(a2), fence, load 0(a3). */
sb_run:
  LITMUS_RUN(sb_barrier, sd s0, 0(a2); SB_FENCE; ld t0, 0(a3))

  /* Load buffering: load 0(a3), fence, store i to 0(a2). */
lb_run:
  LITMUS_RUN(lb_barrier, ld t0, 0(a3); fence rw, rw; sd s0, 0(a2))

  /* Adds this hart to the counter at a0 and waits until it reaches s1. */
barrier:
  li t0, 1
  amoadd.w.aqrl zero, t0, (a0)
  WAKE_HART(s11)
  SLEEP_UNTIL(lw, bge, a0, s1)
  fence r, rw
  ret

  /* The message-passing ping-pong, rounds s9 .. s9 + MP_ROUNDS - 1, with
   * fences (s10 = 0) or with the flag written by amoswap.rl and read again
   * by amoor.aq (s10 = 1); tp = this hart (0 or 1), s11 the other. The
   * caller has set the check number a wrong reading fails. */
mp_pingpong:
  mv s0, s9 /* round */
  la s2, mp_flag
1:
  /* Hart 1 writes the odd rounds, hart 0 the even ones. */
  andi t0, s0, 1
  bne t0, tp, mp_read
  /* Writer. */
  la s3, mp_data
  li s4, 0
2:
  MP_VALUE(s0, s4)
  sd a0, 0(s3)
  addi s3, s3, 64
  addi s4, s4, 1
  li t0, MP_WORDS
  bltu s4, t0, 2b
  bnez s10, 3f
  fence w, w
  sd s0, 0(s2)
  j 4f
3:
  amoswap.d.rl zero, s0, (s2)
4:
  WAKE_HART(s11)
  j mp_next
mp_read:
  SLEEP_UNTIL(ld, beq, s2, s0)
  bnez s10, 3f
  fence r, r
  j 4f
3:
  /* The acquire reads the flag again (coherence keeps it at s0). */
  amoor.d.aq t0, zero, (s2)
  CHECK_EQ_REG(t0, s0)
4:
  la s3, mp_data
  li s4, 0
2:
  MP_VALUE(s0, s4)
  ld t0, 0(s3)
  CHECK_EQ_REG(t0, a0)
  addi s3, s3, 64
  addi s4, s4, 1
  li t0, MP_WORDS
  bltu s4, t0, 2b
mp_next:
  addi s0, s0, 1
  li t0, MP_ROUNDS
  add t0, t0, s9
  bltu s0, t0, 1b
  ret

  .data
  .align 6
mp_flag:
  .dword 0
  .align 6
mp_data:
  .rept MP_WORDS
  .dword 0
  .align 6
  .endr
sb_barrier:
  .dword 0
  .align 6
sb_x:
  .dword 0
  .align 6
sb_y:
  .dword 0
  .align 6
lb_barrier:
  .dword 0
  .align 6
lb_u:
  .dword 0
  .align 6
lb_v:
  .dword 0
  .align 6
litmus_done:
  .dword 0
  .align 6

  /* What each hart read in iteration i, at 8 * i. */
  .bss
  .align 6
sb_read_0:
  .zero LITMUS_BYTES
  .align 6
sb_read_1:
  .zero LITMUS_BYTES
  .align 6
lb_read_0:
  .zero LITMUS_BYTES
  .align 6
lb_read_1:
  .zero LITMUS_BYTES
