// IEEE 754 binary32/binary64 arithmetic as the RISC-V F and D extensions define it, and the
// binary16 conversions of Zfhmin.
//
// Values are raw bit patterns (uint16_t for binary16, uint32_t for binary32, uint64_t for
// binary64). Every operation
// ORs the exception flags it raises into `flags`, using the fflags bit layout, so the caller can
// accumulate straight into fcsr. Any NaN an operation produces is the canonical NaN (RISC-V does
// not propagate payloads); tininess is detected after rounding; UF is raised only when the result
// is also inexact. The library is integer-only and independent of the host FPU state.
#pragma once

#include <cstdint>

namespace vessel::rv::fp {

// The frm/rm encodings. Values 5..7 are not rounding modes: the hart must reject them before
// calling in here; should one arrive anyway it is treated as kRNE.
enum class RoundingMode : uint8_t { kRNE = 0, kRTZ = 1, kRDN = 2, kRUP = 3, kRMM = 4 };

// fflags bits.
enum : uint8_t { kNX = 1, kUF = 2, kOF = 4, kDZ = 8, kNV = 16 };

inline constexpr uint16_t kCanonicalNaN16 = 0x7e00;
inline constexpr uint32_t kCanonicalNaN32 = 0x7fc00000;
inline constexpr uint64_t kCanonicalNaN64 = 0x7ff8000000000000;

// fclass result bits.
enum : uint32_t {
  kClassNegInf = 1u << 0,
  kClassNegNormal = 1u << 1,
  kClassNegSubnormal = 1u << 2,
  kClassNegZero = 1u << 3,
  kClassPosZero = 1u << 4,
  kClassPosSubnormal = 1u << 5,
  kClassPosNormal = 1u << 6,
  kClassPosInf = 1u << 7,
  kClassSignalingNaN = 1u << 8,
  kClassQuietNaN = 1u << 9,
};

// ---- binary32 ----
uint32_t f32_add(uint32_t a, uint32_t b, RoundingMode rm, uint8_t& flags);
uint32_t f32_sub(uint32_t a, uint32_t b, RoundingMode rm, uint8_t& flags);
uint32_t f32_mul(uint32_t a, uint32_t b, RoundingMode rm, uint8_t& flags);
uint32_t f32_div(uint32_t a, uint32_t b, RoundingMode rm, uint8_t& flags);
uint32_t f32_sqrt(uint32_t a, RoundingMode rm, uint8_t& flags);
// (±a*b) ± c with a single rounding: fmadd (false, false), fmsub (false, true),
// fnmsub (true, false), fnmadd (true, true).
uint32_t f32_muladd(uint32_t a, uint32_t b, uint32_t c, RoundingMode rm, uint8_t& flags,
                    bool negate_product, bool negate_addend);
uint32_t f32_min(uint32_t a, uint32_t b, uint8_t& flags);
uint32_t f32_max(uint32_t a, uint32_t b, uint8_t& flags);
bool f32_eq(uint32_t a, uint32_t b, uint8_t& flags);
bool f32_lt(uint32_t a, uint32_t b, uint8_t& flags);
bool f32_le(uint32_t a, uint32_t b, uint8_t& flags);
uint32_t f32_classify(uint32_t a);
int32_t f32_to_i32(uint32_t a, RoundingMode rm, uint8_t& flags);
uint32_t f32_to_u32(uint32_t a, RoundingMode rm, uint8_t& flags);
int64_t f32_to_i64(uint32_t a, RoundingMode rm, uint8_t& flags);
uint64_t f32_to_u64(uint32_t a, RoundingMode rm, uint8_t& flags);
uint32_t f32_from_i32(int32_t x, RoundingMode rm, uint8_t& flags);
uint32_t f32_from_u32(uint32_t x, RoundingMode rm, uint8_t& flags);
uint32_t f32_from_i64(int64_t x, RoundingMode rm, uint8_t& flags);
uint32_t f32_from_u64(uint64_t x, RoundingMode rm, uint8_t& flags);

// ---- binary64 ----
uint64_t f64_add(uint64_t a, uint64_t b, RoundingMode rm, uint8_t& flags);
uint64_t f64_sub(uint64_t a, uint64_t b, RoundingMode rm, uint8_t& flags);
uint64_t f64_mul(uint64_t a, uint64_t b, RoundingMode rm, uint8_t& flags);
uint64_t f64_div(uint64_t a, uint64_t b, RoundingMode rm, uint8_t& flags);
uint64_t f64_sqrt(uint64_t a, RoundingMode rm, uint8_t& flags);
uint64_t f64_muladd(uint64_t a, uint64_t b, uint64_t c, RoundingMode rm, uint8_t& flags,
                    bool negate_product, bool negate_addend);
uint64_t f64_min(uint64_t a, uint64_t b, uint8_t& flags);
uint64_t f64_max(uint64_t a, uint64_t b, uint8_t& flags);
bool f64_eq(uint64_t a, uint64_t b, uint8_t& flags);
bool f64_lt(uint64_t a, uint64_t b, uint8_t& flags);
bool f64_le(uint64_t a, uint64_t b, uint8_t& flags);
uint32_t f64_classify(uint64_t a);
int32_t f64_to_i32(uint64_t a, RoundingMode rm, uint8_t& flags);
uint32_t f64_to_u32(uint64_t a, RoundingMode rm, uint8_t& flags);
int64_t f64_to_i64(uint64_t a, RoundingMode rm, uint8_t& flags);
uint64_t f64_to_u64(uint64_t a, RoundingMode rm, uint8_t& flags);
uint64_t f64_from_i32(int32_t x, RoundingMode rm, uint8_t& flags);
uint64_t f64_from_u32(uint32_t x, RoundingMode rm, uint8_t& flags);
uint64_t f64_from_i64(int64_t x, RoundingMode rm, uint8_t& flags);
uint64_t f64_from_u64(uint64_t x, RoundingMode rm, uint8_t& flags);

// ---- format conversions ----
uint64_t f32_to_f64(uint32_t a, uint8_t& flags);
uint32_t f64_to_f32(uint64_t a, RoundingMode rm, uint8_t& flags);
// binary16 (Zfhmin): widening is exact, narrowing rounds by rm.
uint32_t f16_to_f32(uint16_t a, uint8_t& flags);
uint64_t f16_to_f64(uint16_t a, uint8_t& flags);
uint16_t f32_to_f16(uint32_t a, RoundingMode rm, uint8_t& flags);
uint16_t f64_to_f16(uint64_t a, RoundingMode rm, uint8_t& flags);

}  // namespace vessel::rv::fp
