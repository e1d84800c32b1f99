/* Memory ordering between two harts (RVWMO) with fences.
 *
 * Message passing, as a ping-pong: in round r one hart writes eight data
 * dwords (each in a line of its own, values depending on r), `fence w,w`,
 * then flag = r; the other waits until flag = r, `fence r,r`, and must read
 * round r's data. Hart 1 writes the odd rounds and hart 0 the even ones, so
 * each is writer and reader in turn. Then the same again with
 * release/acquire instead of the fences: the writer sets the flag with
 * amoswap.d.rl, the reader reads it with amoor.d.aq.
 *
 * The other patterns run free on both harts at once, each iteration i
 * (1..N) writing the value i, so that a value read says which iteration
 * wrote it. The harts meet at a barrier only every FREE_BLOCK iterations, so
 * that they run each block at the same time without paying a wait (a host
 * wake-up when the host is busy) per iteration. Each hart keeps what it read
 * in an array; hart 0 checks both once hart 1 is done. Reads of one address
 * never go back (coherence), so each array is nondecreasing and each value
 * lies in 0..N.
 *
 * Message passing, free: each hart writes four data dwords holding i and
 * their index, `fence w,w`, its flag = i; then reads the other's flag f,
 * `fence r,r`, and the other's data, which must be from iteration f or later.
 *
 * Store buffering: hart h stores i to x[h], `fence rw,rw`, loads x[1-h].
 * Forbidden: hart 0's iteration i missing hart 1's store j (reading less
 * than j) while hart 1's iteration j misses hart 0's store i. Since hart 0's
 * readings only grow, this is: for some j, hart 0's iteration
 * (hart 1's reading in j) + 1 read less than j.
 *
 * Load buffering: hart h loads x[1-h], `fence rw,rw`, stores i to x[h].
 * Forbidden: hart 0's iteration i seeing hart 1's store j (reading at least
 * j) while hart 1's iteration j sees hart 0's store i; that is, for some j
 * with hart 1 reading k >= 1, hart 0's iteration k read at least j.
 *
 * Harts that wait for each other (the ping-pong, the barriers) use
 * SLEEP_UNTIL/WAKE_HART: spin a while, then wfi until the other's IPI. To see that the store-buffering
 * check can catch a missing fence, build with -DSMP_FENCE_OMIT_SB_FENCES:
 * where the host's store buffer then shows through (Vessel and QEMU on x86),
 * check 4 fails, provided the two harts happen to run at the same moment. */
#define TEST_HARTS 2
#include "test_macros.h"

#ifndef MP_ROUNDS
#define MP_ROUNDS 250
#endif
#define MP_WORDS 8
#ifndef FREE_ITERS
#define FREE_ITERS 20000
#endif
#define FREE_BYTES (8 * (FREE_ITERS + 1))
/* The harts meet every FREE_BLOCK iterations, so that they run together. */
#define FREE_BLOCK 256
#define FREE_WORDS 4

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

/*
 * Hart 0's check of a free-running litmus test whose readings are in the
 * arrays read_0 (hart 0's) and read_1 (hart 1's): check `coherent` fails if
 * a reading is out of 0..N or smaller than the one before, check
 * `forbidden` if `forbidden_test` (run with s0 = j, a0 = hart 1's reading
 * in j, s2 = read_0) branches to test_fail.
 */
#define CHECK_LITMUS(read_0, read_1, coherent, forbidden, forbidden_test...) \
  la s1, read_1;                                                             \
  la s2, read_0;                                                             \
  li s3, FREE_ITERS;                                                         \
  li s4, 0;                                                                  \
  li s5, 0;                                                                  \
  li s0, 1;                                                                  \
  90050:                                                                     \
  SET_TESTNUM(coherent);                                                     \
  slli t0, s0, 3;                                                            \
  add t1, s1, t0;                                                            \
  ld a0, 0(t1);                                                              \
  add t1, s2, t0;                                                            \
  ld a1, 0(t1);                                                              \
  CHECK_READING(a0, s4);                                                     \
  CHECK_READING(a1, s5);                                                     \
  mv s4, a0;                                                                 \
  mv s5, a1;                                                                 \
  SET_TESTNUM(forbidden);                                                    \
  forbidden_test;                                                            \
  addi s0, s0, 1;                                                            \
  bleu s0, s3, 90050b

/* Fails unless prev <= reg <= N (s3). */
#define CHECK_READING(reg, prev) \
  bgtu reg, s3, 90051f;          \
  bgeu reg, prev, 90052f;        \
  90051:                         \
  j test_fail;                   \
  90052:

/* a2 = read_0[reg] (s2 = read_0). */
#define READ_0_AT(reg) \
  slli t0, reg, 3;     \
  add t0, s2, t0;      \
  ld a2, 0(t0)

/* In free_run, with s0 = i: when i - 1 is a multiple of FREE_BLOCK, both harts
 * meet at a barrier (the next target in s1), so that they run the next
 * block together, as far as the host lets them. */
#define FREE_MEET                 \
  addi t0, s0, -1;                \
  andi t0, t0, FREE_BLOCK - 1;    \
  bnez t0, 90055f;                \
  addi s1, s1, 2;                 \
  la a0, free_barrier;            \
  call barrier;                   \
  90055:

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

  SET_TESTNUM(2)
  la a4, sb_read_0
  la a5, lb_read_0
  call free_run
  la a1, free_done
  li a2, 1
  SLEEP_UNTIL(ld, beq, a1, a2)
  fence r, r

  /* Store buffering: for j with k = hart 1's reading < N, hart 0's
   * iteration k + 1 must have read at least j. */
  CHECK_LITMUS(sb_read_0, sb_read_1, 3, 4,
               bgeu a0, s3, 90053f;
               addi a3, a0, 1;
               READ_0_AT(a3);
               bgeu a2, s0, 90053f;
               j test_fail;
               90053:)
  /* Load buffering: for j with k = hart 1's reading >= 1, hart 0's
   * iteration k must have read less than j. */
  CHECK_LITMUS(lb_read_0, lb_read_1, 5, 6,
               beqz a0, 90054f;
               READ_0_AT(a0);
               bltu a2, s0, 90054f;
               j test_fail;
               90054:)

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
  la a4, sb_read_1
  la a5, lb_read_1
  call free_run
  fence rw, w
  la a1, free_done
  li a2, 1
  sd a2, 0(a1)
  WAKE_HART(s11)
  j test_park

  /* The free-running patterns on this hart (tp): store buffering, keeping
   * the readings at 8 * i(a4); load buffering, at 8 * i(a5); message
   * passing, checked as it goes. */
free_run:
  mv s8, ra
  /* s2 = this hart's word of a pair, s3 = the other's */
  slli s2, tp, 6
  slli s3, s11, 6

  li s1, 0
  la a2, sb_x
  li s0, 1
1:
  FREE_MEET
  add t1, a2, s2
  sd s0, 0(t1)
  SB_FENCE
  add t1, a2, s3
  ld t0, 0(t1)
  slli t1, s0, 3
  add t1, t1, a4
  sd t0, 0(t1)
  addi s0, s0, 1
  li t0, FREE_ITERS
  bleu s0, t0, 1b

  la a2, lb_x
  li s0, 1
1:
  FREE_MEET
  add t1, a2, s3
  ld t0, 0(t1)
  fence rw, rw
  add t1, a2, s2
  sd s0, 0(t1)
  slli t1, s0, 3
  add t1, t1, a5
  sd t0, 0(t1)
  addi s0, s0, 1
  li t0, FREE_ITERS
  bleu s0, t0, 1b

  /* Message passing both ways: a channel is a flag line followed by
   * FREE_WORDS data lines holding (i << 8) | index. */
  la a2, mp_channels
  li t0, 64 * (1 + FREE_WORDS)
  mul t1, tp, t0
  add s4, a2, t1 /* mine */
  mul t1, s11, t0
  add s5, a2, t1 /* the other's */
  li s0, 1
1:
  FREE_MEET
  slli a0, s0, 8
  mv t1, s4
  li t2, FREE_WORDS
2:
  addi t1, t1, 64
  sd a0, 0(t1)
  addi a0, a0, 1
  addi t2, t2, -1
  bnez t2, 2b
  fence w, w
  sd s0, 0(s4)
  ld a1, 0(s5)
  fence r, r
  /* Nothing to look at before the other's first flag. */
  beqz a1, 4f
  mv t1, s5
  li t2, 0
2:
  addi t1, t1, 64
  ld a0, 0(t1)
  /* The word's own index, and an iteration no older than the flag's. */
  andi t0, a0, 0xff
  CHECK_EQ_REG(t0, t2)
  srli t0, a0, 8
  bgeu t0, a1, 3f
  j test_fail
3:
  addi t2, t2, 1
  li t0, FREE_WORDS
  bltu t2, t0, 2b
4:
  addi s0, s0, 1
  li t0, FREE_ITERS
  bleu s0, t0, 1b
  mv ra, s8
  ret

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
  .zero 64 * MP_WORDS
free_barrier:
  .dword 0
  .align 6
  /* x[0] and x[1] of each pattern, a line apart. */
sb_x:
  .zero 128
lb_x:
  .zero 128
free_done:
  .dword 0
  .align 6
mp_channels:
  .zero 64 * (1 + FREE_WORDS) * 2

  /* What each hart read in iteration i, at 8 * i. */
  .bss
  .align 6
sb_read_0:
  .zero FREE_BYTES
sb_read_1:
  .zero FREE_BYTES
lb_read_0:
  .zero FREE_BYTES
lb_read_1:
  .zero FREE_BYTES
