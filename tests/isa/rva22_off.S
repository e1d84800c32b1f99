/* The RVA22 extensions that --cpu-features can turn off, turned off: every instruction of
 * Zicbom and Zicboz is an illegal instruction with the word in mtval and leaves memory
 * alone. Zicbop's prefetches and Zihintntl's ntl.* stay what they are on any hart, hints
 * of RV64I: turning those extensions (and Zkt) off only takes them out of the device tree.
 * Svinval's instructions are illegal too, and menvcfg.PBMTE stays 0 without Svpbmt (a PTE
 * with N or PBMT then faults: cpu_test's mmu_test). Without Zihpm, hpmcounter3..31 are
 * illegal; the machine-mode counters and events, cycle and instret stay.
 * QEMU 7.2 has none of these extensions (run-on-qemu.sh leaves their names out). */
#define TEST_CPU_FEATURES -zicbom,-zicboz,-zicbop,-zihintntl,-zkt,-svinval,-svnapot,-svpbmt,-zihpm
#include "test_macros.h"

/* Runs `insn` expecting an illegal-instruction trap with mtval = `word`. */
#define TEST_ILLEGAL(num, word, insn...) \
  TEST_TRAP_TVAL(num, CAUSE_ILLEGAL_INSTRUCTION, word, insn)

TEST_BEGIN
  .option norvc
  .option arch, +zicbom, +zicboz, +zicbop, +svinval

  la a0, off_data
  li a1, -1
  sd a1, 0(a0)
  TEST_ILLEGAL(1, 0x0005200f, cbo.inval (a0))
  TEST_ILLEGAL(2, 0x0015200f, cbo.clean (a0))
  TEST_ILLEGAL(3, 0x0025200f, cbo.flush (a0))
  TEST_ILLEGAL(4, 0x0045200f, cbo.zero (a0))
  CHECK_MEM(off_data, 0, -1)

  /* The hints still run as hints. */
  li a1, 0x40000000
  TEST_NO_TRAP(5, prefetch.i 0(a1); prefetch.r 32(a1); prefetch.w -64(a1))
  TEST_NO_TRAP(6, .insn r 0x33, 0, 0, x0, x0, x2; .2byte 0x9016; .2byte 0x9016)
  TEST_ILLEGAL(7, 0x16b50073, sinval.vma a0, a1)
  TEST_ILLEGAL(8, 0x18000073, sfence.w.inval)
  TEST_ILLEGAL(9, 0x18100073, sfence.inval.ir)
  SET_TESTNUM(10)
  li t0, 1 << 62
  csrs 0x30a, t0
  CHECK_CSR_MASKED(0x30a, 1 << 62, 0)
  TEST_ILLEGAL(11, 0xc0302573, csrr a0, hpmcounter3)
  TEST_ILLEGAL(12, 0xc1f02573, csrr a0, hpmcounter31)
  TEST_NO_TRAP(13, csrr a0, mhpmcounter3; csrr a0, mhpmevent3; rdcycle a0; rdinstret a0)
TEST_END

  .data
  .balign 64
off_data:
  .zero 64
