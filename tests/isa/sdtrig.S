/* Sdtrig: the trigger CSRs (tselect, tdata1, tdata2, tinfo) and mcontrol6 triggers with
 * action 0. A debugger's probe (write tselect, read it back, read tinfo) finds four
 * triggers; an execute trigger raises a breakpoint (cause 3) before the instruction at
 * tdata2 executes, with xepc = xtval = its address, in the modes its m/s/u bits name,
 * delegated to S by medeleg[3] or not; load and store triggers (equal, >=, <, NAPOT, and a
 * chained range) raise it before the access, with xtval = the address, and a store that
 * fires writes nothing. Triggers armed after code has become hot (translated, its pages in
 * the soft TLB) still fire. Triggers with action 0 stay quiet in M-mode while mstatus.MIE
 * = 0 and in S-mode while sstatus.SIE = 0 when breakpoints are delegated (the debug
 * specification's first answer to re-entrancy). Writing 0 disarms a trigger.
 *
 * QEMU 7.2 (two triggers) writes 0 to mtval on an execute breakpoint, which the privileged
 * spec allows; Vessel writes the address, as Spike does and as a debugger wants: check 8
 * fails there. (Without the tval checks, QEMU passes 8 to 14 and fails 15: its load
 * trigger also fires on a store.) */
#include "test_macros.h"

/* By number: binutils 2.40 does not know tinfo. */
#define CSR_TSELECT 0x7a0
#define CSR_TDATA1 0x7a1
#define CSR_TDATA2 0x7a2
#define CSR_TDATA3 0x7a3
#define CSR_TINFO 0x7a4
#define CSR_TCONTROL 0x7a5

#define TYPE_MCONTROL6 (6 << 60)
#define TYPE_DISABLED (15 << 60)
#define TYPE_ICOUNT (3 << 60)
#define TDATA1_TYPE (15 << 60)
#define TDATA1_DMODE (1 << 59)
#define MC_LOAD (1 << 0)
#define MC_STORE (1 << 1)
#define MC_EXEC (1 << 2)
#define MC_U (1 << 3)
#define MC_S (1 << 4)
#define MC_M (1 << 6)
#define MC_NAPOT (1 << 7)
#define MC_GE (2 << 7)
#define MC_LT (3 << 7)
#define MC_CHAIN (1 << 11)
#define MC_ACTION_DEBUG_MODE (1 << 12)
#define MC6_HIT0 (1 << 22)
#define MC6 TYPE_MCONTROL6
#define TINFO_MCONTROL6 (1 << 6)

/* Arms trigger n: disabled first, so that it never matches a half-written address. */
#define SET_TRIGGER(n, control, addr_reg) \
  li t5, n;                               \
  csrw CSR_TSELECT, t5;                   \
  csrw CSR_TDATA1, zero;                  \
  csrw CSR_TDATA2, addr_reg;              \
  li t5, control;                         \
  csrw CSR_TDATA1, t5

#define CLEAR_TRIGGER(n)  \
  li t5, n;               \
  csrw CSR_TSELECT, t5;   \
  csrw CSR_TDATA1, zero

#define CLEAR_TRIGGERS \
  CLEAR_TRIGGER(0);    \
  CLEAR_TRIGGER(1);    \
  CLEAR_TRIGGER(2);    \
  CLEAR_TRIGGER(3)

/* M-mode triggers fire only while mstatus.MIE = 1 (mie stays 0: no interrupt is taken). */
#define MIE_ON          \
  li t5, MSTATUS_MIE;   \
  csrs mstatus, t5
#define MIE_OFF         \
  li t5, MSTATUS_MIE;   \
  csrc mstatus, t5

/* One breakpoint trap taken in M with mepc = mtval = the address in `reg`. */
#define CHECK_M_BREAKPOINT_AT(reg) \
  CHECK_MTRAP_COUNT(1);            \
  CHECK_MCAUSE(CAUSE_BREAKPOINT);  \
  CHECK_MTVAL_REG(reg)

/* Runs `code` in M-mode with mstatus.MIE = 1 and expects it to stop at one breakpoint,
 * taken in M with mtval = the address in `reg`. */
#define TEST_M_BREAKPOINT(num, reg, code...) \
  SET_TESTNUM(num);                          \
  TRAP_ARM_LABEL(90013f);                    \
  MIE_ON;                                    \
  code;                                      \
  90013:                                     \
  MIE_OFF;                                   \
  TRAP_DISARM;                               \
  CHECK_M_BREAKPOINT_AT(reg)

/* In `mode`, `insn` (a load or store through a1) traps with mtval = a1 + off. */
#define TEST_DATA_FIRES(num, mode, off, insn...) \
  TEST_IN_MODE(num, mode, CAUSE_BREAKPOINT, insn); \
  addi a4, a1, off;                                \
  CHECK_MTVAL_REG(a4)

#define TEST_DATA_QUIET(num, mode, insn...) TEST_OK_IN_MODE(num, mode, insn)

TEST_BEGIN
  /* The probe a debugger makes: tselect holds what was written, up to the last trigger,
   * and refuses 4. */
  SET_TESTNUM(1)
  csrw CSR_TSELECT, zero
  CHECK_CSR(CSR_TSELECT, 0)
  li a0, 1
  csrw CSR_TSELECT, a0
  CHECK_CSR(CSR_TSELECT, 1)
  SET_TESTNUM(2)
  li a0, 4
  csrw CSR_TSELECT, a0
  csrr a1, CSR_TSELECT
  CHECK_NE(a1, 4)
  /* Every trigger supports mcontrol6. */
  SET_TESTNUM(3)
  li s0, 0
1:
  csrw CSR_TSELECT, s0
  csrr a0, CSR_TINFO
  andi a0, a0, TINFO_MCONTROL6
  CHECK_NE(a0, 0)
  addi s0, s0, 1
  li a1, 4
  bltu s0, a1, 1b

  /* M-mode execute breakpoint: the instruction does not execute; mepc = mtval = its
   * address. */
  la a1, test8_insn
  SET_TRIGGER(0, MC6 | MC_M | MC_EXEC, a1)
  li a0, 0
  TEST_M_BREAKPOINT(8, a1, test8_insn: li a0, 1)
  CHECK_MEPC_LABEL(test8_insn)
  CHECK_MTRAP_STATUS_MASKED(MSTATUS_MPP, MSTATUS_MPP_M)
  CHECK_EQ(a0, 0)
  /* Not in M when only s and u are set. */
  SET_TESTNUM(9)
  la a1, test9_insn
  SET_TRIGGER(0, MC6 | MC_S | MC_U | MC_EXEC, a1)
  li a0, 0
  MIE_ON
test9_insn:
  li a0, 1
  MIE_OFF
  CHECK_EQ(a0, 1)

  /* S-mode execute breakpoint, not delegated: taken in M with MPP = S. */
  SET_TESTNUM(10)
  la a1, test10_insn
  SET_TRIGGER(0, MC6 | MC_S | MC_EXEC, a1)
  li a0, 0
  TRAP_ARM_LABEL(1f)
  GOTO_MODE(PRV_S, 2f)
2:
test10_insn:
  li a0, 1
  ecall
1:
  TRAP_DISARM
  CHECK_M_BREAKPOINT_AT(a1)
  CHECK_MEPC_LABEL(test10_insn)
  CHECK_MTRAP_STATUS_MASKED(MSTATUS_MPP, MSTATUS_MPP_S)
  CHECK_EQ(a0, 0)
  /* Delegated (medeleg[3]), with sstatus.SIE = 1: taken in S, stval = the address. */
  SET_TESTNUM(11)
  la a1, test11_insn
  SET_TRIGGER(0, MC6 | MC_S | MC_EXEC, a1)
  li t0, 1 << CAUSE_BREAKPOINT
  csrw medeleg, t0
  li t0, MSTATUS_SIE
  csrs mstatus, t0
  li a0, 0
  TRAP_ARM_LABEL(1f)
  GOTO_MODE(PRV_S, 2f)
2:
test11_insn:
  li a0, 1
  ecall
1:
  TRAP_DISARM
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  csrw medeleg, zero
  CHECK_STRAP_COUNT(1)
  CHECK_SCAUSE(CAUSE_BREAKPOINT)
  CHECK_SEPC_LABEL(test11_insn)
  CHECK_STVAL_REG(a1)
  CHECK_EQ(a0, 0)
  /* ... and M saw only the S handler's ecall. */
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_SUPERVISOR_ECALL)

  /* U-mode: the u bit fires in U, and not in S. */
  SET_TESTNUM(12)
  la a1, test12_insn
  SET_TRIGGER(0, MC6 | MC_U | MC_EXEC, a1)
  li a0, 0
  TRAP_ARM_LABEL(1f)
  GOTO_MODE(PRV_U, 2f)
2:
test12_insn:
  li a0, 1
  ecall
1:
  TRAP_DISARM
  CHECK_M_BREAKPOINT_AT(a1)
  CHECK_MTRAP_STATUS_MASKED(MSTATUS_MPP, 0)
  CHECK_EQ(a0, 0)
  SET_TESTNUM(13)
  la a1, test13_insn
  SET_TRIGGER(0, MC6 | MC_U | MC_EXEC, a1)
  li a0, 0
  TRAP_ARM_LABEL(1f)
  GOTO_MODE(PRV_S, 2f)
2:
test13_insn:
  li a0, 1
  ecall
1:
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  CHECK_EQ(a0, 1)
  CLEAR_TRIGGERS

  /* M-mode load watchpoint: the load does not happen (rd keeps its value), mtval = the
   * address. */
  la a1, wdata
  SET_TRIGGER(0, MC6 | MC_M | MC_LOAD, a1)
  li a0, 0x55
  TEST_M_BREAKPOINT(14, a1, test14_insn: ld a0, 0(a1))
  CHECK_MEPC_LABEL(test14_insn)
  CHECK_EQ(a0, 0x55)
  /* A store to it is not a load. */
  SET_TESTNUM(15)
  li a2, 0x1111
  MIE_ON
  sd a2, 0(a1)
  MIE_OFF
  CLEAR_TRIGGERS
  CHECK_MEM(wdata, 0, 0x1111)

  /* M-mode store watchpoint: the store does not happen. */
  la a1, wdata
  addi a2, a1, 8
  SET_TRIGGER(0, MC6 | MC_M | MC_STORE, a2)
  li a3, 0x2222
  TEST_M_BREAKPOINT(16, a2, test16_insn: sd a3, 8(a1))
  CHECK_MEPC_LABEL(test16_insn)
  /* A load from it is not a store. */
  SET_TESTNUM(17)
  MIE_ON
  ld a0, 8(a1)
  MIE_OFF
  CHECK_EQ(a0, 0)
  CLEAR_TRIGGERS
  CHECK_MEM(wdata, 8, 0)
  /* A word store that covers the watched byte fires, with mtval = that byte. */
  addi a2, a1, 19
  SET_TRIGGER(0, MC6 | MC_M | MC_STORE, a2)
  TEST_M_BREAKPOINT(18, a2, sw a3, 16(a1))
  /* AMOs are stores too (and loads): nothing is written, rd keeps its value. */
  addi a2, a1, 16
  SET_TRIGGER(0, MC6 | MC_M | MC_STORE, a2)
  li a0, 0x77
  TEST_M_BREAKPOINT(19, a2, amoadd.d a0, a3, (a2))
  CHECK_EQ(a0, 0x77)
  SET_TRIGGER(0, MC6 | MC_M | MC_LOAD, a2)
  TEST_M_BREAKPOINT(20, a2, lr.d a0, (a2))
  CLEAR_TRIGGERS
  CHECK_MEM(wdata, 16, 0)

  /* Code that became hot before the trigger was armed (translated, its pages in the soft
   * TLB) stops at it too: an execute trigger in the middle of a block, and a load. */
  SET_TESTNUM(21)
  la a1, wdata
  li s1, 100
2:
  jal ra, hot_code
  addi s1, s1, -1
  bnez s1, 2b
  la a2, hot_code_add
  SET_TRIGGER(0, MC6 | MC_M | MC_EXEC, a2)
  li a0, 0
  TEST_M_BREAKPOINT(21, a2, jal ra, hot_code)
  CHECK_EQ(a0, 1)  /* the li before it ran, the addi did not */
  addi a2, a1, 24
  SET_TRIGGER(0, MC6 | MC_M | MC_LOAD, a2)
  TEST_M_BREAKPOINT(22, a2, jal ra, hot_code)
  CHECK_MEPC_LABEL(hot_code_load)
  addi a2, a1, 32
  SET_TRIGGER(0, MC6 | MC_M | MC_STORE, a2)
  TEST_M_BREAKPOINT(23, a2, jal ra, hot_code)
  CHECK_MEPC_LABEL(hot_code_store)
  CLEAR_TRIGGERS
  /* Disarmed, the same code runs through. */
  SET_TESTNUM(24)
  MIE_ON
  jal ra, hot_code
  MIE_OFF
  CHECK_EQ(a0, 3)
  j 3f

  /* a0 = wdata[24] + 3 with a1 = wdata; wdata[32] = a0. */
hot_code:
  li a0, 1
hot_code_add:
  addi a0, a0, 2
hot_code_load:
  ld a5, 24(a1)
  add a0, a0, a5
hot_code_store:
  sd a0, 32(a1)
  ret
3:

  /* Data triggers by mode: s fires on an S-mode load, not on a U-mode one; u the other way
   * round. */
  la a1, wdata
  SET_TRIGGER(0, MC6 | MC_S | MC_LOAD, a1)
  TEST_DATA_FIRES(25, PRV_S, 0, ld a0, 0(a1))
  TEST_DATA_QUIET(26, PRV_U, ld a0, 0(a1))
  SET_TRIGGER(0, MC6 | MC_U | MC_LOAD, a1)
  TEST_DATA_FIRES(27, PRV_U, 0, ld a0, 0(a1))
  TEST_DATA_QUIET(28, PRV_S, ld a0, 0(a1))

  /* match = 2 (>=) and 3 (<), in S-mode (so that the M-mode test code is not watched). */
  addi a2, a1, 32
  SET_TRIGGER(0, MC6 | MC_S | MC_LOAD | MC_GE, a2)
  TEST_DATA_QUIET(29, PRV_S, ld a0, 24(a1))
  TEST_DATA_FIRES(30, PRV_S, 32, ld a0, 32(a1))
  TEST_DATA_FIRES(31, PRV_S, 40, ld a0, 40(a1))
  /* The last byte of an access counts: a dword load from 28 reads 32..35 too. */
  TEST_DATA_FIRES(32, PRV_S, 32, ld a0, 28(a1))
  addi a2, a1, 8
  SET_TRIGGER(0, MC6 | MC_S | MC_STORE | MC_LT, a2)
  TEST_DATA_FIRES(33, PRV_S, 0, sd a0, 0(a1))
  TEST_DATA_QUIET(34, PRV_S, sd zero, 8(a1))

  /* A chained range [wdata + 48, wdata + 64): trigger 0 (>=, chain) and trigger 1 (<). */
  addi a2, a1, 48
  SET_TRIGGER(0, MC6 | MC_S | MC_LOAD | MC_STORE | MC_GE | MC_CHAIN, a2)
  addi a2, a1, 64
  SET_TRIGGER(1, MC6 | MC_S | MC_LOAD | MC_STORE | MC_LT, a2)
  TEST_DATA_QUIET(35, PRV_S, ld a0, 40(a1))
  TEST_DATA_FIRES(36, PRV_S, 48, ld a0, 48(a1))
  li a3, 0x3333
  TEST_DATA_FIRES(37, PRV_S, 56, sd a3, 56(a1))
  TEST_DATA_QUIET(38, PRV_S, ld a0, 64(a1))
  /* Both triggers of the chain that fired say so. */
  SET_TESTNUM(39)
  CHECK_MEM(wdata, 56, 0)
  csrw CSR_TSELECT, zero
  CHECK_CSR_MASKED(CSR_TDATA1, MC6_HIT0, MC6_HIT0)
  li a0, 1
  csrw CSR_TSELECT, a0
  CHECK_CSR_MASKED(CSR_TDATA1, MC6_HIT0, MC6_HIT0)
  CLEAR_TRIGGERS

  /* match = 1 (NAPOT): wdata + 64 | 7 watches the 16 bytes from wdata + 64. */
  addi a2, a1, 64 + 7
  SET_TRIGGER(2, MC6 | MC_S | MC_LOAD | MC_NAPOT, a2)
  TEST_DATA_QUIET(40, PRV_S, ld a0, 56(a1))
  TEST_DATA_FIRES(41, PRV_S, 72, ld a0, 72(a1))
  TEST_DATA_QUIET(42, PRV_S, ld a0, 80(a1))
  CLEAR_TRIGGERS

  /* Re-entrancy: no M-mode trigger fires while mstatus.MIE = 0 ... */
  SET_TESTNUM(43)
  la a1, test43_insn
  SET_TRIGGER(0, MC6 | MC_M | MC_EXEC, a1)
  li a0, 0
test43_insn:
  li a0, 1
  CHECK_EQ(a0, 1)
  /* ... nor an S-mode one while sstatus.SIE = 0 with breakpoints delegated ... */
  SET_TESTNUM(44)
  li t0, 1 << CAUSE_BREAKPOINT
  csrw medeleg, t0
  la a1, test44_insn
  SET_TRIGGER(0, MC6 | MC_S | MC_EXEC, a1)
  li a0, 0
  TRAP_ARM_LABEL(1f)
  GOTO_MODE(PRV_S, 2f)
2:
test44_insn:
  li a0, 1
  ecall
1:
  TRAP_DISARM
  csrw medeleg, zero
  CHECK_STRAP_COUNT(0)
  CHECK_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  CHECK_EQ(a0, 1)
  CLEAR_TRIGGERS

  /* mcontrol6's fields read back as written; tdata2 holds any address. */
  SET_TESTNUM(51)
  li a1, 0x123456789abcdef0
  SET_TRIGGER(0, MC6 | MC_M | MC_S | MC_U | MC_EXEC | MC_LOAD | MC_STORE | MC_GE, a1)
  CHECK_CSR(CSR_TDATA1, MC6 | MC_M | MC_S | MC_U | MC_EXEC | MC_LOAD | MC_STORE | MC_GE)
  CHECK_CSR(CSR_TDATA2, 0x123456789abcdef0)
  li a1, -2
  csrw CSR_TDATA2, a1
  CHECK_CSR(CSR_TDATA2, -2)
  /* tdata3 is there (its context and ASID matches are off). */
  SET_TESTNUM(52)
  csrr a0, CSR_TDATA3
  CLEAR_TRIGGERS

  /* WARL fields: no Debug Mode (action 1 and dmode read 0); hit0 is writable. */
  SET_TESTNUM(45)
  la a1, wdata
  SET_TRIGGER(0, MC6 | MC_M | MC_LOAD | MC_ACTION_DEBUG_MODE | TDATA1_DMODE | MC6_HIT0, a1)
  CHECK_CSR(CSR_TDATA1, MC6 | MC_M | MC_LOAD | MC6_HIT0)
  /* Writing 0, or a type the trigger lacks (icount), disables it: type 15. */
  SET_TESTNUM(46)
  csrw CSR_TDATA1, zero
  CHECK_CSR(CSR_TDATA1, TYPE_DISABLED)
  li a0, TYPE_ICOUNT | MC_M
  csrw CSR_TDATA1, a0
  CHECK_CSR(CSR_TDATA1, TYPE_DISABLED)
  /* Four triggers, as on Spike (QEMU 7.2 has two). */
  SET_TESTNUM(50)
  li a0, 3
  csrw CSR_TSELECT, a0
  CHECK_CSR(CSR_TSELECT, 3)
  /* tinfo: Sdtrig 1.0 (version 1). */
  SET_TESTNUM(47)
  csrr a0, CSR_TINFO
  srli a0, a0, 24
  CHECK_EQ(a0, 1)
  /* tcontrol is not implemented: re-entrancy is handled by MIE/SIE instead. */
  TEST_TRAP(48, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, CSR_TCONTROL)
  /* S-mode cannot reach the trigger CSRs. */
  TEST_IN_MODE(49, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, CSR_TSELECT)
  CLEAR_TRIGGERS
TEST_END

  .data
  .align 6
wdata:
  .zero 128
