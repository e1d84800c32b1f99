// Zba, Zbb and Zbs: the bit-manipulation extensions (ratified 1.0.0), RV64 forms. The W
// forms work on the low word and sign-extend their 32-bit result, as RV64I's do; the .uw
// forms zero-extend rs1's low word first.
#pragma once

#include <bit>

#include "cpu/riscv/semantics/macros.hpp"

// The semantics read as a table, one instruction per line where it fits: keep it so.
// clang-format off
namespace vessel::rv {

namespace bitmanip {
inline uint64_t uw(uint64_t x) { return static_cast<uint32_t>(x); }
inline int64_t as_signed(uint64_t x) { return static_cast<int64_t>(x); }
// orc.b: each byte becomes 0xff if any of its bits is set, else stays 0x00 (strlen's test).
inline uint64_t orc_b(uint64_t x) {
  uint64_t out = 0;
  for (unsigned byte = 0; byte < 8; ++byte) {
    if ((x >> (8 * byte)) & 0xff) out |= 0xffULL << (8 * byte);
  }
  return out;
}
}  // namespace bitmanip

// Zba
VESSEL_INSN(add_uw) { WRITE_RD(RS2 + bitmanip::uw(RS1)); NEXT; }
VESSEL_INSN(sh1add) { WRITE_RD(RS2 + (RS1 << 1)); NEXT; }
VESSEL_INSN(sh2add) { WRITE_RD(RS2 + (RS1 << 2)); NEXT; }
VESSEL_INSN(sh3add) { WRITE_RD(RS2 + (RS1 << 3)); NEXT; }
VESSEL_INSN(sh1add_uw) { WRITE_RD(RS2 + (bitmanip::uw(RS1) << 1)); NEXT; }
VESSEL_INSN(sh2add_uw) { WRITE_RD(RS2 + (bitmanip::uw(RS1) << 2)); NEXT; }
VESSEL_INSN(sh3add_uw) { WRITE_RD(RS2 + (bitmanip::uw(RS1) << 3)); NEXT; }
VESSEL_INSN(slli_uw) { WRITE_RD(bitmanip::uw(RS1) << IMM); NEXT; }

// Zbb: logic with negate, counts, min/max, extensions, rotates, bytes
VESSEL_INSN(andn) { WRITE_RD(RS1 & ~RS2); NEXT; }
VESSEL_INSN(orn) { WRITE_RD(RS1 | ~RS2); NEXT; }
VESSEL_INSN(xnor) { WRITE_RD(~(RS1 ^ RS2)); NEXT; }
VESSEL_INSN(clz) { WRITE_RD(std::countl_zero(RS1)); NEXT; }
VESSEL_INSN(ctz) { WRITE_RD(std::countr_zero(RS1)); NEXT; }
VESSEL_INSN(cpop) { WRITE_RD(std::popcount(RS1)); NEXT; }
VESSEL_INSN(clzw) { WRITE_RD(std::countl_zero(static_cast<uint32_t>(RS1))); NEXT; }
VESSEL_INSN(ctzw) { WRITE_RD(std::countr_zero(static_cast<uint32_t>(RS1))); NEXT; }
VESSEL_INSN(cpopw) { WRITE_RD(std::popcount(static_cast<uint32_t>(RS1))); NEXT; }
VESSEL_INSN(max) { WRITE_RD(bitmanip::as_signed(RS1) < bitmanip::as_signed(RS2) ? RS2 : RS1); NEXT; }
VESSEL_INSN(maxu) { WRITE_RD(RS1 < RS2 ? RS2 : RS1); NEXT; }
VESSEL_INSN(min) { WRITE_RD(bitmanip::as_signed(RS1) < bitmanip::as_signed(RS2) ? RS1 : RS2); NEXT; }
VESSEL_INSN(minu) { WRITE_RD(RS1 < RS2 ? RS1 : RS2); NEXT; }
VESSEL_INSN(sext_b) { WRITE_RD(sext(RS1, 8)); NEXT; }
VESSEL_INSN(sext_h) { WRITE_RD(sext(RS1, 16)); NEXT; }
VESSEL_INSN(zext_h) { WRITE_RD(static_cast<uint16_t>(RS1)); NEXT; }
VESSEL_INSN(rol) { WRITE_RD(std::rotl(RS1, static_cast<int>(RS2 & 63))); NEXT; }
VESSEL_INSN(ror) { WRITE_RD(std::rotr(RS1, static_cast<int>(RS2 & 63))); NEXT; }
VESSEL_INSN(rori) { WRITE_RD(std::rotr(RS1, static_cast<int>(IMM))); NEXT; }
VESSEL_INSN(rolw) { WRITE_RD(sext32(std::rotl(static_cast<uint32_t>(RS1), static_cast<int>(RS2 & 31)))); NEXT; }
VESSEL_INSN(rorw) { WRITE_RD(sext32(std::rotr(static_cast<uint32_t>(RS1), static_cast<int>(RS2 & 31)))); NEXT; }
VESSEL_INSN(roriw) { WRITE_RD(sext32(std::rotr(static_cast<uint32_t>(RS1), static_cast<int>(IMM)))); NEXT; }
VESSEL_INSN(orc_b) { WRITE_RD(bitmanip::orc_b(RS1)); NEXT; }
VESSEL_INSN(rev8) { WRITE_RD(__builtin_bswap64(RS1)); NEXT; }

// Zbs
VESSEL_INSN(bclr) { WRITE_RD(RS1 & ~(1ULL << (RS2 & 63))); NEXT; }
VESSEL_INSN(bclri) { WRITE_RD(RS1 & ~(1ULL << IMM)); NEXT; }
VESSEL_INSN(bext) { WRITE_RD((RS1 >> (RS2 & 63)) & 1); NEXT; }
VESSEL_INSN(bexti) { WRITE_RD((RS1 >> IMM) & 1); NEXT; }
VESSEL_INSN(binv) { WRITE_RD(RS1 ^ (1ULL << (RS2 & 63))); NEXT; }
VESSEL_INSN(binvi) { WRITE_RD(RS1 ^ (1ULL << IMM)); NEXT; }
VESSEL_INSN(bset) { WRITE_RD(RS1 | (1ULL << (RS2 & 63))); NEXT; }
VESSEL_INSN(bseti) { WRITE_RD(RS1 | (1ULL << IMM)); NEXT; }

}  // namespace vessel::rv
// clang-format on
