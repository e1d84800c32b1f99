/* Jumps where code should not be, each with a handler that checks the trap it
 * must cause and comes back: nothing mapped, devices (the SiFive test device,
 * the UART, the CLINT), the middle of the boot ROM, the middle of one of the
 * ROM's instructions, just past the ROM, an instruction cut off by the end of
 * RAM, the middle of a 32-bit instruction in RAM, addresses above any physical
 * address, zeroed data, and mret to nowhere. And jumps that must not trap: into
 * the boot ROM's reset code (which loads a1 and the next address from a table
 * at t0, and so comes back), a jalr to an odd address, an mepc written odd, an
 * instruction straddling two pages (rewritten in between), and entries into
 * the middle of a block that already ran. Run with --memory 64M (RAM_END).
 *
 * Pass through the SiFive test device; case n fails with code 20 + n: a wrong
 * mcause, mepc or mtval, a trap where none belongs, or a wrong result. */
#include "guest.h"

#define UART0 0x10000000
#define CLINT 0x2000000
#define ROM_BASE 0x1000
#define ROM_END 0x10000
#define ROM_CSRR_A0 0x1008 /* csrr a0, mhartid; ld a1, 0x20(t0); ld t0, 0x18(t0); jr t0 */
#define RAM_END 0x84000000 /* --memory 64M */
#define SCRATCH_CODE 0x80800000
#define CAUSE_FETCH_ACCESS 1
#define CAUSE_ILLEGAL 2
#define CAUSE_BREAKPOINT 3
#define ROM_MAGIC 0x5eed5eed12345678
#define ADDI_A0_A0(imm) (0x13 | (10 << 7) | (10 << 15) | ((imm) << 20))
#define RET 0x00008067

/* Case \id: jump to \target (a register), expecting mcause \cause at mepc
 * \target; the handler comes back to the next line. */
.macro jump_expecting id, target, cause
  li s1, \id
  li s2, \cause
  mv s3, \target
  la s5, 99f
  jr \target
99:
.endm

/* Case \id with the target an immediate, and mtval the target too. */
.macro jump_to id, address, cause
  li t6, \address
  jump_expecting \id, t6, \cause
  li t0, \address
  bne s6, t0, fail
.endm

/* Case \id: the zeros at \address are an illegal instruction, and mtval
 * holds its bits (or 0): 0 either way. */
.macro jump_illegal id, address
  li t6, \address
  jump_expecting \id, t6, CAUSE_ILLEGAL
  bnez s6, fail
.endm

  start_with_handler handler

  jump_to 1, NOTHING_MAPPED, CAUSE_FETCH_ACCESS
  jump_to 2, SIFIVE_TEST, CAUSE_FETCH_ACCESS
  jump_to 3, UART0, CAUSE_FETCH_ACCESS
  jump_to 4, CLINT, CAUSE_FETCH_ACCESS
  jump_illegal 5, ROM_BASE + 0x8000         /* zeros: c.unimp */
  jump_illegal 6, ROM_BASE + 2              /* the upper half of auipc t0, 0: zeros */
  jump_to 7, ROM_END, CAUSE_FETCH_ACCESS
  jump_to 8, 0xfffffffffffff000, CAUSE_FETCH_ACCESS /* bare M-mode: no such address */
  jump_to 9, 0x8000000000000000, CAUSE_FETCH_ACCESS

  /* 10: into the ROM's reset code with t0 at our table: it loads a1 from
   * table+0x20 and jumps to table+0x18, back here. */
  li s1, 10
  li s5, 0                  /* no trap expected */
  la t0, rom_table
  li a0, -1
  li t1, ROM_CSRR_A0
  jr t1
rom_back:
  li t0, ROM_MAGIC
  bne a1, t0, fail
  bnez a0, fail             /* csrr a0, mhartid */

  /* 11: a 32-bit instruction whose upper half is past the end of RAM. */
  li t0, RAM_END - 2
  li t1, 0x0013             /* the lower half of an addi */
  sh t1, 0(t0)
  fence.i
  li t2, RAM_END - 2
  jump_expecting 11, t2, CAUSE_FETCH_ACCESS
  li t0, RAM_END - 2        /* mtval: where the instruction or its missing half starts */
  beq s6, t0, 1f
  li t0, RAM_END
  bne s6, t0, fail
1:

  /* 12: the middle of a 32-bit instruction that just ran. */
  li s1, 12
  li s5, 0
  call split_insn           /* addi x0, x4, -1792: nothing */
  la t2, split_insn + 2     /* c.ebreak */
  jump_expecting 12, t2, CAUSE_BREAKPOINT

  /* 13: zeroed data. */
  la t2, zeros
  jump_expecting 13, t2, CAUSE_ILLEGAL
  bnez s6, fail

  /* 14: mret to nothing. */
  li s1, 14
  li s2, CAUSE_FETCH_ACCESS
  li s3, NOTHING_MAPPED + 0x1000
  la s5, 1f
  csrw mepc, s3
  li t0, MSTATUS_MPP
  csrs mstatus, t0
  mret
1:

  /* 15: jalr to an odd address: bit 0 is dropped. */
  li s1, 15
  li s5, 0
  la t0, odd_land
  jalr zero, 1(t0)
  test_fail 35
odd_land:

  /* 16: mepc written odd: it reads back even, and mret goes there. */
  li s1, 16
  la t0, even_land
  addi t1, t0, 1
  csrw mepc, t1
  csrr t2, mepc
  bne t2, t0, fail
  li t0, MSTATUS_MPP
  csrs mstatus, t0
  mret
  test_fail 36
even_land:

  /* 17: an instruction straddling two pages, run, rewritten, run again. */
  li s1, 17
  li t0, SCRATCH_CODE + 0xffe
  li t1, ADDI_A0_A0(1)
  sh t1, 0(t0)
  srli t1, t1, 16
  sh t1, 2(t0)
  li t1, RET & 0xffff
  sh t1, 4(t0)
  sh zero, 6(t0)            /* RET >> 16 */
  fence.i
  li a0, 0
  jalr ra, 0(t0)
  li t1, ADDI_A0_A0(40) >> 16
  sh t1, 2(t0)              /* only the half in the second page */
  fence.i
  jalr ra, 0(t0)
  li t1, 41
  bne a0, t1, fail

  /* 18: a block entered at its start, then at its second and third instructions. */
  li s1, 18
  li a0, 0
  call block3
  call block3 + 4
  call block3 + 8
  li t1, 121 + 120 + 100
  bne a0, t1, fail

  test_pass

  .balign 4
handler:
  beqz s5, fail             /* no trap belonged here */
  csrr t0, mcause
  bne t0, s2, fail
  csrr t0, mepc
  bne t0, s3, fail
  csrr s6, mtval
  csrw mepc, s5
  li s5, 0
  li t0, MSTATUS_MPP        /* back to M */
  csrs mstatus, t0
  mret

fail:
  addi s1, s1, 20
  test_fail_reg s1

  .option push
  .option norvc
  .balign 4
split_insn:
  .4byte 0x90020013         /* addi x0, x4, -1792; its upper half is c.ebreak */
  ret
block3:
  addi a0, a0, 1
  addi a0, a0, 20
  addi a0, a0, 100
  ret
  .option pop

  .data
  .balign 8
rom_table:
  .skip 0x18
  .dword rom_back           /* +0x18: where the ROM code jumps */
  .dword ROM_MAGIC          /* +0x20: what it loads into a1 */
zeros:
  .skip 64
