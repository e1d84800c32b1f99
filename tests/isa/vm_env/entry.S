/* Boot code and S-mode trap entry of the -v environment clone (see
 * riscv_test.h). */
#include "riscv_test.h"

  .option nopic

  .section ".text.init", "ax", @progbits
  .global _start
  .align 2
_start:
  j reset

  .align 2
nmi_vector:
  j wtf

  /* Nothing should trap to M-mode once vm_boot has delegated what the test
   * needs; anything that does ends the test with 841. */
  .align 2
m_trap_vector:
  j wtf

reset:
  .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  li x\r, 0
  .endr

  /* Smrnmi: let NMIs in, if the hart has mnstatus; skip the write if not. */
  la t0, 1f
  csrw mtvec, t0
  csrwi CSR_MNSTATUS, MNSTATUS_NMIE
  .align 2
1:
  la t0, m_trap_vector
  csrw mtvec, t0
  /* The kernel's stack: one page per hart, a trap frame at its top, and
   * mscratch (later sscratch, at its kernel address) pointing there. */
  la sp, STACK_TOP - SIZEOF_TRAPFRAME_T
  csrr t0, mhartid
  slli t0, t0, 12
  add sp, sp, t0
  csrw mscratch, sp
  call extra_boot
  la a0, userstart
  j vm_boot

  .text
  /* pop_tf(tf): back to the interrupted (or first) user instruction. The
   * first call comes from vm_boot in M-mode: that sret drops straight to
   * U-mode (mstatus.SPP = U). */
  .global pop_tf
pop_tf:
  ld t0, 33*8(a0)
  csrw sepc, t0
  .irp r, 1,2,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  ld x\r, \r*8(a0)
  .endr
  ld a0, 10*8(a0)
  sret

  /* stvec, at the kernel address of this code: sscratch holds the kernel
   * stack (a trap frame at its top) while U-mode runs. */
  .global trap_entry
  .align 2
trap_entry:
  csrrw sp, sscratch, sp
  .irp r, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  sd x\r, \r*8(sp)
  .endr
  /* The user's sp back out of sscratch, and the kernel's in again. */
  csrrw t0, sscratch, sp
  sd t0, 2*8(sp)
  csrr t0, sstatus
  sd t0, 32*8(sp)
  csrr t0, sepc
  sd t0, 33*8(sp)
  csrr t0, stval
  sd t0, 34*8(sp)
  csrr t0, scause
  sd t0, 35*8(sp)
  mv a0, sp
  j handle_trap
