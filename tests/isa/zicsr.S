/* Zicsr: csrrw/csrrs/csrrc and their immediate forms, the rd = x0 and
 * rs1 = x0 / uimm = 0 rules, read-only and missing CSRs, privilege checks,
 * and the fflags/frm/fcsr views. */
#include "test_macros.h"

TEST_BEGIN

  /* mscratch and sscratch serve as plain CSRs below; the trap handlers keep
   * their save areas there, so no trap may happen until they are back. */
  csrr s10, mscratch
  csrr s11, sscratch

  /* csrrw returns the old value and writes the new one. */
  SET_TESTNUM(1)
  li a1, 0x0123456789abcdef
  csrw mscratch, a1
  li a2, 0xfedcba9876543210
  csrrw a0, mscratch, a2
  CHECK_EQ(a0, 0x0123456789abcdef)
  CHECK_CSR(mscratch, 0xfedcba9876543210)
  /* csrrs sets bits, csrrc clears them; both return the old value. */
  SET_TESTNUM(2)
  li a1, 0x00ff
  csrw mscratch, a1
  li a2, 0xff00000000000000
  csrrs a0, mscratch, a2
  CHECK_EQ(a0, 0x00ff)
  CHECK_CSR(mscratch, 0xff000000000000ff)
  SET_TESTNUM(3)
  li a2, 0x0f0000000000000f
  csrrc a0, mscratch, a2
  CHECK_EQ(a0, 0xff000000000000ff)
  CHECK_CSR(mscratch, 0xf0000000000000f0)
  /* Immediate forms: the 5-bit uimm is zero-extended. */
  SET_TESTNUM(4)
  csrrwi a0, mscratch, 31
  CHECK_EQ(a0, 0xf0000000000000f0)
  CHECK_CSR(mscratch, 31)
  SET_TESTNUM(5)
  csrrci a0, mscratch, 0x10
  CHECK_EQ(a0, 31)
  CHECK_CSR(mscratch, 15)
  SET_TESTNUM(6)
  csrrsi a0, mscratch, 0x10
  CHECK_EQ(a0, 15)
  CHECK_CSR(mscratch, 31)
  SET_TESTNUM(7)
  csrrwi a0, mscratch, 0
  CHECK_EQ(a0, 31)
  CHECK_CSR(mscratch, 0)
  /* rd = x0: only the write. */
  SET_TESTNUM(8)
  li a1, 77
  csrrw x0, mscratch, a1
  CHECK_CSR(mscratch, 77)
  li a1, 2
  csrrs x0, mscratch, a1
  CHECK_CSR(mscratch, 79)
  /* rs1 = x0 and uimm = 0 do not write. */
  SET_TESTNUM(9)
  li a1, 0x5555
  csrw mscratch, a1
  csrrs a0, mscratch, x0
  CHECK_EQ(a0, 0x5555)
  csrrc a0, mscratch, x0
  CHECK_EQ(a0, 0x5555)
  csrrsi a0, mscratch, 0
  csrrci a0, mscratch, 0
  CHECK_CSR(mscratch, 0x5555)
  /* rd == rs1: the old value lands in rd after the new one was taken. */
  SET_TESTNUM(10)
  li a0, 0x1234
  csrrw a0, mscratch, a0
  CHECK_EQ(a0, 0x5555)
  CHECK_CSR(mscratch, 0x1234)
  SET_TESTNUM(11)
  li a0, 0x4000
  csrrs a0, mscratch, a0
  CHECK_EQ(a0, 0x1234)
  CHECK_CSR(mscratch, 0x5234)
  /* sscratch is a plain read/write register too. */
  SET_TESTNUM(12)
  li a1, -1
  csrw sscratch, a1
  CHECK_CSR(sscratch, -1)
  csrw sscratch, zero
  CHECK_CSR(sscratch, 0)
  csrw mscratch, s10
  csrw sscratch, s11

  /* Reading read-only CSRs is fine, including with csrrs/csrrc rs1 = x0 and
   * csrrsi/csrrci uimm = 0. */
  SET_TESTNUM(13)
  csrr a0, mhartid
  CHECK_EQ(a0, 0)
  csrrs a0, mvendorid, x0
  csrrc a0, marchid, x0
  csrrsi a0, mimpid, 0
  csrrci a0, mhartid, 0
  CHECK_EQ(a0, 0)
  rdcycle a0
  rdinstret a0

  /* Writing a read-only CSR is an illegal instruction, with the instruction
   * bits in mtval, even when the value would not change it. */
  SET_TESTNUM(14)
  TRAP_ARM_LABEL(1f)
  csrw mhartid, zero
1:
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_ILLEGAL_INSTRUCTION)
  CHECK_MTVAL(0xf1401073)
  li a0, 0x77
  TEST_TRAP_TVAL(15, CAUSE_ILLEGAL_INSTRUCTION, 0xf1405573, csrrwi a0, mhartid, 0)
  CHECK_EQ(a0, 0x77)
  TEST_TRAP_TVAL(16, CAUSE_ILLEGAL_INSTRUCTION, 0xf140e573, csrrsi a0, mhartid, 1)
  TEST_TRAP_TVAL(17, CAUSE_ILLEGAL_INSTRUCTION, 0xc0001073, csrw cycle, zero)
  TEST_TRAP_TVAL(18, CAUSE_ILLEGAL_INSTRUCTION, 0xc0257573, csrrci a0, instret, 10)
  TEST_TRAP(19, CAUSE_ILLEGAL_INSTRUCTION, li a1, 1; csrrs a0, mvendorid, a1)
  CHECK_EQ(a0, 0x77)
  /* A CSR that does not exist. */
  TEST_TRAP_TVAL(20, CAUSE_ILLEGAL_INSTRUCTION, 0x0ff02573, csrr a0, 0x0ff)
  TEST_TRAP(21, CAUSE_ILLEGAL_INSTRUCTION, csrw 0x7ff, zero)

  /* Privilege: U cannot touch S or M CSRs, S cannot touch M CSRs. */
  TEST_IN_MODE(22, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, mscratch)
  CHECK_MTVAL(0x34002573)
  TEST_IN_MODE(23, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, sstatus)
  TEST_IN_MODE(24, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, csrw sscratch, a0)
  TEST_IN_MODE(25, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, mstatus)
  TEST_IN_MODE(26, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, csrw mscratch, zero)
  TEST_IN_MODE(27, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, mhartid)
  li a1, 0x42
  TEST_OK_IN_MODE(28, PRV_S, csrw sscratch, a1; csrr a0, sscratch)
  CHECK_EQ(a0, 0x42)
  csrw sscratch, s11
  TEST_OK_IN_MODE(29, PRV_U, csrr a0, fcsr)

  /* fcsr = frm << 5 | fflags; the three CSRs are views of one register. */
  SET_TESTNUM(30)
  li a1, 0xffffffff
  csrw fcsr, a1
  CHECK_CSR(fcsr, 0xff)
  CHECK_CSR(fflags, 0x1f)
  CHECK_CSR(frm, 7)
  SET_TESTNUM(31)
  csrwi frm, 2
  CHECK_CSR(fcsr, 0x5f)
  csrci fflags, 0x5
  CHECK_CSR(fcsr, 0x5a)
  li a1, 0xffe3
  csrw fflags, a1
  CHECK_CSR(fflags, 0x03)
  csrrwi a0, frm, 0x1d
  CHECK_EQ(a0, 2)
  CHECK_CSR(frm, 5)
  CHECK_CSR(fcsr, 0xa3)
  SET_TESTNUM(32)
  fsrm a0, zero
  CHECK_EQ(a0, 5)
  fsflags a0, zero
  CHECK_EQ(a0, 3)
  CHECK_CSR(fcsr, 0)

  /* csrrs/csrrc with rs1 != x0 are writes even if the register holds 0, so
   * they trap on a read-only CSR. QEMU (7.2) only checks the value and lets
   * these through. */
  li a1, 0
  li a0, 0x77
  TEST_TRAP_TVAL(33, CAUSE_ILLEGAL_INSTRUCTION, 0xf145a573, csrrs a0, mhartid, a1)
  CHECK_EQ(a0, 0x77)
  TEST_TRAP_TVAL(34, CAUSE_ILLEGAL_INSTRUCTION, 0xc005b573, csrrc a0, cycle, a1)

TEST_END
