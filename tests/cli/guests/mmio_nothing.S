/* A load and then a store to an address where no device is mapped must raise
 * a load (5) then store/AMO (7) access fault with mtval = the address, mepc =
 * the faulting instruction, and the load's rd left alone. Reports through the
 * SiFive test device: pass, or a fail code naming the check that went wrong. */
#include "guest.h"

#define CAUSE_STORE_ACCESS 7

  .section .text.init
  .globl _start
_start:
  la t0, handler
  csrw mtvec, t0
  li s0, NOTHING_MAPPED
  li a0, 0x1234
  li s1, 0                  /* phase: 0 load, 1 store */
load_insn:
  ld a0, 0(s0)
  test_fail 2               /* the load did not trap */

  .balign 4
handler:
  csrr t1, mtval
  bne t1, s0, bad_tval
  bnez s1, store_fault

  csrr t1, mcause
  li t2, CAUSE_LOAD_ACCESS
  bne t1, t2, bad_cause
  csrr t1, mepc
  la t2, load_insn
  bne t1, t2, bad_epc
  li t2, 0x1234
  bne a0, t2, bad_rd
  li s1, 1
  la t1, store_insn
  csrw mepc, t1
  mret
store_insn:
  sd a0, 0(s0)
  test_fail 7               /* the store did not trap */

store_fault:
  csrr t1, mcause
  li t2, CAUSE_STORE_ACCESS
  bne t1, t2, bad_cause
  csrr t1, mepc
  la t2, store_insn
  bne t1, t2, bad_epc
  test_pass

bad_cause: test_fail 3
bad_tval:  test_fail 4
bad_epc:   test_fail 5
bad_rd:    test_fail 6
