/* Svnapot, Svpbmt and Svinval under Sv39 (the privileged manual's chapters on them):
 * - 16 NAPOT PTEs (N = 1, ppn[3:0] = 1000) map 64 KiB: each 4 KiB page reaches its own
 *   part of it, and the walk sets A and D in the PTE it used; N with any other ppn[3:0], on
 *   a megapage or in a pointer PTE is reserved: a page fault;
 * - with menvcfg.PBMTE, PBMT 1 (NC) and 2 (IO) pages are ordinary memory here and 3 is
 *   reserved; without PBMTE, and in a pointer PTE, any PBMT faults;
 * - sfence.w.inval, sinval.vma and sfence.inval.ir make a changed PTE visible as sfence.vma
 *   does; from U-mode they are illegal, and TVM makes sinval.vma illegal in S-mode.
 * On QEMU they run with -cpu rv64,svinval=true,svnapot=true,svpbmt=true. */
#define TEST_CPU_FEATURES +svinval,+svnapot,+svpbmt
#include "test_macros.h"
#include "vm_macros.h"

#define DATA_64K 0x80410000 /* 16 pages, page i holding 0x100 + i at offset 8 */
#define VA_NAPOT 0x10000    /* L0[16..31] */
#define PTE_N (1 << 63)
#define PTE_PBMT_NC (1 << 61)
#define PTE_PBMT_IO (2 << 61)
#define PTE_PBMT_RESERVED (3 << 61)
#define NAPOT_LEAF(pa, flags) (PTE_LEAF((pa) | 0x8000, flags) | PTE_N)
#define CSR_MENVCFG 0x30a
#define MENVCFG_PBMTE (1 << 62)

/* table[first .. first + 15] = value */
#define SET_16(table, first, value) \
  li t5, value;                     \
  la t6, table + 8 * (first);       \
  .rept 16;                         \
  sd t5, 0(t6);                     \
  addi t6, t6, 8;                   \
  .endr;                            \
  sfence.vma

/* table[index] |= bits */
#define OR_PTE(table, index, bits) \
  la t6, table + 8 * (index);      \
  ld t5, 0(t6);                    \
  li t4, bits;                     \
  or t5, t5, t4;                   \
  sd t5, 0(t6);                    \
  sfence.vma

TEST_BEGIN
  .option arch, +svinval

  SET_TABLE(vm_l2, 0, vm_l1)
  SET_TABLE(vm_l1, 0, vm_l0)
  SET_LEAF(vm_l2, 2, 0x80000000, RWXAD)
  li a1, DATA_64K + 8
  li a2, 0x100
  li a3, 16
  li a4, 0x1000
1:
  sd a2, 0(a1)
  add a1, a1, a4
  addi a2, a2, 1
  addi a3, a3, -1
  bnez a3, 1b
  SATP_FOR(SATP_MODE_SV39, vm_l2)

  /* Svnapot: each page of the 64 KiB reaches its own 4 KiB. */
  SET_16(vm_l0, 16, NAPOT_LEAF(DATA_64K, RWXAD))
  li a1, VA_NAPOT + 8
  TEST_OK_IN_MODE(1, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x100)
  li a1, VA_NAPOT + 0x5008
  TEST_OK_IN_MODE(2, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x105)
  li a1, VA_NAPOT + 0xf008
  li a2, 0x55
  TEST_OK_IN_MODE(3, PRV_S, ld a0, 0(a1); sd a2, 8(a1))
  CHECK_EQ(a0, 0x10f)
  li a1, DATA_64K + 0xf010
  ld a0, 0(a1)
  CHECK_EQ(a0, 0x55)
  /* A and D go into the PTE the walk read. */
  SET_16(vm_l0, 16, NAPOT_LEAF(DATA_64K, PTE_V | PTE_R | PTE_W))
  li a1, VA_NAPOT + 0x3010
  TEST_OK_IN_MODE(4, PRV_S, sd a2, 0(a1))
  GET_PTE(vm_l0, 16 + 3)
  andi a0, a0, PTE_A | PTE_D
  CHECK_EQ(a0, PTE_A | PTE_D)
  /* Reserved: ppn[3:0] = 0100 (a 32 KiB NAPOT size that does not exist) or 0000. */
  SET_LEAF(vm_l0, 16, DATA_64K | 0x4000, RWXAD | PTE_N)
  li a1, VA_NAPOT
  TEST_IN_MODE(5, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  CHECK_MTVAL(VA_NAPOT)
  SET_LEAF(vm_l0, 16, DATA_64K, RWXAD | PTE_N)
  TEST_IN_MODE(6, PRV_S, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))
  /* N on a megapage, and on a pointer. */
  SET_LEAF(vm_l1, 1, 0x80600000, RWXAD | PTE_N)
  li a1, 0x200000
  TEST_IN_MODE(7, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  SET_16(vm_l0, 16, NAPOT_LEAF(DATA_64K, RWXAD))
  OR_PTE(vm_l1, 0, PTE_N)
  li a1, VA_NAPOT + 8
  TEST_IN_MODE(8, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  SET_TABLE(vm_l1, 0, vm_l0)
  sfence.vma

  /* Svpbmt with menvcfg.PBMTE. */
  li t0, MENVCFG_PBMTE
  csrs CSR_MENVCFG, t0
  CHECK_CSR_MASKED(CSR_MENVCFG, MENVCFG_PBMTE, MENVCFG_PBMTE)
  SET_LEAF(vm_l0, 1, DATA_64K, RWXAD | PTE_PBMT_NC)
  li a1, 0x1008
  TEST_OK_IN_MODE(9, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x100)
  SET_LEAF(vm_l0, 1, DATA_64K, RWXAD | PTE_PBMT_IO)
  TEST_OK_IN_MODE(10, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x100)
  SET_LEAF(vm_l0, 1, DATA_64K, RWXAD | PTE_PBMT_RESERVED)
  TEST_IN_MODE(11, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  SET_LEAF(vm_l0, 1, DATA_64K, RWXAD)
  OR_PTE(vm_l1, 0, PTE_PBMT_NC)
  TEST_IN_MODE(12, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  SET_TABLE(vm_l1, 0, vm_l0)
  sfence.vma
  /* NAPOT and PBMT together. */
  SET_16(vm_l0, 16, NAPOT_LEAF(DATA_64K, RWXAD) | PTE_PBMT_NC)
  li a1, VA_NAPOT + 0x2008
  TEST_OK_IN_MODE(13, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x102)
  /* Without PBMTE any PBMT value faults. */
  li t0, MENVCFG_PBMTE
  csrc CSR_MENVCFG, t0
  SET_LEAF(vm_l0, 1, DATA_64K, RWXAD | PTE_PBMT_NC)
  li a1, 0x1008
  TEST_IN_MODE(14, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  TEST_IN_MODE(15, PRV_S, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))

  /* Svinval: S changes a PTE and orders that with the three instructions. */
  SET_LEAF(vm_l0, 7, DATA_64K, RWXAD)
  li a1, 0x7008
  la a2, vm_l0 + 8 * 7
  li a3, PTE_LEAF(DATA_64K + 0x1000, RWXAD)
  TEST_OK_IN_MODE(16, PRV_S, ld s0, 0(a1); sd a3, 0(a2); sfence.w.inval; sinval.vma a1, zero; sfence.inval.ir; ld s1, 0(a1))
  CHECK_EQ(s0, 0x100)
  CHECK_EQ(s1, 0x101)
  SET_LEAF(vm_l2, 2, 0x80000000, RWXAD | PTE_U)
  TEST_IN_MODE(17, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, sinval.vma zero, zero)
  TEST_IN_MODE(18, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, sfence.w.inval)
  TEST_IN_MODE(19, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, sfence.inval.ir)
  SET_LEAF(vm_l2, 2, 0x80000000, RWXAD)
  SET_MSTATUS(MSTATUS_TVM)
  TEST_IN_MODE(20, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, sinval.vma a1, zero)
  TEST_OK_IN_MODE(21, PRV_S, sfence.w.inval; sfence.inval.ir)
  CLEAR_MSTATUS(MSTATUS_TVM)

TEST_END

  VM_SV39_TABLES
