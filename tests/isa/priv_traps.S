/* Synchronous traps into M-mode: ecall causes per privilege, ebreak,
 * illegal instructions with their bits in mtval, mepc/sepc alignment,
 * mtvec modes, the state changes of traps, mret and sret, jumps to odd
 * addresses (bit 0 dropped: no misaligned fetch with C), and access faults
 * for physical addresses where nothing is mapped. */
#include "test_macros.h"

/* Nothing answers at these physical addresses on Vessel's board or on
 * QEMU's spike machine. */
#define UNMAPPED_LOW 0x0
#define UNMAPPED_HIGH 0x40000000

TEST_BEGIN

  /* ecall: cause by privilege, mepc at the ecall, mtval 0. */
  SET_TESTNUM(1)
  TRAP_ARM_LABEL(1f)
test1_ecall:
  ecall
1:
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_MACHINE_ECALL)
  CHECK_MEPC_LABEL(test1_ecall)
  CHECK_MTVAL(0)
  TEST_IN_MODE(2, PRV_S, CAUSE_SUPERVISOR_ECALL, nop)
  CHECK_MTVAL(0)
  TEST_IN_MODE(3, PRV_U, CAUSE_USER_ECALL, nop)
  CHECK_MTVAL(0)
  /* The trap recorded where it came from in MPP. */
  CHECK_MTRAP_STATUS_MASKED(MSTATUS_MPP, PRV_U << 11)
  TEST_IN_MODE(4, PRV_S, CAUSE_SUPERVISOR_ECALL, nop)
  CHECK_MTRAP_STATUS_MASKED(MSTATUS_MPP, PRV_S << 11)

  /* ebreak (32-bit): cause 3, mepc at the ebreak, from every mode. */
  SET_TESTNUM(5)
  TRAP_ARM_LABEL(1f)
  .option push
  .option norvc
test5_ebreak:
  ebreak
  .option pop
1:
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_BREAKPOINT)
  CHECK_MEPC_LABEL(test5_ebreak)
  TEST_IN_MODE(6, PRV_U, CAUSE_BREAKPOINT, .4byte 0x00100073)
  TEST_IN_MODE(7, PRV_S, CAUSE_BREAKPOINT, .4byte 0x00100073)

  /* Illegal instructions: mtval holds the instruction bits. */
  SET_TESTNUM(8)
  TRAP_ARM_LABEL(1f)
test8_insn:
  .4byte 0x1234500b /* custom-0 opcode: nothing there */
1:
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_ILLEGAL_INSTRUCTION)
  CHECK_MEPC_LABEL(test8_insn)
  CHECK_MTVAL(0x1234500b)
  /* fadd with fmt = 2 (half precision, absent). */
  TEST_TRAP_TVAL(9, CAUSE_ILLEGAL_INSTRUCTION, 0x04208053, .4byte 0x04208053)
  /* An undefined OP funct7. */
  TEST_TRAP_TVAL(10, CAUSE_ILLEGAL_INSTRUCTION, 0xfeb50533, .4byte 0xfeb50533)
  /* Undefined AMO funct5. */
  TEST_TRAP_TVAL(11, CAUSE_ILLEGAL_INSTRUCTION, 0xf8b5352f, .4byte 0xf8b5352f)
  /* From U-mode: a privileged instruction. */
  TEST_IN_MODE(12, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, csrw mtvec, zero)
  CHECK_MTVAL(0x30501073)
  /* The register a trapping instruction would have written is unchanged. */
  SET_TESTNUM(13)
  li a0, 0x1234
  TRAP_ARM_LABEL(1f)
  .4byte 0xfeb50533 /* would write a0 */
1:
  TRAP_DISARM
  CHECK_EQ(a0, 0x1234)

  /* jalr to an odd address: bit 0 is dropped, no misaligned-fetch trap. */
  SET_TESTNUM(16)
  la a1, 1f
  addi a1, a1, 1
  jalr a0, 0(a1)
  j test_fail
1:
  /* ... also to a 2-byte aligned target, from U-mode, and with a negative
   * offset producing the odd address. */
  la a1, 2f
  addi a1, a1, 3
  TEST_OK_IN_MODE(17, PRV_U, jalr x0, -2(a1); j test_fail; .balign 4; nop; 2: c.nop)

  /* mtvec: direct and vectored modes are kept, reserved modes are not. */
  SET_TESTNUM(18)
  csrr s0, mtvec
  la a1, mtvec_spare
  csrw mtvec, a1
  csrr a0, mtvec
  CHECK_EQ_REG(a0, a1)
  ori a2, a1, 1
  csrw mtvec, a2
  csrr a0, mtvec
  CHECK_EQ_REG(a0, a2)
  ori a2, a1, 2
  csrw mtvec, a2
  csrr a0, mtvec
  andi a0, a0, 3
  CHECK_NE(a0, 2)
  ori a2, a1, 3
  csrw mtvec, a2
  csrr a0, mtvec
  andi a0, a0, 3
  CHECK_NE(a0, 3)
  csrw mtvec, s0
  /* stvec too. */
  SET_TESTNUM(19)
  csrr s0, stvec
  ori a2, a1, 1
  csrw stvec, a2
  csrr a0, stvec
  CHECK_EQ_REG(a0, a2)
  csrw stvec, s0
  /* In vectored mode exceptions still go to the base. */
  SET_TESTNUM(20)
  csrr s0, mtvec
  la a1, mtvec_vectored_base
  ori a1, a1, 1
  csrw mtvec, a1
  la a2, vectored_hits
  sd zero, 0(a2)
  TRAP_ARM_LABEL(1f)
  ecall
1:
  TRAP_DISARM
  csrw mtvec, s0
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_MACHINE_ECALL)
  CHECK_MEM(vectored_hits, 0, 1)

  /* Trap entry: MPIE takes MIE, MIE clears, MPP takes the old mode. */
  SET_TESTNUM(21)
  li a1, MSTATUS_MIE
  csrs mstatus, a1
  TRAP_ARM_LABEL(1f)
  ecall
1:
  TRAP_DISARM
  CHECK_MTRAP_STATUS_MASKED(MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MPIE | MSTATUS_MPP_M)
  /* The handler's mret put MIE back. */
  CHECK_CSR_MASKED(mstatus, MSTATUS_MIE | MSTATUS_MPIE, MSTATUS_MIE | MSTATUS_MPIE)
  li a1, MSTATUS_MIE
  csrc mstatus, a1
  SET_TESTNUM(22)
  li a1, MSTATUS_MPIE
  csrc mstatus, a1
  TRAP_ARM_LABEL(1f)
  ecall
1:
  TRAP_DISARM
  CHECK_MTRAP_STATUS_MASKED(MSTATUS_MIE | MSTATUS_MPIE, 0)

  /* mret: MIE = MPIE, MPIE = 1, MPP = U (least privileged), pc = mepc. */
  SET_TESTNUM(23)
  li a1, MSTATUS_MIE
  csrc mstatus, a1
  li a1, MSTATUS_MPIE | MSTATUS_MPP
  csrs mstatus, a1
  la a1, 1f
  csrw mepc, a1
  mret
  j test_fail
1:
  CHECK_CSR_MASKED(mstatus, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MIE | MSTATUS_MPIE)
  li a1, MSTATUS_MIE
  csrc mstatus, a1
  SET_TESTNUM(24)
  li a1, MSTATUS_MPIE
  csrc mstatus, a1
  li a1, MSTATUS_MPP
  csrs mstatus, a1
  la a1, 1f
  csrw mepc, a1
  mret
  j test_fail
1:
  CHECK_CSR_MASKED(mstatus, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MPIE)
  /* mret to S: the ecall that follows comes from S; MPP = S was consumed. */
  SET_TESTNUM(25)
  TRAP_ARM_LABEL(1f)
  li a1, MSTATUS_MPP
  csrc mstatus, a1
  li a1, MSTATUS_MPP_S
  csrs mstatus, a1
  la a1, 2f
  csrw mepc, a1
  mret
2:
  ecall
1:
  TRAP_DISARM
  CHECK_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  /* sret (from M): SIE = SPIE, SPIE = 1, SPP = U, privilege = old SPP. */
  SET_TESTNUM(26)
  TRAP_ARM_LABEL(1f)
  li a1, MSTATUS_SIE
  csrc mstatus, a1
  li a1, MSTATUS_SPIE | MSTATUS_SPP
  csrs mstatus, a1
  la a1, 2f
  csrw sepc, a1
  sret
2:
  ecall
1:
  TRAP_DISARM
  CHECK_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  CHECK_MTRAP_STATUS_MASKED(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SIE | MSTATUS_SPIE)
  SET_TESTNUM(27)
  TRAP_ARM_LABEL(1f)
  li a1, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
  csrc mstatus, a1
  la a1, 2f
  csrw sepc, a1
  sret
2:
  ecall
1:
  TRAP_DISARM
  CHECK_MCAUSE(CAUSE_USER_ECALL)
  CHECK_MTRAP_STATUS_MASKED(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SPIE)

  /* Access faults: loads, stores and fetches where nothing is mapped, with
   * mtval = the address; rd is left alone. */
  li a1, UNMAPPED_LOW
  li a0, 0x77
  TEST_TRAP(28, CAUSE_LOAD_ACCESS, ld a0, 0(a1))
  CHECK_MTVAL(UNMAPPED_LOW)
  CHECK_EQ(a0, 0x77)
  TEST_TRAP(29, CAUSE_LOAD_ACCESS, lbu a0, 8(a1))
  CHECK_MTVAL(UNMAPPED_LOW + 8)
  li a1, UNMAPPED_HIGH
  TEST_TRAP(30, CAUSE_STORE_ACCESS, sw a0, 4(a1))
  CHECK_MTVAL(UNMAPPED_HIGH + 4)
  TEST_TRAP(32, CAUSE_LOAD_ACCESS, lw a0, 0(a1))
  CHECK_MTVAL(UNMAPPED_HIGH)
  TEST_TRAP(33, CAUSE_LOAD_ACCESS, fld f0, 16(a1))
  CHECK_MTVAL(UNMAPPED_HIGH + 16)
  /* The same from U-mode (PMP allows it; nothing is there). */
  TEST_IN_MODE(34, PRV_U, CAUSE_LOAD_ACCESS, ld a0, 0(a1))
  CHECK_MTVAL(UNMAPPED_HIGH)
  /* A jump to nowhere completes (rd written); the fetch there faults with
   * mepc = mtval = the target. */
  SET_TESTNUM(35)
  li ra, 0
  TRAP_ARM_LABEL(1f)
  jalr ra, 0(a1)
test35_link:
1:
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_FETCH_ACCESS)
  CHECK_MTVAL(UNMAPPED_HIGH)
  CHECK_MEM(trap_m, TR_EPC, UNMAPPED_HIGH)
  CHECK_ADDR(ra, test35_link)
  li a1, UNMAPPED_LOW + 0x100
  TEST_IN_MODE(36, PRV_S, CAUSE_FETCH_ACCESS, jr a1)
  CHECK_MTVAL(UNMAPPED_LOW + 0x100)

  /* mepc/sepc: bit 0 is always zero (IALIGN = 16 with C). QEMU 7.2 keeps
   * the bit as written and even returns to the odd address, so it fails
   * these checks. */
  SET_TESTNUM(37)
  li a1, 0x80001233
  csrw mepc, a1
  CHECK_CSR(mepc, 0x80001232)
  li a1, -1
  csrw mepc, a1
  CHECK_CSR(mepc, 0xfffffffffffffffe)
  csrw sepc, a1
  CHECK_CSR(sepc, 0xfffffffffffffffe)
  li a1, 0x80000005
  csrw sepc, a1
  CHECK_CSR(sepc, 0x80000004)
  /* mret to an odd mepc lands on the even address below it. */
  SET_TESTNUM(38)
  la a1, 1f
  addi a1, a1, 1
  csrw mepc, a1
  li a2, MSTATUS_MPP
  csrs mstatus, a2
  li a2, MSTATUS_MPIE
  csrc mstatus, a2
  mret
  j test_fail
  .balign 4
1:

  /* An AMO faults as a store (cause 7) even though it also reads. QEMU 7.2
   * reports a load access fault (5). */
  li a1, UNMAPPED_HIGH
  TEST_TRAP(31, CAUSE_STORE_ACCESS, amoadd.w a0, a0, (a1))
  CHECK_MTVAL(UNMAPPED_HIGH)

TEST_END

  /* A vectored mtvec base: entry 0 counts and hands over to the runtime's
   * handler (exceptions only come here). */
  .text
  .balign 256
mtvec_vectored_base:
  .option push
  .option norvc
  j vectored_exception
  .rept 15
  j test_fail
  .endr
  .option pop
vectored_exception:
  /* Borrow the runtime's save area (its handler uses only the first 24
   * bytes), count, and continue in the runtime's handler. */
  csrrw t6, mscratch, t6
  sd t0, 56(t6)
  sd t1, 48(t6)
  la t0, vectored_hits
  ld t1, 0(t0)
  addi t1, t1, 1
  sd t1, 0(t0)
  ld t1, 48(t6)
  ld t0, 56(t6)
  csrrw t6, mscratch, t6
  j mtrap_entry

  .balign 64
mtvec_spare:
  j test_fail

  .data
  .align 3
vectored_hits:
  .dword 0
