// Zacas: amocas.w, amocas.d and amocas.q, on host compare-and-swap so that several hart
// threads stay correct, through the same address checks as the other AMOs (Hart::amo_ptr:
// natural alignment, write permission, an access fault on device windows). rd holds the
// expected value and gets the value memory held; memory is written only when they matched (an
// unsuccessful AMOCAS may or may not write back the old value: this one does not). amocas.q
// works on register pairs (rd, rd+1) and (rs2, rs2+1), low half in the even register; the
// decoder makes odd numbers illegal (they are reserved). x0 as the first register of a pair
// reads as zero for both halves, and as rd writes neither.
#pragma once

#include "cpu/riscv/semantics/macros.hpp"

namespace vessel::rv {

namespace cas {

// x0 (rd decodes to the sink) reads as zero.
inline uint64_t reg_or_zero(const Hart& h, uint8_t r) {
  return r == kZeroSink || r == 0 ? 0 : h.x[r];
}

template <typename T>
ExecStatus word_or_double(Hart& h, const DecodedInsn& d) {
  uint8_t* p = h.amo_ptr(RS1, sizeof(T), Hart::Atomic::kReadModifyWrite);
  if (p == nullptr) return ExecStatus::kTrap;
  // Both operands are read before rd is written (rd may be rs2).
  T value = static_cast<T>(reg_or_zero(h, d.rd));
  const auto swap = static_cast<T>(RS2);
  // On failure the builtin leaves the value memory held in `value`; on success that value
  // was the expected one: either way it is the old value.
  __atomic_compare_exchange_n(reinterpret_cast<T*>(p), &value, swap, false, __ATOMIC_ACQ_REL,
                              __ATOMIC_ACQUIRE);
  WRITE_RD(static_cast<int64_t>(static_cast<std::make_signed_t<T>>(value)));
  return after_store(h, d);
}

// 16 bytes at a 16-byte aligned host address (guest RAM is page-aligned on the host and the
// guest address is aligned): compares with (lo, hi), stores (new_lo, new_hi) when equal, and
// leaves what memory held in (lo, hi).
inline void compare_exchange16(uint8_t* p, uint64_t& lo, uint64_t& hi, uint64_t new_lo,
                               uint64_t new_hi) {
#if defined(__x86_64__)
  // cmpxchg16b (every x86-64 host Vessel runs on has CX16): GCC sends 16-byte __atomic
  // builtins to libatomic, which could take a lock that other hart threads do not.
  asm volatile("lock cmpxchg16b %[mem]"
               : [mem] "+m"(*reinterpret_cast<unsigned __int128*>(p)), "+a"(lo), "+d"(hi)
               : "b"(new_lo), "c"(new_hi)
               : "memory", "cc");
#else
  __extension__ typedef unsigned __int128 u128;
  u128 value = (static_cast<u128>(hi) << 64) | lo;
  const u128 swap = (static_cast<u128>(new_hi) << 64) | new_lo;
  __atomic_compare_exchange_n(reinterpret_cast<u128*>(p), &value, swap, false, __ATOMIC_ACQ_REL,
                              __ATOMIC_ACQUIRE);
  lo = static_cast<uint64_t>(value);
  hi = static_cast<uint64_t>(value >> 64);
#endif
}

inline ExecStatus quad(Hart& h, const DecodedInsn& d) {
  uint8_t* p = h.amo_ptr(RS1, 16, Hart::Atomic::kReadModifyWrite);
  if (p == nullptr) return ExecStatus::kTrap;
  const bool rd_zero = d.rd == kZeroSink;
  const bool rs2_zero = d.rs2 == 0;
  uint64_t lo = rd_zero ? 0 : h.x[d.rd];
  uint64_t hi = rd_zero ? 0 : h.x[d.rd + 1];
  compare_exchange16(p, lo, hi, rs2_zero ? 0 : h.x[d.rs2], rs2_zero ? 0 : h.x[d.rs2 + 1]);
  if (!rd_zero) {
    h.x[d.rd] = lo;
    h.x[d.rd + 1] = hi;
  }
  return after_store(h, d);
}

}  // namespace cas

VESSEL_INSN(amocas_w) { return cas::word_or_double<uint32_t>(h, d); }
VESSEL_INSN(amocas_d) { return cas::word_or_double<uint64_t>(h, d); }
VESSEL_INSN(amocas_q) { return cas::quad(h, d); }

}  // namespace vessel::rv
