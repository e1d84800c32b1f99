/* Physical memory protection: 16 entries; TOR, NA4 and NAPOT regions;
 * the lowest-numbered matching entry decides and must cover the whole
 * access; S/U accesses that match no entry fail while M's succeed; M is
 * bound only by locked entries, and locked entries (and the address below a
 * locked TOR entry) cannot be changed; MPRV applies S/U rules to M's data
 * accesses; access-fault causes 1/5/7 with mtval = the address; pmpaddr
 * WARL bits. The locking checks come last because locks stay until reset. */
#include "test_macros.h"

#define PMP_DATA 0x80400000
#define CODE_BASE 0x80000000
#define CODE_SIZE 0x200000 /* the test image lies in the first 2 MiB */

#define TOR_ADDR(a) ((a) >> 2)
#define NAPOT_ADDR(base, size) (((base) | ((size) / 2 - 1)) >> 2)
#define CFG(entry, bits) ((bits) << (8 * ((entry) % 8)))

/* NAPOT with all address bits set covers everything. */
#define PMP_ALL_ONES -1

TEST_BEGIN
  /* Data with known contents. */
  li a1, PMP_DATA
  li a2, 0x0123456789abcdef
  li a3, 0xa000 / 8
1:
  sd a2, 0(a1)
  addi a1, a1, 8
  addi a3, a3, -1
  bnez a3, 1b
  /* A small routine for fetch checks at PMP_DATA + 0x3000: a0 = 0x66; ret. */
  li a1, PMP_DATA + 0x3000
  li a2, 0x06600513 /* addi a0, zero, 0x66 */
  sw a2, 0(a1)
  li a2, 0x00008067 /* ret */
  sw a2, 4(a1)
  fence.i

  /* Layout, lowest entries first:
   *   0/1  TOR  [PMP_DATA, +4K)                  R
   *   2    NA4  PMP_DATA + 0x2000                R
   *   3    NAPOT [PMP_DATA + 0x3000, +4K)        R X
   *   15   NAPOT everything                      R W X (fallback) */
  csrw pmpcfg0, zero
  csrw pmpcfg2, zero
  li a1, TOR_ADDR(PMP_DATA)
  csrw pmpaddr0, a1
  li a1, TOR_ADDR(PMP_DATA + 0x1000)
  csrw pmpaddr1, a1
  li a1, TOR_ADDR(PMP_DATA + 0x2000)
  csrw pmpaddr2, a1
  li a1, NAPOT_ADDR(PMP_DATA + 0x3000, 0x1000)
  csrw pmpaddr3, a1
  li a1, PMP_ALL_ONES
  csrw pmpaddr15, a1
  li a1, CFG(1, PMP_TOR | PMP_R) | CFG(2, PMP_NA4 | PMP_R) | CFG(3, PMP_NAPOT | PMP_R | PMP_X)
  csrw pmpcfg0, a1
  li a1, CFG(15, PMP_NAPOT | PMP_R | PMP_W | PMP_X)
  csrw pmpcfg2, a1
  SET_TESTNUM(1)
  CHECK_CSR(pmpcfg0, CFG(1, PMP_TOR | PMP_R) | CFG(2, PMP_NA4 | PMP_R) | CFG(3, PMP_NAPOT | PMP_R | PMP_X))
  CHECK_CSR(pmpaddr3, NAPOT_ADDR(PMP_DATA + 0x3000, 0x1000))

  /* TOR region, read-only for U and S. */
  li a1, PMP_DATA + 0x10
  TEST_OK_IN_MODE(2, PRV_U, ld a0, 0(a1))
  CHECK_EQ(a0, 0x0123456789abcdef)
  li a0, 0x99
  TEST_IN_MODE(3, PRV_U, CAUSE_STORE_ACCESS, sd a0, 0(a1))
  CHECK_MTVAL(PMP_DATA + 0x10)
  TEST_IN_MODE(4, PRV_S, CAUSE_STORE_ACCESS, sb a0, 7(a1))
  CHECK_MTVAL(PMP_DATA + 0x17)
  TEST_IN_MODE(5, PRV_S, CAUSE_STORE_ACCESS, amoadd.d a0, a0, (a1))
  CHECK_MTVAL(PMP_DATA + 0x10)
  TEST_IN_MODE(6, PRV_U, CAUSE_FETCH_ACCESS, jr a1)
  CHECK_MTVAL(PMP_DATA + 0x10)
  CHECK_MEM(trap_m, TR_EPC, PMP_DATA + 0x10)
  /* The TOR top is exclusive: the next byte falls to the fallback. */
  li a1, PMP_DATA + 0x1000
  TEST_OK_IN_MODE(7, PRV_U, sd a0, 0(a1))
  /* M-mode is not bound by unlocked entries. */
  SET_TESTNUM(8)
  li a1, PMP_DATA + 0x18
  li a2, 0x42
  sd a2, 0(a1)
  ld a0, 0(a1)
  CHECK_EQ(a0, 0x42)

  /* NA4 (read-only): a word inside works, a dword of which it covers only
   * half fails even though both halves would be readable. */
  li a1, PMP_DATA + 0x2000
  TEST_OK_IN_MODE(9, PRV_U, lw a0, 0(a1))
  TEST_IN_MODE(10, PRV_U, CAUSE_STORE_ACCESS, sw a0, 0(a1))
  TEST_IN_MODE(11, PRV_U, CAUSE_LOAD_ACCESS, ld a0, 0(a1))
  CHECK_MTVAL(PMP_DATA + 0x2000)
  li a1, PMP_DATA + 0x2004
  TEST_OK_IN_MODE(12, PRV_U, sw a0, 0(a1))

  /* NAPOT (read and execute). */
  li a1, PMP_DATA + 0x3000
  li a0, 0
  TEST_OK_IN_MODE(13, PRV_U, jalr ra, 0(a1))
  CHECK_EQ(a0, 0x66)
  li a1, PMP_DATA + 0x3ff8
  TEST_OK_IN_MODE(14, PRV_S, ld a0, 0(a1))
  TEST_IN_MODE(15, PRV_S, CAUSE_STORE_ACCESS, sd a0, 0(a1))
  CHECK_MTVAL(PMP_DATA + 0x3ff8)
  li a1, PMP_DATA + 0x4000
  TEST_OK_IN_MODE(16, PRV_S, sd a0, 0(a1))

  /* MPRV with MPP = U: M's loads and stores are checked as U's. */
  SET_TESTNUM(17)
  li a1, PMP_DATA + 0x20
  TRAP_ARM_LABEL(1f)
  li t6, MSTATUS_MPP
  csrc mstatus, t6
  li t6, MSTATUS_MPRV
  csrs mstatus, t6
  ld a0, 0(a1)
  sd a0, 0(a1)
1:
  li t6, MSTATUS_MPRV
  csrc mstatus, t6
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_STORE_ACCESS)
  CHECK_MTVAL(PMP_DATA + 0x20)

  /* A TOR entry whose bottom is not below its top matches nothing. */
  SET_TESTNUM(18)
  li a1, TOR_ADDR(PMP_DATA + 0x1000)
  csrw pmpaddr0, a1
  li a1, TOR_ADDR(PMP_DATA)
  csrw pmpaddr1, a1
  li a1, PMP_DATA + 0x10
  TEST_OK_IN_MODE(18, PRV_U, sd a0, 0(a1))
  li a1, TOR_ADDR(PMP_DATA)
  csrw pmpaddr0, a1
  li a1, TOR_ADDR(PMP_DATA + 0x1000)
  csrw pmpaddr1, a1
  /* A TOR entry 0 starts at address 0. */
  SET_TESTNUM(19)
  csrw pmpcfg0, zero
  li a1, TOR_ADDR(0x80000000)
  csrw pmpaddr0, a1
  li a1, CFG(0, PMP_TOR)
  csrw pmpcfg0, a1
  li a1, 0x40000000
  TEST_IN_MODE(19, PRV_U, CAUSE_LOAD_ACCESS, ld a0, 0(a1))
  CHECK_MTVAL(0x40000000)
  li a1, PMP_DATA
  TEST_OK_IN_MODE(20, PRV_U, sd a0, 0(a1))

  /* Without a matching entry S and U fail, M does not. Only the code is
   * covered now (entry 4). */
  csrw pmpcfg0, zero
  csrw pmpcfg2, zero
  li a1, NAPOT_ADDR(CODE_BASE, CODE_SIZE)
  csrw pmpaddr4, a1
  li a1, CFG(4, PMP_NAPOT | PMP_R | PMP_W | PMP_X)
  csrw pmpcfg0, a1
  li a1, PMP_DATA + 0x5000
  TEST_IN_MODE(21, PRV_U, CAUSE_LOAD_ACCESS, ld a0, 0(a1))
  CHECK_MTVAL(PMP_DATA + 0x5000)
  TEST_IN_MODE(22, PRV_S, CAUSE_STORE_ACCESS, sd a0, 0(a1))
  TEST_IN_MODE(23, PRV_S, CAUSE_FETCH_ACCESS, jr a1)
  SET_TESTNUM(24)
  ld a0, 0(a1)
  sd a0, 0(a1)
  li a1, CODE_BASE + CODE_SIZE - 8
  TEST_OK_IN_MODE(25, PRV_U, ld a0, 0(a1))
  li a1, CODE_BASE + CODE_SIZE
  TEST_IN_MODE(26, PRV_U, CAUSE_LOAD_ACCESS, ld a0, 0(a1))
  /* Back to the fallback for everything else. */
  li a1, PMP_ALL_ONES
  csrw pmpaddr15, a1
  li a1, CFG(15, PMP_NAPOT | PMP_R | PMP_W | PMP_X)
  csrw pmpcfg2, a1
  TEST_OK_IN_MODE(28, PRV_U, nop)

  /* Entries 8-15 work like the others. */
  li a1, NAPOT_ADDR(PMP_DATA + 0x6000, 0x1000)
  csrw pmpaddr8, a1
  li a1, CFG(8, PMP_NAPOT) | CFG(15, PMP_NAPOT | PMP_R | PMP_W | PMP_X)
  csrw pmpcfg2, a1
  li a1, PMP_DATA + 0x6800
  TEST_IN_MODE(29, PRV_U, CAUSE_LOAD_ACCESS, lb a0, 0(a1))
  /* Entry 15 loses to entry 8 since lower numbers win. */
  SET_TESTNUM(30)
  CHECK_CSR(pmpaddr8, NAPOT_ADDR(PMP_DATA + 0x6000, 0x1000))
  csrw pmpcfg2, zero
  li a1, CFG(15, PMP_NAPOT | PMP_R | PMP_W | PMP_X)
  csrw pmpcfg2, a1

  /* Locked entries: entry 5 (NA4, no permissions, L) binds M too. */
  li a1, PMP_DATA + 0x7000
  li a2, TOR_ADDR(PMP_DATA + 0x7000)
  csrw pmpaddr5, a2
  li a2, CFG(5, PMP_NA4 | PMP_L)
  csrw pmpcfg0, a2
  TEST_TRAP(31, CAUSE_LOAD_ACCESS, lw a0, 0(a1))
  CHECK_MTVAL(PMP_DATA + 0x7000)
  TEST_TRAP(32, CAUSE_STORE_ACCESS, sw a0, 0(a1))
  CHECK_MTVAL(PMP_DATA + 0x7000)
  TEST_IN_MODE(33, PRV_U, CAUSE_LOAD_ACCESS, lw a0, 0(a1))
  /* The next word is fine. */
  TEST_NO_TRAP(34, lw a0, 4(a1))
  /* Neither its address nor its configuration can be changed... */
  SET_TESTNUM(35)
  li a2, TOR_ADDR(PMP_DATA + 0x8000)
  csrw pmpaddr5, a2
  CHECK_CSR(pmpaddr5, TOR_ADDR(PMP_DATA + 0x7000))
  li a2, CFG(5, 0xff)
  csrc pmpcfg0, a2
  CHECK_CSR(pmpcfg0, CFG(5, PMP_NA4 | PMP_L))
  /* ... while the other entries in the same pmpcfg0 still can. */
  SET_TESTNUM(36)
  li a2, CFG(0, PMP_NAPOT | PMP_R)
  csrs pmpcfg0, a2
  CHECK_CSR(pmpcfg0, CFG(0, PMP_NAPOT | PMP_R) | CFG(5, PMP_NA4 | PMP_L))
  csrc pmpcfg0, a2
  /* A locked TOR entry also locks the address register below it. */
  SET_TESTNUM(37)
  li a2, TOR_ADDR(PMP_DATA + 0x8000)
  csrw pmpaddr6, a2
  li a2, TOR_ADDR(PMP_DATA + 0x9000)
  csrw pmpaddr7, a2
  li a2, CFG(7, PMP_TOR | PMP_R | PMP_L)
  csrs pmpcfg0, a2
  li a2, TOR_ADDR(PMP_DATA + 0x1000)
  csrw pmpaddr6, a2
  CHECK_CSR(pmpaddr6, TOR_ADDR(PMP_DATA + 0x8000))
  li a1, PMP_DATA + 0x8008
  TEST_NO_TRAP(38, ld a0, 0(a1))
  CHECK_EQ(a0, 0x0123456789abcdef)
  TEST_TRAP(39, CAUSE_STORE_ACCESS, sd a0, 0(a1))
  CHECK_MTVAL(PMP_DATA + 0x8008)

  /* With no entry left but the two locked ones, S cannot even fetch: the
   * mret succeeds, the first fetch in S faults. */
  csrw pmpcfg0, zero
  csrw pmpcfg2, zero
  SET_TESTNUM(27)
  TRAP_ARM_LABEL(1f)
  GOTO_MODE(PRV_S, 2f)
2:
  ecall
1:
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_FETCH_ACCESS)
  CHECK_MTVAL_LABEL(2b)

  li a1, PMP_ALL_ONES
  csrw pmpaddr15, a1
  li a1, CFG(15, PMP_NAPOT | PMP_R | PMP_W | PMP_X)
  csrw pmpcfg2, a1

  /* These fail on QEMU 7.2 too, which keeps all 64 bits written to
   * pmpaddr (bits 63:54 are read-only zero: pmpaddr holds address bits
   * 55:2) and has no pmpaddr16-63 (they must exist as read-only zeros when
   * 16 entries are implemented). */
  SET_TESTNUM(40)
  li a1, -1
  csrw pmpaddr9, a1
  CHECK_CSR(pmpaddr9, 0x003fffffffffffff)
  SET_TESTNUM(41)
  csrw pmpaddr16, a1
  CHECK_CSR(pmpaddr16, 0)
  csrr a0, pmpaddr63
  CHECK_EQ(a0, 0)
  csrr a0, pmpcfg14
  CHECK_EQ(a0, 0)

TEST_END
