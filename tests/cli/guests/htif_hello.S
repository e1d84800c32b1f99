/* Prints "hello\n" with a proxied SYS_write(1, ...) through HTIF, checks the
 * byte count returned in magic_mem[0], then exits through HTIF with 0 (or 1
 * if the count was wrong). */
#include "guest.h"

#define SYS_write 64
#define STDOUT 1
#define MESSAGE_LEN 6 /* "hello\n" */

  .section .text.init
  .globl _start
_start:
  la t0, magic_mem
  la t1, tohost
  sd t0, 0(t1)
wait:
  la t1, fromhost
  ld t2, 0(t1)
  beqz t2, wait
  sd zero, 0(t1)
  la t0, magic_mem
  ld a0, 0(t0)
  li t1, MESSAGE_LEN
  li t2, 1
  beq a0, t1, 1f
  li t2, (1 << 1) | 1
1:
  la t0, tohost
  sd t2, 0(t0)
2: j 2b

  .data
  .balign 64
magic_mem:
  .dword SYS_write, STDOUT, message, MESSAGE_LEN, 0, 0, 0, 0
message:
  .ascii "hello\n"

  htif_mailbox
