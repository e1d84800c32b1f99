/* Random valid code, to hold the translator to the interpreter. Each of ROUNDS
 * rounds writes K instructions drawn from a table of RV64 encodings (integer
 * register-register, immediate, shift, word and M ops, lui, auipc, branches
 * and jal that skip the next instruction, loads and stores of every width at
 * random offsets from x15, AMOs at x15, reads of minstret, a few D ops
 * through f16..f31, compressed ones, so that 32-bit instructions also start
 * at odd halfwords, and some that trap: loads and stores at x13, where nothing
 * is mapped, AMOs at x12, which is misaligned, ecall, ebreak, c.unimp and
 * writes to mhartid) with random registers in x16..x31 and random
 * immediates, then two rets; seeds x16..x29 (random values shifted by random amounts) and
 * x30, x31 (INT64_MIN and -1, for the edge cases of division and shifts),
 * calls the code and folds x16..x31 into a checksum, and at the end the data
 * the stores wrote. The code goes to one of 16 slots, so each round rewrites a
 * page that held code. Everything it computes is defined by the ISA, the
 * instruction counts that minstret reads included.
 *
 * Prints the checksum as 16 hex digits and a newline on the UART, then passes
 * through the SiFive test device. The trap handler folds mcause and mtval into
 * the checksum and goes on after the instruction; a trap from anywhere but the
 * random code fails with 9. cli_test runs the
 * guest on both engines and wants the same line from each. (Without the
 * minstret rows and the trapping ones, QEMU 7.2's virt machine printed the same
 * checksums as the interpreter for several seeds: the reference is right too.
 * The traps differ where the ISA leaves a choice or QEMU has no fault: ebreak's
 * mtval, its PCIe window at x13; and QEMU 7.2 reports a misaligned AMO as a
 * misaligned load, cause 4, where the ISA says 6.) */
#include "guest.h"

#define UART0 0x10000000
#define CODE_BASE 0x80400000
#define SLOT 512
#define K 48
#define ROUNDS 3000
#define RET 0x00008067
#define TABLE_N 98 /* entries in the table below */
#define DATA_BASE 0x80500000 /* 4 KiB that x15 + [-2048, 2047] reaches */
#define X15 (15 << 15)       /* rs1 = x15 */

/* Register fields: rd, rs1 and rs2 in x16..x31 (bit 4 set, bits 0..3 random). */
#define RD_SET (1 << 11)
#define RS1_SET (1 << 19)
#define RS2_SET (1 << 24)
#define RD_MASK (0xf << 7)
#define RS1_MASK (0xf << 15)
#define RS2_MASK (0xf << 20)
#define R_MASK (RD_MASK | RS1_MASK | RS2_MASK)
#define I_MASK (0xfff00000 | RD_MASK | RS1_MASK)

/* R-type: funct7, funct3, opcode */
.macro r f7, f3, op
  .word (\f7 << 25) | (\f3 << 12) | \op | RD_SET | RS1_SET | RS2_SET, R_MASK
.endm
/* I-type with a random 12-bit immediate */
.macro i f3, op
  .word (\f3 << 12) | \op | RD_SET | RS1_SET, I_MASK
.endm
/* shift by an immediate: funct6/funct7 high bits, funct3, opcode, shamt bits */
.macro shi hi, f3, op, shamt_bits
  .word (\hi << 26) | (\f3 << 12) | \op | RD_SET | RS1_SET, \
        (((1 << \shamt_bits) - 1) << 20) | RD_MASK | RS1_MASK
.endm
/* U-type (lui, auipc) */
.macro u op
  .word \op | RD_SET, 0xfffff000 | RD_MASK
.endm
/* a branch over the next instruction (offset 8: imm[4:1] = 4 in bits 11:8) */
.macro b f3
  .word (\f3 << 12) | 0x63 | (4 << 8) | RS1_SET | RS2_SET, RS1_MASK | RS2_MASK
.endm

/* a load (I-type at x15, random rd and offset) and a store (S-type at x15) */
.macro ld_ f3
  .word (\f3 << 12) | 0x03 | RD_SET | X15, 0xfff00000 | RD_MASK
.endm
.macro st_ f3
  .word (\f3 << 12) | 0x23 | RS2_SET | X15, 0xfe000000 | RS2_MASK | (0x1f << 7)
.endm
/* an AMO at x15: funct5, width (2 .w, 3 .d), random aq/rl */
.macro amo f5, f3
  .word (\f5 << 27) | (\f3 << 12) | 0x2f | RD_SET | RS2_SET | X15, (3 << 25) | RD_MASK | RS2_MASK
.endm
/* a D op with the dynamic rounding mode: funct7, rs2 fixed (\rs2 >= 0) or random (-1) */
.macro fd f7, rs2, f3=7
  .if \rs2 < 0
  .word (\f7 << 25) | (\f3 << 12) | 0x53 | RD_SET | RS1_SET | RS2_SET, R_MASK
  .else
  .word (\f7 << 25) | (\rs2 << 20) | (\f3 << 12) | 0x53 | RD_SET | RS1_SET, RD_MASK | RS1_MASK
  .endif
.endm

/* a compressed instruction (CI/CR formats, whose rd and rs2 are 5-bit fields:
 * x16..x31 as above): base, random bits */
.macro c base, mask
  .word \base | RD_SET, \mask
.endm
#define CI_MASK ((1 << 12) | RD_MASK | (0x1f << 2))

/* s1 (the checksum) = (s1 rotated left by 7) ^ \r; clobbers t2 */
.macro fold r
  slli t2, s1, 7
  srli s1, s1, 57
  or s1, s1, t2
  xor s1, s1, \r
.endm

/* s0 = s0 * LCG_MUL + LCG_INC (Knuth's MMIX constants in gp, tp) */
.macro lcg
  mul s0, s0, gp
  add s0, s0, tp
.endm

  /* x16..x31 are the random code's: what lives across its call keeps to
   * x1..x15 (s0 the generator, s1 the checksum, a4 the round). */
  start_with_handler trap
  li t0, MSTATUS_FS_INITIAL
  csrs mstatus, t0
  li a5, DATA_BASE + 2048   /* x15: what the loads, stores and AMOs address */
  li gp, 6364136223846793005
  li tp, 1442695040888963407
  li s0, 0x853c49e6748fea9b
  li s1, 0
  li a4, 0
round:
  /* the slot: a1 */
  andi t0, a4, 15
  li t1, SLOT
  mul t0, t0, t1
  li a1, CODE_BASE
  add a1, a1, t0
  mv a2, a1
  li a3, K
  li t4, 0                  /* 1: the previous one skips the next 4 bytes */
gen:
  lcg
  srli t0, s0, 32           /* an entry: (rand32 * TABLE_N) >> 32 */
  li t1, TABLE_N
  mul t0, t0, t1
  srli t0, t0, 32
  slli t0, t0, 3
  la t1, table
  add t1, t1, t0
  lwu t2, 0(t1)             /* base */
  lwu a0, 4(t1)             /* random bits */
  lcg
  srli t3, s0, 16
  and t3, t3, a0
  or t2, t2, t3
  andi t0, t2, 3
  li t1, 3
  beq t0, t1, 1f
  bnez t4, gen              /* after a branch or jal: a 32-bit one, the 4 bytes it skips */
  sh t2, 0(a2)              /* compressed */
  addi a2, a2, 2
  j 2f
1:
  sh t2, 0(a2)              /* 32-bit, maybe at an odd halfword */
  srli t0, t2, 16
  sh t0, 2(a2)
  addi a2, a2, 4
  andi t0, t2, 0x7f
  addi t0, t0, -0x63        /* branch */
  seqz t4, t0
  andi t0, t2, 0x7f
  addi t0, t0, -0x6f        /* jal */
  seqz t0, t0
  or t4, t4, t0
2:
  addi a3, a3, -1
  bnez a3, gen
  li t0, RET & 0xffff       /* two rets: a branch or jal at the end skips the first */
  sh t0, 0(a2)
  sh zero, 2(a2)
  sh t0, 4(a2)
  sh zero, 6(a2)
  fence.i

  /* seed x16..x29: a random value shifted right (arithmetic) by a random amount */
  .irp r, x16, x17, x18, x19, x20, x21, x22, x23, x24, x25, x26, x27, x28, x29
  lcg
  sra \r, s0, s0
  .endr
  li x30, 0x8000000000000000
  li x31, -1
  li a2, DATA_BASE + 2048 + 2 /* x12: misaligned for AMOs */
  li a3, NOTHING_MAPPED     /* x13 */
  jalr ra, 0(a1)
  .irp r, x16, x17, x18, x19, x20, x21, x22, x23, x24, x25, x26, x27, x28, x29, x30, x31
  fold \r
  .endr
  addi a4, a4, 1
  li t0, ROUNDS
  bltu a4, t0, round

  /* and what the stores left */
  li a2, DATA_BASE
  li a3, DATA_BASE + 4096
2:
  ld t1, 0(a2)
  fold t1
  addi a2, a2, 8
  bltu a2, a3, 2b

  /* 16 hex digits and a newline */
  li a2, UART0
  li t2, 16
hex:
  srli t0, s1, 60
  slli s1, s1, 4
  li t1, 10
  bltu t0, t1, 1f
  addi t0, t0, 'a' - '0' - 10
1:
  addi t0, t0, '0'
  sb t0, 0(a2)
  addi t2, t2, -1
  bnez t2, hex
  li t0, '\n'
  sb t0, 0(a2)
  test_pass

  /* Only the random code may trap (t0..t2 are free while it runs). */
  .balign 4
trap:
  csrr t0, mepc
  li t1, CODE_BASE
  bltu t0, t1, 9f
  li t1, CODE_BASE + 16 * SLOT
  bgeu t0, t1, 9f
  csrr t1, mcause
  fold t1
  csrr t1, mtval
  fold t1
  lhu t1, 0(t0)             /* on past it: 2 or 4 bytes */
  andi t1, t1, 3
  addi t0, t0, 2
  li t2, 3
  bne t1, t2, 1f
  addi t0, t0, 2
1:
  csrw mepc, t0
  mret
9:
  test_fail 9

  .section .rodata
  .balign 8
table:
  r 0x00, 0, 0x33           /* add */
  r 0x20, 0, 0x33           /* sub */
  r 0x00, 1, 0x33           /* sll */
  r 0x00, 2, 0x33           /* slt */
  r 0x00, 3, 0x33           /* sltu */
  r 0x00, 4, 0x33           /* xor */
  r 0x00, 5, 0x33           /* srl */
  r 0x20, 5, 0x33           /* sra */
  r 0x00, 6, 0x33           /* or */
  r 0x00, 7, 0x33           /* and */
  r 0x01, 0, 0x33           /* mul */
  r 0x01, 1, 0x33           /* mulh */
  r 0x01, 2, 0x33           /* mulhsu */
  r 0x01, 3, 0x33           /* mulhu */
  r 0x01, 4, 0x33           /* div */
  r 0x01, 5, 0x33           /* divu */
  r 0x01, 6, 0x33           /* rem */
  r 0x01, 7, 0x33           /* remu */
  r 0x00, 0, 0x3b           /* addw */
  r 0x20, 0, 0x3b           /* subw */
  r 0x00, 1, 0x3b           /* sllw */
  r 0x00, 5, 0x3b           /* srlw */
  r 0x20, 5, 0x3b           /* sraw */
  r 0x01, 0, 0x3b           /* mulw */
  r 0x01, 4, 0x3b           /* divw */
  r 0x01, 5, 0x3b           /* divuw */
  r 0x01, 6, 0x3b           /* remw */
  r 0x01, 7, 0x3b           /* remuw */
  i 0, 0x13                 /* addi */
  i 2, 0x13                 /* slti */
  i 3, 0x13                 /* sltiu */
  i 4, 0x13                 /* xori */
  i 6, 0x13                 /* ori */
  i 7, 0x13                 /* andi */
  i 0, 0x1b                 /* addiw */
  shi 0x00, 1, 0x13, 6      /* slli */
  shi 0x00, 5, 0x13, 6      /* srli */
  shi 0x10, 5, 0x13, 6      /* srai */
  shi 0x00, 1, 0x1b, 5      /* slliw */
  shi 0x00, 5, 0x1b, 5      /* srliw */
  shi 0x10, 5, 0x1b, 5      /* sraiw */
  u 0x37                    /* lui */
  u 0x17                    /* auipc */
  b 0                       /* beq */
  b 1                       /* bne */
  b 4                       /* blt */
  b 5                       /* bge */
  b 6                       /* bltu */
  b 7                       /* bgeu */
  .word 0x0080006f, 0       /* jal x0, 8 */
  ld_ 0                     /* lb */
  ld_ 1                     /* lh */
  ld_ 2                     /* lw */
  ld_ 3                     /* ld */
  ld_ 4                     /* lbu */
  ld_ 5                     /* lhu */
  ld_ 6                     /* lwu */
  st_ 0                     /* sb */
  st_ 1                     /* sh */
  st_ 2                     /* sw */
  st_ 3                     /* sd */
  amo 0x00, 2               /* amoadd.w */
  amo 0x01, 2               /* amoswap.w */
  amo 0x10, 2               /* amomin.w */
  amo 0x1c, 2               /* amomaxu.w */
  amo 0x00, 3               /* amoadd.d */
  amo 0x01, 3               /* amoswap.d */
  amo 0x04, 3               /* amoxor.d */
  amo 0x08, 3               /* amoor.d */
  amo 0x0c, 3               /* amoand.d */
  amo 0x10, 3               /* amomin.d */
  amo 0x14, 3               /* amomax.d */
  amo 0x18, 3               /* amominu.d */
  .word (0xb02 << 20) | (2 << 12) | 0x73 | RD_SET, RD_MASK /* csrr minstret */
  .word (0xc02 << 20) | (2 << 12) | 0x73 | RD_SET, RD_MASK /* rdinstret */
  fd 0x79, 0, 0             /* fmv.d.x */
  fd 0x71, 0, 0             /* fmv.x.d */
  fd 0x01, -1               /* fadd.d */
  fd 0x09, -1               /* fmul.d */
  fd 0x11, -1, 2            /* fsgnjx.d */
  fd 0x69, 2                /* fcvt.d.l */
  fd 0x61, 2                /* fcvt.l.d */
  fd 0x51, -1, 1            /* flt.d */
  c 0x0001, CI_MASK         /* c.addi */
  c 0x2001, CI_MASK         /* c.addiw */
  c 0x4001, CI_MASK         /* c.li */
  c 0x6005, (1 << 12) | RD_MASK | (0xf << 3) /* c.lui, nzimm[12] set: never 0 */
  c 0x0002, CI_MASK         /* c.slli */
  c 0x8042, RD_MASK | (0xf << 2) /* c.mv, rs2 in x16..x31 */
  c 0x9042, RD_MASK | (0xf << 2) /* c.add */
  .word (3 << 12) | 0x03 | RD_SET | (13 << 15), 0xfff00000 | RD_MASK /* ld at x13 */
  .word (2 << 12) | 0x23 | RS2_SET | (13 << 15), 0xfe000000 | RS2_MASK | (0x1f << 7) /* sw at x13 */
  /* amoadd.d and amoswap.w at x12 */
  .word (3 << 12) | 0x2f | RD_SET | RS2_SET | (12 << 15), (3 << 25) | RD_MASK | RS2_MASK
  .word (2 << 12) | 0x2f | (0x01 << 27) | RD_SET | RS2_SET | (12 << 15), RD_MASK | RS2_MASK
  .word 0x00000073, 0       /* ecall */
  .word 0x00100073, 0       /* ebreak */
  .word 0x00000000, 0       /* c.unimp */
  .word (0xf14 << 20) | (1 << 12) | 0x73 | RD_SET | RS1_SET, RD_MASK | RS1_MASK /* csrrw mhartid */
table_end:
  .if table_end - table != TABLE_N * 8
  .error "TABLE_N is not the number of table entries"
  .endif
