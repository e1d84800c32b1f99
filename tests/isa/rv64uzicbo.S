/* Zicbom, Zicboz, Zicbop and Zihintntl (the CMO specification 1.0.1, Zihintntl 1.0):
 * - cbo.zero zeroes the whole 64-byte block that holds rs1 and nothing around it, whatever
 *   rs1's offset in the block; zeroing code that ran makes the hart run the zeros;
 * - cbo.clean, cbo.flush and cbo.inval change nothing that software can see here;
 * - menvcfg's CBIE, CBCFE and CBZE let S-mode run them, senvcfg's too U-mode; without, they
 *   are illegal instructions (M-mode always may); CBIE's reserved value 10 is not kept;
 * - prefetch.i/r/w and ntl.* are hints: they do not trap, even at addresses nothing maps,
 *   and write no register.
 * Page faults and PMP are checked in vm_sv39.S. QEMU 7.2 has no Zicbom/Zicboz (check 1
 * fails there: an illegal instruction). */
#include "test_macros.h"

#define CSR_MENVCFG 0x30a
#define CSR_SENVCFG 0x10a
#define ENVCFG_CBIE_FLUSH (1 << 4)
#define ENVCFG_CBIE_INV (3 << 4)
#define ENVCFG_CBIE_RESERVED (2 << 4)
#define ENVCFG_CBCFE (1 << 6)
#define ENVCFG_CBZE (1 << 7)
#define ENVCFG_CBO (ENVCFG_CBIE_INV | ENVCFG_CBCFE | ENVCFG_CBZE)

/* Fills the 192 bytes of cbo_data with 0x5a. */
#define FILL_DATA          \
  la t0, cbo_data;         \
  li t1, 0x5a5a5a5a5a5a5a5a; \
  li t2, 24;               \
  90040:                   \
  sd t1, 0(t0);            \
  addi t0, t0, 8;          \
  addi t2, t2, -1;         \
  bnez t2, 90040b

/* Whether each of cbo_data's three blocks is zero (1) or still 0x5a (0), by its first and
 * last dwords. */
#define CHECK_BLOCKS(zero0, zero1, zero2)                      \
  CHECK_MEM(cbo_data, 0, (1 - (zero0)) * 0x5a5a5a5a5a5a5a5a);   \
  CHECK_MEM(cbo_data, 56, (1 - (zero0)) * 0x5a5a5a5a5a5a5a5a);  \
  CHECK_MEM(cbo_data, 64, (1 - (zero1)) * 0x5a5a5a5a5a5a5a5a);  \
  CHECK_MEM(cbo_data, 120, (1 - (zero1)) * 0x5a5a5a5a5a5a5a5a); \
  CHECK_MEM(cbo_data, 128, (1 - (zero2)) * 0x5a5a5a5a5a5a5a5a); \
  CHECK_MEM(cbo_data, 184, (1 - (zero2)) * 0x5a5a5a5a5a5a5a5a)

TEST_BEGIN
  .option norvc
  .option arch, +zicbom, +zicboz, +zicbop

  /* cbo.zero with rs1 in the middle of the second block: exactly that block is zero. */
  FILL_DATA
  la a1, cbo_data + 64 + 37
  TEST_NO_TRAP(1, cbo.zero (a1))
  CHECK_BLOCKS(0, 1, 0)
  CHECK_MEM(cbo_data, 96, 0)
  /* rs1 at the block's start and at its last byte. */
  FILL_DATA
  la a1, cbo_data
  TEST_NO_TRAP(2, cbo.zero (a1); addi a1, a1, 128 + 63; cbo.zero (a1))
  CHECK_BLOCKS(1, 0, 1)

  /* clean, flush and inval leave memory and registers as they were. */
  FILL_DATA
  la a1, cbo_data + 5
  mv a2, a1
  TEST_NO_TRAP(3, cbo.clean (a1); cbo.flush (a1); cbo.inval (a1))
  CHECK_BLOCKS(0, 0, 0)
  CHECK_EQ_REG(a1, a2)

  /* Code that ran, zeroed: the next call runs the zeros (an illegal instruction). */
  SET_TESTNUM(4)
  li a0, 0
  la a1, cbo_code
  jalr ra, 0(a1)
  CHECK_EQ(a0, 0x11)
  la a1, cbo_code
  cbo.zero (a1)
  TEST_TRAP_TVAL(5, CAUSE_ILLEGAL_INSTRUCTION, 0, jalr ra, 0(a1))
  CHECK_MEPC_LABEL(cbo_code)

  /* S-mode: menvcfg decides. */
  csrw CSR_MENVCFG, zero
  la a1, cbo_data
  TEST_IN_MODE(6, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, cbo.zero (a1))
  TEST_IN_MODE(7, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, cbo.clean (a1))
  TEST_IN_MODE(8, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, cbo.flush (a1))
  TEST_IN_MODE(9, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, cbo.inval (a1))
  li t0, ENVCFG_CBZE
  csrw CSR_MENVCFG, t0
  TEST_IN_MODE(10, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, cbo.clean (a1))
  FILL_DATA
  TEST_OK_IN_MODE(11, PRV_S, cbo.zero (a1))
  CHECK_MEM(cbo_data, 0, 0)
  li t0, ENVCFG_CBCFE
  csrw CSR_MENVCFG, t0
  TEST_OK_IN_MODE(12, PRV_S, cbo.clean (a1); cbo.flush (a1))
  TEST_IN_MODE(13, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, cbo.inval (a1))
  li t0, ENVCFG_CBIE_FLUSH
  csrw CSR_MENVCFG, t0
  TEST_OK_IN_MODE(14, PRV_S, cbo.inval (a1))

  /* The fields read back; CBIE's reserved 10 keeps what was there. */
  SET_TESTNUM(15)
  li t0, ENVCFG_CBO
  csrw CSR_MENVCFG, t0
  CHECK_CSR_MASKED(CSR_MENVCFG, ENVCFG_CBO, ENVCFG_CBO)
  li t0, ENVCFG_CBIE_RESERVED
  csrw CSR_MENVCFG, t0
  csrr a0, CSR_MENVCFG
  andi a0, a0, ENVCFG_CBIE_INV
  CHECK_NE(a0, ENVCFG_CBIE_RESERVED)

  /* U-mode needs senvcfg's bits as well. */
  li t0, ENVCFG_CBO
  csrw CSR_MENVCFG, t0
  csrw CSR_SENVCFG, zero
  TEST_IN_MODE(16, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, cbo.zero (a1))
  TEST_IN_MODE(17, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, cbo.flush (a1))
  TEST_IN_MODE(18, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, cbo.inval (a1))
  csrw CSR_SENVCFG, t0
  CHECK_CSR_MASKED(CSR_SENVCFG, ENVCFG_CBO, ENVCFG_CBO)
  FILL_DATA
  TEST_OK_IN_MODE(19, PRV_U, cbo.zero (a1); cbo.clean (a1); cbo.flush (a1); cbo.inval (a1))
  CHECK_MEM(cbo_data, 0, 0)
  /* And senvcfg alone is not enough. */
  csrw CSR_MENVCFG, zero
  TEST_IN_MODE(20, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, cbo.zero (a1))
  csrw CSR_SENVCFG, zero

  /* Prefetches are hints: no trap at an address nothing maps, no register written. */
  li a0, 0x1234
  li a1, 0x40000000
  TEST_NO_TRAP(21, prefetch.i 0(a1); prefetch.r 32(a1); prefetch.w -64(a1))
  CHECK_EQ(a0, 0x1234)
  TEST_OK_IN_MODE(22, PRV_U, prefetch.w 2016(a1); prefetch.r -2048(zero))

  /* ntl.p1, ntl.pall, ntl.s1, ntl.all (add x0, x0, x2..x5), and c.ntl.* (c.add x0, x2..x5):
   * hints, before a store as compilers place them. */
  SET_TESTNUM(23)
  la a1, cbo_data
  li a0, 0x77
  .insn r 0x33, 0, 0, x0, x0, x2
  .insn r 0x33, 0, 0, x0, x0, x3
  .insn r 0x33, 0, 0, x0, x0, x4
  .insn r 0x33, 0, 0, x0, x0, x5
  sd a0, 0(a1)
  .2byte 0x900a
  .2byte 0x900e
  .2byte 0x9012
  .2byte 0x9016
  sd a0, 8(a1)
  CHECK_MEM(cbo_data, 0, 0x77)
  CHECK_MEM(cbo_data, 8, 0x77)
  CHECK_EQ(a0, 0x77)

  /* A device's registers are no memory to zero: a store access fault. */
  li a1, CLINT_MTIME + 4
  TEST_TRAP_TVAL(24, CAUSE_STORE_ACCESS, CLINT_MTIME - 0x38, cbo.zero (a1))

TEST_END

  .text
  .balign 64
cbo_code:
  li a0, 0x11
  ret
  .balign 64

  .data
  .balign 64
cbo_data:
  .zero 192
