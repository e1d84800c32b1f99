/* Sv39 paging: 4 KiB pages, 2 MiB and 1 GiB superpages, misaligned
 * superpages, invalid and reserved PTEs, R/W/X/U permission faults with
 * causes 12/13/15 and mtval = the virtual address, SUM, MXR, MPRV with MPP,
 * A/D bits set by the hardware, sfence.vma after a PTE change, and the
 * satp WARL rules.
 *
 * The test code and data are identity-mapped by a 1 GiB page (VA = PA from
 * 0x80000000), so S-mode code runs where it is linked. Faults are not
 * delegated: they arrive in M-mode, which continues the test. */
#include "test_macros.h"
#include "vm_macros.h"

/* Physical data pages, in RAM beyond the image. */
#define DATA_4K 0x80400000
#define DATA_2M 0x80600000

/* Virtual addresses used by the checks. */
#define VA_PAGE(i) ((i) << 12) /* L0[i] of the first 2 MiB */
#define VA_MEGA 0x200000       /* L1[1]: 2 MiB page at DATA_2M */
#define VA_MEGA_MISALIGNED 0x400000 /* L1[2]: 2 MiB page at DATA_2M + 4 KiB */
#define VA_GIGA 0x40000000     /* L2[1]: 1 GiB page at 0x80000000 */
#define VA_GIGA_MISALIGNED 0xc0000000 /* L2[3]: 1 GiB page at 0x80200000 */
#define VA_NONCANONICAL 0x0000004000000000 /* bit 38 set, 63:39 clear */

/* The identity 1 GiB page, for S (U = 0) or for U (U = 1). */
#define IDENTITY_FOR_S SET_LEAF(vm_l2, 2, 0x80000000, RWXAD)
#define IDENTITY_FOR_U SET_LEAF(vm_l2, 2, 0x80000000, RWXAD | PTE_U)

TEST_BEGIN

  /* Build the tables. */
  SET_TABLE(vm_l2, 0, vm_l1)
  SET_TABLE(vm_l1, 0, vm_l0)
  IDENTITY_FOR_S
  SET_LEAF(vm_l2, 1, 0x80000000, RWXAD)
  SET_LEAF(vm_l2, 3, 0x80200000, RWXAD)
  SET_LEAF(vm_l1, 1, DATA_2M, RWXAD)
  SET_LEAF(vm_l1, 2, DATA_2M + 0x1000, RWXAD)
  SET_LEAF(vm_l0, 1, DATA_4K, RWXAD)
  SET_LEAF(vm_l0, 2, DATA_4K + 0x1000, RWXAD)
  /* Recognisable contents. */
  li a1, DATA_4K
  li a2, 0x1111111111111111
  sd a2, 0(a1)
  li a1, DATA_4K + 0x1000
  li a2, 0x2222222222222222
  sd a2, 0(a1)
  li a1, DATA_2M + 0x1238
  li a2, 0x3333333333333333
  sd a2, 0(a1)

  /* satp: Sv39 with the root's PPN reads back; M-mode is unaffected. */
  SET_TESTNUM(1)
  la a1, vm_l2
  srli a1, a1, 12
  li a2, SATP_MODE_SV39
  or s0, a1, a2
  csrw satp, s0
  csrr a0, satp
  CHECK_EQ_REG(a0, s0)
  sfence.vma
  /* (Physical 0x40000000 holds nothing; virtual 0x40000000 would.) */
  li a1, VA_GIGA
  li a0, 0
  TEST_TRAP(2, CAUSE_LOAD_ACCESS, ld a0, 0(a1))

  /* Loads and stores through each page size. */
  li a1, VA_PAGE(1)
  TEST_OK_IN_MODE(3, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x1111111111111111)
  li a1, VA_MEGA + 0x1238
  TEST_OK_IN_MODE(4, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x3333333333333333)
  li a1, VA_GIGA + (DATA_4K - 0x80000000) + 0x1000
  TEST_OK_IN_MODE(5, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x2222222222222222)
  li a1, VA_PAGE(2) + 8
  li a2, 0x4444
  TEST_OK_IN_MODE(6, PRV_S, sd a2, 0(a1))
  SET_TESTNUM(6)
  li a1, DATA_4K + 0x1008
  ld a0, 0(a1)
  CHECK_EQ(a0, 0x4444)
  /* Instruction fetch through a 4 KiB page: vm_code's page at VA_PAGE(3). */
  la t0, vm_code
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, RWXAD
  la t6, vm_l0 + 8 * 3
  sd t0, 0(t6)
  sfence.vma
  li a1, VA_PAGE(3)
  li a0, 0
  TEST_OK_IN_MODE(7, PRV_S, jalr ra, 0(a1))
  CHECK_EQ(a0, 0x77)

  /* Misaligned superpages fault. */
  li a1, VA_MEGA_MISALIGNED
  TEST_IN_MODE(8, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  CHECK_MTVAL(VA_MEGA_MISALIGNED)
  li a1, VA_GIGA_MISALIGNED + 0x10
  TEST_IN_MODE(9, PRV_S, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))
  CHECK_MTVAL(VA_GIGA_MISALIGNED + 0x10)

  /* Invalid PTE: every kind of access faults with its own cause. */
  SET_LEAF(vm_l0, 4, DATA_4K, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
  li a1, VA_PAGE(4) + 0x18
  li a0, 0x55
  TEST_IN_MODE(10, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  CHECK_MTVAL(VA_PAGE(4) + 0x18)
  CHECK_EQ(a0, 0x55)
  TEST_IN_MODE(11, PRV_S, CAUSE_STORE_PAGE_FAULT, sw a0, 0(a1))
  CHECK_MTVAL(VA_PAGE(4) + 0x18)
  TEST_IN_MODE(13, PRV_S, CAUSE_FETCH_PAGE_FAULT, jr a1)
  CHECK_MTVAL(VA_PAGE(4) + 0x18)
  CHECK_MEM(trap_m, TR_EPC, VA_PAGE(4) + 0x18)
  /* Unmapped (a zero PTE), and non-canonical addresses. */
  li a1, VA_PAGE(100)
  TEST_IN_MODE(14, PRV_S, CAUSE_LOAD_PAGE_FAULT, lb a0, 0(a1))
  CHECK_MTVAL(VA_PAGE(100))
  li a1, VA_NONCANONICAL
  TEST_IN_MODE(15, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  li a1, 0xffffff8000000000
  TEST_IN_MODE(16, PRV_S, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))
  /* W without R is reserved. */
  SET_LEAF(vm_l0, 4, DATA_4K, PTE_V | PTE_W | PTE_A | PTE_D)
  li a1, VA_PAGE(4)
  TEST_IN_MODE(17, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  TEST_IN_MODE(18, PRV_S, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))
  /* Reserved high PTE bits (no Svpbmt/Svnapot). */
  SET_LEAF(vm_l0, 4, DATA_4K, RWXAD | (1 << 61))
  TEST_IN_MODE(19, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  /* A non-leaf PTE at the last level. */
  SET_LEAF(vm_l0, 4, DATA_4K, PTE_V)
  TEST_IN_MODE(20, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))

  /* R/W/X permissions. */
  SET_LEAF(vm_l0, 4, DATA_4K, PTE_V | PTE_R | PTE_A | PTE_D)
  TEST_OK_IN_MODE(21, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x1111111111111111)
  TEST_IN_MODE(22, PRV_S, CAUSE_STORE_PAGE_FAULT, sd a0, 8(a1))
  CHECK_MTVAL(VA_PAGE(4) + 8)
  TEST_IN_MODE(23, PRV_S, CAUSE_STORE_PAGE_FAULT, amoswap.w a0, a0, (a1))
  TEST_IN_MODE(24, PRV_S, CAUSE_STORE_PAGE_FAULT, lr.d a0, (a1); sc.d a0, a0, (a1))
  TEST_IN_MODE(25, PRV_S, CAUSE_FETCH_PAGE_FAULT, jalr a1)
  CHECK_MTVAL(VA_PAGE(4))
  SET_LEAF(vm_l0, 4, DATA_4K, PTE_V | PTE_X | PTE_A | PTE_D)
  TEST_IN_MODE(26, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  /* MXR makes executable pages readable. */
  SET_MSTATUS(MSTATUS_MXR)
  TEST_OK_IN_MODE(27, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x1111111111111111)
  TEST_IN_MODE(28, PRV_S, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))
  CLEAR_MSTATUS(MSTATUS_MXR)

  /* The U bit: S may not touch user pages unless SUM, and never execute
   * them. */
  SET_LEAF(vm_l0, 4, DATA_4K, RWXAD | PTE_U)
  TEST_IN_MODE(29, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  TEST_IN_MODE(30, PRV_S, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))
  SET_MSTATUS(MSTATUS_SUM)
  TEST_OK_IN_MODE(31, PRV_S, ld a0, 0(a1); sd a0, 16(a1))
  CHECK_EQ(a0, 0x1111111111111111)
  TEST_IN_MODE(32, PRV_S, CAUSE_FETCH_PAGE_FAULT, jalr a1)
  CLEAR_MSTATUS(MSTATUS_SUM)
  /* U-mode: user pages yes, supervisor pages no. The identity page turns
   * into a user page so that U can run the test code. */
  IDENTITY_FOR_U
  TEST_OK_IN_MODE(33, PRV_U, ld a0, 0(a1); sd a0, 24(a1))
  CHECK_EQ(a0, 0x1111111111111111)
  SET_LEAF(vm_l0, 4, DATA_4K, RWXAD)
  TEST_IN_MODE(34, PRV_U, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  CHECK_MTVAL(VA_PAGE(4))
  TEST_IN_MODE(35, PRV_U, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))
  TEST_IN_MODE(36, PRV_U, CAUSE_FETCH_PAGE_FAULT, jr a1)
  SET_LEAF(vm_l0, 4, DATA_4K, PTE_V | PTE_R | PTE_U | PTE_A | PTE_D)
  TEST_IN_MODE(37, PRV_U, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))
  /* SUM does not matter for U. */
  SET_MSTATUS(MSTATUS_SUM)
  SET_LEAF(vm_l0, 4, DATA_4K, RWXAD)
  TEST_IN_MODE(38, PRV_U, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  CLEAR_MSTATUS(MSTATUS_SUM)
  /* S cannot run code on a user page (the identity page is one now). */
  TEST_IN_MODE(39, PRV_S, CAUSE_FETCH_PAGE_FAULT, nop)
  IDENTITY_FOR_S

  /* MPRV: M-mode loads and stores translate with MPP's privilege. */
  SET_TESTNUM(40)
  li a1, VA_PAGE(1)
  li a0, 0
  CLEAR_MSTATUS(MSTATUS_MPP)
  SET_MSTATUS(MSTATUS_MPP_S | MSTATUS_MPRV)
  ld a0, 0(a1)
  CLEAR_MSTATUS(MSTATUS_MPRV)
  CHECK_EQ(a0, 0x1111111111111111)
  /* With MPP = U, a supervisor page faults; mtval = the VA. */
  SET_TESTNUM(41)
  TRAP_ARM_LABEL(1f)
  CLEAR_MSTATUS(MSTATUS_MPP)
  SET_MSTATUS(MSTATUS_MPRV)
  ld a0, 0(a1)
1:
  CLEAR_MSTATUS(MSTATUS_MPRV)
  TRAP_DISARM
  CHECK_MTRAP_COUNT(1)
  CHECK_MCAUSE(CAUSE_LOAD_PAGE_FAULT)
  CHECK_MTVAL(VA_PAGE(1))

  /* A and D: the hardware sets them in the PTE (A on any access, D on a
   * write). */
  SET_LEAF(vm_l0, 5, DATA_4K, PTE_V | PTE_R | PTE_W | PTE_X)
  li a1, VA_PAGE(5)
  TEST_OK_IN_MODE(42, PRV_S, ld a0, 0(a1))
  GET_PTE(vm_l0, 5)
  andi a0, a0, PTE_A | PTE_D
  CHECK_EQ(a0, PTE_A)
  TEST_OK_IN_MODE(43, PRV_S, sd a0, 0x20(a1))
  GET_PTE(vm_l0, 5)
  andi a0, a0, PTE_A | PTE_D
  CHECK_EQ(a0, PTE_A | PTE_D)
  SET_LEAF(vm_l0, 5, DATA_4K, PTE_V | PTE_R | PTE_W | PTE_X)
  TEST_OK_IN_MODE(44, PRV_S, sd a0, 0x20(a1))
  GET_PTE(vm_l0, 5)
  andi a0, a0, PTE_A | PTE_D
  CHECK_EQ(a0, PTE_A | PTE_D)
  /* An instruction fetch sets A. */
  la t0, vm_code
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, PTE_V | PTE_X
  la t6, vm_l0 + 8 * 6
  sd t0, 0(t6)
  sfence.vma
  li a1, VA_PAGE(6)
  TEST_OK_IN_MODE(45, PRV_S, jalr ra, 0(a1))
  GET_PTE(vm_l0, 6)
  andi a0, a0, PTE_A | PTE_D
  CHECK_EQ(a0, PTE_A)
  /* On a superpage too. */
  SET_LEAF(vm_l1, 1, DATA_2M, PTE_V | PTE_R | PTE_W)
  li a1, VA_MEGA + 0x1238
  TEST_OK_IN_MODE(46, PRV_S, sd a0, 0(a1))
  GET_PTE(vm_l1, 1)
  andi a0, a0, PTE_A | PTE_D
  CHECK_EQ(a0, PTE_A | PTE_D)
  /* A faulting access does not set A or D. */
  SET_LEAF(vm_l0, 5, DATA_4K, PTE_V | PTE_R)
  li a1, VA_PAGE(5)
  TEST_IN_MODE(47, PRV_S, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))
  GET_PTE(vm_l0, 5)
  andi a0, a0, PTE_D
  CHECK_EQ(a0, 0)

  /* sfence.vma makes a changed PTE visible: S reads the page (so that a
   * TLB may hold it), rewrites the PTE itself, fences and reads again. */
  SET_LEAF(vm_l0, 7, DATA_4K, RWXAD)
  SET_TESTNUM(48)
  li a1, VA_PAGE(7)
  la a2, vm_l0 + 8 * 7
  li a3, PTE_LEAF(DATA_4K + 0x1000, RWXAD)
  TEST_OK_IN_MODE(48, PRV_S, ld s0, 0(a1); sd a3, 0(a2); sfence.vma a1, zero; ld s1, 0(a1))
  CHECK_EQ(s0, 0x1111111111111111)
  CHECK_EQ(s1, 0x2222222222222222)
  /* The same with an invalidated PTE, fenced by address. */
  TEST_IN_MODE(49, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld s0, 0(a1); sd zero, 0(a2); sfence.vma a1; ld s1, 0(a1))
  CHECK_MTVAL(VA_PAGE(7))

  /* satp is WARL: a write with an unsupported mode changes nothing. */
  SET_TESTNUM(50)
  csrr s0, satp
  li a1, (1 << 60) | 0x12345
  csrw satp, a1
  csrr a0, satp
  CHECK_EQ_REG(a0, s0)
  li a1, (11 << 60) | 0x12345
  csrw satp, a1
  csrr a0, satp
  CHECK_EQ_REG(a0, s0)
  /* Bare turns translation off. */
  SET_TESTNUM(51)
  csrw satp, zero
  CHECK_CSR(satp, 0)
  li a1, DATA_4K
  TEST_OK_IN_MODE(51, PRV_S, ld a0, 0(a1))
  CHECK_EQ(a0, 0x1111111111111111)

  /* An AMO that faults in translation takes a store/AMO page fault (15).
   * QEMU 7.2 reports a load page fault (13). */
  la a1, vm_l2
  srli a1, a1, 12
  li a2, SATP_MODE_SV39
  or a1, a1, a2
  csrw satp, a1
  SET_LEAF(vm_l0, 4, DATA_4K, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
  li a1, VA_PAGE(4) + 0x18
  TEST_IN_MODE(12, PRV_S, CAUSE_STORE_PAGE_FAULT, amoadd.d a0, a0, (a1))
  CHECK_MTVAL(VA_PAGE(4) + 0x18)

  /* Zicbom and Zicboz through translation (menvcfg lets S use them). cbo.zero is a store: a
   * read-only page takes a store page fault, with the block's address in mtval, and a
   * writable one gets D set. clean, flush and inval need a page a load may read, and fault
   * as stores. */
  .option push
  .option arch, +zicbom, +zicboz
  li t0, 0xf0
  csrw 0x30a, t0
  SET_LEAF(vm_l0, 4, DATA_4K, PTE_V | PTE_R | PTE_A | PTE_D)
  li a1, VA_PAGE(4) + 0x48
  TEST_IN_MODE(52, PRV_S, CAUSE_STORE_PAGE_FAULT, cbo.zero (a1))
  CHECK_MTVAL(VA_PAGE(4) + 0x40)
  TEST_OK_IN_MODE(53, PRV_S, cbo.clean (a1); cbo.flush (a1); cbo.inval (a1))
  SET_LEAF(vm_l0, 4, DATA_4K, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
  TEST_IN_MODE(54, PRV_S, CAUSE_STORE_PAGE_FAULT, cbo.clean (a1))
  CHECK_MTVAL(VA_PAGE(4) + 0x40)
  SET_LEAF(vm_l0, 4, DATA_4K, PTE_V | PTE_X | PTE_A)
  TEST_IN_MODE(55, PRV_S, CAUSE_STORE_PAGE_FAULT, cbo.inval (a1))
  SET_LEAF(vm_l0, 5, DATA_4K, PTE_V | PTE_R | PTE_W)
  li a1, VA_PAGE(5) + 0x80
  TEST_OK_IN_MODE(56, PRV_S, cbo.zero (a1))
  GET_PTE(vm_l0, 5)
  andi a0, a0, PTE_A | PTE_D
  CHECK_EQ(a0, PTE_A | PTE_D)
  li a1, DATA_4K + 0xb8
  ld a0, 0(a1)
  CHECK_EQ(a0, 0)
  .option pop

TEST_END

  /* A page of code reached through its own mapping: a0 = 0x77, return. */
  .text
  .balign 4096
vm_code:
  li a0, 0x77
  ret
  .balign 4096

  VM_SV39_TABLES
