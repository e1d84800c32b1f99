/* Breaks a virtio-mmio queue and resets the device, forever: status 0 (reset), QueueSel 0,
 * QueueNum 3 (not a power of two), QueueReady 1. Each round makes the device ask for a reset,
 * and every such request used to be a line on stderr: 155 MB in 5 s. Ended by --timeout. */
#include "guest.h"

#define VIRTIO0 0x10001000 /* the first virtio-mmio slot: virtio-rng when nothing else is given */
#define QUEUE_SEL 0x030
#define QUEUE_NUM 0x038
#define QUEUE_READY 0x044
#define STATUS 0x070

  .section .text.init
  .globl _start
_start:
  li s0, VIRTIO0
  li s1, 3
  li s2, 1
loop:
  sw zero, STATUS(s0)
  sw zero, QUEUE_SEL(s0)
  sw s1, QUEUE_NUM(s0)
  sw s2, QUEUE_READY(s0)
  j loop
