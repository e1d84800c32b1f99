/* Rewrites its own code in a loop. Each of N iterations (i = 1..N) patches
 * instructions in the "sites" page and runs them; each part sums into its own
 * register, and the sums are checked at the end against what the patched code
 * must have computed. A stale decoded block or translation gives a wrong sum.
 *
 *   A  a block rewrites its own first instruction (addi s1, s1, i) for its next
 *      run, then fence.i                                   sum of i-1 = N(N-1)/2
 *   B  a function in another page patches addi s3, s3, 2i, fence.i, then the
 *      patched block runs                                  N(N+1)
 *   C  a function in the patched code's page (another block) rewrites one word
 *      with either two compressed instructions (c.addi s4, 1; c.addi s4, 2) on
 *      odd i or one 32-bit sub s4, s4, s2 on even i, so the instruction
 *      boundaries move                                     3 N/2 - (2+4+..+N)
 *   D  jal zero, target patched between two targets in the same page (+1 on odd
 *      i, +100 on even i), run three times after each patch so that the
 *      translator has chained it to its target            3 (N/2 + 100 N/2)
 *   E  a store patches the very next instruction of its own block, without
 *      fence.i: Vessel keeps fetch coherent with every store (its documented
 *      guarantee, stronger than the ISA's)                 N(N+1)/2
 *   F  amoadd.w adds 1 << 20 (imm + 1) to addi s7, s7, 0   N(N+1)/2
 *   G  fsw stores addi s11, s11, i from a float register   N(N+1)/2
 *   H  a misaligned sd across a page boundary writes addi s0, s0, i as the
 *      first instruction of the next page                   N(N+1)/2
 *   I  lr.w/sc.w writes addi a7, a7, i                      N(N+1)/2
 *
 * Passes through the SiFive test device; a wrong sum fails with 10 + its part
 * (A = 11 .. I = 19), any trap with 9. */
#include "guest.h"

#define N 1000

/* Encodings (the ISA manual's tables), x registers by number. */
#define ADDI(rd) (0x13 | ((rd) << 7) | ((rd) << 15))
#define S1 9
#define S3 19
#define S6 22
#define S7 23
#define S11 27
#define S0 8
#define A7 17
#define ADD_S4_S4_S2 (0x33 | (20 << 7) | (20 << 15) | (18 << 20))
#define SUB_S4_S4_S2 (ADD_S4_S4_S2 | (0x20 << 25))
#define C_ADDI_S4(imm) (0x1 | (20 << 7) | ((imm) << 2))
#define TWO_C_ADDI ((C_ADDI_S4(2) << 16) | C_ADDI_S4(1))

/* t0 = addi rd, rd, \imm (a register holding 0..2047) */
.macro addi_word rd, imm
  slli t0, \imm, 20
  li t1, ADDI(\rd)
  or t0, t0, t1
.endm

  start_with_handler trap
  li t0, MSTATUS_FS_INITIAL
  csrs mstatus, t0
  li s1, 0
  li s3, 0
  li s4, 0
  li s5, 0
  li s6, 0
  li s7, 0
  li s11, 0
  li s0, 0
  li a7, 0
  /* The two words of part D: jal zero to either target, from patch_d. */
  la a0, target1
  la t0, patch_d
  sub a0, a0, t0
  call encode_jal
  mv s8, a0
  la a0, target2
  la t0, patch_d
  sub a0, a0, t0
  call encode_jal
  mv s9, a0

  li s2, 1
  li s10, N
loop:
  /* A */
  addi_word S1, s2
  mv a0, t0
  la a1, patch_a
  call site_a

  /* B */
  slli t2, s2, 1
  addi_word S3, t2
  mv a0, t0
  la a1, patch_b
  call patch_far
  call site_b

  /* C */
  li a0, TWO_C_ADDI
  andi t0, s2, 1
  bnez t0, 1f
  li a0, SUB_S4_S4_S2
1:
  la a1, patch_c
  call patch_near
  fence.i
  call site_c

  /* D */
  mv a0, s8
  andi t0, s2, 1
  bnez t0, 2f
  mv a0, s9
2:
  la a1, patch_d
  call patch_far
  call site_d
  call site_d
  call site_d

  /* E */
  addi_word S6, s2
  mv a0, t0
  la a1, patch_e
  call site_e

  /* F */
  la t1, patch_f
  li t0, 1 << 20
  amoadd.w zero, t0, (t1)
  fence.i
  call site_f

  /* G */
  addi_word S11, s2
  fmv.w.x ft0, t0
  la t1, patch_g
  fsw ft0, 0(t1)
  fence.i
  call site_g

  /* H: 4 bytes at the end of the sites page, 4 at the start of the next */
  addi_word S0, s2
  slli t0, t0, 32
  la t1, patch_h
  sd t0, -4(t1)
  fence.i
  call site_h

  /* I */
  addi_word A7, s2
  la t1, patch_i
3:
  lr.w t2, (t1)
  sc.w t2, t0, (t1)
  bnez t2, 3b
  fence.i
  call site_i

  addi s2, s2, 1
  bleu s2, s10, loop

  li t0, N * (N - 1) / 2
  bne s1, t0, fail_a
  li t0, N * (N + 1)
  bne s3, t0, fail_b
  li t0, 3 * (N / 2) - 2 * (N / 2) * (N / 2 + 1) / 2
  bne s4, t0, fail_c
  li t0, 3 * ((N / 2) + 100 * (N / 2))
  bne s5, t0, fail_d
  li t0, N * (N + 1) / 2
  bne s6, t0, fail_e
  bne s7, t0, fail_f
  bne s11, t0, fail_g
  bne s0, t0, fail_h
  bne a7, t0, fail_i
  test_pass

fail_a: test_fail 11
fail_b: test_fail 12
fail_c: test_fail 13
fail_d: test_fail 14
fail_e: test_fail 15
fail_f: test_fail 16
fail_g: test_fail 17
fail_h: test_fail 18
fail_i: test_fail 19

  .balign 4
trap:
  test_fail 9

/* a0 = an even offset within +-1 MiB -> a0 = jal zero, offset (J-type) */
encode_jal:
  srli t0, a0, 20
  andi t0, t0, 1
  slli t0, t0, 31           /* imm[20] -> bit 31 */
  srli t1, a0, 1
  andi t1, t1, 0x3ff
  slli t1, t1, 21           /* imm[10:1] -> bits 30:21 */
  or t0, t0, t1
  srli t1, a0, 11
  andi t1, t1, 1
  slli t1, t1, 20           /* imm[11] -> bit 20 */
  or t0, t0, t1
  li t1, 0xff000
  and t1, a0, t1            /* imm[19:12] stay in place */
  or t0, t0, t1
  ori a0, t0, 0x6f
  ret

/* The patched code, in a page of its own, assembled without compression so
 * that each patched slot is the one word the encodings above describe. */
  .balign 4096
  .option push
  .option norvc
sites:
site_a:
patch_a:
  addi s1, s1, 0
  sw a0, 0(a1)              /* this block, for its next run */
  fence.i
  ret

site_b:
patch_b:
  addi s3, s3, 0
  ret

site_c:
patch_c:
  .4byte 0x00000013         /* nop until patched */
  ret

/* a0 = word, a1 = where: a store from another block in this page */
patch_near:
  sw a0, 0(a1)
  ret

site_d:
patch_d:
  jal zero, target1
  .balign 64
target1:
  addi s5, s5, 1
  ret
  .balign 64
target2:
  addi s5, s5, 100
  ret

site_e:
  sw a0, 0(a1)              /* a1 = patch_e: the next instruction */
patch_e:
  addi s6, s6, 0
  ret

site_f:
patch_f:
  addi s7, s7, 0
  ret

site_g:
patch_g:
  addi s11, s11, 0
  ret

site_i:
patch_i:
  addi a7, a7, 0
  ret

/* The next page starts with part H's instruction. */
  .balign 4096
site_h:
patch_h:
  addi s0, s0, 0
  ret

/* a0 = word, a1 = where: a store from a block in another page */
patch_far:
  sw a0, 0(a1)
  fence.i
  ret
  .option pop
