/*
 * The hypervisor extension's names for the ISA tests (h_*.S), on top of
 * test_macros.h: its CSRs, causes and bits, and the ways into V=1.
 *
 * A test enters VS- or VU-mode from M with mret and MPV = 1 (GOTO_VMODE).
 * A trap from V=1 that is not delegated lands in the runtime's M-mode
 * handler, which records it and resumes at the armed address in M (its
 * mret with MPP = M leaves V = 0). Traps the test delegates to VS-mode go
 * to vs_trap_entry (h_vs_handler below), which records vscause, vsepc,
 * vstval and vsstatus in trap_vs and ecalls (cause 10) out to M.
 */
#ifndef VESSEL_ISA_H_MACROS_H
#define VESSEL_ISA_H_MACROS_H

#include "test_macros.h"

/* binutils 2.40 has H's instructions and most of its CSR names. */
.option arch, +h

#define CSR_MTINST 0x34a
#define CSR_MTVAL2 0x34b

#define CAUSE_VS_ECALL 10
#define CAUSE_FETCH_GUEST_PAGE_FAULT 20
#define CAUSE_LOAD_GUEST_PAGE_FAULT 21
#define CAUSE_VIRTUAL_INSTRUCTION 22
#define CAUSE_STORE_GUEST_PAGE_FAULT 23

#define MSTATUS_GVA (1 << 38)
#define MSTATUS_MPV (1 << 39)
#define MISA_H (1 << 7)

#define HSTATUS_GVA (1 << 6)
#define HSTATUS_SPV (1 << 7)
#define HSTATUS_SPVP (1 << 8)
#define HSTATUS_HU (1 << 9)
#define HSTATUS_VTVM (1 << 20)
#define HSTATUS_VTW (1 << 21)
#define HSTATUS_VTSR (1 << 22)
#define HSTATUS_VSXL (3 << 32)

#define MIP_VSSIP (1 << 2)
#define MIP_VSTIP (1 << 6)
#define MIP_VSEIP (1 << 10)
#define MIP_SGEIP (1 << 12)

#define HGATP_MODE_SV39X4 (8 << 60)
#define HGATP_MODE_SV48X4 (9 << 60)

/* Into VS-mode (mode PRV_S) or VU-mode (PRV_U) at `label`, from M. */
#define GOTO_VMODE(mode, label)      \
  li t6, MSTATUS_MPV;                \
  csrs mstatus, t6;                  \
  GOTO_MODE(mode, label)

/* Into HS-mode or U-mode (V=0) at `label`, from M. */
#define GOTO_HMODE(mode, label)      \
  li t6, MSTATUS_MPV;                \
  csrc mstatus, t6;                  \
  GOTO_MODE(mode, label)

/*
 * As TEST_IN_MODE, in VS-mode (PRV_S) or VU-mode (PRV_U): the final ecall
 * is cause 10 from VS, 8 from VU.
 */
#define TEST_IN_VMODE(num, mode, cause, code...) \
  SET_TESTNUM(num);                              \
  TRAP_ARM_LABEL(90021f);                        \
  GOTO_VMODE(mode, 90022f);                      \
  90022:                                         \
  code;                                          \
  ecall;                                         \
  90021:                                         \
  TRAP_DISARM;                                   \
  CHECK_MTRAP_COUNT(1);                          \
  CHECK_MCAUSE(cause)

#define VECALL_CAUSE(mode) (CAUSE_USER_ECALL + 2 * (mode)) /* 10 from VS, 8 from VU */
#define TEST_OK_IN_VMODE(num, mode, code...) \
  TEST_IN_VMODE(num, mode, VECALL_CAUSE(mode), code)

/* As TEST_IN_MODE for HS-mode or U-mode with MPV cleared first. */
#define TEST_IN_HMODE(num, mode, cause, code...) \
  li t6, MSTATUS_MPV;                            \
  csrc mstatus, t6;                              \
  TEST_IN_MODE(num, mode, cause, code)

#define CHECK_VSCAUSE(cause) CHECK_MEM(trap_vs, TR_CAUSE, cause)
#define CHECK_VSTVAL(value) CHECK_MEM(trap_vs, TR_TVAL, value)
#define CHECK_VSTRAP_COUNT(n) CHECK_MEM(trap_vs, TR_COUNT, n)
#define CLEAR_VS_RECORD      \
  la t6, trap_vs;            \
  sd zero, TR_COUNT(t6);     \
  li t5, -1;                 \
  sd t5, TR_CAUSE(t6)

/* table[index] = a leaf for physical address `pa` with `flags`. */
#define SET_LEAF_PA(table, index, pa, flags) \
  li t5, PTE_LEAF(pa, flags);                \
  la t6, table + 8 * (index);                \
  sd t5, 0(t6)

/* `csr` (vsatp or hgatp) = `mode` with its root table at label `root`, then
 * `fence`. */
#define ATP_FOR(csr, mode, root, fence) \
  la t0, root;                          \
  srli t0, t0, 12;                      \
  li t1, mode;                          \
  or t0, t0, t1;                        \
  csrw csr, t0;                         \
  fence

/* The last M-mode trap's mtval2 (read right after the trap). */
#define CHECK_MTVAL2(value) \
  csrr t5, CSR_MTVAL2;      \
  CHECK_EQ(t5, value)

/* Reads `csr` into t5 and checks its bits under `mask`. */
#define CHECK_CSR_BITS(csr, mask, value) \
  csrr t5, csr;                          \
  li t6, mask;                           \
  and t5, t5, t6;                        \
  CHECK_EQ(t5, value)

/*
 * The VS-mode trap handler: put its address in vstvec. Runs with the
 * guest's view (scause is vscause, and so on); vsscratch must hold
 * vs_trap_save. An interrupt is recorded and cleared in sip (VSSIP) before
 * it returns; an exception is recorded and leaves with an ecall into M.
 */
#define H_VS_HANDLER                 \
  H_MTRAP_ENTRY;                     \
  .text;                             \
  .align 6;                          \
vs_trap_entry:                       \
  csrrw t6, sscratch, t6;            \
  sd t0, 0(t6);                      \
  sd t1, 8(t6);                      \
  la t0, trap_vs;                    \
  ld t1, TR_COUNT(t0);               \
  addi t1, t1, 1;                    \
  sd t1, TR_COUNT(t0);               \
  csrr t1, scause;                   \
  sd t1, TR_CAUSE(t0);               \
  csrr t1, sepc;                     \
  sd t1, TR_EPC(t0);                 \
  csrr t1, stval;                    \
  sd t1, TR_TVAL(t0);                \
  csrr t1, sstatus;                  \
  sd t1, TR_STATUS(t0);              \
  csrr t1, scause;                   \
  bgez t1, 1f;                       \
  csrci sip, 2;                      \
  ld t0, 0(t6);                      \
  ld t1, 8(t6);                      \
  csrrw t6, sscratch, t6;            \
  sret;                              \
1:                                   \
  ecall;                             \
  j test_fail;                       \
  .data;                             \
  .align 3;                          \
trap_vs: .skip TR_SIZE;              \
vs_trap_save: .skip 32;              \
  .text

/* vstvec and vsscratch for H_VS_HANDLER, and the M-mode entry below. */
#define H_VS_HANDLER_INSTALL \
  la t0, vs_trap_entry;      \
  csrw vstvec, t0;           \
  la t0, vs_trap_save;       \
  csrw vsscratch, t0;        \
  la t0, h_mtrap_entry;      \
  csrw mtvec, t0

/* H_VS_HANDLER_INSTALL, then a test's own interrupt handlers in vstvec and
 * stvec (the guest's and the hypervisor's). */
#define H_IRQ_HANDLERS_INSTALL(vs_entry, hs_entry) \
  H_VS_HANDLER_INSTALL;                            \
  la t0, vs_entry;                                 \
  csrw vstvec, t0;                                 \
  la t0, hs_entry;                                 \
  csrw stvec, t0

/*
 * In front of the runtime's M-mode handler: keeps mstatus as the trap left
 * it (CHECK_MTRAP_MSTATUS), then clears MPV before an exception's resume in
 * M. QEMU 7.2's mret sets V from MPV even when MPP is M, which would leave
 * its M-mode running with the guest's CSRs swapped in.
 */
#define H_MTRAP_ENTRY                \
  .text;                             \
  .align 6;                          \
h_mtrap_entry:                       \
  csrrw t6, mscratch, t6;            \
  sd t0, 24(t6);                     \
  csrr t0, mstatus;                  \
  sd t0, 32(t6);                     \
  csrr t0, mcause;                   \
  bltz t0, 1f;                       \
  li t0, MSTATUS_MPV;                \
  csrc mstatus, t0;                  \
1:                                   \
  ld t0, 24(t6);                     \
  csrrw t6, mscratch, t6;            \
  j mtrap_entry

#define CHECK_MTRAP_MSTATUS(mask, value) \
  la t5, mtrap_save;                     \
  ld t5, 32(t5);                         \
  li t6, mask;                           \
  and t5, t5, t6;                        \
  CHECK_EQ(t5, value)

#endif
