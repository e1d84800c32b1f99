/* A kernel ELF whose .bss claims RAM up to 0x80d00000: with --memory 16M it
 * leaves no room for an initrd, so the boot planner must refuse the overlap. */
#include "guest.h"

  .section .text.init
  .globl _start
_start:
  j _start

  .bss
  .space 0xd00000 - 0x3000
