/* Points mtvec at MTVEC (a -D) where no handler can run, then jumps to an
 * address with nothing behind it. Every trap re-enters the same fault at
 * MTVEC: a device (fetching from MMIO is an access fault, and must never touch
 * the device: a write to the SiFive test device would end the run with another
 * status) or zeros in the middle of the boot ROM (an illegal instruction).
 * vessel must notice the trap loop and stop with status 1, naming it. */
#include "guest.h"

  .section .text.init
  .globl _start
_start:
  li t0, MTVEC
  csrw mtvec, t0
  li t0, NOTHING_MAPPED
  jr t0
