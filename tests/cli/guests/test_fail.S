/* Fails through the SiFive test device with exit code FAIL_CODE (a -D). */
#include "guest.h"

  .section .text.init
  .globl _start
_start:
  test_fail FAIL_CODE
