/* The instructions of Zicond, Zacas and Zcb, which binutils 2.40 (Debian 12's) does not
 * know, as assembler macros over .insn with the fields the specifications give them.
 * Included by test_macros.h. */
#ifndef VESSEL_ISA_NEWER_INSNS_H
#define VESSEL_ISA_NEWER_INSNS_H

/* Zicond's czero.eqz and czero.nez, which binutils 2.40 does not know: the
 * fields the specification gives them (OP, funct7 0000111, funct3 101 and 111). */
.macro czero.eqz rd, rs1, rs2
  .insn r 0x33, 5, 7, \rd, \rs1, \rs2
.endm
.macro czero.nez rd, rs1, rs2
  .insn r 0x33, 7, 7, \rd, \rs1, \rs2
.endm

/* Zacas, which binutils 2.40 does not know: AMO, funct5 00101, the width in funct3 (2 word,
 * 3 doubleword, 4 quadword) and aq/rl in funct7's low bits. The address register is written
 * bare: amocas.w rd, rs2, rs1 stands for amocas.w rd, rs2, (rs1). */
.macro amocas.w rd, rs2, rs1
  .insn r 0x2f, 2, 0x14, \rd, \rs1, \rs2
.endm
.macro amocas.d rd, rs2, rs1
  .insn r 0x2f, 3, 0x14, \rd, \rs1, \rs2
.endm
.macro amocas.q rd, rs2, rs1
  .insn r 0x2f, 4, 0x14, \rd, \rs1, \rs2
.endm
.macro amocas.q.aqrl rd, rs2, rs1
  .insn r 0x2f, 4, 0x17, \rd, \rs1, \rs2
.endm

/* Zcb, which binutils 2.40 does not know either: .insn ca with the fields the
 * specification gives each one (funct6 at 15:10, a register at 9:7, funct2 at 6:5, a
 * register at 4:2). The loads and stores take the offset as an operand of its own:
 * c.lbu rd, uimm, rs1 stands for c.lbu rd, uimm(rs1). */
.macro zcb.ca op, funct6, funct2, r1, r2
  .option push
  .option rvc
  .insn ca \op, \funct6, \funct2, \r1, \r2
  .option pop
.endm
.macro c.lbu rd, uimm, rs1
  zcb.ca 0, 0x20, (((\uimm) & 1) << 1) | ((\uimm) >> 1), \rs1, \rd
.endm
.macro c.lhu rd, uimm, rs1
  zcb.ca 0, 0x21, (\uimm) >> 1, \rs1, \rd
.endm
.macro c.lh rd, uimm, rs1
  zcb.ca 0, 0x21, 2 | ((\uimm) >> 1), \rs1, \rd
.endm
.macro c.sb rs2, uimm, rs1
  zcb.ca 0, 0x22, (((\uimm) & 1) << 1) | ((\uimm) >> 1), \rs1, \rs2
.endm
.macro c.sh rs2, uimm, rs1
  zcb.ca 0, 0x23, (\uimm) >> 1, \rs1, \rs2
.endm
/* The unary ones: funct2 11 and the operation in bits 4:2, as register x8 + it. */
.macro c.zext.b rd
  zcb.ca 1, 0x27, 3, \rd, x8
.endm
.macro c.sext.b rd
  zcb.ca 1, 0x27, 3, \rd, x9
.endm
.macro c.zext.h rd
  zcb.ca 1, 0x27, 3, \rd, x10
.endm
.macro c.sext.h rd
  zcb.ca 1, 0x27, 3, \rd, x11
.endm
.macro c.zext.w rd
  zcb.ca 1, 0x27, 3, \rd, x12
.endm
.macro c.not rd
  zcb.ca 1, 0x27, 3, \rd, x13
.endm
.macro c.mul rd, rs2
  zcb.ca 1, 0x27, 2, \rd, \rs2
.endm

#endif
