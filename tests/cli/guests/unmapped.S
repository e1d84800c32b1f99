/* Jumps to an address with nothing behind it while mtvec is still 0 (also
 * unmapped): every trap re-enters the same fault. vessel must notice the trap
 * loop and stop with status 1 instead of spinning forever. */
#include "guest.h"

  .section .text.init
  .globl _start
_start:
  csrw mtvec, zero
  li t0, NOTHING_MAPPED
  jr t0
