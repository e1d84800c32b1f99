/* Runs many distinct blocks, enough to fill a small translator arena several
 * times over (vessel run --jit-cache 1M). A 64-byte position-independent
 * template (a hash step that takes its own address with auipc, in a small
 * loop with a load and a store) is copied COPIES times, 128 KiB in all, and
 * each copy is called: in address order, then in a scrambled order, then again
 * after every copy's loop count was rewritten from 3 to 5 (a store into each
 * of the 32 code pages). Each copy is one translated block (its entry, the
 * loop, which jumps back within the block, and the ret; the interpreter makes
 * the loop a second block), built twice: some 4000 blocks of several hundred
 * bytes of host code each, several arenas' worth, and more translations than
 * that, as blocks
 * dropped by a refill are compiled again. The hash they leave must equal the
 * one computed by a reference function that takes the address and count as
 * arguments, called in the same order: a stale translation, one running at the
 * wrong address, or a block lost in a refill changes it. Pass through the
 * SiFive test device, or fail with code 4 (wrong hash) or 9 (a trap). */
#include "guest.h"

#define COPIES 2048 /* a power of two: the scrambled order is a permutation */
#define STRIDE 64
#define CODE_BASE 0x80400000
#define SCRAMBLE_MUL 40503 /* odd */
#define SCRAMBLE_ADD 1234

/* a0 = hash steps over t0 (an address), t1 times (t1 > 0), with a store and a
 * load of the hash at a1 between them; then return. 12 instructions. */
.macro hash_loop
1:
  mul t2, t0, t1
  xor a0, a0, t2
  slli t3, a0, 7
  srli t4, a0, 57
  or a0, t3, t4             /* rotate left 7 */
  add a0, a0, t0
  sd a0, 0(a1)
  ld t5, 0(a1)
  add a0, a0, t5
  addi t1, t1, -1
  bnez t1, 1b
  ret
.endm

  start_with_handler trap

  /* COPIES copies of the template, STRIDE bytes apart. */
  li s2, CODE_BASE
  li s1, COPIES
  mv t0, s2
  li t3, 0
copy:
  la t1, template
  la t2, template_end
1:
  lw t4, 0(t1)
  sw t4, 0(t0)
  addi t1, t1, 4
  addi t0, t0, 4
  bltu t1, t2, 1b
  addi t3, t3, 1
  li t4, CODE_BASE
  slli t5, t3, 6            /* STRIDE */
  add t0, t4, t5
  bltu t3, s1, copy
  fence.i

  la a1, scratch
  li a0, 0
  li s6, 0                  /* 0: the copies, 1: the reference */
run:
  li a3, 3
  li s0, 0
pass1:                      /* address order */
  slli t6, s0, 6
  add a2, s2, t6
  call one
  addi s0, s0, 1
  bltu s0, s1, pass1

  li s0, 0
pass2:                      /* scrambled order */
  li t6, SCRAMBLE_MUL
  mul t6, s0, t6
  addi t6, t6, SCRAMBLE_ADD
  addi t5, s1, -1
  and t6, t6, t5
  slli t6, t6, 6
  add a2, s2, t6
  call one
  addi s0, s0, 1
  bltu s0, s1, pass2

  bnez s6, 3f               /* the reference needs no code rewritten */
  li s0, 0
rewrite:                    /* li t1, 3 -> li t1, 5 in every copy */
  slli t6, s0, 6
  add t6, s2, t6
  lw t5, 4(t6)
  li t4, 2 << 20
  add t5, t5, t4
  sw t5, 4(t6)
  addi s0, s0, 1
  bltu s0, s1, rewrite
  fence.i
3:
  li a3, 5
  li s0, 0
pass3:
  slli t6, s0, 6
  add a2, s2, t6
  call one
  addi s0, s0, 1
  bltu s0, s1, pass3

  bnez s6, check
  mv s3, a0                 /* the copies' hash; now the reference's */
  li a0, 0
  li s6, 1
  j run

check:
  bne a0, s3, wrong
  beqz a0, wrong
  test_pass
wrong:
  test_fail 4

/* The copy at a2 (count a3 is in its code), or the reference with both. */
one:
  mv s7, ra
  bnez s6, 4f
  jalr ra, 0(a2)
  mv ra, s7
  ret
4:
  call reference
  mv ra, s7
  ret

  .balign 4
trap:
  test_fail 9

  .option push
  .option norvc
  .balign 64
template:
  auipc t0, 0               /* its own address */
  li t1, 3                  /* rewritten to 5 before the third pass */
  hash_loop
  nop
  nop
template_end:

/* The same steps with the address in a2 and the count in a3. */
reference:
  mv t0, a2
  mv t1, a3
  hash_loop
  .option pop

  .data
  .balign 8
scratch: .dword 0
