/* Remote TLB shootdown and remote instruction-cache synchronisation, as an
 * operating system does them: change memory on one hart, then make another
 * hart, through an IPI, flush what it may have cached.
 *
 * Harts 0 and 1 share one Sv39 page table: the image is identity-mapped by a
 * 1 GiB page, and VA_TEST by a 4 KiB page that points at one of four data
 * pages. Hart 1 runs in S-mode and keeps reading VA_TEST, so that the
 * translation is cached. In each round hart 0 (M-mode) points the PTE at the
 * next data page, runs sfence.vma, checks from S-mode that it sees the new
 * page itself, and sends hart 1 an IPI; hart 1's M-mode handler clears its
 * msip and passes the interrupt to S-mode as a supervisor software interrupt
 * (the way SBI firmware does), and the S-mode handler runs sfence.vma (for
 * VA_TEST alone or for everything, in alternate rounds). Until then hart 1 may
 * read the old page or the new one; after it, only the new one. A last round
 * makes the PTE invalid: after the flush hart 1's load must fault.
 *
 * Then the same for code: hart 1 calls a function on a page of its own many
 * times; hart 0 rewrites its first instruction (a different return value
 * each round), runs fence.i and calls it itself, then fences and sends the
 * IPI; hart 1's S-mode handler runs fence.i, after which the call must
 * return the new value. Hart 1 does not call the function while hart 0
 * rewrites it: QEMU 7.2 with MTTCG then often keeps running the old code
 * on hart 1 even after its fence.i (a race in QEMU's own invalidation of
 * translated code, as far as we can tell: with hart 1 kept away it passes
 * every time). */
#define TEST_HARTS 2
#include "test_macros.h"

#ifndef TLB_ROUNDS
#define TLB_ROUNDS 64
#endif
#ifndef CODE_ROUNDS
#define CODE_ROUNDS 64
#endif
/* Reads (or calls) that warm hart 1's caches before each change. */
#define WARM 200

#define VA_TEST 0x1000 /* L2[0] -> L1[0] -> L0[1] */
#define PTE_TABLE PTE_V
#define PTE_DATA (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define PTE_RWX (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)

/* What hart 1's S-mode handler is asked to do. */
#define REQ_SFENCE_VA 1
#define REQ_SFENCE_ALL 2
#define REQ_FENCE_I 3

/* Fields of `records`, shared by both harts. */
#define READY 0   /* hart 1: the request it is warmed up for (1, 2, ...) */
#define REQUEST 8 /* hart 0: what the handler must do */
#define DONE 16   /* hart 1's handler: requests carried out */
#define FAULTS 24 /* hart 1's M-mode handler: page faults at VA_TEST */
#define TABLES 32 /* hart 0: the page tables are built */

/* reg = the value that starts data page `page` (a register, 0..3):
 * (page + 1) * 0x0101010101010101; the page ends with its complement. */
#define PAGE_VALUE(reg, page)    \
  addi reg, page, 1;             \
  li t6, 0x0101010101010101;     \
  mul reg, reg, t6

/* `table`[index] = a PTE for the physical address in `pa` with `flags`. */
#define SET_PTE(table, index, pa, flags) \
  srli t5, pa, 12;                       \
  slli t5, t5, 10;                       \
  ori t5, t5, flags;                     \
  la t6, table + 8 * (index);            \
  sd t5, 0(t6)

/* addi a0, zero, value: the patched first instruction of remote_fn. */
#define ADDI_A0(reg, value) \
  slli reg, value, 20;      \
  addi reg, reg, 0x513

TEST_BEGIN
  la a1, pt_l1
  SET_PTE(pt_l2, 0, a1, PTE_TABLE)
  la a1, pt_l0
  SET_PTE(pt_l1, 0, a1, PTE_TABLE)
  li a1, 0x80000000
  SET_PTE(pt_l2, 2, a1, PTE_RWX)
  la a1, data_pages
  SET_PTE(pt_l0, 1, a1, PTE_DATA)
  la a1, pt_l2
  srli a1, a1, 12
  li a2, SATP_MODE_SV39
  or a1, a1, a2
  csrw satp, a1
  sfence.vma
  fence rw, w
  la s1, records
  li a1, 1
  sd a1, TABLES(s1)

  /* Hart 0 caches the first mapping too. */
  li s2, VA_TEST
  li a1, 0
  PAGE_VALUE(s3, a1)
  TEST_OK_IN_MODE(1, PRV_S, ld a0, 0(s2))
  CHECK_EQ_REG(a0, s3)

  /* s0 = the request (round) number, 1-based. */
  li s0, 1
tlb_round:
  SET_TESTNUM(2)
  addi a1, s1, READY
  SPIN_UNTIL(ld, beq, a1, s0)
  fence r, rw
  /* Data page s0 % 4 */
  andi s4, s0, 3
  PAGE_VALUE(s3, s4)
  slli a1, s4, 12
  la a2, data_pages
  add a1, a1, a2
  SET_PTE(pt_l0, 1, a1, PTE_DATA)
  andi a3, s0, 1
  beqz a3, 1f
  sfence.vma s2, zero
  li a3, REQ_SFENCE_VA
  j 2f
1:
  sfence.vma
  li a3, REQ_SFENCE_ALL
2:
  TEST_OK_IN_MODE(3, PRV_S, ld a0, 0(s2))
  CHECK_EQ_REG(a0, s3)
  sd a3, REQUEST(s1)
  call ipi_hart1_and_wait
  addi s0, s0, 1
  li t0, TLB_ROUNDS
  bleu s0, t0, tlb_round

  /* The PTE made invalid: both harts must now fault. */
  SET_TESTNUM(4)
  addi a1, s1, READY
  SPIN_UNTIL(ld, beq, a1, s0)
  fence r, rw
  la t6, pt_l0 + 8
  sd zero, 0(t6)
  sfence.vma s2, zero
  TEST_IN_MODE(4, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(s2))
  CHECK_MTVAL(VA_TEST)
  li a3, REQ_SFENCE_VA
  sd a3, REQUEST(s1)
  call ipi_hart1_and_wait
  addi s0, s0, 1

  /* Code: request s0 makes remote_fn return s0 - TLB_ROUNDS. */
code_round:
  SET_TESTNUM(5)
  addi a1, s1, READY
  SPIN_UNTIL(ld, beq, a1, s0)
  fence r, rw
  addi s3, s0, -TLB_ROUNDS
  ADDI_A0(a1, s3)
  la a2, remote_fn
  sw a1, 0(a2)
  /* Hart 0 runs the new code too, after its own fence.i. */
  SET_TESTNUM(6)
  fence.i
  call remote_fn
  CHECK_EQ_REG(a0, s3)
  li a3, REQ_FENCE_I
  sd a3, REQUEST(s1)
  call ipi_hart1_and_wait
  addi s0, s0, 1
  li t0, TLB_ROUNDS + 1 + CODE_ROUNDS
  bleu s0, t0, code_round

  /* Hart 1 saw its last round through. */
  SET_TESTNUM(7)
  addi a1, s1, READY
  SPIN_UNTIL(ld, beq, a1, s0)
  fence r, rw
  CHECK_MEM(records, FAULTS, 1)
TEST_END

  .text
  /* Hands request s0 to hart 1: a full fence so that the page-table or
   * code store is visible before the IPI, then hart 1's msip; returns once
   * its handler has carried the request out. */
ipi_hart1_and_wait:
  fence
  li a1, CLINT_MSIP + 4
  li a2, 1
  sw a2, 0(a1)
  addi a1, s1, DONE
  SPIN_UNTIL(ld, beq, a1, s0)
  fence r, rw
  ret

  /* Hart 1: s0 = the request it waits for, s1 = records, s2 = VA_TEST and
   * s6 its last dword, s3/s4 = what it must read (or what remote_fn
   * returns) before/after. */
test_secondary:
  la t0, hart1_mtrap
  csrw mtvec, t0
  la t0, hart1_m_save
  csrw mscratch, t0
  la t0, hart1_strap
  csrw stvec, t0
  la t0, hart1_s_save
  csrw sscratch, t0
  li t0, MIP_SSIP
  csrw mideleg, t0
  li t0, MIP_MSIP | MIP_SSIP
  csrw mie, t0
  la s1, records
  addi a1, s1, TABLES
  li a2, 1
  SPIN_UNTIL(ld, beq, a1, a2)
  fence r, rw
  la t0, pt_l2
  srli t0, t0, 12
  li t1, SATP_MODE_SV39
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  GOTO_MODE(PRV_S, hart1_s)
hart1_s:
  csrsi sstatus, MSTATUS_SIE
  li s2, VA_TEST
  li s6, VA_TEST + 4096 - 8
  li s0, 1
hart1_tlb_round:
  addi t0, s0, -1
  andi t0, t0, 3
  PAGE_VALUE(s3, t0)
  andi t0, s0, 3
  PAGE_VALUE(s4, t0)
  /* Warm up: only the current page can show. */
  SET_HART_TESTNUM(1)
  li s5, WARM
1:
  ld t0, 0(s2)
  CHECK_EQ_REG(t0, s3)
  ld t0, 0(s6)
  not t0, t0
  CHECK_EQ_REG(t0, s3)
  addi s5, s5, -1
  bnez s5, 1b
  call hart1_ready
  /* Until the handler has flushed: the old page or the new one. */
  SET_HART_TESTNUM(2)
1:
  ld t0, 0(s2)
  beq t0, s3, 2f
  CHECK_EQ_REG(t0, s4)
2:
  ld t0, DONE(s1)
  bne t0, s0, 1b
  /* After: the new page only, start and end. */
  SET_HART_TESTNUM(3)
  ld t0, 0(s2)
  CHECK_EQ_REG(t0, s4)
  ld t0, 0(s6)
  not t0, t0
  CHECK_EQ_REG(t0, s4)
  addi s0, s0, 1
  li t0, TLB_ROUNDS
  bleu s0, t0, hart1_tlb_round

  /* The invalid PTE: after the flush, the load faults (the M-mode handler
   * counts it and skips the load). */
  call hart1_ready
  addi a1, s1, DONE
  SPIN_UNTIL(ld, beq, a1, s0)
  SET_HART_TESTNUM(4)
  li a0, 0x55
  .option push
  .option norvc
  ld a0, 0(s2)
  .option pop
  CHECK_EQ(a0, 0x55)
  CHECK_MEM(records, FAULTS, 1)
  addi s0, s0, 1

hart1_code_round:
  addi s3, s0, -TLB_ROUNDS - 1
  addi s4, s0, -TLB_ROUNDS
  SET_HART_TESTNUM(5)
  li s5, WARM
1:
  call remote_fn
  CHECK_EQ_REG(a0, s3)
  addi s5, s5, -1
  bnez s5, 1b
  call hart1_ready
  /* Not calling it meanwhile: see the note at the top. */
  addi a1, s1, DONE
  SPIN_UNTIL(ld, beq, a1, s0)
  SET_HART_TESTNUM(6)
  call remote_fn
  CHECK_EQ_REG(a0, s4)
  addi s0, s0, 1
  li t0, TLB_ROUNDS + 1 + CODE_ROUNDS
  bleu s0, t0, hart1_code_round
  call hart1_ready
1:
  wfi
  j 1b

  /* READY = s0: warmed up for request s0. */
hart1_ready:
  fence rw, w
  sd s0, READY(s1)
  ret

  /* Hart 1's M-mode handler: passes its IPI on to S-mode as a supervisor
   * software interrupt; counts the expected page fault and skips the load. */
  .align 2
hart1_mtrap:
  csrrw t6, mscratch, t6
  sd t0, 0(t6)
  sd t1, 8(t6)
  csrr t0, mcause
  li t1, CAUSE_INTERRUPT | IRQ_M_SOFT
  beq t0, t1, 1f
  li t1, CAUSE_LOAD_PAGE_FAULT
  beq t0, t1, 2f
  SET_HART_TESTNUM(9)
  j test_fail
1:
  li t0, CLINT_MSIP + 4
  sw zero, 0(t0)
  li t0, MIP_SSIP
  csrs mip, t0
  j 3f
2:
  csrr t0, mtval
  li t1, VA_TEST
  beq t0, t1, 4f
  SET_HART_TESTNUM(8)
  j test_fail
4:
  la t0, records
  ld t1, FAULTS(t0)
  addi t1, t1, 1
  sd t1, FAULTS(t0)
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
3:
  ld t0, 0(t6)
  ld t1, 8(t6)
  csrrw t6, mscratch, t6
  mret

  /* Hart 1's S-mode handler: carries out hart 0's request. */
  .align 2
hart1_strap:
  csrrw t6, sscratch, t6
  sd t0, 0(t6)
  sd t1, 8(t6)
  sd t2, 16(t6)
  csrr t0, scause
  li t1, CAUSE_INTERRUPT | IRQ_S_SOFT
  beq t0, t1, 1f
  SET_HART_TESTNUM(9)
  j test_fail
1:
  li t0, MIP_SSIP
  csrc sip, t0
  la t0, records
  ld t1, REQUEST(t0)
  li t2, REQ_SFENCE_VA
  bne t1, t2, 1f
  li t2, VA_TEST
  sfence.vma t2, zero
  j 3f
1:
  li t2, REQ_SFENCE_ALL
  bne t1, t2, 2f
  sfence.vma
  j 3f
2:
  fence.i
3:
  ld t1, DONE(t0)
  addi t1, t1, 1
  sd t1, DONE(t0)
  ld t0, 0(t6)
  ld t1, 8(t6)
  ld t2, 16(t6)
  csrrw t6, sscratch, t6
  sret

  /* A page of code of its own: returns 1 until hart 0 patches it. */
  .balign 4096
remote_fn:
  .option push
  .option norvc
  addi a0, zero, 1
  ret
  .option pop
  .balign 4096

  .data
  .align 6
records:
  .zero 64
hart1_m_save:
  .zero 64
hart1_s_save:
  .zero 64

  .balign 4096
data_pages:
  .irp page, 1, 2, 3, 4
  .dword \page * 0x0101010101010101
  .zero 4096 - 16
  .dword ~(\page * 0x0101010101010101)
  .endr

  .bss
  .balign 4096
pt_l2:
  .zero 4096
pt_l1:
  .zero 4096
pt_l0:
  .zero 4096
