/*
 * Two harts. Hart 1 turns interrupts off and spins forever; hart 0 must still
 * run: it prints "hart 0 runs\n" on the UART, waits long enough for hart 1 to
 * be deep in its spin (several of vessel's poll intervals), and passes through
 * the SiFive test device, which must end the whole VM, spinning hart and all.
 */
#include "guest.h"

#define UART0 0x10000000

  .section .text.init
  .globl _start
_start:
  csrr t0, mhartid
  bnez t0, hog

  li t1, 2000000
1:
  addi t1, t1, -1
  bnez t1, 1b
  la t2, message
  li t3, UART0
2:
  lbu t4, 0(t2)
  beqz t4, 3f
  sb t4, 0(t3)
  addi t2, t2, 1
  j 2b
3:
  test_pass

hog:
  csrci mstatus, MSTATUS_MIE
  csrw mie, zero
4:
  j 4b

  .section .rodata
message:
  .asciz "hart 0 runs\n"
