/* U-mode code in a page that PMP makes only partly executable: the first
 * 2 KiB of CODE_PAGE are RWX for U, the rest of the page nothing. Case CASE
 * (a -D) runs U code that reaches the first instruction past the boundary,
 * which must raise an instruction access fault (1) with mepc = mtval =
 * CODE_PAGE + 0x800 and nothing past the boundary executed:
 *   1  straight-line code that runs over the boundary (one decoded block would
 *      span it)
 *   2  a jump from the executable half to the other
 *   3  the same jump after it ran with the whole page executable (so a block
 *      link or translated chain to the target exists), then PMP shrunk back to
 *      the first half and sfence.vma, as the privileged spec asks after a PMP
 *      change
 * Pass through the SiFive test device; case n fails with 20 + n. The three
 * are built apart (pmp_split_span, _jump, _relink) so that each is its own
 * test case. */
#include "guest.h"

#define CODE_PAGE 0x80400000
#define BOUNDARY (CODE_PAGE + 0x800)
#define CAUSE_FETCH_ACCESS 1
#define CAUSE_ECALL_U 8

/* PMP entry 0 over [CODE_PAGE, CODE_PAGE + size), RWX for U, and the
 * sfence.vma the privileged spec asks for after a PMP change. */
.macro pmp_napot size
  pmp0_napot_rwx CODE_PAGE, \size
  sfence.vma
.endm

/* Enter U-mode at \entry; the handler comes back to the next line with
 * t0 = mcause, t1 = mepc, t2 = mtval. */
.macro run_user entry
  li t0, \entry
  csrw mepc, t0
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  la s5, 99f
  li a0, 0
  mret
99:
.endm

.macro expect_boundary_fault id
  li t3, CAUSE_FETCH_ACCESS
  li t4, BOUNDARY
  li s1, \id
  bne t0, t3, fail
  bne t1, t4, fail
  bne t2, t4, fail
.endm

  start_with_handler handler

  /* The U code, copied into the page. */
  la t0, ucode
  la t1, ucode_end
  li t2, CODE_PAGE + 0x7c0
1:
  lw t3, 0(t0)
  sw t3, 0(t2)
  addi t0, t0, 4
  addi t2, t2, 4
  bltu t0, t1, 1b
  fence.i

#if CASE == 1
  /* 1: straight over the boundary. */
  pmp_napot 0x800
  run_user CODE_PAGE + 0x7f8
  expect_boundary_fault 1
  li t3, 2
  bne a0, t3, fail          /* the two addi before the boundary, not the one after */

#elif CASE == 2
  /* 2: a jump over it. */
  pmp_napot 0x800
  run_user CODE_PAGE + 0x7c0
  expect_boundary_fault 2
  li t3, 1
  bne a0, t3, fail

#elif CASE == 3
  /* 3: the same jump, first with the whole page executable. */
  li s1, 3
  pmp_napot 0x1000
  run_user CODE_PAGE + 0x7c0
  li t3, CAUSE_ECALL_U
  bne t0, t3, fail
  li t3, 101 + 100
  bne a0, t3, fail
  run_user CODE_PAGE + 0x7c0 /* again: now any link or chain is in place */
  li t3, CAUSE_ECALL_U
  bne t0, t3, fail
  pmp_napot 0x800
  run_user CODE_PAGE + 0x7c0
  expect_boundary_fault 3
  li t3, 1
  bne a0, t3, fail
#else
#error CASE must be 1, 2 or 3
#endif

  test_pass

  .balign 4
handler:
  csrr t0, mcause
  csrr t1, mepc
  csrr t2, mtval
  li t3, MSTATUS_MPP        /* back to M */
  csrs mstatus, t3
  jr s5

fail:
  addi s1, s1, 20
  test_fail_reg s1

/* Copied to CODE_PAGE + 0x7c0; offsets below are from the page. */
  .option push
  .option norvc
  .balign 4
ucode:
  addi a0, a0, 1            /* 0x7c0 */
  jal zero, 1f              /* 0x7c4 -> 0x800 */
  .skip 0x7f8 - 0x7c8
  addi a0, a0, 1            /* 0x7f8 */
  addi a0, a0, 1            /* 0x7fc */
1:
  addi a0, a0, 100          /* 0x800: the first byte past the boundary */
  addi a0, a0, 100
  ecall
ucode_end:
  .option pop
