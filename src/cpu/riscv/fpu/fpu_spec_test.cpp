// Hand-written cases from the RISC-V F/D chapters and IEEE 754: conversion tables, RMM ties,
// special operands, and exhaustive min/max/compare/classify over a set of special values.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "cpu/riscv/fpu/softfloat.hpp"

namespace vessel::rv::fp {
namespace {

using RM = RoundingMode;
constexpr RM kRNE = RM::kRNE;
constexpr RM kRTZ = RM::kRTZ;
constexpr RM kRDN = RM::kRDN;
constexpr RM kRUP = RM::kRUP;
constexpr RM kRMM = RM::kRMM;
constexpr RM kSpecModes[] = {kRNE, kRTZ, kRDN, kRUP, kRMM};

// Binary64 encodings used below.
constexpr uint64_t kD1 = 0x3ff0000000000000;  // 1.0
constexpr uint64_t kDNegZero = 0x8000000000000000;
constexpr uint64_t kDInf = 0x7ff0000000000000;
constexpr uint64_t kDSNaN = 0x7ff0000000000001;
constexpr uint64_t kDMax = 0x7fefffffffffffff;
// Binary32 encodings.
constexpr uint32_t kS1 = 0x3f800000;
constexpr uint32_t kSNegZero = 0x80000000;
constexpr uint32_t kSInf = 0x7f800000;
constexpr uint32_t kSQNaN = 0x7fc00000;
constexpr uint32_t kSSNaN = 0x7f800001;
constexpr uint32_t kSMax = 0x7f7fffff;
constexpr uint32_t kSMinNormal = 0x00800000;

// ---- float -> integer: the spec's table and rounding of halves ----

constexpr int64_t kI32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

struct CvtRow {
  uint64_t in;  // binary64 encoding
  RM rm;
  int64_t w;
  uint8_t w_flags;
  uint64_t wu;
  uint8_t wu_flags;
  int64_t l;
  uint8_t l_flags;
  uint64_t lu;
  uint8_t lu_flags;
};

// Binary64 encodings of the inputs.
constexpr uint64_t kDHalf = 0x3fe0000000000000;         // 0.5
constexpr uint64_t kDNegHalf = 0xbfe0000000000000;      // -0.5
constexpr uint64_t kD1p5 = 0x3ff8000000000000;          // 1.5
constexpr uint64_t kD2p5 = 0x4004000000000000;          // 2.5
constexpr uint64_t kDNeg2p5 = 0xc004000000000000;       // -2.5
constexpr uint64_t kDNeg1 = 0xbff0000000000000;         // -1.0
constexpr uint64_t kDI32MaxHalf = 0x41dfffffffe00000;   // 2^31 - 0.5
constexpr uint64_t kDI32Max = 0x41dfffffffc00000;       // 2^31 - 1
constexpr uint64_t kD2p31 = 0x41e0000000000000;         // 2^31
constexpr uint64_t kDNeg2p31Half = 0xc1e0000000100000;  // -2^31 - 0.5
constexpr uint64_t kDNeg2p31m1 = 0xc1e0000000200000;    // -2^31 - 1
constexpr uint64_t kDU32MaxHalf = 0x41effffffff00000;   // 2^32 - 0.5
constexpr uint64_t kD2p32 = 0x41f0000000000000;         // 2^32
constexpr uint64_t kD2p63 = 0x43e0000000000000;         // 2^63
constexpr uint64_t kDNeg2p63 = 0xc3e0000000000000;      // -2^63
constexpr uint64_t kD2p64m = 0x43efffffffffffff;        // 2^64 - 2048
constexpr uint64_t kD2p64 = 0x43f0000000000000;         // 2^64
constexpr uint64_t kDTiny = 0x0000000000000001;         // 2^-1074
constexpr uint64_t kDNegTiny = 0x8000000000000001;

constexpr uint8_t k0 = 0;
// Out of range: every result below is the spec's saturation value with NV alone.
const CvtRow kCvtRows[] = {
    // NaN -> largest value, whatever the sign or kind of NaN.
    {kCanonicalNaN64, kRNE, kI32Max, kNV, kU32Max, kNV, kI64Max, kNV, kU64Max, kNV},
    {kDSNaN | kDNegZero, kRTZ, kI32Max, kNV, kU32Max, kNV, kI64Max, kNV, kU64Max, kNV},
    {kDInf, kRDN, kI32Max, kNV, kU32Max, kNV, kI64Max, kNV, kU64Max, kNV},
    {kDInf | kDNegZero, kRUP, kI32Min, kNV, 0, kNV, kI64Min, kNV, 0, kNV},
    {kDNegZero, kRDN, 0, k0, 0, k0, 0, k0, 0, k0},
    {0, kRUP, 0, k0, 0, k0, 0, k0, 0, k0},
    // 0.5
    {kDHalf, kRNE, 0, kNX, 0, kNX, 0, kNX, 0, kNX},
    {kDHalf, kRTZ, 0, kNX, 0, kNX, 0, kNX, 0, kNX},
    {kDHalf, kRDN, 0, kNX, 0, kNX, 0, kNX, 0, kNX},
    {kDHalf, kRUP, 1, kNX, 1, kNX, 1, kNX, 1, kNX},
    {kDHalf, kRMM, 1, kNX, 1, kNX, 1, kNX, 1, kNX},
    // -0.5: rounds to -0 (in range for unsigned, NX) or to -1 (out of range for unsigned).
    {kDNegHalf, kRNE, 0, kNX, 0, kNX, 0, kNX, 0, kNX},
    {kDNegHalf, kRTZ, 0, kNX, 0, kNX, 0, kNX, 0, kNX},
    {kDNegHalf, kRDN, -1, kNX, 0, kNV, -1, kNX, 0, kNV},
    {kDNegHalf, kRUP, 0, kNX, 0, kNX, 0, kNX, 0, kNX},
    {kDNegHalf, kRMM, -1, kNX, 0, kNV, -1, kNX, 0, kNV},
    // 1.5
    {kD1p5, kRNE, 2, kNX, 2, kNX, 2, kNX, 2, kNX},
    {kD1p5, kRTZ, 1, kNX, 1, kNX, 1, kNX, 1, kNX},
    {kD1p5, kRDN, 1, kNX, 1, kNX, 1, kNX, 1, kNX},
    {kD1p5, kRUP, 2, kNX, 2, kNX, 2, kNX, 2, kNX},
    {kD1p5, kRMM, 2, kNX, 2, kNX, 2, kNX, 2, kNX},
    // 2.5
    {kD2p5, kRNE, 2, kNX, 2, kNX, 2, kNX, 2, kNX},
    {kD2p5, kRTZ, 2, kNX, 2, kNX, 2, kNX, 2, kNX},
    {kD2p5, kRDN, 2, kNX, 2, kNX, 2, kNX, 2, kNX},
    {kD2p5, kRUP, 3, kNX, 3, kNX, 3, kNX, 3, kNX},
    {kD2p5, kRMM, 3, kNX, 3, kNX, 3, kNX, 3, kNX},
    // -2.5
    {kDNeg2p5, kRNE, -2, kNX, 0, kNV, -2, kNX, 0, kNV},
    {kDNeg2p5, kRTZ, -2, kNX, 0, kNV, -2, kNX, 0, kNV},
    {kDNeg2p5, kRDN, -3, kNX, 0, kNV, -3, kNX, 0, kNV},
    {kDNeg2p5, kRUP, -2, kNX, 0, kNV, -2, kNX, 0, kNV},
    {kDNeg2p5, kRMM, -3, kNX, 0, kNV, -3, kNX, 0, kNV},
    {kDNeg1, kRNE, -1, k0, 0, kNV, -1, k0, 0, kNV},
    // 2^31 - 1 is the largest int32; 2^31 - 0.5 is in range only when rounded down.
    {kDI32Max, kRNE, kI32Max, k0, 0x7fffffff, k0, kI32Max, k0, 0x7fffffff, k0},
    {kDI32MaxHalf, kRNE, kI32Max, kNV, 0x80000000, kNX, 0x80000000, kNX, 0x80000000, kNX},
    {kDI32MaxHalf, kRTZ, kI32Max, kNX, 0x7fffffff, kNX, kI32Max, kNX, 0x7fffffff, kNX},
    {kDI32MaxHalf, kRDN, kI32Max, kNX, 0x7fffffff, kNX, kI32Max, kNX, 0x7fffffff, kNX},
    {kDI32MaxHalf, kRUP, kI32Max, kNV, 0x80000000, kNX, 0x80000000, kNX, 0x80000000, kNX},
    {kDI32MaxHalf, kRMM, kI32Max, kNV, 0x80000000, kNX, 0x80000000, kNX, 0x80000000, kNX},
    {kD2p31, kRTZ, kI32Max, kNV, 0x80000000, k0, 0x80000000, k0, 0x80000000, k0},
    // -2^31 - 0.5: RNE ties to the even -2^31 (in range); RDN and RMM go to -2^31 - 1.
    {kDNeg2p31Half, kRNE, kI32Min, kNX, 0, kNV, kI32Min, kNX, 0, kNV},
    {kDNeg2p31Half, kRTZ, kI32Min, kNX, 0, kNV, kI32Min, kNX, 0, kNV},
    {kDNeg2p31Half, kRDN, kI32Min, kNV, 0, kNV, kI32Min - 1, kNX, 0, kNV},
    {kDNeg2p31Half, kRUP, kI32Min, kNX, 0, kNV, kI32Min, kNX, 0, kNV},
    {kDNeg2p31Half, kRMM, kI32Min, kNV, 0, kNV, kI32Min - 1, kNX, 0, kNV},
    {kDNeg2p31m1, kRNE, kI32Min, kNV, 0, kNV, kI32Min - 1, k0, 0, kNV},
    // 2^32 - 0.5
    {kDU32MaxHalf, kRNE, kI32Max, kNV, kU32Max, kNV, 0x100000000, kNX, 0x100000000, kNX},
    {kDU32MaxHalf, kRTZ, kI32Max, kNV, kU32Max, kNX, kU32Max, kNX, kU32Max, kNX},
    {kDU32MaxHalf, kRUP, kI32Max, kNV, kU32Max, kNV, 0x100000000, kNX, 0x100000000, kNX},
    {kD2p32, kRNE, kI32Max, kNV, kU32Max, kNV, 0x100000000, k0, 0x100000000, k0},
    // 64-bit limits.
    {kD2p63, kRNE, kI32Max, kNV, kU32Max, kNV, kI64Max, kNV, 0x8000000000000000, k0},
    {kDNeg2p63, kRNE, kI32Min, kNV, 0, kNV, kI64Min, k0, 0, kNV},
    {kD2p64m, kRNE, kI32Max, kNV, kU32Max, kNV, kI64Max, kNV, 0xfffffffffffff800, k0},
    {kD2p64, kRDN, kI32Max, kNV, kU32Max, kNV, kI64Max, kNV, kU64Max, kNV},
    {kDMax, kRTZ, kI32Max, kNV, kU32Max, kNV, kI64Max, kNV, kU64Max, kNV},
    {kDMax | kDNegZero, kRTZ, kI32Min, kNV, 0, kNV, kI64Min, kNV, 0, kNV},
    // The smallest subnormal: only directed rounding away from zero reaches +-1.
    {kDTiny, kRNE, 0, kNX, 0, kNX, 0, kNX, 0, kNX},
    {kDTiny, kRUP, 1, kNX, 1, kNX, 1, kNX, 1, kNX},
    {kDTiny, kRMM, 0, kNX, 0, kNX, 0, kNX, 0, kNX},
    {kDNegTiny, kRDN, -1, kNX, 0, kNV, -1, kNX, 0, kNV},
    {kDNegTiny, kRUP, 0, kNX, 0, kNX, 0, kNX, 0, kNX},
};

// The binary32 encoding of a binary64 value, when it has one.
bool narrow_exactly(uint64_t d, uint32_t& s) {
  uint8_t flags = 0;
  s = f64_to_f32(d, kRNE, flags);
  return flags == 0 || (flags == kNV && (d & ~kDNegZero) > kDInf);
}

TEST(SpecConvertTest, FloatToIntTable) {
  for (const CvtRow& row : kCvtRows) {
    SCOPED_TRACE(testing::Message()
                 << "in=0x" << std::hex << row.in << " rm=" << static_cast<int>(row.rm));
    uint8_t f = 0;
    EXPECT_EQ(f64_to_i32(row.in, row.rm, f), row.w);
    EXPECT_EQ(f, row.w_flags);
    f = 0;
    EXPECT_EQ(f64_to_u32(row.in, row.rm, f), row.wu);
    EXPECT_EQ(f, row.wu_flags);
    f = 0;
    EXPECT_EQ(f64_to_i64(row.in, row.rm, f), row.l);
    EXPECT_EQ(f, row.l_flags);
    f = 0;
    EXPECT_EQ(f64_to_u64(row.in, row.rm, f), row.lu);
    EXPECT_EQ(f, row.lu_flags);
    // The same row for binary32 where the input is a binary32 value too.
    uint32_t s = 0;
    if (!narrow_exactly(row.in, s)) continue;
    f = 0;
    EXPECT_EQ(f32_to_i32(s, row.rm, f), row.w);
    EXPECT_EQ(f, row.w_flags);
    f = 0;
    EXPECT_EQ(f32_to_u32(s, row.rm, f), row.wu);
    EXPECT_EQ(f, row.wu_flags);
    f = 0;
    EXPECT_EQ(f32_to_i64(s, row.rm, f), row.l);
    EXPECT_EQ(f, row.l_flags);
    f = 0;
    EXPECT_EQ(f32_to_u64(s, row.rm, f), row.lu);
    EXPECT_EQ(f, row.lu_flags);
  }
}

TEST(SpecConvertTest, IntToFloatTies) {
  struct Row {
    RM rm;
    uint32_t s;  // f32_from_i32(2^24 + 1)
    uint64_t d;  // f64_from_i64(-(2^53 + 1))
  };
  const Row rows[] = {
      {kRNE, 0x4b800000, 0xc340000000000000}, {kRTZ, 0x4b800000, 0xc340000000000000},
      {kRDN, 0x4b800000, 0xc340000000000001}, {kRUP, 0x4b800001, 0xc340000000000000},
      {kRMM, 0x4b800001, 0xc340000000000001},
  };
  for (const Row& row : rows) {
    uint8_t f = 0;
    EXPECT_EQ(f32_from_i32(16777217, row.rm, f), row.s);
    EXPECT_EQ(f, kNX);
    f = 0;
    EXPECT_EQ(f64_from_i64(-9007199254740993LL, row.rm, f), row.d);
    EXPECT_EQ(f, kNX);
  }
  uint8_t f = 0;
  EXPECT_EQ(f32_from_u64(kU64Max, kRNE, f), 0x5f800000u);  // 2^64
  EXPECT_EQ(f, kNX);
  f = 0;
  EXPECT_EQ(f64_from_i64(kI64Min, kRTZ, f), 0xc3e0000000000000u);
  EXPECT_EQ(f32_from_i32(static_cast<int32_t>(kI32Min), kRUP, f), 0xcf000000u);
  EXPECT_EQ(f64_from_u32(0xffffffff, kRDN, f), 0x41efffffffe00000u);
  EXPECT_EQ(f64_from_i32(0, kRDN, f), 0u);  // +0 in every mode
  EXPECT_EQ(f, 0);
}

// ---- RMM ties and other rounding-sensitive vectors ----

TEST(SpecRoundingTest, RmmTiesGoAwayFromZero) {
  struct Row {
    const char* what;
    uint64_t rne, rmm;
    uint8_t flags;
    uint64_t (*op)(RM, uint8_t&);
  };
  const Row rows[] = {
      {"1 + 2^-24 (f32)", 0x3f800000, 0x3f800001, kNX,
       [](RM rm, uint8_t& f) -> uint64_t { return f32_add(kS1, 0x33800000, rm, f); }},
      {"-1 - 2^-24 (f32)", 0xbf800000, 0xbf800001, kNX,
       [](RM rm, uint8_t& f) -> uint64_t { return f32_sub(0xbf800000, 0x33800000, rm, f); }},
      {"1.5 * (1 + 3 ulp) (f32)", 0x3fc00004, 0x3fc00005, kNX,
       [](RM rm, uint8_t& f) -> uint64_t { return f32_mul(0x3fc00000, 0x3f800003, rm, f); }},
      {"2^-149 * 0.5 (f32, tie at zero)", 0, 1, kNX | kUF,
       [](RM rm, uint8_t& f) -> uint64_t { return f32_mul(1, 0x3f000000, rm, f); }},
      {"5 * 2^-149 * 0.5 (f32)", 2, 3, kNX | kUF,
       [](RM rm, uint8_t& f) -> uint64_t { return f32_mul(5, 0x3f000000, rm, f); }},
      {"1 + 2^-53 (f64)", kD1, kD1 + 1, kNX,
       [](RM rm, uint8_t& f) -> uint64_t { return f64_add(kD1, 0x3ca0000000000000, rm, f); }},
      {"(1+2^-30)^2 - 2^-60 + 2^-53 (f64 fma)", 0x3ff0000000800000, 0x3ff0000000800001, kNX,
       [](RM rm, uint8_t& f) -> uint64_t {
         return f64_muladd(0x3ff0000000400000, 0x3ff0000000400000, 0x3c9fc00000000000, rm, f, false,
                           false);
       }},
      {"f64 1 + 2^-24 to f32", kS1, kS1 + 1, kNX,
       [](RM rm, uint8_t& f) -> uint64_t { return f64_to_f32(0x3ff0000010000000, rm, f); }},
      {"f32 max + half ulp overflows", kSInf, kSInf, kNX | kOF,
       [](RM rm, uint8_t& f) -> uint64_t { return f32_add(kSMax, 0x73000000, rm, f); }},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    uint8_t f = 0;
    EXPECT_EQ(row.op(kRNE, f), row.rne);
    EXPECT_EQ(f, row.flags);
    f = 0;
    EXPECT_EQ(row.op(kRMM, f), row.rmm);
    EXPECT_EQ(f, row.flags);
  }
}

TEST(SpecRoundingTest, TininessIsDetectedAfterRounding) {
  // 2^-126 - 3*2^-152: rounded to 24 bits with unbounded exponent it stays below 2^-126 (tiny),
  // though the delivered result is 2^-126.
  uint8_t f = 0;
  EXPECT_EQ(f64_to_f32(0x380fffffe8000000, kRNE, f), kSMinNormal);
  EXPECT_EQ(f, kNX | kUF);
  // 2^-126 - 2^-152 rounds to 2^-126 even at full precision: not tiny.
  f = 0;
  EXPECT_EQ(f64_to_f32(0x380ffffff8000000, kRNE, f), kSMinNormal);
  EXPECT_EQ(f, kNX);
  // Exact subnormal results are not underflow.
  f = 0;
  EXPECT_EQ(f32_mul(0x00400000, 0x3f000000, kRNE, f), 0x00200000u);
  EXPECT_EQ(f, 0);
  f = 0;
  EXPECT_EQ(f64_sub(0x0010000000000000, 0x000fffffffffffff, kRNE, f), 1u);
  EXPECT_EQ(f, 0);
}

TEST(SpecRoundingTest, OverflowResultDependsOnMode) {
  struct Row {
    RM rm;
    uint32_t pos, neg;
  };
  const Row rows[] = {{kRNE, kSInf, kSInf | kSNegZero},
                      {kRTZ, kSMax, kSMax | kSNegZero},
                      {kRDN, kSMax, kSInf | kSNegZero},
                      {kRUP, kSInf, kSMax | kSNegZero},
                      {kRMM, kSInf, kSInf | kSNegZero}};
  for (const Row& row : rows) {
    uint8_t f = 0;
    EXPECT_EQ(f32_mul(kSMax, 0x40000000, row.rm, f), row.pos);
    EXPECT_EQ(f, kOF | kNX);
    f = 0;
    EXPECT_EQ(f32_mul(kSMax, 0xc0000000, row.rm, f), row.neg);
    EXPECT_EQ(f, kOF | kNX);
    f = 0;
    const uint64_t d = f64_add(kDMax, kDMax, row.rm, f);
    EXPECT_EQ(d, row.pos == kSInf ? kDInf : kDMax);
    EXPECT_EQ(f, kOF | kNX);
  }
}

// ---- special operands ----

TEST(SpecSpecialTest, ExactZeroSigns) {
  for (RM rm : kSpecModes) {
    const uint32_t zero = rm == kRDN ? kSNegZero : 0;
    uint8_t f = 0;
    EXPECT_EQ(f32_sub(kS1, kS1, rm, f), zero);
    EXPECT_EQ(f32_add(0, kSNegZero, rm, f), zero);
    EXPECT_EQ(f32_add(kSNegZero, kSNegZero, rm, f), kSNegZero);
    EXPECT_EQ(f32_sub(0, kSNegZero, rm, f), 0u);
    // fma: 1*1 - 1 is an exact zero; 0*x + -0 keeps the product's sign rules.
    EXPECT_EQ(f64_muladd(kD1, kD1, kD1, rm, f, false, true), rm == kRDN ? kDNegZero : 0);
    EXPECT_EQ(f64_muladd(kDNegZero, kD1, kDNegZero, rm, f, false, false), kDNegZero);
    EXPECT_EQ(f64_muladd(0, kD1, kDNegZero, rm, f, false, false), rm == kRDN ? kDNegZero : 0);
    EXPECT_EQ(f64_muladd(0, kD1, 0, rm, f, true, true), kDNegZero);  // fnmadd: -(0) - 0
    EXPECT_EQ(f, 0);
  }
}

TEST(SpecSpecialTest, InvalidAndDivideByZero) {
  uint8_t f = 0;
  EXPECT_EQ(f32_div(kS1, 0, kRNE, f), kSInf);
  EXPECT_EQ(f, kDZ);
  f = 0;
  EXPECT_EQ(f32_div(kS1, kSNegZero, kRNE, f), kSInf | kSNegZero);
  EXPECT_EQ(f, kDZ);
  f = 0;
  EXPECT_EQ(f32_div(0, 0, kRNE, f), kCanonicalNaN32);
  EXPECT_EQ(f, kNV);
  f = 0;
  EXPECT_EQ(f64_div(kDInf, kDInf, kRNE, f), kCanonicalNaN64);
  EXPECT_EQ(f, kNV);
  f = 0;
  EXPECT_EQ(f32_mul(kSInf, 0, kRNE, f), kCanonicalNaN32);
  EXPECT_EQ(f, kNV);
  f = 0;
  EXPECT_EQ(f64_sub(kDInf, kDInf, kRNE, f), kCanonicalNaN64);
  EXPECT_EQ(f, kNV);
  // Quiet NaN operands raise nothing; signaling ones raise NV; results are canonical.
  f = 0;
  EXPECT_EQ(f32_add(0xffc12345, kS1, kRNE, f), kCanonicalNaN32);
  EXPECT_EQ(f, 0);
  EXPECT_EQ(f32_add(kSSNaN, kS1, kRNE, f), kCanonicalNaN32);
  EXPECT_EQ(f, kNV);
}

TEST(SpecSpecialTest, SquareRoot) {
  uint8_t f = 0;
  EXPECT_EQ(f32_sqrt(kSNegZero, kRNE, f), kSNegZero);
  EXPECT_EQ(f64_sqrt(kDNegZero, kRDN, f), kDNegZero);
  EXPECT_EQ(f64_sqrt(kDInf, kRNE, f), kDInf);
  EXPECT_EQ(f32_sqrt(0x40800000, kRNE, f), 0x40000000u);  // sqrt(4) = 2
  EXPECT_EQ(f, 0);
  EXPECT_EQ(f32_sqrt(0xbf800000, kRNE, f), kCanonicalNaN32);
  EXPECT_EQ(f, kNV);
  f = 0;
  EXPECT_EQ(f64_sqrt(kDInf | kDNegZero, kRNE, f), kCanonicalNaN64);
  EXPECT_EQ(f, kNV);
  f = 0;
  EXPECT_EQ(f64_sqrt(1, kRNE, f), 0x1e60000000000000u);  // sqrt(2^-1074) = 2^-537
  EXPECT_EQ(f, 0);
  EXPECT_EQ(f64_sqrt(0x4000000000000000, kRUP, f), 0x3ff6a09e667f3bcdu);  // sqrt(2)
  EXPECT_EQ(f, kNX);
}

TEST(SpecSpecialTest, FmaInfTimesZeroIsInvalidEvenWithQuietNaNAddend) {
  // "The fused multiply-add instructions must set the invalid operation exception flag when the
  // multiplicands are inf and zero, even when the addend is a quiet NaN."
  for (bool np : {false, true}) {
    for (bool na : {false, true}) {
      uint8_t f = 0;
      EXPECT_EQ(f32_muladd(kSInf, 0, kSQNaN, kRNE, f, np, na), kCanonicalNaN32);
      EXPECT_EQ(f, kNV);
      f = 0;
      EXPECT_EQ(f64_muladd(kDNegZero, kDInf, kCanonicalNaN64, kRNE, f, np, na), kCanonicalNaN64);
      EXPECT_EQ(f, kNV);
      f = 0;
      EXPECT_EQ(f64_muladd(kD1, kDInf, kCanonicalNaN64, kRNE, f, np, na), kCanonicalNaN64);
      EXPECT_EQ(f, 0);
      // inf - inf inside the fma.
      f = 0;
      EXPECT_EQ(f32_muladd(kSInf, kS1, kSInf, kRNE, f, np, np), np ? kSInf | kSNegZero : kSInf);
      EXPECT_EQ(f, 0);
      f = 0;
      EXPECT_EQ(f32_muladd(kSInf, kS1, kSInf, kRNE, f, np, !np), kCanonicalNaN32);
      EXPECT_EQ(f, kNV);
    }
  }
}

TEST(SpecSpecialTest, FormatConversions) {
  uint8_t f = 0;
  EXPECT_EQ(f32_to_f64(kSSNaN, f), kCanonicalNaN64);
  EXPECT_EQ(f, kNV);
  f = 0;
  EXPECT_EQ(f32_to_f64(0xffc00001, f), kCanonicalNaN64);
  EXPECT_EQ(f64_to_f32(0xfff8000000000001, kRNE, f), kCanonicalNaN32);
  EXPECT_EQ(f32_to_f64(1, f), 0x36a0000000000000u);  // 2^-149
  EXPECT_EQ(f32_to_f64(kSNegZero, f), kDNegZero);
  EXPECT_EQ(f, 0);
  EXPECT_EQ(f64_to_f32(kDSNaN, kRNE, f), kCanonicalNaN32);
  EXPECT_EQ(f, kNV);
}

TEST(SpecSpecialTest, ReservedRoundingModeActsAsRne) {
  for (int raw : {5, 6, 7, 255}) {
    const auto rm = static_cast<RM>(raw);
    uint8_t f = 0;
    EXPECT_EQ(f32_add(kS1, 0x33800000, rm, f), kS1);
    EXPECT_EQ(f32_add(0x3f800001, 0x33800000, rm, f), 0x3f800002u);
    EXPECT_EQ(f64_to_i32(kD2p5, rm, f), 2);
    EXPECT_EQ(f32_mul(kSMax, 0x40000000, rm, f), kSInf);
  }
}

// ---- min/max, comparisons, classify over special values ----

struct Special {
  uint32_t s;
  uint64_t d;
  int order;  // position in value order; NaNs have none
  uint32_t fclass;
};
constexpr int kNaN = 1000;
const Special kSpecials[] = {
    {0xff800000, 0xfff0000000000000, 0, kClassNegInf},
    {0xff7fffff, 0xffefffffffffffff, 1, kClassNegNormal},
    {0xbf800000, 0xbff0000000000000, 2, kClassNegNormal},
    {0x80800000, 0x8010000000000000, 3, kClassNegNormal},
    {0x807fffff, 0x800fffffffffffff, 4, kClassNegSubnormal},
    {0x80000001, 0x8000000000000001, 5, kClassNegSubnormal},
    {0x80000000, 0x8000000000000000, 6, kClassNegZero},
    {0x00000000, 0x0000000000000000, 7, kClassPosZero},
    {0x00000001, 0x0000000000000001, 8, kClassPosSubnormal},
    {0x007fffff, 0x000fffffffffffff, 9, kClassPosSubnormal},
    {0x00800000, 0x0010000000000000, 10, kClassPosNormal},
    {0x3f800000, 0x3ff0000000000000, 11, kClassPosNormal},
    {0x3fc00000, 0x3ff8000000000000, 12, kClassPosNormal},
    {0x7f7fffff, 0x7fefffffffffffff, 13, kClassPosNormal},
    {0x7f800000, 0x7ff0000000000000, 14, kClassPosInf},
    {0x7fc00000, 0x7ff8000000000000, kNaN, kClassQuietNaN},
    {0xffc00001, 0xfff8000000000001, kNaN, kClassQuietNaN},
    {0x7fffffff, 0x7fffffffffffffff, kNaN, kClassQuietNaN},
    {0x7f800001, 0x7ff0000000000001, kNaN, kClassSignalingNaN},
    {0xffbfffff, 0xfff7ffffffffffff, kNaN, kClassSignalingNaN},
};

TEST(SpecCompareTest, ClassifyMinMaxCompareExhaustive) {
  for (const Special& a : kSpecials) {
    EXPECT_EQ(f32_classify(a.s), a.fclass) << std::hex << a.s;
    EXPECT_EQ(f64_classify(a.d), a.fclass) << std::hex << a.d;
    for (const Special& b : kSpecials) {
      SCOPED_TRACE(testing::Message() << std::hex << "a=" << a.d << " b=" << b.d);
      const bool a_nan = a.order == kNaN;
      const bool b_nan = b.order == kNaN;
      const bool any_snan = a.fclass == kClassSignalingNaN || b.fclass == kClassSignalingNaN;
      const auto snan_nv = static_cast<uint8_t>(any_snan ? kNV : 0);
      const auto any_nan_nv = static_cast<uint8_t>(a_nan || b_nan ? kNV : 0);
      // -0 and +0 compare equal but order -0 first for min/max.
      const bool zero_pair = (a.order == 6 || a.order == 7) && (b.order == 6 || b.order == 7);
      const bool equal = !a_nan && !b_nan && (a.order == b.order || zero_pair);
      const bool less = !a_nan && !b_nan && !equal && a.order < b.order;
      const Special* lo = nullptr;
      const Special* hi = nullptr;
      if (a_nan && b_nan) {
      } else if (a_nan) {
        lo = hi = &b;
      } else if (b_nan) {
        lo = hi = &a;
      } else {
        lo = a.order <= b.order ? &a : &b;
        hi = a.order <= b.order ? &b : &a;
      }
      uint8_t f = 0;
      EXPECT_EQ(f32_min(a.s, b.s, f), lo != nullptr ? lo->s : kCanonicalNaN32);
      EXPECT_EQ(f, snan_nv);
      f = 0;
      EXPECT_EQ(f32_max(a.s, b.s, f), hi != nullptr ? hi->s : kCanonicalNaN32);
      EXPECT_EQ(f, snan_nv);
      f = 0;
      EXPECT_EQ(f64_min(a.d, b.d, f), lo != nullptr ? lo->d : kCanonicalNaN64);
      EXPECT_EQ(f, snan_nv);
      f = 0;
      EXPECT_EQ(f64_max(a.d, b.d, f), hi != nullptr ? hi->d : kCanonicalNaN64);
      EXPECT_EQ(f, snan_nv);
      f = 0;
      EXPECT_EQ(f32_eq(a.s, b.s, f), equal);
      EXPECT_EQ(f, snan_nv);
      f = 0;
      EXPECT_EQ(f64_eq(a.d, b.d, f), equal);
      EXPECT_EQ(f, snan_nv);
      f = 0;
      EXPECT_EQ(f32_lt(a.s, b.s, f), less);
      EXPECT_EQ(f, any_nan_nv);
      f = 0;
      EXPECT_EQ(f64_lt(a.d, b.d, f), less);
      EXPECT_EQ(f, any_nan_nv);
      f = 0;
      EXPECT_EQ(f32_le(a.s, b.s, f), less || equal);
      EXPECT_EQ(f, any_nan_nv);
      f = 0;
      EXPECT_EQ(f64_le(a.d, b.d, f), less || equal);
      EXPECT_EQ(f, any_nan_nv);
    }
  }
}

}  // namespace
}  // namespace vessel::rv::fp
