/* A supervisor that pages on demand, as the riscv-tests "-v" environment
 * does: M-mode builds the page tables with the user program's pages absent
 * and delegates page faults and user ecalls to S-mode; the S-mode handler
 * maps the faulting page (a new leaf PTE with A and D already set), fences
 * that one page with `sfence.vma va, zero` and returns with sret to the
 * faulting instruction. The U-mode program fetches code from four pages
 * (a jump into a fresh page, a loop whose body runs across a page end into
 * a fresh page, a 4-byte instruction whose second half lies in a fresh
 * page), stores and loads across four data pages, and ends with an ecall.
 *
 * Every page faults exactly once, since it is mapped R, W, X at its first
 * touch: 8 faults per run. The handler fails the test at the 33rd, so that
 * a hart that faults again and again on a page it has mapped ends the test
 * at once instead of running into the timeout.
 *
 * The program runs three times on the same tables: under Sv39 (root
 * dp_l2); with its pages unmapped again under Sv48 (root dp_l3, whose first
 * entry points at dp_l2); and once more under Sv48 on a copy of the image in
 * other physical pages, its old mappings removed by one `sfence.vma va` per
 * page and no full fence or satp write: translations, decoded blocks and
 * block lookups cached for those virtual pages by the second run must all
 * go, or the third run would fault fewer times, or store into the old copy.
 * The supervisor runs on an identity-mapped 1 GiB page (VA = PA from
 * 0x80000000, no U bit). */
#include "test_macros.h"

#define URWXAD (RWXAD | PTE_U)

/* The user image: 8 pages at USER_VA (L2[0] -> L1[2] -> L0[0..7] under
 * Sv39, one level more under Sv48), backed by dp_user at the same offsets.
 * Pages 0 to 3 hold code, 4 to 7 data. */
#define USER_VA 0x400000
#define USER_PAGES 8
#define USER_DATA_VA (USER_VA + 4 * 0x1000)
#define USER_DWORDS (4 * 512)
/* 0 + 1 + ... + 2047, plus what the code on pages 2 and 3 adds. */
#define USER_SUM (USER_DWORDS * (USER_DWORDS - 1) / 2)
#define USER_RESULT (USER_SUM + 7 + 0x100)

#define DP_FAULTS_PER_RUN USER_PAGES
#define DP_MAX_FAULTS 32

/* Unmaps the user image and points satp at `root` in `mode`. */
#define DP_RESET(mode, root)   \
  la t0, dp_l0;                \
  addi t1, t0, 8 * USER_PAGES; \
  1:                           \
  sd zero, 0(t0);              \
  addi t0, t0, 8;              \
  bltu t0, t1, 1b;             \
  la t0, dp_faults;            \
  sd zero, 0(t0);              \
  SATP_FOR(mode, root)

/* Runs the user program under check `num` on the image at `backing`:
 * S-mode enters it, its final ecall reaches dp_strap, which ecalls to M,
 * which resumes here. Checks its result, that the data pages hold what it
 * stored, and the fault count. */
#define DP_RUN(num, backing)           \
  la t0, backing;                      \
  la t1, dp_backing;                   \
  sd t0, 0(t1);                        \
  SET_TESTNUM(num);                    \
  li a0, 0;                            \
  TRAP_ARM_LABEL(90020f);              \
  GOTO_MODE(PRV_S, dp_enter_user);     \
  90020:                               \
  TRAP_DISARM;                         \
  CHECK_MTRAP_COUNT(1);                \
  CHECK_MCAUSE(CAUSE_SUPERVISOR_ECALL); \
  CHECK_EQ(a0, USER_RESULT);           \
  la t0, backing + 4 * 0x1000 + 8 * 1000; \
  ld t1, 0(t0);                        \
  CHECK_EQ(t1, 1000);                  \
  la t0, backing + 8 * 0x1000 - 8;     \
  ld t1, 0(t0);                        \
  CHECK_EQ(t1, USER_DWORDS - 1);       \
  CHECK_MEM(dp_faults, 0, DP_FAULTS_PER_RUN)

TEST_BEGIN

  /* Sv39: dp_l2[0] -> dp_l1, dp_l1[2] -> dp_l0 (the user image),
   * dp_l2[2] = the supervisor's identity gigapage. Sv48 adds dp_l3[0]. */
  SET_TESTNUM(1)
  SET_TABLE(dp_l2, 0, dp_l1)
  SET_TABLE(dp_l1, 2, dp_l0)
  li t5, PTE_LEAF(0x80000000, RWXAD)
  la t6, dp_l2 + 8 * 2
  sd t5, 0(t6)
  SET_TABLE(dp_l3, 0, dp_l2)
  li t0, (1 << CAUSE_USER_ECALL) | (1 << CAUSE_FETCH_PAGE_FAULT) | \
         (1 << CAUSE_LOAD_PAGE_FAULT) | (1 << CAUSE_STORE_PAGE_FAULT)
  csrw medeleg, t0
  la t0, dp_strap
  csrw stvec, t0
  la t0, dp_save
  csrw sscratch, t0

  DP_RESET(SATP_MODE_SV39, dp_l2)
  DP_RUN(2, dp_user)
  /* The same virtual pages again, on new translations: nothing cached from
   * the first run may stand in for them. */
  DP_RESET(SATP_MODE_SV48, dp_l3)
  DP_RUN(3, dp_user)
  /* The copy: code pages copied, data pages zeroed; then the user pages
   * unmapped and fenced one by one. */
  la t0, dp_user
  la t1, dp_copy
  li t2, 4 * 0x1000
  add t2, t2, t0
1:
  ld t3, 0(t0)
  sd t3, 0(t1)
  li t4, 4 * 0x1000
  add t4, t4, t1
  sd zero, 0(t4)
  addi t0, t0, 8
  addi t1, t1, 8
  bltu t0, t2, 1b
  la t0, dp_l0
  li t1, USER_VA
  li t2, USER_VA + USER_PAGES * 0x1000
2:
  sd zero, 0(t0)
  sfence.vma t1, zero
  addi t0, t0, 8
  li t3, 0x1000
  add t1, t1, t3
  bltu t1, t2, 2b
  la t0, dp_faults
  sd zero, 0(t0)
  DP_RUN(4, dp_copy)

  /* Put back what the runtime's own handlers expect. */
  csrw satp, zero
  sfence.vma
  csrw medeleg, zero
  la t0, strap_entry
  csrw stvec, t0
  la t0, strap_save
  csrw sscratch, t0

TEST_END

  .text
  /* S-mode: into the user program at its first page, which is not mapped. */
dp_enter_user:
  li t0, USER_VA
  csrw sepc, t0
  li t0, MSTATUS_SPP
  csrc sstatus, t0
  sret

  /* The supervisor's trap handler: page faults in the user image map the
   * page, the user's ecall goes on to M, anything else fails the test. */
  .align 6
dp_strap:
  csrrw t6, sscratch, t6
  sd t0, 0(t6)
  sd t1, 8(t6)
  sd t2, 16(t6)
  csrr t0, scause
  li t1, CAUSE_USER_ECALL
  beq t0, t1, dp_user_ecall
  li t1, CAUSE_FETCH_PAGE_FAULT
  beq t0, t1, dp_map
  li t1, CAUSE_LOAD_PAGE_FAULT
  beq t0, t1, dp_map
  li t1, CAUSE_STORE_PAGE_FAULT
  bne t0, t1, dp_fail
dp_map:
  la t0, dp_faults
  ld t1, 0(t0)
  addi t1, t1, 1
  sd t1, 0(t0)
  li t2, DP_MAX_FAULTS
  bgtu t1, t2, dp_fail
  /* t0 = the faulting page, t1 = its offset in the user image. */
  csrr t0, stval
  srli t0, t0, 12
  slli t0, t0, 12
  li t1, USER_VA
  sub t1, t0, t1
  li t2, USER_PAGES * 0x1000
  bgeu t1, t2, dp_fail
  /* t2 = the leaf PTE for the backing image + t1, stored at
   * dp_l0[t1 / 4 KiB]. */
  la t2, dp_backing
  ld t2, 0(t2)
  add t2, t2, t1
  srli t2, t2, 12
  slli t2, t2, 10
  ori t2, t2, URWXAD
  srli t1, t1, 12 - 3
  la t6, dp_l0
  add t1, t1, t6
  sd t2, 0(t1)
  sfence.vma t0, zero
  la t6, dp_save
  ld t0, 0(t6)
  ld t1, 8(t6)
  ld t2, 16(t6)
  csrrw t6, sscratch, t6
  sret
dp_user_ecall:
  ld t0, 0(t6)
  ld t1, 8(t6)
  ld t2, 16(t6)
  csrrw t6, sscratch, t6
  ecall
dp_fail:
  j test_fail

  /* The user program. Its offsets within the image are fixed with .org,
   * so it is assembled without compression or relaxation (except where a
   * 2-byte instruction sets up the one that straddles pages 2 and 3). It
   * reaches everything pc-relatively, so it runs at USER_VA. */
  .section .text.dp_user, "ax", @progbits
  .option push
  .option norvc
  .option norelax
  .balign 4096
dp_user:
  /* Page 0: data[i] = i over the four data pages (a store fault on each),
   * then a jump into page 1. */
  li s1, USER_DATA_VA
  li s2, USER_DWORDS
  li t0, 0
1:
  slli t1, t0, 3
  add t1, t1, s1
  sd t0, 0(t1)
  addi t0, t0, 1
  blt t0, s2, 1b
  j dp_user_sum

  /* Pages 1 and 2: a0 = the sum of data[], in a loop whose body starts on
   * page 1 and goes on into page 2, which its first trip faults in. */
  .org 0x1ff0
dp_user_sum:
  li t0, 0
  li a0, 0
2:
  slli t1, t0, 3
  add t1, t1, s1
  ld t2, 0(t1)
  add a0, a0, t2
  addi t0, t0, 1
  blt t0, s2, 2b
  j dp_user_straddle

  /* Page 2's end: a 4-byte instruction across the boundary, whose second
   * half is on page 3, not mapped yet. */
  .org 0x2ff8
dp_user_straddle:
  addi a0, a0, 3
  .option rvc
  c.addi a0, 4
  .option norvc
  addi a0, a0, 0x100 - 7 /* at 0x2ffe: its upper half is on page 3 */
  addi a0, a0, 7
  ecall
  j dp_user_straddle
  .org 0x4000
  /* Pages 4 to 7: the data. */
  .zero 4 * 0x1000
  .option pop

  .data
  .align 3
dp_faults:
  .dword 0
dp_backing: /* the physical image the handler maps: dp_user or dp_copy */
  .dword 0
dp_save:
  .zero 32

  .bss
  .balign 4096
dp_l3:
  .zero 4096
dp_l2:
  .zero 4096
dp_l1:
  .zero 4096
dp_l0:
  .zero 4096
dp_copy:
  .zero USER_PAGES * 4096
