/* A boot loader that writes garbage to the device windows (issue 12's bad
 * input): thousands of loads and stores of random sizes (1, 2, 4, 8 bytes,
 * aligned) with random values at random offsets of every device window of
 * the virt board: the test finisher (but its register: a random value there
 * could be a legitimate power-off), the RTC, the CLINT, the PLIC, the UART
 * (but its transmit register, to keep the log clean), all eight virtio-mmio
 * slots (a garbage queue address and a notify reach the virtio-rng device
 * there), plus the boot ROM's page and a hole in the map. Whatever an access
 * does is architectural: it takes effect, is ignored, or is an access fault
 * (which this test's own M-mode handler counts and steps over). Then the
 * hart must still compute and report: the host neither crashed nor hung.
 * The random numbers are a fixed xorshift64 sequence: every run is the same.
 * No interrupt is enabled (mie = 0), so pending ones from the garbage stay
 * pending. */
#include "test_macros.h"

#define N_PER_WINDOW 3000

/* s0 = xorshift64(s0); clobbers t0. */
#define NEXT_RANDOM    \
  slli t0, s0, 13;     \
  xor s0, s0, t0;      \
  srli t0, s0, 7;      \
  xor s0, s0, t0;      \
  slli t0, s0, 17;     \
  xor s0, s0, t0

/* Garbage into [base, base + size), sparing its first `skip` bytes. */
#define GARBAGE(base, size, skip) \
  li s1, base;                    \
  li s2, size;                    \
  li s4, skip;                    \
  jal ra, garbage

TEST_BEGIN
  csrw mie, zero
  csrci mstatus, MSTATUS_MIE
  la t0, canary
  li t1, 0x0123456789abcdef
  sd t1, 0(t0)
  csrr s6, mtvec
  la t0, garbage_trap
  csrw mtvec, t0
  li s0, 0x9e3779b97f4a7c15
  li s5, 0

  GARBAGE(0x00100000, 0x1000, 4)     /* test finisher */
  GARBAGE(0x00101000, 0x1000, 0)     /* goldfish RTC */
  GARBAGE(0x02000000, 0x10000, 0)    /* CLINT */
  GARBAGE(0x0c000000, 0x600000, 0)   /* PLIC */
  GARBAGE(0x10000000, 0x100, 1)      /* UART */
  GARBAGE(0x10001000, 0x8000, 0)     /* virtio-mmio 0-7 */
  GARBAGE(0x00000000, 0x1000, 0)     /* boot ROM */
  mv s7, s5
  GARBAGE(0x03000000, 0x1000, 0)     /* nothing: every access faults */
  csrw mtvec, s6

  /* Every access to the hole was an access fault. */
  SET_TESTNUM(1)
  sub a0, s5, s7
  CHECK_EQ(a0, N_PER_WINDOW)
  /* RAM is as it was, and the hart computes. */
  SET_TESTNUM(2)
  CHECK_MEM(canary, 0, 0x0123456789abcdef)
  SET_TESTNUM(3)
  li a0, 6
  li a1, 7
  mul a2, a0, a1
  CHECK_EQ(a2, 42)
TEST_END

  .text
  .option push
  .option norvc
/* N_PER_WINDOW random accesses into the window (s1, s2), sparing s4 bytes. */
garbage:
  li s3, N_PER_WINDOW
1:
  NEXT_RANDOM
  remu t1, s0, s2
  srli t2, s0, 60          /* bits 0-1: log2 of the size; bit 2: load */
  andi t3, t2, 3
  li t4, -1
  sll t4, t4, t3
  and t1, t1, t4
  add t1, t1, s1
  sub t4, t1, s1
  bltu t4, s4, 8f
  NEXT_RANDOM
  andi t2, t2, 4
  bnez t2, 5f
  li t4, 1
  beqz t3, 2f
  beq t3, t4, 3f
  li t4, 2
  beq t3, t4, 4f
  sd s0, 0(t1)
  j 8f
2:
  sb s0, 0(t1)
  j 8f
3:
  sh s0, 0(t1)
  j 8f
4:
  sw s0, 0(t1)
  j 8f
5:
  li t4, 1
  beqz t3, 6f
  beq t3, t4, 7f
  li t4, 2
  beq t3, t4, 9f
  ld t4, 0(t1)
  j 8f
6:
  lbu t4, 0(t1)
  j 8f
7:
  lhu t4, 0(t1)
  j 8f
9:
  lw t4, 0(t1)
8:
  addi s3, s3, -1
  bnez s3, 1b
  ret

/* An access fault (or any exception the garbage brings): count it and step
 * over the 4-byte access. An interrupt cannot come (mie = 0). */
  .align 6
garbage_trap:
  csrr t6, mcause
  bltz t6, test_fail
  csrr t6, mepc
  addi t6, t6, 4
  csrw mepc, t6
  addi s5, s5, 1
  mret
  .option pop

  .data
  .align 3
canary:
  .dword 0
