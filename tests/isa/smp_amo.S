/* Atomics under contention: four harts each add 1 to shared counters
 * 100000 times, with amoadd.w, amoadd.d, an lr.d/sc.d and an lr.w/sc.w retry
 * loop, and a plain load/add/store inside a spinlock built on amoswap.w.aq/rl;
 * every counter must end at exactly 4 * 100000. The old values amoadd.d
 * returns must be 0 .. 399999 once each (their sum is checked). In every
 * eighth iteration the harts also race amomax.w, amomin.d, amomaxu.d,
 * amominu.w, amoor.d, amoand.d and amoxor.d on shared words, whose final
 * values are known. Each hart also marks its mhartid in a mask: the ids
 * must be 0..3, once each.
 *
 * Hart 0 works like the others, then waits for a done counter to reach 4 and
 * checks. Every word sits in a cache line of its own. */
#define TEST_HARTS 4
#include "test_macros.h"

#define ITERS 100000
#define TOTAL (TEST_HARTS * ITERS)
/* The min/max/or/and/xor race runs in every SIDE_EVERY-th iteration: it
 * needs fewer rounds to show a lost update, and a sanitizer build of the
 * emulator takes long enough over the counters alone. */
#define SIDE_EVERY 8
#define SIDE_ITERS (ITERS / SIDE_EVERY)
.if (SIDE_ITERS % 2) != 0
.error "amoxor must apply each pattern an even number of times"
.endif

/* The value hart h contributes in its k-th side round, kept in s4. */
#define CONTRIB(k, h) ((k) * TEST_HARTS + (h))

#define XOR_SEED 0x5a5a5a5a5a5a5a5a

/* reg = the address of `label` + 64 * index: one line per word. */
#define LINE(reg, index) addi reg, s2, 64 * (index)

#define L_CNT_W 0
#define L_CNT_D 1
#define L_LRSC_D 2
#define L_LRSC_W 3
#define L_LOCK 4
#define L_PLAIN 5
#define L_MAX_W 6
#define L_MIN_D 7
#define L_MAXU_D 8
#define L_MINU_W 9
#define L_OR_D 10
#define L_AND_D 11
#define L_XOR_D 12
#define L_HART_MASK 13
#define L_DONE 14
#define L_SUMS 15 /* one dword per hart, in one line */

/* Compares the word (w) or dword (d) in line `index` with `value`. */
#define CHECK_LINE_W(num, index, value) \
  SET_TESTNUM(num);                     \
  la a1, shared;                        \
  lw a0, 64 * (index)(a1);              \
  CHECK_EQ_W(a0, value)

#define CHECK_LINE_D(num, index, value) \
  SET_TESTNUM(num);                     \
  la a1, shared;                        \
  ld a0, 64 * (index)(a1);              \
  CHECK_EQ(a0, value)

TEST_BEGIN
  /* The boot ROM hands each hart its mhartid in a0. */
  SET_TESTNUM(1)
  CHECK_EQ(a0, 0)
  CHECK_EQ(tp, 0)
  call amo_worker

  /* Wait until every hart has finished and published its sum. */
  SET_TESTNUM(2)
  la a1, shared + 64 * L_DONE
  li a2, TEST_HARTS
  SPIN_UNTIL(lw, beq, a1, a2)
  fence r, rw

  CHECK_LINE_D(3, L_HART_MASK, (1 << TEST_HARTS) - 1)
  CHECK_LINE_W(4, L_CNT_W, TOTAL)
  CHECK_LINE_D(5, L_CNT_D, TOTAL)
  CHECK_LINE_D(6, L_LRSC_D, TOTAL)
  CHECK_LINE_W(7, L_LRSC_W, TOTAL)
  CHECK_LINE_D(8, L_PLAIN, TOTAL)
  CHECK_LINE_W(9, L_LOCK, 0)

  /* Sum of every old value amoadd.d returned: 0 + 1 + ... + (TOTAL - 1). */
  SET_TESTNUM(10)
  la a1, shared + 64 * L_SUMS
  li a0, 0
  li a2, TEST_HARTS
1:
  ld a3, 0(a1)
  add a0, a0, a3
  addi a1, a1, 8
  addi a2, a2, -1
  bnez a2, 1b
  CHECK_EQ(a0, TOTAL * (TOTAL - 1) / 2)

  CHECK_LINE_W(11, L_MAX_W, CONTRIB(SIDE_ITERS - 1, TEST_HARTS - 1))
  CHECK_LINE_D(12, L_MIN_D, -CONTRIB(SIDE_ITERS - 1, TEST_HARTS - 1))
  CHECK_LINE_D(13, L_MAXU_D, 0x8000000000000000 | CONTRIB(SIDE_ITERS - 1, TEST_HARTS - 1))
  CHECK_LINE_W(14, L_MINU_W, 0x80000000)
  CHECK_LINE_D(15, L_OR_D, -1)
  CHECK_LINE_D(16, L_AND_D, 0)
  /* Each hart applied its pattern an even number of times. */
  CHECK_LINE_D(17, L_XOR_D, XOR_SEED)

TEST_END

  .text
test_secondary:
  SET_HART_TESTNUM(0)
  CHECK_EQ_REG(a0, tp)
  SET_HART_TESTNUM(1)
  call amo_worker
  j test_park

  /* One hart's share of the work; tp = its hart id. Adds its sum of the
   * old values amoadd.d returned to the sums line, then the done counter. */
amo_worker:
  la s2, shared
  li s1, 1
  li s0, ITERS
  li s3, 0 /* sum of old values */
  mv s4, tp /* CONTRIB(k, tp) */
  li s7, 0 /* k */
  /* Bit (16 * tp + k % 16) for amoor/amoand: each hart owns 16 bits. */
  slli s5, tp, 4
  /* amoxor pattern: differs per hart. */
  addi s6, tp, 1
  li t0, 0x0101010101010101
  mul s6, s6, t0

  csrr t0, mhartid
  sll t0, s1, t0
  LINE(t1, L_HART_MASK)
  amoor.d zero, t0, (t1)

1:
  LINE(t1, L_CNT_W)
  amoadd.w zero, s1, (t1)
  LINE(t1, L_CNT_D)
  amoadd.d t0, s1, (t1)
  add s3, s3, t0

  LINE(t1, L_LRSC_D)
2:
  lr.d t0, (t1)
  addi t0, t0, 1
  sc.d t2, t0, (t1)
  bnez t2, 2b
  LINE(t1, L_LRSC_W)
2:
  lr.w t0, (t1)
  addiw t0, t0, 1
  sc.w t2, t0, (t1)
  bnez t2, 2b

  /* Test-and-test-and-set; the plain counter is only touched inside. */
  LINE(t1, L_LOCK)
2:
  lw t0, 0(t1)
  beqz t0, 3f
  PAUSE
  j 2b
3:
  amoswap.w.aq t0, s1, (t1)
  bnez t0, 2b
  LINE(t2, L_PLAIN)
  ld t0, 0(t2)
  addi t0, t0, 1
  sd t0, 0(t2)
  amoswap.w.rl zero, zero, (t1)

  andi t0, s0, SIDE_EVERY - 1
  bnez t0, 4f
  LINE(t1, L_MAX_W)
  amomax.w zero, s4, (t1)
  LINE(t1, L_MIN_D)
  neg t0, s4
  amomin.d zero, t0, (t1)
  LINE(t1, L_MAXU_D)
  li t0, 1
  slli t0, t0, 63
  or t0, t0, s4
  amomaxu.d zero, t0, (t1)
  /* Every contribution has bit 31 set; the smallest is hart 0's first. */
  LINE(t1, L_MINU_W)
  li t0, 0x80000000
  or t0, t0, s4
  amominu.w zero, t0, (t1)

  andi t0, s7, 15
  add t0, t0, s5
  sll t0, s1, t0
  LINE(t1, L_OR_D)
  amoor.d zero, t0, (t1)
  not t0, t0
  LINE(t1, L_AND_D)
  amoand.d zero, t0, (t1)
  LINE(t1, L_XOR_D)
  amoxor.d zero, s6, (t1)

  addi s4, s4, TEST_HARTS
  addi s7, s7, 1
4:
  addi s0, s0, -1
  bnez s0, 1b

  LINE(t1, L_SUMS)
  slli t0, tp, 3
  add t1, t1, t0
  sd s3, 0(t1)
  LINE(t1, L_DONE)
  amoadd.w.aqrl zero, s1, (t1)
  ret

  /* Lines in L_ order, with their starting values. */
#define LINE_INIT(value) \
  .align 6;              \
  .dword value

  .data
  .align 6
shared:
  LINE_INIT(0)          /* L_CNT_W */
  LINE_INIT(0)          /* L_CNT_D */
  LINE_INIT(0)          /* L_LRSC_D */
  LINE_INIT(0)          /* L_LRSC_W */
  LINE_INIT(0)          /* L_LOCK */
  LINE_INIT(0)          /* L_PLAIN */
  LINE_INIT(0xffffffff) /* L_MAX_W: -1 as a word */
  LINE_INIT(0)          /* L_MIN_D */
  LINE_INIT(0)          /* L_MAXU_D */
  LINE_INIT(0xffffffff) /* L_MINU_W */
  LINE_INIT(0)          /* L_OR_D */
  LINE_INIT(-1)         /* L_AND_D */
  LINE_INIT(XOR_SEED)   /* L_XOR_D */
  LINE_INIT(0)          /* L_HART_MASK */
  LINE_INIT(0)          /* L_DONE */
  .align 6              /* L_SUMS */
  .zero 8 * TEST_HARTS
  .align 6
