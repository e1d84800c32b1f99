/* LR/SC reservations across two harts. A reservation belongs to the hart
 * that made it: an SC must fail once another hart has written the reserved
 * address after the LR (with a store, an AMO or its own successful SC), an
 * SC without a reservation of its own fails even though another hart holds
 * one on that address, and an SC to an address other than the hart's own
 * LR fails although another hart has reserved that address. A failed SC
 * writes nothing. (Whether an SC succeeds when nothing interfered is up to
 * the implementation, so that is never checked.)
 *
 * The harts take turns through a step counter: each waits for its step,
 * acts, and hands the next step to the other. Hart 0 holds its reservation
 * across that wait, so the other hart's write falls between its LR and SC.
 * The other hart always writes a value different from the reserved one:
 * QEMU implements SC as a compare-and-swap against the value LR read, and
 * would let an SC succeed after a write of the same value. */
#define TEST_HARTS 2
#include "test_macros.h"

/* Waits until the step counter reaches n. */
#define AT_STEP(n)                \
  li a6, n;                       \
  la a7, step;                    \
  SPIN_UNTIL(ld, beq, a7, a6);    \
  fence r, rw

/* Hands step n to the other hart, after this hart's accesses. */
#define GO_STEP(n) \
  fence rw, w;     \
  li a6, n;        \
  la a7, step;     \
  sd a6, 0(a7)

/* An SC (`sc`) of `value` to 0(addr) must fail and leave what `load` then
 * reads there equal to the constant `expect` (SC_FAILS) or the register
 * `expect` (SC_FAILS_REG). */
#define SC_FAILS_THEN(sc, load, addr, value) \
  li a2, value;                            \
  sc a3, a2, (addr);                       \
  CHECK_NE(a3, 0);                         \
  load a0, 0(addr)

#define SC_FAILS(sc, load, addr, value, expect) \
  SC_FAILS_THEN(sc, load, addr, value);         \
  CHECK_EQ(a0, expect)

#define SC_FAILS_REG(sc, load, addr, value, expect) \
  SC_FAILS_THEN(sc, load, addr, value);             \
  CHECK_EQ_REG(a0, expect)

/* Hart 0: reserves 0(s0), which it first sets to `start`, with `lr`; hands
 * step `go` to hart 1, which writes there; once it has step go + 1 back, an
 * SC must fail and leave hart 1's `after`. */
#define SC_FAILS_AFTER_HART1(lr, sc, load, start, go, after) \
  li a1, start;                                             \
  sd a1, 0(s0);                                             \
  lr a0, (s0);                                              \
  CHECK_EQ(a0, start);                                      \
  GO_STEP(go);                                              \
  AT_STEP((go) + 1);                                        \
  SC_FAILS(sc, load, s0, 0x3333, after)

TEST_BEGIN
  la s0, lr_x
  la s1, lr_y

  /* Another hart's store between LR and SC (hart 1 writes 0x2222). */
  SET_TESTNUM(1)
  SC_FAILS_AFTER_HART1(lr.d, sc.d, ld, 0x1111, 1, 0x2222)
  /* Another hart's AMO, on a word (hart 1 adds 5). */
  SET_TESTNUM(2)
  SC_FAILS_AFTER_HART1(lr.w, sc.w, lw, 0x100, 3, 0x105)
  /* Another hart's successful LR/SC (hart 1 adds 1). */
  SET_TESTNUM(3)
  SC_FAILS_AFTER_HART1(lr.d, sc.d, ld, 7, 5, 8)

  /* Hart 1 tries an SC without a reservation while hart 0 holds one; it
   * fails and writes nothing. Hart 0's SC may then succeed or fail, but
   * memory must agree with what it reports. */
  SET_TESTNUM(4)
  lr.d a0, (s0)
  CHECK_EQ(a0, 8)
  GO_STEP(7)
  AT_STEP(8)
  li a2, 9
  sc.d a3, a2, (s0)
  ld a0, 0(s0)
  bnez a3, 1f
  CHECK_EQ(a0, 9)
  j 2f
1:
  CHECK_EQ(a0, 8)
2:

  /* Hart 0 reserves x, hart 1 reserves y: hart 1's SC to x and then hart
   * 0's SC to y fail, each being outside that hart's own reservation. */
  SET_TESTNUM(5)
  ld a4, 0(s0)
  li a1, 0x50
  sd a1, 0(s1)
  lr.d a0, (s0)
  GO_STEP(9)
  AT_STEP(10)
  SC_FAILS(sc.d, ld, s1, 0x7777, 0x50)
  ld a0, 0(s0)
  CHECK_EQ_REG(a0, a4)
TEST_END

  .text
test_secondary:
  la s0, lr_x
  la s1, lr_y
  /* No reservation since reset: an SC fails and writes nothing. */
  SET_HART_TESTNUM(0)
  la a1, lr_z
  SC_FAILS(sc.d, ld, a1, 0x6666, 0x5555)

  AT_STEP(1)
  li a1, 0x2222
  sd a1, 0(s0)
  GO_STEP(2)

  AT_STEP(3)
  li a1, 5
  amoadd.w zero, a1, (s0)
  GO_STEP(4)

  AT_STEP(5)
1:
  lr.d a0, (s0)
  addi a0, a0, 1
  sc.d a1, a0, (s0)
  bnez a1, 1b
  GO_STEP(6)

  /* Its last SC ended its reservation. */
  SET_HART_TESTNUM(1)
  AT_STEP(7)
  SC_FAILS(sc.d, ld, s0, 0x4444, 8)
  GO_STEP(8)

  SET_HART_TESTNUM(2)
  AT_STEP(9)
  ld a4, 0(s0)
  lr.d a0, (s1)
  CHECK_EQ(a0, 0x50)
  SC_FAILS_REG(sc.d, ld, s0, 0x8888, a4)
  GO_STEP(10)
  j test_park

  .data
  .align 6
step:
  .dword 0
  .align 6
lr_x:
  .dword 0
  .align 12
  /* A page away from lr_x: certainly another reservation set. */
lr_y:
  .dword 0
  .align 6
lr_z:
  .dword 0x5555
