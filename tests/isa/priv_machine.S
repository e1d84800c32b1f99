/* Machine-level CSRs: misa, mhartid and the ID registers, mstatus's WARL
 * and read-only fields and the sstatus view of it, and the trap-virtualisation
 * bits TVM, TW and TSR as seen from S-mode. */
/* The hart without H: the checks of mstatus and misa below are RV64GC's with S and U
 * (h_csr.S checks the H extension's additions). */
#define TEST_CPU_FEATURES -h
#include "test_macros.h"

#define MISA_MXL_64 (2 << 62)
#define MISA_EXT(c) (1 << ((c) - 'A'))
#define MISA_RV64GC_SU                                                                     \
  (MISA_MXL_64 | MISA_EXT('I') | MISA_EXT('M') | MISA_EXT('A') | MISA_EXT('F') |         \
   MISA_EXT('D') | MISA_EXT('C') | MISA_EXT('S') | MISA_EXT('U'))

#define MSTATUS_UBE (1 << 6)
#define MSTATUS_VS (3 << 9)
#define MSTATUS_SBE (1 << 36)
#define MSTATUS_MBE (1 << 37)
/* The fields sstatus shows of mstatus. */
#define SSTATUS_MASK                                                                    \
  (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | MSTATUS_VS | MSTATUS_FS |  \
   MSTATUS_XS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD)

/* Sets then clears a writable single-bit field of mstatus. */
#define TEST_MSTATUS_BIT(num, bit)        \
  SET_TESTNUM(num);                       \
  li a1, bit;                             \
  csrs mstatus, a1;                       \
  CHECK_CSR_MASKED(mstatus, bit, bit);    \
  csrc mstatus, a1;                       \
  CHECK_CSR_MASKED(mstatus, bit, 0)

#define SET_MPP(value)     \
  li t6, MSTATUS_MPP;      \
  csrc mstatus, t6;        \
  li t6, (value) << 11;    \
  csrs mstatus, t6

TEST_BEGIN

  /* RV64 with I, M, A, F, D, C, S and U. */
  SET_TESTNUM(1)
  li a1, MISA_RV64GC_SU
  csrr a0, misa
  and a0, a0, a1
  CHECK_EQ_REG(a0, a1)
  /* Writing misa back unchanged is harmless. */
  SET_TESTNUM(2)
  csrr a0, misa
  csrw misa, a0
  csrr a1, misa
  CHECK_EQ_REG(a0, a1)
  /* One hart, number 0; the ID registers read without trapping. */
  SET_TESTNUM(3)
  CHECK_CSR(mhartid, 0)
  csrr a0, mvendorid
  csrr a0, marchid
  csrr a0, mimpid
  csrr a0, mconfigptr

  /* Writable single-bit fields. */
  TEST_MSTATUS_BIT(4, MSTATUS_SIE)
  TEST_MSTATUS_BIT(5, MSTATUS_MIE)
  TEST_MSTATUS_BIT(6, MSTATUS_SPIE)
  TEST_MSTATUS_BIT(7, MSTATUS_MPIE)
  TEST_MSTATUS_BIT(8, MSTATUS_SPP)
  TEST_MSTATUS_BIT(9, MSTATUS_MPRV)
  TEST_MSTATUS_BIT(10, MSTATUS_SUM)
  TEST_MSTATUS_BIT(11, MSTATUS_MXR)
  TEST_MSTATUS_BIT(12, MSTATUS_TVM)
  TEST_MSTATUS_BIT(13, MSTATUS_TW)
  TEST_MSTATUS_BIT(14, MSTATUS_TSR)
  /* MPP holds each supported privilege. */
  SET_TESTNUM(15)
  SET_MPP(PRV_U)
  CHECK_CSR_MASKED(mstatus, MSTATUS_MPP, PRV_U << 11)
  SET_MPP(PRV_S)
  CHECK_CSR_MASKED(mstatus, MSTATUS_MPP, PRV_S << 11)
  SET_MPP(PRV_M)
  CHECK_CSR_MASKED(mstatus, MSTATUS_MPP, PRV_M << 11)
  /* No custom state, little-endian only: read-only zeros. (Without V, VS
   * may be read-only zero or not: not checked.) */
  SET_TESTNUM(16)
  li a1, MSTATUS_XS | MSTATUS_UBE | MSTATUS_SBE | MSTATUS_MBE
  csrs mstatus, a1
  CHECK_CSR_MASKED(mstatus, MSTATUS_XS | MSTATUS_UBE | MSTATUS_SBE | MSTATUS_MBE, 0)
  /* SXL and UXL say 64-bit. */
  SET_TESTNUM(17)
  CHECK_CSR_MASKED(mstatus, MSTATUS_SXL | MSTATUS_UXL, (2 << 34) | (2 << 32))
  CHECK_CSR_MASKED(sstatus, MSTATUS_UXL, 2 << 32)

  /* sstatus is a window on mstatus: S fields go through, M fields neither
   * show nor change. */
  SET_TESTNUM(18)
  li a1, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR
  csrc mstatus, a1
  SET_MPP(PRV_S)
  li a1, MSTATUS_SUM | MSTATUS_MXR | MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
  csrs sstatus, a1
  CHECK_CSR_MASKED(mstatus, MSTATUS_SUM | MSTATUS_MXR | MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SUM | MSTATUS_MXR | MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE)
  SET_TESTNUM(19)
  li a1, -1
  csrs sstatus, a1
  CHECK_CSR_MASKED(mstatus, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR, PRV_S << 11)
  csrr a0, sstatus
  li a1, ~SSTATUS_MASK
  and a0, a0, a1
  CHECK_EQ(a0, 0)
  SET_TESTNUM(20)
  li a1, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_TSR
  csrs mstatus, a1
  csrr a0, sstatus
  and a0, a0, a1
  CHECK_EQ(a0, 0)
  li a1, MSTATUS_SUM | MSTATUS_MXR | MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
  csrc sstatus, a1
  CHECK_CSR_MASKED(mstatus, MSTATUS_SUM | MSTATUS_MXR | MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_TSR, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_TSR)
  li a1, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_TSR
  csrc mstatus, a1

  /* TVM: satp and sfence.vma trap in S-mode; M-mode is unaffected. */
  li a1, MSTATUS_TVM
  csrs mstatus, a1
  TEST_IN_MODE(21, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, satp)
  CHECK_MTVAL(0x18002573)
  TEST_IN_MODE(22, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, csrw satp, zero)
  TEST_IN_MODE(23, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, sfence.vma)
  CHECK_MTVAL(0x12000073)
  TEST_NO_TRAP(24, csrr a0, satp; sfence.vma)
  csrc mstatus, a1
  TEST_OK_IN_MODE(25, PRV_S, csrr a0, satp; sfence.vma)
  /* TW: wfi traps in S-mode (and U-mode). */
  li a1, MSTATUS_TW
  csrs mstatus, a1
  TEST_IN_MODE(26, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, wfi)
  CHECK_MTVAL(0x10500073)
  TEST_IN_MODE(27, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, wfi)
  csrc mstatus, a1
  /* TSR: sret traps in S-mode. */
  li a1, MSTATUS_TSR
  csrs mstatus, a1
  TEST_IN_MODE(28, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, sret)
  CHECK_MTVAL(0x10200073)
  csrc mstatus, a1
  /* Without TSR, sret from S goes to SPP (U here): the ecall then comes
   * from U. */
  SET_TESTNUM(29)
  TRAP_ARM_LABEL(1f)
  GOTO_MODE(PRV_S, 2f)
2:
  la t0, 3f
  csrw sepc, t0
  li t0, MSTATUS_SPP
  csrc sstatus, t0
  sret
3:
  ecall
1:
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_USER_ECALL)
  /* U-mode cannot use sret or mret. */
  TEST_IN_MODE(30, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, sret)
  TEST_IN_MODE(31, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, mret)
  CHECK_MTVAL(0x30200073)
  TEST_IN_MODE(32, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, mret)

  /* With MPP = M, MPRV has no effect and an mret to M keeps it. */
  SET_TESTNUM(33)
  li a1, MSTATUS_MPRV
  csrs mstatus, a1
  la a2, scratch
  ld a0, 0(a2)
  sd a0, 0(a2)
  GOTO_MODE(PRV_M, 1f)
1:
  CHECK_CSR_MASKED(mstatus, MSTATUS_MPRV, MSTATUS_MPRV)
  li a1, MSTATUS_MPRV
  csrc mstatus, a1

  /* The checks below fail on QEMU 7.2: its mret leaves MPRV set (privileged
   * spec 1.12 clears it when returning below M), its spike CPU has the
   * hypervisor extension on by default (misa.H, mstatus.GVA/MPV), keeps
   * MPP = 2 and lets software write UXL. Vessel is RV64GC with S and U only. */

  /* MPRV: an mret to a mode below M clears it. */
  li a1, MSTATUS_MPRV
  csrs mstatus, a1
  TEST_OK_IN_MODE(34, PRV_U, nop)
  CHECK_CSR_MASKED(mstatus, MSTATUS_MPRV, 0)
  li a1, MSTATUS_MPRV
  csrc mstatus, a1

  /* MPP is WARL: 2 (reserved, the old H-mode slot) is never held. */
  SET_TESTNUM(35)
  SET_MPP(2)
  csrr a0, mstatus
  srli a0, a0, 11
  andi a0, a0, 3
  CHECK_NE(a0, 2)
  SET_MPP(PRV_M)
  /* SXL and UXL are read-only 64-bit. */
  SET_TESTNUM(36)
  li a1, MSTATUS_SXL | MSTATUS_UXL
  csrc mstatus, a1
  CHECK_CSR_MASKED(mstatus, MSTATUS_SXL | MSTATUS_UXL, (2 << 34) | (2 << 32))
  csrs mstatus, a1
  CHECK_CSR_MASKED(mstatus, MSTATUS_SXL | MSTATUS_UXL, (2 << 34) | (2 << 32))
  li a1, MSTATUS_UXL
  csrc sstatus, a1
  CHECK_CSR_MASKED(sstatus, MSTATUS_UXL, 2 << 32)
  /* All ones into mstatus: every writable field takes it, everything else
   * keeps its fixed value (VS aside, see above). */
  SET_TESTNUM(37)
  csrr s0, mstatus
  li a1, -1
  csrw mstatus, a1
  csrr a0, mstatus
  csrw mstatus, s0
  li a1, ~MSTATUS_VS
  and a0, a0, a1
  CHECK_EQ(a0, MSTATUS_SD | (2 << 34) | (2 << 32) | MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM | MSTATUS_MXR | MSTATUS_SUM | MSTATUS_MPRV | MSTATUS_FS | MSTATUS_MPP | MSTATUS_SPP | MSTATUS_MPIE | MSTATUS_SPIE | MSTATUS_MIE | MSTATUS_SIE)
  /* misa lists exactly RV64 I, M, A, F, D, C, S, U. */
  SET_TESTNUM(38)
  CHECK_CSR(misa, MISA_RV64GC_SU)

TEST_END

  .data
  .align 3
scratch:
  .dword 0
