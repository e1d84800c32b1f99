/* Sv48 paging: the four-level walk with 4 KiB pages and 2 MiB, 1 GiB and
 * 512 GiB superpages, misaligned superpages, the 48-bit canonical-address
 * rule, permission faults with mtval = the VA, A/D updates, sfence.vma and
 * switching satp between Sv39 and Sv48.
 *
 * Test code and data are identity-mapped by a 1 GiB page (VA = PA from
 * 0x80000000); faults arrive in M-mode. */
#include "test_macros.h"
#include "vm_macros.h"

#define DATA_4K 0x80400000
#define DATA_2M 0x80600000

#define VA_PAGE(i) ((i) << 12)        /* L0[i]: 4 KiB pages */
#define VA_MEGA 0x200000              /* L1[1]: 2 MiB page at DATA_2M */
#define VA_GIGA 0x40000000            /* L2[1]: 1 GiB page at 0x80000000 */
#define VA_TERA 0x8000000000          /* L3[1]: 512 GiB page at 0 */
#define VA_TERA_MISALIGNED 0x10000000000 /* L3[2]: 512 GiB page at 0x80000000 */
#define VA_GIGA_MISALIGNED 0xc0000000 /* L2[3]: 1 GiB page at 0x80200000 */
#define VA_MEGA_MISALIGNED 0x400000   /* L1[2]: 2 MiB page at DATA_2M + 4 KiB */
#define VA_HIGH 0xffff800000000000    /* L3[256]: canonical, upper half */
#define VA_NONCANONICAL 0x0000800000000000 /* bit 47 set, 63:48 clear */

TEST_BEGIN

  /* Sv48 tables: L3 -> L2 -> L1 -> L0. */
  SET_TABLE(vm_l3, 0, vm_l2)
  SET_TABLE(vm_l2, 0, vm_l1)
  SET_TABLE(vm_l1, 0, vm_l0)
  SET_LEAF(vm_l2, 2, 0x80000000, RWXAD)
  SET_LEAF(vm_l2, 1, 0x80000000, RWXAD)
  SET_LEAF(vm_l2, 3, 0x80200000, RWXAD)
  SET_LEAF(vm_l3, 1, 0, RWXAD)
  SET_LEAF(vm_l3, 2, 0x80000000, RWXAD)
  SET_TABLE(vm_l3, 256, vm_l2_high)
  SET_LEAF(vm_l2_high, 0, 0x80000000, RWXAD)
  SET_LEAF(vm_l1, 1, DATA_2M, RWXAD)
  SET_LEAF(vm_l1, 2, DATA_2M + 0x1000, RWXAD)
  SET_LEAF(vm_l0, 1, DATA_4K, RWXAD)
  li a1, DATA_4K
  li a2, 0x1111111111111111
  sd a2, 0(a1)
  li a1, DATA_4K + 0x1000
  li a2, 0x2222222222222222
  sd a2, 0(a1)
  li a1, DATA_2M + 0x1238
  li a2, 0x3333333333333333
  sd a2, 0(a1)

  SET_TESTNUM(1)
  SATP_FOR(SATP_MODE_SV48, vm_l3)
  csrr a0, satp
  srli a0, a0, 60
  CHECK_EQ(a0, 9)

  /* Each page size. */
  li a1, VA_PAGE(1)
  TEST_OK_IN_MODE(2, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x1111111111111111)
  li a1, VA_MEGA + 0x1238
  TEST_OK_IN_MODE(3, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x3333333333333333)
  li a1, VA_GIGA + (DATA_4K - 0x80000000) + 0x1000
  TEST_OK_IN_MODE(4, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x2222222222222222)
  li a1, VA_TERA + DATA_4K
  TEST_OK_IN_MODE(5, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x1111111111111111)
  li a1, VA_TERA + DATA_2M + 0x1238
  li a2, 0x5555
  TEST_OK_IN_MODE(6, PRV_S, sd a2, 0(a1); ld a0, 0(a1))
  CHECK_EQ(a0, 0x5555)
  /* The upper half of the address space. */
  li a1, VA_HIGH + (DATA_4K - 0x80000000)
  TEST_OK_IN_MODE(7, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x1111111111111111)
  /* Code through the 512 GiB page. */
  la a1, vm_code
  li a2, VA_TERA
  add a1, a1, a2
  li a0, 0
  TEST_OK_IN_MODE(8, PRV_S, jalr ra, 0(a1))
  CHECK_EQ(a0, 0x77)

  /* Misaligned superpages at each level. */
  li a1, VA_TERA_MISALIGNED
  TEST_IN_MODE(9, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  CHECK_MTVAL(VA_TERA_MISALIGNED)
  li a1, VA_GIGA_MISALIGNED + 8
  TEST_IN_MODE(10, PRV_S, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))
  CHECK_MTVAL(VA_GIGA_MISALIGNED + 8)
  li a1, VA_MEGA_MISALIGNED
  TEST_IN_MODE(11, PRV_S, CAUSE_FETCH_PAGE_FAULT, jr a1)
  CHECK_MTVAL(VA_MEGA_MISALIGNED)

  /* Canonical addresses: bits 63:48 must equal bit 47. An address valid
   * under Sv48 but not under Sv39 works here. */
  li a1, VA_NONCANONICAL
  TEST_IN_MODE(12, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  li a1, 0x0001000000000000 + DATA_4K
  TEST_IN_MODE(13, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  /* Unmapped L3 entry. */
  li a1, 0x7f8000000000
  TEST_IN_MODE(14, PRV_S, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))
  CHECK_MTVAL(0x7f8000000000)

  /* Permissions on a 512 GiB page. */
  SET_LEAF(vm_l3, 1, 0, PTE_V | PTE_R | PTE_A | PTE_D)
  li a1, VA_TERA + DATA_4K
  TEST_OK_IN_MODE(15, PRV_S, ld a0, 0(a1))
  TEST_IN_MODE(16, PRV_S, CAUSE_STORE_PAGE_FAULT, sd a0, 8(a1))
  CHECK_MTVAL(VA_TERA + DATA_4K + 8)
  SET_LEAF(vm_l3, 1, 0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D | PTE_U)
  TEST_IN_MODE(17, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  li t6, MSTATUS_SUM
  csrs mstatus, t6
  TEST_OK_IN_MODE(18, PRV_S, ld a0, 0(a1))
  li t6, MSTATUS_SUM
  csrc mstatus, t6

  /* A and D on a 512 GiB page and on a 4 KiB page. */
  SET_LEAF(vm_l3, 1, 0, PTE_V | PTE_R | PTE_W | PTE_X)
  li a1, VA_TERA + DATA_4K
  TEST_OK_IN_MODE(19, PRV_S, ld a0, 0(a1))
  GET_PTE(vm_l3, 1)
  andi a0, a0, PTE_A | PTE_D
  CHECK_EQ(a0, PTE_A)
  TEST_OK_IN_MODE(20, PRV_S, sd a0, 0x10(a1))
  GET_PTE(vm_l3, 1)
  andi a0, a0, PTE_A | PTE_D
  CHECK_EQ(a0, PTE_A | PTE_D)
  SET_LEAF(vm_l0, 1, DATA_4K, PTE_V | PTE_R | PTE_W)
  li a1, VA_PAGE(1)
  TEST_OK_IN_MODE(21, PRV_S, amoor.d a0, zero, (a1))
  GET_PTE(vm_l0, 1)
  andi a0, a0, PTE_A | PTE_D
  CHECK_EQ(a0, PTE_A | PTE_D)

  /* sfence.vma after a PTE change. */
  SET_LEAF(vm_l0, 1, DATA_4K, RWXAD)
  li a1, VA_PAGE(1)
  la a2, vm_l0 + 8
  li a3, PTE_LEAF(DATA_4K + 0x1000, RWXAD)
  TEST_OK_IN_MODE(22, PRV_S, ld s0, 0(a1); sd a3, 0(a2); sfence.vma; ld s1, 0(a1))
  CHECK_EQ(s0, 0x1111111111111111)
  CHECK_EQ(s1, 0x2222222222222222)

  /* Switching to Sv39 with a three-level table: VA_TERA is not canonical
   * there. */
  SET_TABLE(vm39_l2, 0, vm_l1)
  SET_LEAF(vm39_l2, 2, 0x80000000, RWXAD)
  SATP_FOR(SATP_MODE_SV39, vm39_l2)
  SET_TESTNUM(23)
  csrr a0, satp
  srli a0, a0, 60
  CHECK_EQ(a0, 8)
  li a1, VA_PAGE(1)
  TEST_OK_IN_MODE(24, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x2222222222222222)
  li a1, VA_TERA + DATA_4K
  TEST_IN_MODE(25, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  /* An unsupported mode leaves Sv39 in place. */
  SET_TESTNUM(26)
  csrr s0, satp
  li a1, (15 << 60) | 1
  csrw satp, a1
  csrr a0, satp
  CHECK_EQ_REG(a0, s0)
  csrw satp, zero

TEST_END

  .text
  .balign 4096
vm_code:
  li a0, 0x77
  ret
  .balign 4096

  .bss
  .balign 4096
vm_l3:
  .zero 4096
vm_l2:
  .zero 4096
vm_l1:
  .zero 4096
vm_l0:
  .zero 4096
vm_l2_high:
  .zero 4096
vm39_l2:
  .zero 4096
