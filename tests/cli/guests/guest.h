/*
 * Shared constants and helpers of the cli_test guests: bare M-mode programs on
 * the virt board, reporting through the SiFive test device or HTIF.
 */
#ifndef VESSEL_CLI_GUEST_H
#define VESSEL_CLI_GUEST_H

/* Absolute addresses: `la` must not go through a GOT (Debian's gcc defaults to PIE). */
.option nopic

/* virt board (hw/riscv/virt.c) */
#define SIFIVE_TEST 0x100000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME 0x200bff8
#define NOTHING_MAPPED 0x40000000 /* QEMU's PCIe MMIO window; vessel has no PCIe */

/* SiFive test finisher status words */
#define TEST_PASS 0x5555
#define TEST_FAIL 0x3333

#define MSTATUS_MIE (1 << 3)
#define MSTATUS_MPP (3 << 11)
#define MSTATUS_MPP_S (1 << 11)
#define MSTATUS_FS_INITIAL (1 << 13)
#define MSTATUS_TW (1 << 21)
#define MIP_MTIP (1 << 7)
#define MCAUSE_INTERRUPT (1 << 63)
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_MTI 7

#define PMPCFG_RWX_NAPOT 0x1f

/* Power off with "pass", or fail with exit code `code` (1..255); never returns. */
.macro test_pass
  li t0, SIFIVE_TEST
  li t1, TEST_PASS
  sw t1, 0(t0)
1: j 1b
.endm

.macro test_fail code
  li t0, SIFIVE_TEST
  li t1, (\code << 16) | TEST_FAIL
  sw t1, 0(t0)
1: j 1b
.endm

/* Fail with the exit code held in \reg (1..255); never returns. */
.macro test_fail_reg reg
  slli t0, \reg, 16
  li t1, TEST_FAIL
  or t0, t0, t1
  li t1, SIFIVE_TEST
  sw t0, 0(t1)
1: j 1b
.endm

/* The program's entry, with traps going to \handler (4-byte aligned). */
.macro start_with_handler handler
  .section .text.init
  .globl _start
_start:
  la t0, \handler
  csrw mtvec, t0
.endm

/* PMP entry 0: NAPOT over [\base, \base + \size), RWX for S and U (a power of two, aligned).
 * Clobbers t0. */
.macro pmp0_napot_rwx base, size
  li t0, (\base | (\size / 2 - 1)) >> 2
  csrw pmpaddr0, t0
  li t0, PMPCFG_RWX_NAPOT
  csrw pmpcfg0, t0
.endm

/* The next machine timer interrupt \ticks from now; also clears MTIP. Clobbers t0-t2. */
.macro timer_in ticks
  li t0, CLINT_MTIME
  ld t1, 0(t0)
  li t2, \ticks
  add t1, t1, t2
  li t0, CLINT_MTIMECMP
  sd t1, 0(t0)
.endm

/* In a trap handler, t0 = mcause of an interrupt: on to \bad unless it is the machine timer's.
 * Clobbers t0, t1. */
.macro expect_mti bad
  slli t0, t0, 1
  srli t0, t0, 1
  li t1, CAUSE_MTI
  bne t0, t1, \bad
.endm

/* Adds 1 to the dword at \counter, and goes on to \done once it reaches \limit.
 * Clobbers t0-t2. */
.macro count_to counter, limit, done
  la t0, \counter
  ld t1, 0(t0)
  addi t1, t1, 1
  sd t1, 0(t0)
  li t2, \limit
  bgeu t1, t2, \done
.endm

/* The HTIF mailbox, in a page of its own. */
.macro htif_mailbox
  .section .tohost, "aw", @progbits
  .balign 8
  .globl tohost
tohost: .dword 0
  .globl fromhost
fromhost: .dword 0
.endm

#endif
