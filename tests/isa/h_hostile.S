/* A hostile guest hypervisor (issue 11's bad input): garbage in hgatp and
 * hstatus, G-stage tables that loop or lie outside RAM, HFENCE storms, and
 * V=1 entered with every field inconsistent. Each gets the architectural
 * exception (or WARL value), and the run ends: no host crash, no hang.
 *   - hgatp written with a reserved MODE reads Bare; garbage in its
 *     PPN with Sv48x4 is held (low two PPN bits zero), and a walk from a root
 *     outside RAM is an access fault of the original access type (fetch 1,
 *     load 5, store 7), not a guest-page fault;
 *   - hstatus all ones reads back only its fields, VSXL = 2;
 *   - a G-stage table whose entries point at itself ends its walk at level
 *     0 with a guest-page fault (a pointer where a leaf must be);
 *   - a G-stage pointer to a table outside RAM is a load access fault;
 *   - 20000 HFENCE.GVMA and HFENCE.VVMA (with and without operands) mixed
 *     with HLV through the G stage finish and leave translation right;
 *   - entering VS-mode with vsatp, vstvec, vsstatus, hstatus, hedeleg,
 *     hideleg all garbage and a G stage of all-ones entries (reserved bits
 *     set) faults the first fetch with an instruction guest-page fault. */
#include "h_macros.h"

#define GPA_BASE 0xC0000000
#define PTE_U_RWX (PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D)
#define OUTSIDE_RAM 0x4000000000      /* 256 GiB: no RAM, no device */
#define VALUE_A 0x1122334455667788

/* table[2] = GPA 2 GiB identity, a user gigapage: the test's own code and
 * data, which the guest fetches at V=1. */
#define MAP_CODE(table) SET_LEAF_PA(table, 2, 0x80000000, PTE_U_RWX)

/* hgatp = `mode` with root at label `root`, and the guest's translations dropped. */
#define HGATP_FOR(mode, root) ATP_FOR(hgatp, mode, root, hfence.gvma)

TEST_BEGIN
  H_VS_HANDLER_INSTALL
  li a0, VALUE_A
  la a1, page_a
  sd a0, 0(a1)

  /* hgatp: unlike satp, a write with a reserved MODE is not ignored: each
   * field is WARL, and the MODE reads Bare. */
  SET_TESTNUM(1)
  HGATP_FOR(HGATP_MODE_SV39X4, g_root)
  li a0, -1
  csrw hgatp, a0
  CHECK_CSR_BITS(hgatp, 0xf << 60, 0)
  li a0, (5 << 60) | 0x123
  csrw hgatp, a0
  CHECK_CSR_BITS(hgatp, 0xf << 60, 0)
  /* Sv48x4 with a garbage root: held, the root's low two PPN bits zero. */
  SET_TESTNUM(2)
  li a0, HGATP_MODE_SV48X4 | 0xfffffffffff
  csrw hgatp, a0
  CHECK_CSR(hgatp, HGATP_MODE_SV48X4 | 0xffffffffffc)
  /* A root outside RAM: the walk's own read is an access fault of the
   * access's type: the guest's first fetch, HLV's load, HSV's store. */
  li a0, HGATP_MODE_SV48X4 | (OUTSIDE_RAM >> 12)
  csrw hgatp, a0
  hfence.gvma
  li s1, GPA_BASE
  TEST_IN_VMODE(3, PRV_S, CAUSE_FETCH_ACCESS, nop)
  TEST_IN_VMODE(4, PRV_U, CAUSE_FETCH_ACCESS, nop)
  TEST_TRAP(5, CAUSE_STORE_ACCESS, hsv.d zero, (s1))
  TEST_TRAP(6, CAUSE_LOAD_ACCESS, hlv.d a0, (s1))

  /* hstatus all ones: only its fields, VSXL fixed at 2. */
  SET_TESTNUM(7)
  li a0, -1
  csrw hstatus, a0
  CHECK_CSR(hstatus, (2 << 32) | HSTATUS_VTSR | HSTATUS_VTW | HSTATUS_VTVM | HSTATUS_HU | HSTATUS_SPVP | HSTATUS_SPV | HSTATUS_GVA)
  csrw hstatus, zero

  /* A G stage whose root entry for GPA 3 GiB points at the root itself:
   * three levels of pointers, then no leaf: a guest-page fault at once. */
  SET_TESTNUM(8)
  SET_TABLE(g_loop, 3, g_loop)
  SET_TABLE(g_loop, 0, g_loop)
  MAP_CODE(g_loop)
  HGATP_FOR(HGATP_MODE_SV39X4, g_loop)
  TEST_IN_VMODE(9, PRV_S, CAUSE_LOAD_GUEST_PAGE_FAULT, ld s2, 0(s1))
  CHECK_MTVAL2(GPA_BASE >> 2)
  TEST_IN_VMODE(10, PRV_S, CAUSE_FETCH_GUEST_PAGE_FAULT, jr s1)
  /* The same loop under Sv48x4 (four levels). */
  HGATP_FOR(HGATP_MODE_SV48X4, g_loop)
  TEST_IN_VMODE(11, PRV_S, CAUSE_LOAD_GUEST_PAGE_FAULT, ld s2, 0(s1))

  /* A pointer to a next-level table outside RAM: a load access fault. */
  SET_TESTNUM(12)
  li t0, ((OUTSIDE_RAM >> 12) << 10) | PTE_V
  la t1, g_root
  sd t0, 3 * 8(t1)
  MAP_CODE(g_root)
  HGATP_FOR(HGATP_MODE_SV39X4, g_root)
  TEST_IN_VMODE(13, PRV_S, CAUSE_LOAD_ACCESS, ld s2, 0(s1))
  TEST_TRAP(14, CAUSE_LOAD_ACCESS, hlv.d a0, (s1))

  /* An HFENCE storm: 20000 rounds of both fences (all, by address, by
   * VMID) around an HLV that walks the G stage each time, through a 1 GiB
   * user leaf that maps GPA 3 GiB onto the gigapage holding page_a. */
  SET_TESTNUM(15)
  la s4, page_a
  srli s4, s4, 30
  slli s4, s4, 30
  li t1, PTE_U_RWX
  srli t2, s4, 12
  slli t2, t2, 10
  or t2, t2, t1
  la t1, g_root
  sd t2, 3 * 8(t1)
  HGATP_FOR(HGATP_MODE_SV39X4, g_root)
  la a2, page_a
  sub a2, a2, s4
  add a2, a2, s1            /* page_a's guest physical address */
  li s3, 20000
1:
  hfence.gvma
  hfence.vvma
  hfence.gvma a2, zero
  hfence.vvma a2, zero
  hfence.gvma zero, s3
  hlv.d a0, (a2)
  li a1, VALUE_A
  bne a0, a1, test_fail
  addi s3, s3, -1
  bnez s3, 1b

  /* V=1 with everything inconsistent: vsatp Sv48 at a root in no memory,
   * vstvec odd and nowhere, vsstatus and hstatus all ones, every exception
   * and interrupt the hypervisor may hand on delegated (hedeleg, hideleg;
   * medeleg 0 keeps them in M), and a G stage whose every entry is all
   * ones: V, R, W, X set with reserved bits. The first fetch is an
   * instruction guest-page fault, taken in M with MPV set. */
  SET_TESTNUM(16)
  la t0, g_bad
  li t1, -1
  li t2, 2048
2:
  sd t1, 0(t0)
  addi t0, t0, 8
  addi t2, t2, -1
  bnez t2, 2b
  li a0, -1
  csrw vsstatus, a0
  csrw hstatus, a0
  csrw hedeleg, a0
  csrw hideleg, a0
  li a0, (9 << 60) | 0xfffffffffff
  csrw vsatp, a0
  li a0, 0xdeadbeef
  csrw vstvec, a0
  csrw medeleg, zero
  HGATP_FOR(HGATP_MODE_SV39X4, g_bad)
  TEST_IN_VMODE(17, PRV_S, CAUSE_FETCH_GUEST_PAGE_FAULT, nop)
  CHECK_MTRAP_MSTATUS(MSTATUS_MPV, MSTATUS_MPV)
  /* VU-mode too. */
  TEST_IN_VMODE(18, PRV_U, CAUSE_FETCH_GUEST_PAGE_FAULT, nop)

  csrw hstatus, zero
  csrw hedeleg, zero
  csrw hideleg, zero
  csrw vsatp, zero
  csrw vsstatus, zero
  csrw hgatp, zero
  hfence.gvma
TEST_END

H_VS_HANDLER

  .data
  .align 14
g_root:
  .zero 16384
g_loop:
  .zero 16384
g_bad:
  .zero 16384
page_a:
  .zero 4096
