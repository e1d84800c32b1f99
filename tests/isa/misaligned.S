/* Misaligned plain loads and stores: Vessel performs them in hardware (no
 * address-misaligned trap), integer and FP, compressed forms, across a
 * page boundary, from U-mode, and through Sv39 where the second page is
 * missing (a page fault, mtval = the access's address or that of its
 * faulting part). Misaligned LR/SC/AMOs trap: rv64ua.S. */
#include "test_macros.h"

TEST_BEGIN

  /* Every offset of every width, loads. mbuf holds bytes 0x00, 0x81, 0x02,
   * 0x83, ... (odd bytes have the top bit set). */
  la a1, mbuf
  li a2, 0
  li a3, 64
1:
  andi a4, a2, 1
  slli a4, a4, 7
  or a4, a4, a2
  add a5, a1, a2
  sb a4, 0(a5)
  addi a2, a2, 1
  bltu a2, a3, 1b

  TEST_LD_OP(1, lh, 0x0000000000000281, 1, mbuf)
  TEST_LD_OP(2, lh, 0x0000000000000483, 2, mbuf + 1)
  TEST_LD_OP(3, lhu, 0x0000000000000887, 7, mbuf)
  TEST_LD_OP(4, lw, 0x0000000004830281, 1, mbuf)
  TEST_LD_OP(5, lw, 0xffffffff85048302, 2, mbuf)
  TEST_LD_OP(6, lw, 0x0000000006850483, 3, mbuf)
  TEST_LD_OP(7, lwu, 0x0000000085048302, 2, mbuf)
  TEST_LD_OP(8, ld, 0x0887068504830281, 1, mbuf)
  TEST_LD_OP(9, ld, 0x8908870685048302, 2, mbuf)
  TEST_LD_OP(10, ld, 0x0a89088706850483, 3, mbuf)
  TEST_LD_OP(11, ld, 0x8b0a890887068504, 4, mbuf)
  TEST_LD_OP(12, ld, 0x0c8b0a8908870685, 5, mbuf)
  TEST_LD_OP(13, ld, 0x8d0c8b0a89088706, 6, mbuf)
  TEST_LD_OP(14, ld, 0x0e8d0c8b0a890887, 7, mbuf)

  /* Stores at odd offsets, read back aligned. */
  SET_TESTNUM(15)
  la a1, sbuf
  sd zero, 0(a1)
  sd zero, 8(a1)
  li a2, 0x1122334455667788
  sd a2, 3(a1)
  ld a0, 0(a1)
  CHECK_EQ(a0, 0x4455667788000000)
  ld a0, 8(a1)
  CHECK_EQ(a0, 0x0000000000112233)
  SET_TESTNUM(16)
  li a2, 0xaabbccdd
  sw a2, 7(a1)
  ld a0, 0(a1)
  CHECK_EQ(a0, 0xdd55667788000000)
  ld a0, 8(a1)
  CHECK_EQ(a0, 0x0000000000aabbcc)
  SET_TESTNUM(17)
  li a2, 0xeeff
  sh a2, 5(a1)
  ld a0, 0(a1)
  CHECK_EQ(a0, 0xddeeff7788000000)
  sh a2, 15(a1)
  ld a0, 8(a1)
  CHECK_EQ(a0, 0xff00000000aabbcc)
  ld a0, 16(a1)
  CHECK_EQ(a0, 0x00000000000000ee)

  /* Floating point. */
  SET_TESTNUM(18)
  la a1, sbuf
  li a2, 0x400921fb54442d18
  sd a2, 32(a1)
  addi a1, a1, 1
  LOAD_D(f1, 0x400921fb54442d18)
  fsd f1, 0(a1)
  fld f2, 0(a1)
  CHECK_FREG_D(f2, 0x400921fb54442d18)
  flw f3, 2(a1)
  CHECK_FREG_S(f3, 0x21fb5444)
  fsw f3, 9(a1)
  lwu a0, 9(a1)
  CHECK_EQ(a0, 0x21fb5444)
  /* Compressed loads and stores with a misaligned base. */
  SET_TESTNUM(19)
  la s0, mbuf + 1
  c.ld a0, 0(s0)
  CHECK_EQ(a0, 0x0887068504830281)
  c.lw a0, 4(s0)
  CHECK_EQ(a0, 0x0000000008870685)
  la s1, sbuf + 37
  c.sd a0, 8(s1)
  c.ld a2, 8(s1)
  CHECK_EQ(a2, 0x0000000008870685)
  c.fld fa0, 8(s1)
  CHECK_FREG_D(fa0, 0x0000000008870685)
  /* Stack-pointer based. */
  SET_TESTNUM(20)
  mv s2, sp
  la sp, sbuf + 3
  li a0, 0x0123456789abcdef
  c.sdsp a0, 8(sp)
  c.ldsp a1, 8(sp)
  c.lwsp a2, 12(sp)
  mv sp, s2
  CHECK_EQ(a1, 0x0123456789abcdef)
  CHECK_EQ(a2, 0x0000000001234567)

  /* Across a page boundary. */
  SET_TESTNUM(21)
  la a1, page2
  li a2, 0x8877665544332211
  sd a2, -3(a1)
  ld a0, -3(a1)
  CHECK_EQ(a0, 0x8877665544332211)
  lw a0, -2(a1)
  CHECK_EQ(a0, 0x0000000055443322)
  ld a0, 0(a1)
  CHECK_EQ(a0, 0x0000008877665544)
  lbu a0, -3(a1)
  CHECK_EQ(a0, 0x11)

  /* From U-mode. */
  la a1, mbuf
  TEST_OK_IN_MODE(22, PRV_U, ld a0, 5(a1); sw a0, 33(a1))
  CHECK_EQ(a0, 0x0c8b0a8908870685)

  /* Sv39, the second page missing: the access faults and writes nothing to
   * rd; mtval is the address or the start of the missing page. */
  la t0, vm_l0
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, PTE_V
  la t6, vm_l1
  sd t0, 0(t6)
  la t0, vm_l1
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, PTE_V
  la t6, vm_l2
  sd t0, 0(t6)
  li t0, PTE_LEAF(0x80000000, RWXAD)
  sd t0, 16(t6)
  la t0, page1
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, RWXAD
  la t6, vm_l0
  sd t0, 8(t6)
  la t0, vm_l2
  srli t0, t0, 12
  li t6, SATP_MODE_SV39
  or t0, t0, t6
  csrw satp, t0
  sfence.vma
  /* VA 0x1000 is page1; 0x2000 is not mapped. */
  li a1, 0x2000 - 4
  li a0, 0x55
  TEST_OK_IN_MODE(23, PRV_S, lw a0, 0(a1))
  CHECK_EQ(a0, 0x0000000033221100)
  TEST_IN_MODE(24, PRV_S, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
  CHECK_EQ(a0, 0x0000000033221100)
  la t5, trap_m
  ld t5, TR_TVAL(t5)
  li t6, 0x2000 - 4
  beq t5, t6, 1f
  CHECK_EQ(t5, 0x2000)
1:
  li a1, 0x2000 - 1
  TEST_IN_MODE(25, PRV_S, CAUSE_STORE_PAGE_FAULT, sh a0, 0(a1))
  csrw satp, zero

TEST_END

  .data
  .balign 64
mbuf:
  .zero 64
sbuf:
  .zero 64

  /* page1 ends where page2 begins, on a page boundary. */
  .balign 4096
page1:
  .zero 4096
page2:
  .zero 64

  .bss
  .balign 4096
vm_l2:
  .zero 4096
vm_l1:
  .zero 4096
vm_l0:
  .zero 4096
