// A decoded instruction: what the decoder produces once and the interpreter runs many times.
#pragma once

#include <cstdint>

#include "cpu/riscv/insn_table.hpp"

namespace vessel::rv {

class Hart;

enum class Op : uint16_t {
#define VESSEL_X(id, mn, match, mask, imm, ops, ext, flags) id,
  VESSEL_RV_BASE_INSNS(VESSEL_X)
#undef VESSEL_X
      kIllegal,
  kCount,
};
inline constexpr unsigned kNumOps = static_cast<unsigned>(Op::kCount);

enum class ImmKind : uint8_t { kNone, kI, kS, kB, kU, kJ, kShamt5, kShamt6, kCsr };
// Zicbop, Zihintntl and Zkt have no rows: their instructions are hints of RV64I (prefetches,
// non-temporal hints) or a timing property, so their bits only say what the device tree
// advertises. Svnapot and Svpbmt have none either: they are PTE bits the page walk reads; nor
// Zihpm, whose hpmcounter3..31 CSRs a hart without it does not have, nor Sscofpmf (CSR bits).
enum class Ext : uint8_t {
  RV64I,
  M,
  A,
  F,
  D,
  Zicsr,
  Zifencei,
  Priv,
  C,
  Zba,
  Zbb,
  Zbs,
  Zicond,
  Zicbom,
  Zicboz,
  Zicbop,
  Zihintntl,
  Zkt,
  Svinval,
  Svnapot,
  Svpbmt,
  Zcb,
  Zacas,
  Zfhmin,
  Zihpm,
  H,         // the hypervisor extension: its instructions here, its CSRs and modes in the hart
  Sscofpmf,  // counter overflow and mode filtering: mhpmevent's bits, scountovf, LCOFI
};

// A set of extensions, one bit per Ext. A hart decodes the rows of the extensions it has;
// the others are illegal instructions, as on a hart that never had them.
using ExtSet = uint32_t;
constexpr ExtSet ext_bit(Ext e) { return ExtSet{1} << static_cast<unsigned>(e); }
inline constexpr ExtSet kAllExtensions = ~ExtSet{0};
// The ones --cpu-features may turn off (RV64GC is the least Linux and the firmware run on).
inline constexpr ExtSet kOptionalExtensions =
    ext_bit(Ext::Zba) | ext_bit(Ext::Zbb) | ext_bit(Ext::Zbs) | ext_bit(Ext::Zicond) |
    ext_bit(Ext::Zicbom) | ext_bit(Ext::Zicboz) | ext_bit(Ext::Zicbop) | ext_bit(Ext::Zihintntl) |
    ext_bit(Ext::Zkt) | ext_bit(Ext::Svinval) | ext_bit(Ext::Svnapot) | ext_bit(Ext::Svpbmt) |
    ext_bit(Ext::Zcb) | ext_bit(Ext::Zacas) | ext_bit(Ext::Zfhmin) | ext_bit(Ext::Zihpm) |
    ext_bit(Ext::Sscofpmf) | ext_bit(Ext::H);
// The cache-block size of Zicbom, Zicboz and Zicbop (riscv,cbo*-block-size in the device tree).
inline constexpr uint64_t kCacheBlockSize = 64;

// What an instruction's semantics tell the interpreter loop. Traps are values: the semantics
// have already entered the trap (CSRs and pc updated) when they return kTrap.
enum class ExecStatus : uint8_t {
  kNext,   // fall through: the loop adds the instruction length to pc
  kJump,   // pc was set by the instruction (taken branch, jump)
  kTrap,   // a trap was taken; pc is the trap vector
  kBreak,  // pc was set; leave the block (CSR side effects, fence.i, wfi, mode change)
};

struct DecodedInsn;
using Handler = ExecStatus (*)(Hart&, const DecodedInsn&);

// Integer destination x0 is decoded as register 32, a write-only sink, so that semantics
// never test rd != 0 (reads of x0 use index 0, which always holds zero).
inline constexpr uint8_t kZeroSink = 32;

struct DecodedInsn {
  Handler fn = nullptr;
  int64_t imm = 0;
  uint32_t raw = 0;  // the instruction as fetched (16 bits for compressed): mtval for illegal
  Op op = Op::kIllegal;
  uint8_t rd = 0, rs1 = 0, rs2 = 0, rs3 = 0;
  uint8_t rm = 0;   // rounding mode field of FP instructions; aq/rl bits of AMOs
  uint8_t len = 4;  // 2 or 4
};

}  // namespace vessel::rv
