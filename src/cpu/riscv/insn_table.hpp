// The RV64GC instruction table, with Zba, Zbb, Zbs, Zicond, Zicbom, Zicboz, Svinval, Zacas and
// Zfhmin (and Zcb among the compressed rows): the one source of truth for the decoder, the
// disassembler, the interpreter's dispatch and the translator.
// Each row is
//   X(id, mnemonic, match, mask, imm_kind, operands, extension, flags)
// An instruction word w is this instruction when (w & mask) == match. No two rows overlap
// (decoder_test checks it). Encodings are from the RISC-V unprivileged and privileged manuals.
//
// imm_kind says how the immediate is formed (see ImmKind in decoded.hpp). operands is the
// assembler syntax for the disassembler, one letter per operand:
//   d rd   s rs1   t rs2        D frd  S frs1  T frs2  R frs3
//   i imm  o imm(rs1)  p pc-relative target  c csr  z uimm5 in the rs1 field  m rounding mode
//   a aq/rl suffix (printed after the mnemonic)  f fence pred/succ
//
// flags is what the decoder and the translator know about an instruction without running it
// (insn_flags below; read it through op_flags() and its helpers in decoder.hpp, because the
// F_ spellings exist only inside this file):
//   F_LD, F_ST     reads, writes memory: loads (FP too) and LR read, stores (FP too) and SC
//                  write, an AMO does both
//   F_W1 .. F_W16  the memory access width in bytes (exactly one on every F_LD/F_ST row;
//                  16 is amocas.q's)
//   F_SIGNED       the value read is sign-extended into rd (lb, lh, lw, lr.w, amo*.w)
//   F_RD           writes an integer rd, so x0 decodes to the sink (FP destinations do not)
//   F_RM           has a rounding-mode field (funct3): 5 and 6 are illegal at decode time
//   F_END          ends a block: a control transfer, or system state the next instruction
//                  may depend on (CSRs, xRET, WFI, fences of translation or fetch)
//   F_BR           a conditional branch: the block goes on past it, and is left where it is
//                  taken (so a loop's test and the code after it share one block)
//   F_TRAP         may raise an exception here: memory accesses, every F/D/Zfhmin instruction (FS
//                  off), ECALL/EBREAK, CSRs, xRET, WFI, SFENCE.VMA and Svinval's (privilege,
//                  TSR/TW/TVM),
//                  and the cache-block operations (menvcfg/senvcfg, faults); these are not
//                  F_LD/F_ST, since they reach memory only through their semantics.
//                  Jumps and branches never do: C is always on (misa is read-only), so no
//                  target is misaligned; nor does M (division by zero has a result), nor
//                  Zba, Zbb, Zbs or Zicond (a hart without one decodes its rows as illegal)
#pragma once

#include <cstdint>

namespace vessel::rv::insn_flags {
// The width bits are the width: (flags & kWidthMask) is the access size in bytes.
inline constexpr uint32_t kW1 = 1u << 0;
inline constexpr uint32_t kW2 = 1u << 1;
inline constexpr uint32_t kW4 = 1u << 2;
inline constexpr uint32_t kW8 = 1u << 3;
inline constexpr uint32_t kW16 = 1u << 4;  // amocas.q
inline constexpr uint32_t kWidthMask = kW1 | kW2 | kW4 | kW8 | kW16;
inline constexpr uint32_t kLoad = 1u << 5;
inline constexpr uint32_t kStore = 1u << 6;
inline constexpr uint32_t kSigned = 1u << 7;
inline constexpr uint32_t kWritesRd = 1u << 8;
inline constexpr uint32_t kUsesRm = 1u << 9;
inline constexpr uint32_t kEndsBlock = 1u << 10;
inline constexpr uint32_t kMayTrap = 1u << 11;
inline constexpr uint32_t kBranch = 1u << 12;
}  // namespace vessel::rv::insn_flags

// clang-format off
#define VESSEL_RV_BASE_INSNS(X) \
  /* RV64I */ \
  X(lui,        "lui",        0x00000037, 0x0000007f, kU,      "d,i",       RV64I,    F_RD) \
  X(auipc,      "auipc",      0x00000017, 0x0000007f, kU,      "d,i",       RV64I,    F_RD) \
  X(jal,        "jal",        0x0000006f, 0x0000007f, kJ,      "d,p",       RV64I,    F_RD|F_END) \
  X(jalr,       "jalr",       0x00000067, 0x0000707f, kI,      "d,o",       RV64I,    F_RD|F_END) \
  X(beq,        "beq",        0x00000063, 0x0000707f, kB,      "s,t,p",     RV64I,    F_BR) \
  X(bne,        "bne",        0x00001063, 0x0000707f, kB,      "s,t,p",     RV64I,    F_BR) \
  X(blt,        "blt",        0x00004063, 0x0000707f, kB,      "s,t,p",     RV64I,    F_BR) \
  X(bge,        "bge",        0x00005063, 0x0000707f, kB,      "s,t,p",     RV64I,    F_BR) \
  X(bltu,       "bltu",       0x00006063, 0x0000707f, kB,      "s,t,p",     RV64I,    F_BR) \
  X(bgeu,       "bgeu",       0x00007063, 0x0000707f, kB,      "s,t,p",     RV64I,    F_BR) \
  X(lb,         "lb",         0x00000003, 0x0000707f, kI,      "d,o",       RV64I,    F_LD|F_W1|F_SIGNED|F_RD|F_TRAP) \
  X(lh,         "lh",         0x00001003, 0x0000707f, kI,      "d,o",       RV64I,    F_LD|F_W2|F_SIGNED|F_RD|F_TRAP) \
  X(lw,         "lw",         0x00002003, 0x0000707f, kI,      "d,o",       RV64I,    F_LD|F_W4|F_SIGNED|F_RD|F_TRAP) \
  X(ld,         "ld",         0x00003003, 0x0000707f, kI,      "d,o",       RV64I,    F_LD|F_W8|F_RD|F_TRAP) \
  X(lbu,        "lbu",        0x00004003, 0x0000707f, kI,      "d,o",       RV64I,    F_LD|F_W1|F_RD|F_TRAP) \
  X(lhu,        "lhu",        0x00005003, 0x0000707f, kI,      "d,o",       RV64I,    F_LD|F_W2|F_RD|F_TRAP) \
  X(lwu,        "lwu",        0x00006003, 0x0000707f, kI,      "d,o",       RV64I,    F_LD|F_W4|F_RD|F_TRAP) \
  X(sb,         "sb",         0x00000023, 0x0000707f, kS,      "t,o",       RV64I,    F_ST|F_W1|F_TRAP) \
  X(sh,         "sh",         0x00001023, 0x0000707f, kS,      "t,o",       RV64I,    F_ST|F_W2|F_TRAP) \
  X(sw,         "sw",         0x00002023, 0x0000707f, kS,      "t,o",       RV64I,    F_ST|F_W4|F_TRAP) \
  X(sd,         "sd",         0x00003023, 0x0000707f, kS,      "t,o",       RV64I,    F_ST|F_W8|F_TRAP) \
  X(addi,       "addi",       0x00000013, 0x0000707f, kI,      "d,s,i",     RV64I,    F_RD) \
  X(slti,       "slti",       0x00002013, 0x0000707f, kI,      "d,s,i",     RV64I,    F_RD) \
  X(sltiu,      "sltiu",      0x00003013, 0x0000707f, kI,      "d,s,i",     RV64I,    F_RD) \
  X(xori,       "xori",       0x00004013, 0x0000707f, kI,      "d,s,i",     RV64I,    F_RD) \
  X(ori,        "ori",        0x00006013, 0x0000707f, kI,      "d,s,i",     RV64I,    F_RD) \
  X(andi,       "andi",       0x00007013, 0x0000707f, kI,      "d,s,i",     RV64I,    F_RD) \
  X(slli,       "slli",       0x00001013, 0xfc00707f, kShamt6, "d,s,i",     RV64I,    F_RD) \
  X(srli,       "srli",       0x00005013, 0xfc00707f, kShamt6, "d,s,i",     RV64I,    F_RD) \
  X(srai,       "srai",       0x40005013, 0xfc00707f, kShamt6, "d,s,i",     RV64I,    F_RD) \
  X(add,        "add",        0x00000033, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(sub,        "sub",        0x40000033, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(sll,        "sll",        0x00001033, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(slt,        "slt",        0x00002033, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(sltu,       "sltu",       0x00003033, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(xor_,       "xor",        0x00004033, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(srl,        "srl",        0x00005033, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(sra,        "sra",        0x40005033, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(or_,        "or",         0x00006033, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(and_,       "and",        0x00007033, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(addiw,      "addiw",      0x0000001b, 0x0000707f, kI,      "d,s,i",     RV64I,    F_RD) \
  X(slliw,      "slliw",      0x0000101b, 0xfe00707f, kShamt5, "d,s,i",     RV64I,    F_RD) \
  X(srliw,      "srliw",      0x0000501b, 0xfe00707f, kShamt5, "d,s,i",     RV64I,    F_RD) \
  X(sraiw,      "sraiw",      0x4000501b, 0xfe00707f, kShamt5, "d,s,i",     RV64I,    F_RD) \
  X(addw,       "addw",       0x0000003b, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(subw,       "subw",       0x4000003b, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(sllw,       "sllw",       0x0000103b, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(srlw,       "srlw",       0x0000503b, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  X(sraw,       "sraw",       0x4000503b, 0xfe00707f, kNone,   "d,s,t",     RV64I,    F_RD) \
  /* fence covers fence.tso and pause (Zihintpause): all are hints or orderings this */ \
  /* single-copy-atomic, in-order implementation already satisfies. So are the other */ \
  /* hints: ori with rd = x0 is Zicbop's prefetch.i/r/w, add with rd = rs1 = x0 */ \
  /* Zihintntl's ntl.* (c.add with rd = x0 their compressed forms). */ \
  X(fence,      "fence",      0x0000000f, 0x0000707f, kNone,   "f",         RV64I,    0) \
  X(ecall,      "ecall",      0x00000073, 0xffffffff, kNone,   "",          RV64I,    F_END|F_TRAP) \
  X(ebreak,     "ebreak",     0x00100073, 0xffffffff, kNone,   "",          RV64I,    F_END|F_TRAP) \
  /* Zifencei */ \
  X(fence_i,    "fence.i",    0x0000100f, 0x0000707f, kNone,   "",          Zifencei, F_END) \
  /* Zicbom, Zicboz: the 64-byte cache block that holds rs1. The host's caches are */ \
  /* coherent, so clean, flush and inval only check that the block may be accessed. */ \
  X(cbo_inval,  "cbo.inval",  0x0000200f, 0xfff07fff, kNone,   "(s)",       Zicbom,   F_TRAP) \
  X(cbo_clean,  "cbo.clean",  0x0010200f, 0xfff07fff, kNone,   "(s)",       Zicbom,   F_TRAP) \
  X(cbo_flush,  "cbo.flush",  0x0020200f, 0xfff07fff, kNone,   "(s)",       Zicbom,   F_TRAP) \
  X(cbo_zero,   "cbo.zero",   0x0040200f, 0xfff07fff, kNone,   "(s)",       Zicboz,   F_TRAP) \
  /* Zicsr */ \
  X(csrrw,      "csrrw",      0x00001073, 0x0000707f, kCsr,    "d,c,s",     Zicsr,    F_RD|F_TRAP) \
  X(csrrs,      "csrrs",      0x00002073, 0x0000707f, kCsr,    "d,c,s",     Zicsr,    F_RD|F_TRAP) \
  X(csrrc,      "csrrc",      0x00003073, 0x0000707f, kCsr,    "d,c,s",     Zicsr,    F_RD|F_TRAP) \
  X(csrrwi,     "csrrwi",     0x00005073, 0x0000707f, kCsr,    "d,c,z",     Zicsr,    F_RD|F_TRAP) \
  X(csrrsi,     "csrrsi",     0x00006073, 0x0000707f, kCsr,    "d,c,z",     Zicsr,    F_RD|F_TRAP) \
  X(csrrci,     "csrrci",     0x00007073, 0x0000707f, kCsr,    "d,c,z",     Zicsr,    F_RD|F_TRAP) \
  /* Privileged */ \
  X(sret,       "sret",       0x10200073, 0xffffffff, kNone,   "",          Priv,     F_END|F_TRAP) \
  X(mret,       "mret",       0x30200073, 0xffffffff, kNone,   "",          Priv,     F_END|F_TRAP) \
  X(wfi,        "wfi",        0x10500073, 0xffffffff, kNone,   "",          Priv,     F_END|F_TRAP) \
  X(sfence_vma, "sfence.vma", 0x12000073, 0xfe007fff, kNone,   "s,t",       Priv,     F_END|F_TRAP) \
  /* Svinval: sfence.vma split into the invalidation and the fences that order it */ \
  X(sinval_vma, "sinval.vma", 0x16000073, 0xfe007fff, kNone,   "s,t",       Svinval,  F_END|F_TRAP) \
  X(sfence_w_inval, "sfence.w.inval", 0x18000073, 0xffffffff, kNone, "",    Svinval,  F_END|F_TRAP) \
  X(sfence_inval_ir, "sfence.inval.ir", 0x18100073, 0xffffffff, kNone, "",  Svinval,  F_END|F_TRAP) \
  /* H: the hypervisor's fences, and loads and stores as the guest (V=1) would make them. */ \
  /* A store that changes the running block's code leaves it (kBreak), as cbo.zero does. */ \
  /* They reach memory only through their semantics (two-stage translation each time). */ \
  X(hfence_vvma, "hfence.vvma", 0x22000073, 0xfe007fff, kNone,  "s,t",       H,        F_END|F_TRAP) \
  X(hfence_gvma, "hfence.gvma", 0x62000073, 0xfe007fff, kNone,  "s,t",       H,        F_END|F_TRAP) \
  /* Svinval's forms of the two (illegal on a hart without Svinval, checked when they run) */ \
  X(hinval_vvma, "hinval.vvma", 0x26000073, 0xfe007fff, kNone,  "s,t",       H,        F_END|F_TRAP) \
  X(hinval_gvma, "hinval.gvma", 0x66000073, 0xfe007fff, kNone,  "s,t",       H,        F_END|F_TRAP) \
  X(hlv_b,      "hlv.b",      0x60004073, 0xfff0707f, kNone,   "d,(s)",     H,        F_RD|F_TRAP) \
  X(hlv_bu,     "hlv.bu",     0x60104073, 0xfff0707f, kNone,   "d,(s)",     H,        F_RD|F_TRAP) \
  X(hlv_h,      "hlv.h",      0x64004073, 0xfff0707f, kNone,   "d,(s)",     H,        F_RD|F_TRAP) \
  X(hlv_hu,     "hlv.hu",     0x64104073, 0xfff0707f, kNone,   "d,(s)",     H,        F_RD|F_TRAP) \
  X(hlvx_hu,    "hlvx.hu",    0x64304073, 0xfff0707f, kNone,   "d,(s)",     H,        F_RD|F_TRAP) \
  X(hlv_w,      "hlv.w",      0x68004073, 0xfff0707f, kNone,   "d,(s)",     H,        F_RD|F_TRAP) \
  X(hlv_wu,     "hlv.wu",     0x68104073, 0xfff0707f, kNone,   "d,(s)",     H,        F_RD|F_TRAP) \
  X(hlvx_wu,    "hlvx.wu",    0x68304073, 0xfff0707f, kNone,   "d,(s)",     H,        F_RD|F_TRAP) \
  X(hlv_d,      "hlv.d",      0x6c004073, 0xfff0707f, kNone,   "d,(s)",     H,        F_RD|F_TRAP) \
  X(hsv_b,      "hsv.b",      0x62004073, 0xfe007fff, kNone,   "t,(s)",     H,        F_TRAP) \
  X(hsv_h,      "hsv.h",      0x66004073, 0xfe007fff, kNone,   "t,(s)",     H,        F_TRAP) \
  X(hsv_w,      "hsv.w",      0x6a004073, 0xfe007fff, kNone,   "t,(s)",     H,        F_TRAP) \
  X(hsv_d,      "hsv.d",      0x6e004073, 0xfe007fff, kNone,   "t,(s)",     H,        F_TRAP) \
  /* M */ \
  X(mul,        "mul",        0x02000033, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  X(mulh,       "mulh",       0x02001033, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  X(mulhsu,     "mulhsu",     0x02002033, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  X(mulhu,      "mulhu",      0x02003033, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  X(div,        "div",        0x02004033, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  X(divu,       "divu",       0x02005033, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  X(rem,        "rem",        0x02006033, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  X(remu,       "remu",       0x02007033, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  X(mulw,       "mulw",       0x0200003b, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  X(divw,       "divw",       0x0200403b, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  X(divuw,      "divuw",      0x0200503b, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  X(remw,       "remw",       0x0200603b, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  X(remuw,      "remuw",      0x0200703b, 0xfe00707f, kNone,   "d,s,t",     M,        F_RD) \
  /* Zba: address generation (the .uw forms take rs1 as an unsigned word) */ \
  X(add_uw,     "add.uw",     0x0800003b, 0xfe00707f, kNone,   "d,s,t",     Zba,      F_RD) \
  X(sh1add,     "sh1add",     0x20002033, 0xfe00707f, kNone,   "d,s,t",     Zba,      F_RD) \
  X(sh2add,     "sh2add",     0x20004033, 0xfe00707f, kNone,   "d,s,t",     Zba,      F_RD) \
  X(sh3add,     "sh3add",     0x20006033, 0xfe00707f, kNone,   "d,s,t",     Zba,      F_RD) \
  X(sh1add_uw,  "sh1add.uw",  0x2000203b, 0xfe00707f, kNone,   "d,s,t",     Zba,      F_RD) \
  X(sh2add_uw,  "sh2add.uw",  0x2000403b, 0xfe00707f, kNone,   "d,s,t",     Zba,      F_RD) \
  X(sh3add_uw,  "sh3add.uw",  0x2000603b, 0xfe00707f, kNone,   "d,s,t",     Zba,      F_RD) \
  X(slli_uw,    "slli.uw",    0x0800101b, 0xfc00707f, kShamt6, "d,s,i",     Zba,      F_RD) \
  /* Zbb: basic bit manipulation. zext.h is RV64's packw with rs2 = x0, the only form Zbb has */ \
  X(andn,       "andn",       0x40007033, 0xfe00707f, kNone,   "d,s,t",     Zbb,      F_RD) \
  X(orn,        "orn",        0x40006033, 0xfe00707f, kNone,   "d,s,t",     Zbb,      F_RD) \
  X(xnor,       "xnor",       0x40004033, 0xfe00707f, kNone,   "d,s,t",     Zbb,      F_RD) \
  X(clz,        "clz",        0x60001013, 0xfff0707f, kNone,   "d,s",       Zbb,      F_RD) \
  X(ctz,        "ctz",        0x60101013, 0xfff0707f, kNone,   "d,s",       Zbb,      F_RD) \
  X(cpop,       "cpop",       0x60201013, 0xfff0707f, kNone,   "d,s",       Zbb,      F_RD) \
  X(clzw,       "clzw",       0x6000101b, 0xfff0707f, kNone,   "d,s",       Zbb,      F_RD) \
  X(ctzw,       "ctzw",       0x6010101b, 0xfff0707f, kNone,   "d,s",       Zbb,      F_RD) \
  X(cpopw,      "cpopw",      0x6020101b, 0xfff0707f, kNone,   "d,s",       Zbb,      F_RD) \
  X(max,        "max",        0x0a006033, 0xfe00707f, kNone,   "d,s,t",     Zbb,      F_RD) \
  X(maxu,       "maxu",       0x0a007033, 0xfe00707f, kNone,   "d,s,t",     Zbb,      F_RD) \
  X(min,        "min",        0x0a004033, 0xfe00707f, kNone,   "d,s,t",     Zbb,      F_RD) \
  X(minu,       "minu",       0x0a005033, 0xfe00707f, kNone,   "d,s,t",     Zbb,      F_RD) \
  X(sext_b,     "sext.b",     0x60401013, 0xfff0707f, kNone,   "d,s",       Zbb,      F_RD) \
  X(sext_h,     "sext.h",     0x60501013, 0xfff0707f, kNone,   "d,s",       Zbb,      F_RD) \
  X(zext_h,     "zext.h",     0x0800403b, 0xfff0707f, kNone,   "d,s",       Zbb,      F_RD) \
  X(rol,        "rol",        0x60001033, 0xfe00707f, kNone,   "d,s,t",     Zbb,      F_RD) \
  X(ror,        "ror",        0x60005033, 0xfe00707f, kNone,   "d,s,t",     Zbb,      F_RD) \
  X(rori,       "rori",       0x60005013, 0xfc00707f, kShamt6, "d,s,i",     Zbb,      F_RD) \
  X(rolw,       "rolw",       0x6000103b, 0xfe00707f, kNone,   "d,s,t",     Zbb,      F_RD) \
  X(rorw,       "rorw",       0x6000503b, 0xfe00707f, kNone,   "d,s,t",     Zbb,      F_RD) \
  X(roriw,      "roriw",      0x6000501b, 0xfe00707f, kShamt5, "d,s,i",     Zbb,      F_RD) \
  X(orc_b,      "orc.b",      0x28705013, 0xfff0707f, kNone,   "d,s",       Zbb,      F_RD) \
  X(rev8,       "rev8",       0x6b805013, 0xfff0707f, kNone,   "d,s",       Zbb,      F_RD) \
  /* Zbs: single-bit instructions (the bit index is rs2 or shamt, mod 64) */ \
  X(bclr,       "bclr",       0x48001033, 0xfe00707f, kNone,   "d,s,t",     Zbs,      F_RD) \
  X(bclri,      "bclri",      0x48001013, 0xfc00707f, kShamt6, "d,s,i",     Zbs,      F_RD) \
  X(bext,       "bext",       0x48005033, 0xfe00707f, kNone,   "d,s,t",     Zbs,      F_RD) \
  X(bexti,      "bexti",      0x48005013, 0xfc00707f, kShamt6, "d,s,i",     Zbs,      F_RD) \
  X(binv,       "binv",       0x68001033, 0xfe00707f, kNone,   "d,s,t",     Zbs,      F_RD) \
  X(binvi,      "binvi",      0x68001013, 0xfc00707f, kShamt6, "d,s,i",     Zbs,      F_RD) \
  X(bset,       "bset",       0x28001033, 0xfe00707f, kNone,   "d,s,t",     Zbs,      F_RD) \
  X(bseti,      "bseti",      0x28001013, 0xfc00707f, kShamt6, "d,s,i",     Zbs,      F_RD) \
  /* Zicond: integer conditional operations */ \
  X(czero_eqz,  "czero.eqz",  0x0e005033, 0xfe00707f, kNone,   "d,s,t",     Zicond,   F_RD) \
  X(czero_nez,  "czero.nez",  0x0e007033, 0xfe00707f, kNone,   "d,s,t",     Zicond,   F_RD) \
  /* A */ \
  X(lr_w,       "lr.w",       0x1000202f, 0xf9f0707f, kNone,   "a,d,(s)",   A,        F_LD|F_W4|F_SIGNED|F_RD|F_TRAP) \
  X(sc_w,       "sc.w",       0x1800202f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_ST|F_W4|F_RD|F_TRAP) \
  X(amoswap_w,  "amoswap.w",  0x0800202f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W4|F_SIGNED|F_RD|F_TRAP) \
  X(amoadd_w,   "amoadd.w",   0x0000202f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W4|F_SIGNED|F_RD|F_TRAP) \
  X(amoxor_w,   "amoxor.w",   0x2000202f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W4|F_SIGNED|F_RD|F_TRAP) \
  X(amoand_w,   "amoand.w",   0x6000202f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W4|F_SIGNED|F_RD|F_TRAP) \
  X(amoor_w,    "amoor.w",    0x4000202f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W4|F_SIGNED|F_RD|F_TRAP) \
  X(amomin_w,   "amomin.w",   0x8000202f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W4|F_SIGNED|F_RD|F_TRAP) \
  X(amomax_w,   "amomax.w",   0xa000202f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W4|F_SIGNED|F_RD|F_TRAP) \
  X(amominu_w,  "amominu.w",  0xc000202f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W4|F_SIGNED|F_RD|F_TRAP) \
  X(amomaxu_w,  "amomaxu.w",  0xe000202f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W4|F_SIGNED|F_RD|F_TRAP) \
  X(lr_d,       "lr.d",       0x1000302f, 0xf9f0707f, kNone,   "a,d,(s)",   A,        F_LD|F_W8|F_RD|F_TRAP) \
  X(sc_d,       "sc.d",       0x1800302f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_ST|F_W8|F_RD|F_TRAP) \
  X(amoswap_d,  "amoswap.d",  0x0800302f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W8|F_RD|F_TRAP) \
  X(amoadd_d,   "amoadd.d",   0x0000302f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W8|F_RD|F_TRAP) \
  X(amoxor_d,   "amoxor.d",   0x2000302f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W8|F_RD|F_TRAP) \
  X(amoand_d,   "amoand.d",   0x6000302f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W8|F_RD|F_TRAP) \
  X(amoor_d,    "amoor.d",    0x4000302f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W8|F_RD|F_TRAP) \
  X(amomin_d,   "amomin.d",   0x8000302f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W8|F_RD|F_TRAP) \
  X(amomax_d,   "amomax.d",   0xa000302f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W8|F_RD|F_TRAP) \
  X(amominu_d,  "amominu.d",  0xc000302f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W8|F_RD|F_TRAP) \
  X(amomaxu_d,  "amomaxu.d",  0xe000302f, 0xf800707f, kNone,   "a,d,t,(s)", A,        F_LD|F_ST|F_W8|F_RD|F_TRAP) \
  /* Zacas: compare-and-swap, rd the expected value and then the old one (amocas.q: the */ \
  /* pairs rd, rd+1 and rs2, rs2+1, whose odd numbers are reserved: decode() rejects them) */ \
  X(amocas_w,   "amocas.w",   0x2800202f, 0xf800707f, kNone,   "a,d,t,(s)", Zacas,    F_LD|F_ST|F_W4|F_SIGNED|F_RD|F_TRAP) \
  X(amocas_d,   "amocas.d",   0x2800302f, 0xf800707f, kNone,   "a,d,t,(s)", Zacas,    F_LD|F_ST|F_W8|F_RD|F_TRAP) \
  X(amocas_q,   "amocas.q",   0x2800402f, 0xf800707f, kNone,   "a,d,t,(s)", Zacas,    F_LD|F_ST|F_W16|F_RD|F_TRAP) \
  /* F */ \
  X(flw,        "flw",        0x00002007, 0x0000707f, kI,      "D,o",       F,        F_LD|F_W4|F_TRAP) \
  X(fsw,        "fsw",        0x00002027, 0x0000707f, kS,      "T,o",       F,        F_ST|F_W4|F_TRAP) \
  X(fmadd_s,    "fmadd.s",    0x00000043, 0x0600007f, kNone,   "D,S,T,R,m", F,        F_RM|F_TRAP) \
  X(fmsub_s,    "fmsub.s",    0x00000047, 0x0600007f, kNone,   "D,S,T,R,m", F,        F_RM|F_TRAP) \
  X(fnmsub_s,   "fnmsub.s",   0x0000004b, 0x0600007f, kNone,   "D,S,T,R,m", F,        F_RM|F_TRAP) \
  X(fnmadd_s,   "fnmadd.s",   0x0000004f, 0x0600007f, kNone,   "D,S,T,R,m", F,        F_RM|F_TRAP) \
  X(fadd_s,     "fadd.s",     0x00000053, 0xfe00007f, kNone,   "D,S,T,m",   F,        F_RM|F_TRAP) \
  X(fsub_s,     "fsub.s",     0x08000053, 0xfe00007f, kNone,   "D,S,T,m",   F,        F_RM|F_TRAP) \
  X(fmul_s,     "fmul.s",     0x10000053, 0xfe00007f, kNone,   "D,S,T,m",   F,        F_RM|F_TRAP) \
  X(fdiv_s,     "fdiv.s",     0x18000053, 0xfe00007f, kNone,   "D,S,T,m",   F,        F_RM|F_TRAP) \
  X(fsqrt_s,    "fsqrt.s",    0x58000053, 0xfff0007f, kNone,   "D,S,m",     F,        F_RM|F_TRAP) \
  X(fsgnj_s,    "fsgnj.s",    0x20000053, 0xfe00707f, kNone,   "D,S,T",     F,        F_TRAP) \
  X(fsgnjn_s,   "fsgnjn.s",   0x20001053, 0xfe00707f, kNone,   "D,S,T",     F,        F_TRAP) \
  X(fsgnjx_s,   "fsgnjx.s",   0x20002053, 0xfe00707f, kNone,   "D,S,T",     F,        F_TRAP) \
  X(fmin_s,     "fmin.s",     0x28000053, 0xfe00707f, kNone,   "D,S,T",     F,        F_TRAP) \
  X(fmax_s,     "fmax.s",     0x28001053, 0xfe00707f, kNone,   "D,S,T",     F,        F_TRAP) \
  X(fcvt_w_s,   "fcvt.w.s",   0xc0000053, 0xfff0007f, kNone,   "d,S,m",     F,        F_RD|F_RM|F_TRAP) \
  X(fcvt_wu_s,  "fcvt.wu.s",  0xc0100053, 0xfff0007f, kNone,   "d,S,m",     F,        F_RD|F_RM|F_TRAP) \
  X(fcvt_l_s,   "fcvt.l.s",   0xc0200053, 0xfff0007f, kNone,   "d,S,m",     F,        F_RD|F_RM|F_TRAP) \
  X(fcvt_lu_s,  "fcvt.lu.s",  0xc0300053, 0xfff0007f, kNone,   "d,S,m",     F,        F_RD|F_RM|F_TRAP) \
  X(fmv_x_w,    "fmv.x.w",    0xe0000053, 0xfff0707f, kNone,   "d,S",       F,        F_RD|F_TRAP) \
  X(fclass_s,   "fclass.s",   0xe0001053, 0xfff0707f, kNone,   "d,S",       F,        F_RD|F_TRAP) \
  X(feq_s,      "feq.s",      0xa0002053, 0xfe00707f, kNone,   "d,S,T",     F,        F_RD|F_TRAP) \
  X(flt_s,      "flt.s",      0xa0001053, 0xfe00707f, kNone,   "d,S,T",     F,        F_RD|F_TRAP) \
  X(fle_s,      "fle.s",      0xa0000053, 0xfe00707f, kNone,   "d,S,T",     F,        F_RD|F_TRAP) \
  X(fcvt_s_w,   "fcvt.s.w",   0xd0000053, 0xfff0007f, kNone,   "D,s,m",     F,        F_RM|F_TRAP) \
  X(fcvt_s_wu,  "fcvt.s.wu",  0xd0100053, 0xfff0007f, kNone,   "D,s,m",     F,        F_RM|F_TRAP) \
  X(fcvt_s_l,   "fcvt.s.l",   0xd0200053, 0xfff0007f, kNone,   "D,s,m",     F,        F_RM|F_TRAP) \
  X(fcvt_s_lu,  "fcvt.s.lu",  0xd0300053, 0xfff0007f, kNone,   "D,s,m",     F,        F_RM|F_TRAP) \
  X(fmv_w_x,    "fmv.w.x",    0xf0000053, 0xfff0707f, kNone,   "D,s",       F,        F_TRAP) \
  /* D */ \
  X(fld,        "fld",        0x00003007, 0x0000707f, kI,      "D,o",       D,        F_LD|F_W8|F_TRAP) \
  X(fsd,        "fsd",        0x00003027, 0x0000707f, kS,      "T,o",       D,        F_ST|F_W8|F_TRAP) \
  X(fmadd_d,    "fmadd.d",    0x02000043, 0x0600007f, kNone,   "D,S,T,R,m", D,        F_RM|F_TRAP) \
  X(fmsub_d,    "fmsub.d",    0x02000047, 0x0600007f, kNone,   "D,S,T,R,m", D,        F_RM|F_TRAP) \
  X(fnmsub_d,   "fnmsub.d",   0x0200004b, 0x0600007f, kNone,   "D,S,T,R,m", D,        F_RM|F_TRAP) \
  X(fnmadd_d,   "fnmadd.d",   0x0200004f, 0x0600007f, kNone,   "D,S,T,R,m", D,        F_RM|F_TRAP) \
  X(fadd_d,     "fadd.d",     0x02000053, 0xfe00007f, kNone,   "D,S,T,m",   D,        F_RM|F_TRAP) \
  X(fsub_d,     "fsub.d",     0x0a000053, 0xfe00007f, kNone,   "D,S,T,m",   D,        F_RM|F_TRAP) \
  X(fmul_d,     "fmul.d",     0x12000053, 0xfe00007f, kNone,   "D,S,T,m",   D,        F_RM|F_TRAP) \
  X(fdiv_d,     "fdiv.d",     0x1a000053, 0xfe00007f, kNone,   "D,S,T,m",   D,        F_RM|F_TRAP) \
  X(fsqrt_d,    "fsqrt.d",    0x5a000053, 0xfff0007f, kNone,   "D,S,m",     D,        F_RM|F_TRAP) \
  X(fsgnj_d,    "fsgnj.d",    0x22000053, 0xfe00707f, kNone,   "D,S,T",     D,        F_TRAP) \
  X(fsgnjn_d,   "fsgnjn.d",   0x22001053, 0xfe00707f, kNone,   "D,S,T",     D,        F_TRAP) \
  X(fsgnjx_d,   "fsgnjx.d",   0x22002053, 0xfe00707f, kNone,   "D,S,T",     D,        F_TRAP) \
  X(fmin_d,     "fmin.d",     0x2a000053, 0xfe00707f, kNone,   "D,S,T",     D,        F_TRAP) \
  X(fmax_d,     "fmax.d",     0x2a001053, 0xfe00707f, kNone,   "D,S,T",     D,        F_TRAP) \
  X(fcvt_s_d,   "fcvt.s.d",   0x40100053, 0xfff0007f, kNone,   "D,S,m",     D,        F_RM|F_TRAP) \
  X(fcvt_d_s,   "fcvt.d.s",   0x42000053, 0xfff0007f, kNone,   "D,S,m",     D,        F_RM|F_TRAP) \
  X(feq_d,      "feq.d",      0xa2002053, 0xfe00707f, kNone,   "d,S,T",     D,        F_RD|F_TRAP) \
  X(flt_d,      "flt.d",      0xa2001053, 0xfe00707f, kNone,   "d,S,T",     D,        F_RD|F_TRAP) \
  X(fle_d,      "fle.d",      0xa2000053, 0xfe00707f, kNone,   "d,S,T",     D,        F_RD|F_TRAP) \
  X(fclass_d,   "fclass.d",   0xe2001053, 0xfff0707f, kNone,   "d,S",       D,        F_RD|F_TRAP) \
  X(fcvt_w_d,   "fcvt.w.d",   0xc2000053, 0xfff0007f, kNone,   "d,S,m",     D,        F_RD|F_RM|F_TRAP) \
  X(fcvt_wu_d,  "fcvt.wu.d",  0xc2100053, 0xfff0007f, kNone,   "d,S,m",     D,        F_RD|F_RM|F_TRAP) \
  X(fcvt_l_d,   "fcvt.l.d",   0xc2200053, 0xfff0007f, kNone,   "d,S,m",     D,        F_RD|F_RM|F_TRAP) \
  X(fcvt_lu_d,  "fcvt.lu.d",  0xc2300053, 0xfff0007f, kNone,   "d,S,m",     D,        F_RD|F_RM|F_TRAP) \
  X(fcvt_d_w,   "fcvt.d.w",   0xd2000053, 0xfff0007f, kNone,   "D,s,m",     D,        F_RM|F_TRAP) \
  X(fcvt_d_wu,  "fcvt.d.wu",  0xd2100053, 0xfff0007f, kNone,   "D,s,m",     D,        F_RM|F_TRAP) \
  X(fcvt_d_l,   "fcvt.d.l",   0xd2200053, 0xfff0007f, kNone,   "D,s,m",     D,        F_RM|F_TRAP) \
  X(fcvt_d_lu,  "fcvt.d.lu",  0xd2300053, 0xfff0007f, kNone,   "D,s,m",     D,        F_RM|F_TRAP) \
  X(fmv_x_d,    "fmv.x.d",    0xe2000053, 0xfff0707f, kNone,   "d,S",       D,        F_RD|F_TRAP) \
  X(fmv_d_x,    "fmv.d.x",    0xf2000053, 0xfff0707f, kNone,   "D,s",       D,        F_TRAP) \
  /* Zfhmin: half-precision loads, stores, moves and conversions (fmt 10) */ \
  X(flh,        "flh",        0x00001007, 0x0000707f, kI,      "D,o",       Zfhmin,   F_LD|F_W2|F_TRAP) \
  X(fsh,        "fsh",        0x00001027, 0x0000707f, kS,      "T,o",       Zfhmin,   F_ST|F_W2|F_TRAP) \
  X(fcvt_s_h,   "fcvt.s.h",   0x40200053, 0xfff0007f, kNone,   "D,S,m",     Zfhmin,   F_RM|F_TRAP) \
  X(fcvt_h_s,   "fcvt.h.s",   0x44000053, 0xfff0007f, kNone,   "D,S,m",     Zfhmin,   F_RM|F_TRAP) \
  X(fcvt_d_h,   "fcvt.d.h",   0x42200053, 0xfff0007f, kNone,   "D,S,m",     Zfhmin,   F_RM|F_TRAP) \
  X(fcvt_h_d,   "fcvt.h.d",   0x44100053, 0xfff0007f, kNone,   "D,S,m",     Zfhmin,   F_RM|F_TRAP) \
  X(fmv_x_h,    "fmv.x.h",    0xe4000053, 0xfff0707f, kNone,   "d,S",       Zfhmin,   F_RD|F_TRAP) \
  X(fmv_h_x,    "fmv.h.x",    0xf4000053, 0xfff0707f, kNone,   "D,s",       Zfhmin,   F_TRAP)

// RV64C and Zcb. A compressed row names the 16-bit pattern, the expander (compressed.cpp) that
// turns it into the base instruction it stands for, and its extension:
// X(id, mnemonic, match, mask, expander, extension). A hart without the row's extension, or
// without the extension of the instruction it expands to (Zbb for c.sext.b, Zba for
// c.zext.w), decodes it as illegal.
// Where one pattern covers several instructions whose split depends on a field being zero
// or nonzero (c.lui/c.addi16sp, c.jr/c.mv, c.ebreak/c.jalr/c.add), that is one row, because
// a match/mask pair cannot say "nonzero"; the expander makes the split.
#define VESSEL_RV_COMPRESSED_INSNS(X) \
  X(c_addi4spn, "c.addi4spn", 0x0000, 0xe003, c_addi4spn, C) \
  X(c_fld,      "c.fld",      0x2000, 0xe003, c_fld,      C) \
  X(c_lw,       "c.lw",       0x4000, 0xe003, c_lw,       C) \
  X(c_ld,       "c.ld",       0x6000, 0xe003, c_ld,       C) \
  X(c_fsd,      "c.fsd",      0xa000, 0xe003, c_fsd,      C) \
  X(c_sw,       "c.sw",       0xc000, 0xe003, c_sw,       C) \
  X(c_sd,       "c.sd",       0xe000, 0xe003, c_sd,       C) \
  X(c_addi,     "c.addi",     0x0001, 0xe003, c_addi,     C) \
  X(c_addiw,    "c.addiw",    0x2001, 0xe003, c_addiw,    C) \
  X(c_li,       "c.li",       0x4001, 0xe003, c_li,       C) \
  X(c_lui,      "c.lui",      0x6001, 0xe003, c_lui,      C) \
  X(c_srli,     "c.srli",     0x8001, 0xec03, c_srli,     C) \
  X(c_srai,     "c.srai",     0x8401, 0xec03, c_srai,     C) \
  X(c_andi,     "c.andi",     0x8801, 0xec03, c_andi,     C) \
  X(c_sub,      "c.sub",      0x8c01, 0xfc63, c_sub,      C) \
  X(c_xor,      "c.xor",      0x8c21, 0xfc63, c_xor,      C) \
  X(c_or,       "c.or",       0x8c41, 0xfc63, c_or,       C) \
  X(c_and,      "c.and",      0x8c61, 0xfc63, c_and,      C) \
  X(c_subw,     "c.subw",     0x9c01, 0xfc63, c_subw,     C) \
  X(c_addw,     "c.addw",     0x9c21, 0xfc63, c_addw,     C) \
  X(c_j,        "c.j",        0xa001, 0xe003, c_j,        C) \
  X(c_beqz,     "c.beqz",     0xc001, 0xe003, c_beqz,     C) \
  X(c_bnez,     "c.bnez",     0xe001, 0xe003, c_bnez,     C) \
  X(c_slli,     "c.slli",     0x0002, 0xe003, c_slli,     C) \
  X(c_fldsp,    "c.fldsp",    0x2002, 0xe003, c_fldsp,    C) \
  X(c_lwsp,     "c.lwsp",     0x4002, 0xe003, c_lwsp,     C) \
  X(c_ldsp,     "c.ldsp",     0x6002, 0xe003, c_ldsp,     C) \
  X(c_mv,       "c.mv",       0x8002, 0xf003, c_mv,       C) \
  X(c_add,      "c.add",      0x9002, 0xf003, c_add,      C) \
  X(c_fsdsp,    "c.fsdsp",    0xa002, 0xe003, c_fsdsp,    C) \
  X(c_swsp,     "c.swsp",     0xc002, 0xe003, c_swsp,     C) \
  X(c_sdsp,     "c.sdsp",     0xe002, 0xe003, c_sdsp,     C) \
  /* Zcb: the byte and halfword loads and stores (quadrant 0, funct3 100), and the */ \
  /* unary operations and c.mul among c.sub and its kin */ \
  X(c_lbu,      "c.lbu",      0x8000, 0xfc03, c_lbu,      Zcb) \
  X(c_lhu,      "c.lhu",      0x8400, 0xfc43, c_lhu,      Zcb) \
  X(c_lh,       "c.lh",       0x8440, 0xfc43, c_lh,       Zcb) \
  X(c_sb,       "c.sb",       0x8800, 0xfc03, c_sb,       Zcb) \
  X(c_sh,       "c.sh",       0x8c00, 0xfc43, c_sh,       Zcb) \
  X(c_zext_b,   "c.zext.b",   0x9c61, 0xfc7f, c_zext_b,   Zcb) \
  X(c_sext_b,   "c.sext.b",   0x9c65, 0xfc7f, c_sext_b,   Zcb) \
  X(c_zext_h,   "c.zext.h",   0x9c69, 0xfc7f, c_zext_h,   Zcb) \
  X(c_sext_h,   "c.sext.h",   0x9c6d, 0xfc7f, c_sext_h,   Zcb) \
  X(c_zext_w,   "c.zext.w",   0x9c71, 0xfc7f, c_zext_w,   Zcb) \
  X(c_not,      "c.not",      0x9c75, 0xfc7f, c_not,      Zcb) \
  X(c_mul,      "c.mul",      0x9c41, 0xfc63, c_mul,      Zcb)

#define F_LD     ::vessel::rv::insn_flags::kLoad
#define F_ST     ::vessel::rv::insn_flags::kStore
#define F_W1     ::vessel::rv::insn_flags::kW1
#define F_W2     ::vessel::rv::insn_flags::kW2
#define F_W4     ::vessel::rv::insn_flags::kW4
#define F_W8     ::vessel::rv::insn_flags::kW8
#define F_W16    ::vessel::rv::insn_flags::kW16
#define F_SIGNED ::vessel::rv::insn_flags::kSigned
#define F_RD     ::vessel::rv::insn_flags::kWritesRd
#define F_RM     ::vessel::rv::insn_flags::kUsesRm
#define F_END    ::vessel::rv::insn_flags::kEndsBlock
#define F_TRAP   ::vessel::rv::insn_flags::kMayTrap
#define F_BR     ::vessel::rv::insn_flags::kBranch
namespace vessel::rv::insn_flags {
// The flags column in row order, which is Op's order, then Op::kIllegal's (it ends the block
// and traps). Read it through op_flags(Op) (decoder.hpp).
inline constexpr uint32_t kByOp[] = {
#define VESSEL_X(id, mn, match, mask, imm, ops, ext, flags) flags,
  VESSEL_RV_BASE_INSNS(VESSEL_X)
#undef VESSEL_X
  F_END|F_TRAP,
};
}  // namespace vessel::rv::insn_flags
#undef F_LD
#undef F_ST
#undef F_W1
#undef F_W2
#undef F_W4
#undef F_W8
#undef F_W16
#undef F_SIGNED
#undef F_RD
#undef F_RM
#undef F_END
#undef F_TRAP
#undef F_BR
// clang-format on
