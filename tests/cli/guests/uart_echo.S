/* Says "uart-echo ready" on the UART (ttyS0), then sends every byte it receives back: a
 * console to talk to without booting Linux (the daemon's API test). Never ends. Only hart 0
 * talks: with --cpus N every hart starts here, and two harts taking turns at the receive
 * register could echo bytes out of order. The others wait in WFI. */
#include "guest.h"

#define UART 0x10000000
#define UART_LSR 5
#define LSR_DR 0x01   /* a byte waits in RBR */
#define LSR_THRE 0x20 /* THR takes a byte */

  .section .text.init
  .globl _start
_start:
  csrr t0, mhartid
  bnez t0, park
  li s0, UART
  la s1, message
1:
  lbu a0, 0(s1)
  beqz a0, echo
  call putc
  addi s1, s1, 1
  j 1b

echo:
  lbu t0, UART_LSR(s0)
  andi t0, t0, LSR_DR
  beqz t0, echo
  lbu a0, 0(s0)
  call putc
  j echo

park:
  wfi
  j park

putc:
  lbu t0, UART_LSR(s0)
  andi t0, t0, LSR_THRE
  beqz t0, putc
  sb a0, 0(s0)
  ret

  .data
message:
  .asciz "uart-echo ready\r\n"
