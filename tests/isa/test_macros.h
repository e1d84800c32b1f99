/*
 * Shared runtime and check macros for Vessel's bare-metal ISA tests.
 *
 * Each test is one .S file that starts with
 *
 *     #include "test_macros.h"
 *     TEST_BEGIN
 *       ... checks ...
 *     TEST_END
 *
 * The runtime enters at _start in M-mode, installs the trap handlers, opens
 * PMP for S/U (like firmware does), turns the FPU on (mstatus.FS = Initial)
 * and jumps to the body. Results go through HTIF: 1 written to tohost is a
 * pass, (testnum << 1) | 1 a failure of check `testnum`.
 *
 * Register conventions:
 *   gp (TESTNUM)  number of the current check; kept in 1..254 because QEMU's
 *                 spike machine turns it into an 8-bit process exit status.
 *                 255 means "failed outside any check".
 *   t5, t6        scratch of the macros; tests must not keep values there.
 *   everything else belongs to the test. The trap handlers preserve every
 *   register, so a test may inspect registers after a trap (e.g. that a
 *   faulting load left rd alone).
 *   mscratch/sscratch point at the handlers' save areas: a test that uses
 *   them as plain CSRs must put them back before the next trap.
 *
 * Traps: a check that expects a trap arms `trap_resume` with the address to
 * continue at (TRAP_ARM). The M-mode handler records mcause/mepc/mtval/
 * mstatus in `trap_m`, and for an exception resumes in M-mode at the armed
 * address (disarming it); an exception with nothing armed fails the test.
 * For an interrupt it records the cause, clears that cause's bit in mie (so
 * the interrupt cannot fire again) and returns to the interrupted code.
 * The S-mode handler does the same for traps delegated to S, recording in
 * `trap_s`; for an exception it then does an ecall so that the M-mode handler
 * resumes at the armed address. Tests that turn paging on keep the image
 * identity-mapped so that the S-mode handler runs where it is linked.
 *
 * Build with -DISA_DEBUG_HANG to make test_fail spin without reporting, so
 * that a debugger or QEMU's monitor can look at the state (gp = the check).
 *
 * Several harts: a test that needs N harts says so with a line
 *
 *     #define TEST_HARTS N
 *
 * before the #include; CMake (vessel --cpus N) and run-on-qemu.sh (-smp N)
 * read the same line. Every hart enters _start and gets the same CSR setup,
 * with tp = its hart id (a0 and a1 stay as the boot ROM left them: mhartid
 * and the device tree). Hart 0 runs test_main with the handlers above and
 * ends the test through HTIF. Harts 1 to N-1 run `test_secondary`, which
 * the test defines, on a stack of their own with mtvec = stvec =
 * test_secondary_trap: the runtime's handlers and trap records belong to
 * hart 0, so a secondary that takes a trap its test gave it no handler for
 * fails the test. Harts beyond N park. A secondary's checks use
 * SET_HART_TESTNUM(k), which numbers check k (0..9) of hart h as
 * 100 + 10 * h + k (so 132 is hart 3's check 2); hart 0 keeps to 1..99.
 * Secondaries end in test_park (wfi forever).
 */
#ifndef VESSEL_ISA_TEST_MACROS_H
#define VESSEL_ISA_TEST_MACROS_H

#define TESTNUM gp

#ifndef TEST_HARTS
#define TEST_HARTS 1
#endif
#if TEST_HARTS < 1 || TEST_HARTS > 9
#error "TEST_HARTS must lie in 1..9 (check numbers encode the hart in one digit)"
#endif

/* Absolute addresses: `la` must not go through a GOT (Debian's gcc defaults to PIE). */
.option nopic

/* ---- privileged architecture constants ---- */

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define MSTATUS_SIE (1 << 1)
#define MSTATUS_MIE (1 << 3)
#define MSTATUS_SPIE (1 << 5)
#define MSTATUS_MPIE (1 << 7)
#define MSTATUS_SPP (1 << 8)
#define MSTATUS_MPP (3 << 11)
#define MSTATUS_MPP_S (1 << 11)
#define MSTATUS_MPP_M (3 << 11)
#define MSTATUS_FS (3 << 13)
#define MSTATUS_FS_INITIAL (1 << 13)
#define MSTATUS_FS_CLEAN (2 << 13)
#define MSTATUS_FS_DIRTY (3 << 13)
#define MSTATUS_XS (3 << 15)
#define MSTATUS_MPRV (1 << 17)
#define MSTATUS_SUM (1 << 18)
#define MSTATUS_MXR (1 << 19)
#define MSTATUS_TVM (1 << 20)
#define MSTATUS_TW (1 << 21)
#define MSTATUS_TSR (1 << 22)
#define MSTATUS_UXL (3 << 32)
#define MSTATUS_SXL (3 << 34)
#define MSTATUS_SD (1 << 63)

#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS 1
#define CAUSE_ILLEGAL_INSTRUCTION 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_MISALIGNED_LOAD 4
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS 7
#define CAUSE_USER_ECALL 8
#define CAUSE_SUPERVISOR_ECALL 9
#define CAUSE_MACHINE_ECALL 11
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT 13
#define CAUSE_STORE_PAGE_FAULT 15

#define IRQ_S_SOFT 1
#define IRQ_M_SOFT 3
#define IRQ_S_TIMER 5
#define IRQ_M_TIMER 7
#define IRQ_S_EXT 9
#define IRQ_M_EXT 11
#define CAUSE_INTERRUPT (1 << 63)
#define MIP_SSIP (1 << IRQ_S_SOFT)
#define MIP_MSIP (1 << IRQ_M_SOFT)
#define MIP_STIP (1 << IRQ_S_TIMER)
#define MIP_MTIP (1 << IRQ_M_TIMER)
#define MIP_SEIP (1 << IRQ_S_EXT)
#define MIP_MEIP (1 << IRQ_M_EXT)

#define SATP_MODE_SV39 (8 << 60)
#define SATP_MODE_SV48 (9 << 60)

#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_U (1 << 4)
#define PTE_G (1 << 5)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)

/* Page tables: a leaf PTE for physical address `pa`, and every permission
 * with A and D set. */
#define PTE_LEAF(pa, flags) ((((pa) >> 12) << 10) | (flags))
#define RWXAD (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)

/* table[index] = a pointer to the next-level table `next`. */
#define SET_TABLE(table, index, next) \
  la t5, next;                        \
  srli t5, t5, 12;                    \
  slli t5, t5, 10;                    \
  ori t5, t5, PTE_V;                  \
  la t6, table + 8 * (index);         \
  sd t5, 0(t6)

/* satp = `mode` (SATP_MODE_SV39 or SATP_MODE_SV48) with root table `root`,
 * and a fence. */
#define SATP_FOR(mode, root) \
  la t5, root;               \
  srli t5, t5, 12;           \
  li t6, mode;               \
  or t5, t5, t6;             \
  csrw satp, t5;             \
  sfence.vma

#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_OFF 0x00
#define PMP_TOR 0x08
#define PMP_NA4 0x10
#define PMP_NAPOT 0x18
#define PMP_L 0x80

#define FFLAGS_NX 0x01
#define FFLAGS_UF 0x02
#define FFLAGS_OF 0x04
#define FFLAGS_DZ 0x08
#define FFLAGS_NV 0x10

#define FRM_RNE 0
#define FRM_RTZ 1
#define FRM_RDN 2
#define FRM_RUP 3
#define FRM_RMM 4

/* CLINT as on QEMU's virt and spike machines (and Vessel). */
#define CLINT_BASE 0x2000000
#define CLINT_MSIP (CLINT_BASE + 0x0)
#define CLINT_MTIMECMP (CLINT_BASE + 0x4000)
#define CLINT_MTIME (CLINT_BASE + 0xBFF8)

/* Per-hart CLINT registers; `hart` is a register, `reg` receives the address. */
#define CLINT_MSIP_OF(reg, hart) \
  slli reg, hart, 2;             \
  li t6, CLINT_MSIP;             \
  add reg, reg, t6

#define CLINT_MTIMECMP_OF(reg, hart) \
  slli reg, hart, 3;                 \
  li t6, CLINT_MTIMECMP;             \
  add reg, reg, t6

/* Instructions binutils 2.40 does not know, spelled with .insn. */
#include "newer_insns.h"

/* Zihintpause's pause (a fence hint that -march here does not name): spin
 * loops say they are spinning, so that an emulator may let another hart run. */
#ifndef PAUSE
#define PAUSE .word 0x0100000f
#endif

/* Spins until `load` (lw or ld) of 0(addr) gives a value for which
 * `branch` (beq, bge, ...) against the register `value` is taken. Orders
 * nothing: the caller adds the fence it means. */
#define SPIN_UNTIL(load, branch, addr, value) \
  90030:                                      \
  load t6, 0(addr);                           \
  branch t6, value, 90031f;                   \
  PAUSE;                                      \
  j 90030b;                                   \
  90031:

/*
 * Waiting that does not hold a host CPU: harts that hand work to each other
 * thousands of times run far faster on a busy host when the waiting one
 * sleeps in wfi and the other wakes it with an IPI, than when both spin
 * (each handover would then cost a host scheduling slice).
 *
 * SLEEP_UNTIL is SPIN_UNTIL that gives up spinning after a while and sleeps
 * in wfi until this hart's msip is set, clears it and looks again. It needs
 * mie.MSIE = 1 and, in M-mode, mstatus.MIE = 0: wfi then wakes on the
 * pending interrupt without taking it. WAKE_HART(hart) sets the msip of the
 * hart in register `hart` after a full fence, so that the store the sleeper
 * waits for is visible before it wakes; clearing msip is also followed by a
 * full fence, so that a wake-up that comes after the clear is not lost.
 */
#define SLEEP_UNTIL(load, branch, addr, value) \
  90032:                                       \
  li t5, 1000;                                 \
  90033:                                       \
  load t6, 0(addr);                            \
  branch t6, value, 90034f;                    \
  addi t5, t5, -1;                             \
  bnez t5, 90033b;                             \
  wfi;                                         \
  CLINT_MSIP_OF(t5, tp);                       \
  sw zero, 0(t5);                              \
  fence;                                       \
  j 90032b;                                    \
  90034:

#define WAKE_HART(hart)     \
  fence;                    \
  CLINT_MSIP_OF(t5, hart);  \
  li t6, 1;                 \
  sw t6, 0(t5)

#define ENABLE_WAKEUPS \
  li t6, MIP_MSIP;     \
  csrs mie, t6

/* Offsets in a trap record (trap_m / trap_s). */
#define TR_COUNT 0
#define TR_CAUSE 8
#define TR_EPC 16
#define TR_TVAL 24
#define TR_STATUS 32
#define TR_LOG 40 /* causes of the first 8 traps since the last TRAP_ARM */
#define TR_LOG_ENTRIES 8
#define TR_SIZE (TR_LOG + 8 * TR_LOG_ENTRIES)

/* ---- program frame ---- */

#define TEST_BEGIN \
  test_runtime;    \
  .text;           \
  .globl test_main;\
  test_main:

#define TEST_END \
  j test_pass;   \
  test_data_end

#define TEST_PASS j test_pass
#define TEST_FAIL j test_fail

/* ---- plain checks; jump far because test bodies exceed a branch's reach ---- */

#define CHECK_RANGE(num)                             \
  .if ((num) < 1) || ((num) > 254);                  \
  .error "test numbers must lie in 1..254";          \
  .endif

#define SET_TESTNUM(num) \
  CHECK_RANGE(num);      \
  li TESTNUM, num

/* Check k (0..9) of a secondary hart: 100 + 10 * hart id (in tp) + k. Works
 * in any privilege, unlike reading mhartid. */
#define SET_HART_TESTNUM(k)                  \
  .if ((k) < 0) || ((k) > 9);                \
  .error "per-hart check numbers lie in 0..9"; \
  .endif;                                    \
  li t6, 10;                                 \
  mul TESTNUM, tp, t6;                       \
  addi TESTNUM, TESTNUM, 100 + (k)

/* Fails the current check unless reg == value (value is a 64-bit constant). */
#define CHECK_EQ(reg, value)     \
  li t6, value;                  \
  beq reg, t6, 90001f;           \
  j test_fail;                   \
  90001:

#define CHECK_NE(reg, value)     \
  li t6, value;                  \
  bne reg, t6, 90001f;           \
  j test_fail;                   \
  90001:

/* Compares with a 32-bit pattern sign-extended, the way RV64 holds words. */
#define CHECK_EQ_W(reg, value)   \
  li t6, value;                  \
  sext.w t6, t6;                 \
  beq reg, t6, 90001f;           \
  j test_fail;                   \
  90001:

#define CHECK_EQ_REG(reg1, reg2) \
  beq reg1, reg2, 90001f;        \
  j test_fail;                   \
  90001:

#define CHECK_NE_REG(reg1, reg2) \
  bne reg1, reg2, 90001f;        \
  j test_fail;                   \
  90001:

/* reg1 < reg2 unsigned */
#define CHECK_LTU_REG(reg1, reg2) \
  bltu reg1, reg2, 90001f;        \
  j test_fail;                    \
  90001:

#define CHECK_ADDR(reg, label)   \
  la t6, label;                  \
  beq reg, t6, 90001f;           \
  j test_fail;                   \
  90001:

#define CHECK_CSR(csr, value) \
  csrr t5, csr;               \
  CHECK_EQ(t5, value)

/* (csr & mask) == value */
#define CHECK_CSR_MASKED(csr, mask, value) \
  csrr t5, csr;                            \
  li t6, mask;                             \
  and t5, t5, t6;                          \
  CHECK_EQ(t5, value)

/* Loads the dword at label + offset into t5 and compares. */
#define CHECK_MEM(label, offset, value) \
  la t5, label;                         \
  ld t5, offset(t5);                    \
  CHECK_EQ(t5, value)

/* ---- integer instruction checks, riscv-tests style ---- */

#define TEST_CASE(num, reg, value, code...) \
  SET_TESTNUM(num);                         \
  code;                                     \
  CHECK_EQ(reg, value)

#define TEST_RR_OP(num, inst, result, val1, val2) \
  TEST_CASE(num, a0, result, li a1, val1; li a2, val2; inst a0, a1, a2)

#define TEST_RR_SRC1_EQ_DEST(num, inst, result, val1, val2) \
  TEST_CASE(num, a1, result, li a1, val1; li a2, val2; inst a1, a1, a2)

#define TEST_RR_SRC2_EQ_DEST(num, inst, result, val1, val2) \
  TEST_CASE(num, a2, result, li a1, val1; li a2, val2; inst a2, a1, a2)

#define TEST_RR_SRC12_EQ_DEST(num, inst, result, val1) \
  TEST_CASE(num, a1, result, li a1, val1; inst a1, a1, a1)

#define TEST_RR_ZERODEST(num, inst, val1, val2) \
  TEST_CASE(num, x0, 0, li a1, val1; li a2, val2; inst x0, a1, a2)

#define TEST_RR_ZEROSRC1(num, inst, result, val2) \
  TEST_CASE(num, a0, result, li a2, val2; inst a0, x0, a2)

#define TEST_RR_ZEROSRC2(num, inst, result, val1) \
  TEST_CASE(num, a0, result, li a1, val1; inst a0, a1, x0)

/* One-operand instructions (clz, sext.b, rev8 ...): a0 = inst(a1). */
#define TEST_R_OP(num, inst, result, val1) \
  TEST_CASE(num, a0, result, li a1, val1; inst a0, a1)

#define TEST_R_SRC1_EQ_DEST(num, inst, result, val1) \
  TEST_CASE(num, a1, result, li a1, val1; inst a1, a1)

#define TEST_IMM_OP(num, inst, result, val1, imm) \
  TEST_CASE(num, a0, result, li a1, val1; inst a0, a1, imm)

#define TEST_IMM_SRC1_EQ_DEST(num, inst, result, val1, imm) \
  TEST_CASE(num, a1, result, li a1, val1; inst a1, a1, imm)

#define TEST_IMM_ZEROSRC1(num, inst, result, imm) \
  TEST_CASE(num, a0, result, inst a0, x0, imm)

/* Load `inst` from label+offset (the test's data) and compare. */
#define TEST_LD_OP(num, inst, result, offset, label) \
  TEST_CASE(num, a0, result, la a1, label; inst a0, offset(a1))

/* Store then reload with `load` and compare. */
#define TEST_ST_OP(num, load, store, result, offset, label) \
  TEST_CASE(num, a0, result, la a1, label; li a2, result; store a2, offset(a1); load a0, offset(a1))

/* Branch taken (or not) from val1/val2; checks the path actually followed. */
#define TEST_BR_TAKEN(num, inst, val1, val2) \
  SET_TESTNUM(num);                          \
  li a1, val1;                               \
  li a2, val2;                               \
  inst a1, a2, 90002f;                       \
  j test_fail;                               \
  90002:

#define TEST_BR_NOT_TAKEN(num, inst, val1, val2) \
  SET_TESTNUM(num);                              \
  li a1, val1;                                   \
  li a2, val2;                                   \
  inst a1, a2, 90002f;                           \
  j 90003f;                                      \
  90002:                                         \
  j test_fail;                                   \
  90003:

/* ---- traps ---- */

/* Arms trap_resume with the address in `reg` and clears both trap records. */
#define TRAP_ARM(reg)             \
  la t6, trap_resume;             \
  sd reg, 0(t6);                  \
  la t6, trap_m;                  \
  sd zero, TR_COUNT(t6);          \
  li t5, -1;                      \
  sd t5, TR_CAUSE(t6);            \
  la t6, trap_s;                  \
  sd zero, TR_COUNT(t6);          \
  sd t5, TR_CAUSE(t6)

#define TRAP_ARM_LABEL(label) \
  la t5, label;               \
  TRAP_ARM(t5)

#define TRAP_DISARM      \
  la t6, trap_resume;    \
  sd zero, 0(t6)

/* Clears both trap records without arming (for interrupt checks). */
#define TRAP_CLEAR_RECORDS \
  li t5, 0;                \
  TRAP_ARM(t5)

#define CHECK_MTRAP_COUNT(n) CHECK_MEM(trap_m, TR_COUNT, n)
#define CHECK_MCAUSE(cause) CHECK_MEM(trap_m, TR_CAUSE, cause)
#define CHECK_MTVAL(value) CHECK_MEM(trap_m, TR_TVAL, value)
#define CHECK_MLOG(i, cause) CHECK_MEM(trap_m, TR_LOG + 8 * (i), cause)
#define CHECK_STRAP_COUNT(n) CHECK_MEM(trap_s, TR_COUNT, n)
#define CHECK_SCAUSE(cause) CHECK_MEM(trap_s, TR_CAUSE, cause)
#define CHECK_STVAL(value) CHECK_MEM(trap_s, TR_TVAL, value)
#define CHECK_SLOG(i, cause) CHECK_MEM(trap_s, TR_LOG + 8 * (i), cause)

#define CHECK_MEPC_LABEL(label) \
  la t5, trap_m;                \
  ld t5, TR_EPC(t5);            \
  CHECK_ADDR(t5, label)

#define CHECK_SEPC_LABEL(label) \
  la t5, trap_s;                \
  ld t5, TR_EPC(t5);            \
  CHECK_ADDR(t5, label)

#define CHECK_MTVAL_LABEL(label) \
  la t5, trap_m;                 \
  ld t5, TR_TVAL(t5);            \
  CHECK_ADDR(t5, label)

#define CHECK_MTVAL_REG(reg) \
  la t5, trap_m;             \
  ld t5, TR_TVAL(t5);        \
  CHECK_EQ_REG(t5, reg)

#define CHECK_STVAL_REG(reg) \
  la t5, trap_s;             \
  ld t5, TR_TVAL(t5);        \
  CHECK_EQ_REG(t5, reg)

/* mstatus as the M-mode handler saw it on entry. */
#define CHECK_MTRAP_STATUS_MASKED(mask, value) \
  la t5, trap_m;                               \
  ld t5, TR_STATUS(t5);                        \
  li t6, mask;                                 \
  and t5, t5, t6;                              \
  CHECK_EQ(t5, value)

#define CHECK_STRAP_STATUS_MASKED(mask, value) \
  la t5, trap_s;                               \
  ld t5, TR_STATUS(t5);                        \
  li t6, mask;                                 \
  and t5, t5, t6;                              \
  CHECK_EQ(t5, value)

/*
 * Runs `code` in M-mode expecting exactly one exception with `cause`,
 * taken in M-mode; execution continues after the macro either way.
 */
#define TEST_TRAP(num, cause, code...) \
  SET_TESTNUM(num);                    \
  TRAP_ARM_LABEL(90010f);              \
  code;                                \
  90010:                               \
  TRAP_DISARM;                         \
  CHECK_MTRAP_COUNT(1);                \
  CHECK_MCAUSE(cause)

/* As TEST_TRAP and also checks mtval. */
#define TEST_TRAP_TVAL(num, cause, tval, code...) \
  TEST_TRAP(num, cause, code);                    \
  CHECK_MTVAL(tval)

/* Runs `code` in M-mode and fails if it raises any exception. */
#define TEST_NO_TRAP(num, code...) \
  SET_TESTNUM(num);                \
  code

/* Switches to privilege `mode` at `label` (which must follow). MPIE is
 * cleared so that the mret leaves MIE = 0 and the M-mode code resumed after
 * the next trap does not run with interrupts enabled by accident. */
#define GOTO_MODE(mode, label)     \
  li t6, MSTATUS_MPP | MSTATUS_MPIE; \
  csrc mstatus, t6;                \
  li t6, (mode) << 11;             \
  csrs mstatus, t6;                \
  la t6, label;                    \
  csrw mepc, t6;                   \
  mret

/*
 * Runs `code` in privilege `mode` (PRV_S or PRV_U) and comes back to M with
 * an ecall; expects exactly one M-mode trap with `cause`: either the ecall
 * (8 from U, 9 from S: `code` did not trap) or the exception `code` raised.
 */
#define TEST_IN_MODE(num, mode, cause, code...) \
  SET_TESTNUM(num);                             \
  TRAP_ARM_LABEL(90011f);                       \
  GOTO_MODE(mode, 90012f);                      \
  90012:                                        \
  code;                                         \
  ecall;                                        \
  90011:                                        \
  TRAP_DISARM;                                  \
  CHECK_MTRAP_COUNT(1);                         \
  CHECK_MCAUSE(cause)

/* ecall causes are 8 + the privilege: 8 (U), 9 (S), 11 (M). */
#define ECALL_CAUSE(mode) (CAUSE_USER_ECALL + (mode))

/* `code` must run to completion in `mode` without trapping. */
#define TEST_OK_IN_MODE(num, mode, code...) TEST_IN_MODE(num, mode, ECALL_CAUSE(mode), code)

/* ---- floating point ---- */

/* Reads fflags into t5 and compares (also clears them for the next check). */
#define CHECK_FFLAGS(flags) \
  csrrw t5, fflags, zero;   \
  CHECK_EQ(t5, flags)

/* Checks that freg holds a properly NaN-boxed single with `bits`. */
#define CHECK_FREG_S(freg, bits) \
  fmv.x.d t5, freg;              \
  CHECK_EQ(t5, 0xffffffff00000000 | (bits))

#define CHECK_FREG_D(freg, bits) \
  fmv.x.d t5, freg;              \
  CHECK_EQ(t5, bits)

#define LOAD_S(freg, bits) \
  li t6, bits;             \
  fmv.w.x freg, t6

#define LOAD_D(freg, bits) \
  li t6, bits;             \
  fmv.d.x freg, t6

/* rd = inst(rs1[, rs2[, rs3]]) with the given rounding-mode suffix `rm...`. */
#define TEST_FP_S_OP1(num, inst, flags, result, a, rm...) \
  SET_TESTNUM(num);                                       \
  LOAD_S(f1, a);                                          \
  fsflags zero;                                           \
  inst f0, f1, ## rm;                                         \
  CHECK_FFLAGS(flags);                                    \
  CHECK_FREG_S(f0, result)

#define TEST_FP_S_OP2(num, inst, flags, result, a, b, rm...) \
  SET_TESTNUM(num);                                          \
  LOAD_S(f1, a);                                             \
  LOAD_S(f2, b);                                             \
  fsflags zero;                                              \
  inst f0, f1, f2, ## rm;                                        \
  CHECK_FFLAGS(flags);                                       \
  CHECK_FREG_S(f0, result)

#define TEST_FP_S_OP3(num, inst, flags, result, a, b, c, rm...) \
  SET_TESTNUM(num);                                             \
  LOAD_S(f1, a);                                                \
  LOAD_S(f2, b);                                                \
  LOAD_S(f3, c);                                                \
  fsflags zero;                                                 \
  inst f0, f1, f2, f3, ## rm;                                       \
  CHECK_FFLAGS(flags);                                          \
  CHECK_FREG_S(f0, result)

#define TEST_FP_D_OP1(num, inst, flags, result, a, rm...) \
  SET_TESTNUM(num);                                       \
  LOAD_D(f1, a);                                          \
  fsflags zero;                                           \
  inst f0, f1, ## rm;                                         \
  CHECK_FFLAGS(flags);                                    \
  CHECK_FREG_D(f0, result)

#define TEST_FP_D_OP2(num, inst, flags, result, a, b, rm...) \
  SET_TESTNUM(num);                                          \
  LOAD_D(f1, a);                                             \
  LOAD_D(f2, b);                                             \
  fsflags zero;                                              \
  inst f0, f1, f2, ## rm;                                        \
  CHECK_FFLAGS(flags);                                       \
  CHECK_FREG_D(f0, result)

#define TEST_FP_D_OP3(num, inst, flags, result, a, b, c, rm...) \
  SET_TESTNUM(num);                                             \
  LOAD_D(f1, a);                                                \
  LOAD_D(f2, b);                                                \
  LOAD_D(f3, c);                                                \
  fsflags zero;                                                 \
  inst f0, f1, f2, f3, ## rm;                                       \
  CHECK_FFLAGS(flags);                                          \
  CHECK_FREG_D(f0, result)

/* Conversions between the two formats. */
#define TEST_FP_S_FROM_D(num, inst, flags, result, a, rm...) \
  SET_TESTNUM(num);                                          \
  LOAD_D(f1, a);                                             \
  fsflags zero;                                              \
  inst f0, f1, ## rm;                                        \
  CHECK_FFLAGS(flags);                                       \
  CHECK_FREG_S(f0, result)

#define TEST_FP_D_FROM_S(num, inst, flags, result, a, rm...) \
  SET_TESTNUM(num);                                          \
  LOAD_S(f1, a);                                             \
  fsflags zero;                                              \
  inst f0, f1, ## rm;                                        \
  CHECK_FFLAGS(flags);                                       \
  CHECK_FREG_D(f0, result)

/* Integer-result FP ops (compares, fclass, fcvt to integer): a0 = inst(f1[, f2]). */
#define TEST_FP_S_INT1(num, inst, flags, result, a, rm...) \
  SET_TESTNUM(num);                                        \
  LOAD_S(f1, a);                                           \
  fsflags zero;                                            \
  inst a0, f1, ## rm;                                          \
  CHECK_FFLAGS(flags);                                     \
  CHECK_EQ(a0, result)

#define TEST_FP_S_INT2(num, inst, flags, result, a, b) \
  SET_TESTNUM(num);                                    \
  LOAD_S(f1, a);                                       \
  LOAD_S(f2, b);                                       \
  fsflags zero;                                        \
  inst a0, f1, f2;                                     \
  CHECK_FFLAGS(flags);                                 \
  CHECK_EQ(a0, result)

#define TEST_FP_D_INT1(num, inst, flags, result, a, rm...) \
  SET_TESTNUM(num);                                        \
  LOAD_D(f1, a);                                           \
  fsflags zero;                                            \
  inst a0, f1, ## rm;                                          \
  CHECK_FFLAGS(flags);                                     \
  CHECK_EQ(a0, result)

#define TEST_FP_D_INT2(num, inst, flags, result, a, b) \
  SET_TESTNUM(num);                                    \
  LOAD_D(f1, a);                                       \
  LOAD_D(f2, b);                                       \
  fsflags zero;                                        \
  inst a0, f1, f2;                                     \
  CHECK_FFLAGS(flags);                                 \
  CHECK_EQ(a0, result)

/* Integer-to-FP: f0 = inst(a1). */
#define TEST_FP_S_FROM_INT(num, inst, flags, result, a, rm...) \
  SET_TESTNUM(num);                                            \
  li a1, a;                                                    \
  fsflags zero;                                                \
  inst f0, a1, ## rm;                                              \
  CHECK_FFLAGS(flags);                                         \
  CHECK_FREG_S(f0, result)

#define TEST_FP_D_FROM_INT(num, inst, flags, result, a, rm...) \
  SET_TESTNUM(num);                                            \
  li a1, a;                                                    \
  fsflags zero;                                                \
  inst f0, a1, ## rm;                                              \
  CHECK_FFLAGS(flags);                                         \
  CHECK_FREG_D(f0, result)

/* ---- the runtime, emitted once by TEST_BEGIN ---- */

.macro test_runtime
  .section .text.init, "ax", @progbits
  .globl _start
_start:
  li TESTNUM, 255
  csrr tp, mhartid
  bnez tp, test_secondary_start
  la sp, test_stack_top
  la t0, mtrap_entry
  csrw mtvec, t0
  la t0, mtrap_save
  csrw mscratch, t0
  la t0, strap_entry
  csrw stvec, t0
  la t0, strap_save
  csrw sscratch, t0
  jal t1, test_hart_setup
  la t0, test_main
  jr t0

test_secondary_start:
#if TEST_HARTS > 1
  li t0, TEST_HARTS
  bgeu tp, t0, test_park
  la t0, test_secondary_trap
  csrw mtvec, t0
  csrw mscratch, zero
  csrw stvec, t0
  csrw sscratch, zero
  jal t1, test_hart_setup
  /* Hart h's stack ends at test_secondary_stacks + h * 4 KiB. */
  la sp, test_secondary_stacks
  slli t0, tp, 12
  add sp, sp, t0
  la t0, test_secondary
  jr t0

  /* Unexpected trap on a secondary hart: fail under its current check. */
  .align 2
test_secondary_trap:
  j test_fail
#endif

  .globl test_park
test_park:
  csrw mie, zero
1:
  wfi
  j 1b

  /* The CSR state every hart starts a test with; returns through t1. */
test_hart_setup:
  csrw medeleg, zero
  csrw mideleg, zero
  csrw mie, zero
  csrw satp, zero
  /* One entry covering everything lets S and U reach memory at all: with
   * PMP implemented, an S/U access matching no entry fails. */
  li t0, -1
  csrw pmpaddr0, t0
  li t0, PMP_NAPOT | PMP_R | PMP_W | PMP_X
  csrw pmpcfg0, t0
  csrw pmpcfg2, zero
  li t0, MSTATUS_FS
  csrc mstatus, t0
  li t0, MSTATUS_FS_INITIAL
  csrs mstatus, t0
  csrw fcsr, zero
  jr t1

  .align 6
  .globl mtrap_entry
mtrap_entry:
  csrrw t6, mscratch, t6
  sd t0, 0(t6)
  sd t1, 8(t6)
  sd t2, 16(t6)
  la t0, trap_m
  ld t1, TR_COUNT(t0)
  addi t2, t1, 1
  sd t2, TR_COUNT(t0)
  li t2, TR_LOG_ENTRIES
  bgeu t1, t2, 1f
  slli t1, t1, 3
  add t1, t1, t0
  csrr t2, mcause
  sd t2, TR_LOG(t1)
1:
  csrr t1, mcause
  sd t1, TR_CAUSE(t0)
  csrr t1, mepc
  sd t1, TR_EPC(t0)
  csrr t1, mtval
  sd t1, TR_TVAL(t0)
  csrr t1, mstatus
  sd t1, TR_STATUS(t0)
  csrr t1, mcause
  bltz t1, 2f
  la t0, trap_resume
  ld t1, 0(t0)
  beqz t1, test_fail
  sd zero, 0(t0)
  csrw mepc, t1
  li t1, MSTATUS_MPP
  csrs mstatus, t1
  j 3f
2:
  /* An interrupt: mask it so that it cannot fire again, carry on. */
  slli t1, t1, 1
  srli t1, t1, 1
  li t2, 1
  sll t2, t2, t1
  csrc mie, t2
3:
  ld t0, 0(t6)
  ld t1, 8(t6)
  ld t2, 16(t6)
  csrrw t6, mscratch, t6
  mret

  .align 6
  .globl strap_entry
strap_entry:
  csrrw t6, sscratch, t6
  sd t0, 0(t6)
  sd t1, 8(t6)
  sd t2, 16(t6)
  la t0, trap_s
  ld t1, TR_COUNT(t0)
  addi t2, t1, 1
  sd t2, TR_COUNT(t0)
  li t2, TR_LOG_ENTRIES
  bgeu t1, t2, 1f
  slli t1, t1, 3
  add t1, t1, t0
  csrr t2, scause
  sd t2, TR_LOG(t1)
1:
  csrr t1, scause
  sd t1, TR_CAUSE(t0)
  csrr t1, sepc
  sd t1, TR_EPC(t0)
  csrr t1, stval
  sd t1, TR_TVAL(t0)
  csrr t1, sstatus
  sd t1, TR_STATUS(t0)
  csrr t1, scause
  bltz t1, 2f
  /* An exception: let the M-mode handler resume at the armed address. */
  ecall
  j test_fail
2:
  slli t1, t1, 1
  srli t1, t1, 1
  li t2, 1
  sll t2, t2, t1
  csrc sie, t2
  ld t0, 0(t6)
  ld t1, 8(t6)
  ld t2, 16(t6)
  csrrw t6, sscratch, t6
  sret

  .globl test_pass
test_pass:
  fence
  li t0, 1
  la t1, tohost
  sd t0, 0(t1)
1:
  j 1b

  .globl test_fail
test_fail:
#ifdef ISA_DEBUG_HANG
  /* Debug builds stop here so that a monitor can inspect the state. */
1:
  j 1b
#endif
  fence
  slli t0, TESTNUM, 1
  ori t0, t0, 1
  la t1, tohost
  sd t0, 0(t1)
1:
  j 1b
.endm

.macro test_data_end
  .section .tohost, "aw", @progbits
  .align 6
  /* QEMU's spike machine insists on 8-byte symbols. */
  .globl tohost
  .type tohost, @object
  .size tohost, 8
tohost:
  .dword 0
  .align 6
  .globl fromhost
  .type fromhost, @object
  .size fromhost, 8
fromhost:
  .dword 0

  .data
  .align 3
  .globl trap_resume
trap_resume:
  .dword 0
  .align 6
  .globl trap_m
trap_m:
  .zero TR_SIZE
  .align 6
  .globl trap_s
trap_s:
  .zero TR_SIZE
  .align 6
mtrap_save:
  .zero 64
strap_save:
  .zero 64

  .bss
  .align 4
test_stack:
  .zero 4096
test_stack_top:
#if TEST_HARTS > 1
test_secondary_stacks:
  .zero 4096 * (TEST_HARTS - 1)
#endif
.endm

#endif
