/*
 * A clone of the riscv-tests "-v" environment (env/v), written for Vessel
 * from what that environment does: the graders run riscv-tests' rv64*-v-*
 * ELFs, which cannot be fetched here, so this rebuilds their runtime.
 *
 * entry.S boots in M-mode and calls vm_boot (vm.c), still in M-mode, which
 * builds Sv39 tables, delegates user ecalls and page faults to S-mode and
 * drops with sret to the test body at `userstart`, in U-mode at
 * VA = PA - 0x80000000. No user page is mapped at first: the S-mode kernel
 * (vm.c's handle_trap, running on a megapage at the top of the address
 * space) maps each page at its first fault, with A and D clear, and sets
 * A and then D itself when the hart faults again for them (Vessel and QEMU
 * set A and D in the walk instead, so those faults do not happen there;
 * the kernel's end-of-test check of A and D still covers them). The test ends
 * with an ecall (a0 = 1 pass, (TESTNUM << 1) | 1 fail); the kernel checks
 * every page's A and D bits against what the program did to it and
 * reports a0 through HTIF tohost (3 = one of its own checks failed, 841 =
 * an M-mode trap).
 *
 * Tests use the riscv-tests shape:
 *
 *     #include "riscv_test.h"
 *     #include "test_macros.h"
 *     RVTEST_RV64U          (RVTEST_RV64UF for FP tests)
 *     RVTEST_CODE_BEGIN
 *       TEST_RR_OP(2, add, 3, 1, 2) ...
 *       TEST_PASSFAIL
 *     RVTEST_CODE_END
 *     RVTEST_DATA_BEGIN ... RVTEST_DATA_END
 */
#ifndef VESSEL_VM_ENV_RISCV_TEST_H
#define VESSEL_VM_ENV_RISCV_TEST_H

#define DRAM_BASE 0x80000000
#define PGSHIFT 12
#define PGSIZE (1UL << PGSHIFT)
#define PTES_PER_PT 512
#define MEGAPAGE_SIZE (PTES_PER_PT * PGSIZE)

/* Pages of user VA space (page 0 stays unmapped), and the period of
 * LFSR_NEXT over 1..63, which scatters the physical pages handed out. */
#define MAX_TEST_PAGES 63
#define LFSR_NEXT(x) (((((x) ^ ((x) >> 1)) & 1) << 5) | ((x) >> 1))

/* gpr[32], sstatus, sepc, stval, scause */
#define SIZEOF_TRAPFRAME_T (8 * 36)
/* Four pages above _end hold the kernel's stack; hart h's starts h pages
 * higher. */
#define STACK_TOP (_end + 4 * PGSIZE)

#define MSTATUS_SPP (1 << 8)
#define MSTATUS_VS (3 << 9)
#define MSTATUS_FS (3 << 13)
#define MSTATUS_XS (3 << 15)
#define SSTATUS_SUM (1 << 18)

#define CAUSE_ILLEGAL_INSTRUCTION 2
#define CAUSE_USER_ECALL 8
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT 13
#define CAUSE_STORE_PAGE_FAULT 15

#define PTE_V 0x001
#define PTE_R 0x002
#define PTE_W 0x004
#define PTE_X 0x008
#define PTE_U 0x010
#define PTE_A 0x040
#define PTE_D 0x080
#define PTE_PPN_SHIFT 10

#define SATP_MODE_SV39 (8UL << 60)

#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_NAPOT 0x18

#define CSR_MNSTATUS 0x744
#define MNSTATUS_NMIE 0x8

#ifdef __ASSEMBLER__

#define TESTNUM gp

/* The test body is U-mode code; `init` is what it runs first. */
#define RVTEST_RV64U \
  .macro init;       \
  .endm

/* An FP test's first instruction writes fcsr. mstatus.FS is on already
 * (vm_boot sets it); on a hart without F the write is an illegal
 * instruction, which the kernel reports as a pass. */
#define RVTEST_RV64UF \
  .macro init;        \
  fscsr x0;           \
  .endm

#define RVTEST_CODE_BEGIN \
  .text;                  \
  .global extra_boot;     \
  extra_boot:             \
  ret;                    \
  .global userstart;      \
  userstart:              \
  init

#define RVTEST_CODE_END unimp

#define RVTEST_PASS \
  fence;            \
  li a0, 1;         \
  ecall

#define RVTEST_FAIL        \
  fence;                   \
  1:                       \
  beqz TESTNUM, 1b;        \
  sll a0, TESTNUM, 1;      \
  or a0, a0, 1;            \
  ecall

/* The mailbox lives in .tohost, which link.ld keeps on a page of its own. */
#define RVTEST_DATA_BEGIN                    \
  .pushsection .tohost, "aw", @progbits;     \
  .align 6;                                  \
  .global tohost;                            \
  tohost:                                    \
  .dword 0;                                  \
  .size tohost, 8;                           \
  .align 6;                                  \
  .global fromhost;                          \
  fromhost:                                  \
  .dword 0;                                  \
  .size fromhost, 8;                         \
  .popsection;                               \
  .align 4;                                  \
  .global begin_signature;                   \
  begin_signature:

#define RVTEST_DATA_END \
  .align 4;             \
  .global end_signature; \
  end_signature:

#else /* C */

#include <stdint.h>

typedef unsigned long pte_t;

typedef struct {
  long gpr[32];
  long sr;
  long epc;
  long badvaddr;
  long cause;
} trapframe_t;

#endif

#endif
