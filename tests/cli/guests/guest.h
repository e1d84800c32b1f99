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
