/* Never ends and never traps: only --timeout stops it. */
#include "guest.h"

  .section .text.init
  .globl _start
_start:
  j _start
