// The binary16 conversions of Zfhmin against a model of their own: every half is exactly a
// double, so a value's two f16 neighbours are found by search in the table of all halves, and
// the rounding, overflow and underflow decisions follow the standard's definitions (tininess
// after rounding, as RISC-V detects it) by exact comparisons in double. Widening is checked
// for every one of the 65536 halves; narrowing for every half's neighbourhood (the value
// itself, the midpoints to its neighbours and the doubles and singles next to those), and for
// random singles and doubles around the half range, in all five rounding modes.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "cpu/riscv/fpu/softfloat.hpp"

namespace vessel::rv::fp {
namespace {

constexpr RoundingMode kAllModesF16[] = {RoundingMode::kRNE, RoundingMode::kRTZ, RoundingMode::kRDN,
                                         RoundingMode::kRUP, RoundingMode::kRMM};
constexpr double kMaxHalf = 65504.0;
constexpr double kMinNormalHalf = 0x1p-14;

// The value of each non-negative finite half (0x0000..0x7bff), in increasing order.
const std::array<double, 0x7c00>& half_values() {
  static const std::array<double, 0x7c00> table = [] {
    std::array<double, 0x7c00> t{};
    for (unsigned h = 0; h < 0x7c00; ++h) {
      const unsigned field = h >> 10;
      const double frac = static_cast<double>(h & 0x3ff);
      t[h] = field == 0 ? std::ldexp(frac, -24)
                        : std::ldexp(1024.0 + frac, static_cast<int>(field) - 25);
    }
    return t;
  }();
  return table;
}

struct Outcome {
  uint16_t bits = 0;
  uint8_t flags = 0;
  bool operator==(const Outcome&) const = default;
};

std::string describe(const Outcome& o) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "0x%04x flags 0x%02x", o.bits, o.flags);
  return buf;
}

// Whether a value strictly between `lo` and `hi` (lo's significand odd or even by `lo_even`)
// rounds to `hi` in mode rm; `mid` is their midpoint.
bool rounds_up(double a, double mid, bool lo_even, bool negative, RoundingMode rm) {
  switch (rm) {
    case RoundingMode::kRTZ: return false;
    case RoundingMode::kRDN: return negative;
    case RoundingMode::kRUP: return !negative;
    case RoundingMode::kRMM: return a >= mid;
    case RoundingMode::kRNE:
    default: return a > mid || (a == mid && !lo_even);
  }
}

// The model: x is finite, not NaN.
Outcome model(double x, RoundingMode rm) {
  const bool negative = std::signbit(x);
  const uint16_t sign = negative ? 0x8000 : 0;
  const double a = std::fabs(x);
  const auto& t = half_values();
  const bool to_inf = rm == RoundingMode::kRNE || rm == RoundingMode::kRMM ||
                      (rm == RoundingMode::kRUP && !negative) ||
                      (rm == RoundingMode::kRDN && negative);
  const auto overflow = [&] {
    return Outcome{static_cast<uint16_t>(sign | (to_inf ? 0x7c00 : 0x7bff)), kOF | kNX};
  };
  // With an unbounded exponent the next value past the largest half is 2^16.
  if (a >= 65536.0) return overflow();
  const auto lo = static_cast<unsigned>(std::upper_bound(t.begin(), t.end(), a) - t.begin() - 1);
  if (t[lo] == a) return Outcome{static_cast<uint16_t>(sign | lo), 0};
  const double hi_value = lo == 0x7bff ? 65536.0 : t[lo + 1];
  const double mid = (t[lo] + hi_value) / 2;  // exact: 12 significant bits at most
  const bool up = rounds_up(a, mid, (lo & 1) == 0, negative, rm);
  if (up && lo == 0x7bff) return overflow();
  // Tininess after rounding: below 2^-14 the value is tiny unless rounding to 11 bits with
  // an unbounded exponent would carry it up to 2^-14 (from above the largest 11-bit value
  // below it, 2^-14 - 2^-25).
  bool tiny = a < kMinNormalHalf;
  constexpr double kLargestBelow = kMinNormalHalf - 0x1p-25;
  if (tiny && a > kLargestBelow) {
    tiny = !rounds_up(a, kMinNormalHalf - 0x1p-26, false, negative, rm);
  }
  const auto bits = static_cast<uint16_t>(sign | (up ? lo + 1 : lo));
  return Outcome{bits, static_cast<uint8_t>(kNX | (tiny ? kUF : 0))};
}

Outcome from_f32(float x, RoundingMode rm) {
  Outcome o;
  o.bits = f32_to_f16(std::bit_cast<uint32_t>(x), rm, o.flags);
  return o;
}
Outcome from_f64(double x, RoundingMode rm) {
  Outcome o;
  o.bits = f64_to_f16(std::bit_cast<uint64_t>(x), rm, o.flags);
  return o;
}

int failures = 0;
void check_f64(double x) {
  for (RoundingMode rm : kAllModesF16) {
    const Outcome want = model(x, rm);
    const Outcome got = from_f64(x, rm);
    if (got != want && ++failures <= 10) {
      ADD_FAILURE() << "f64_to_f16(" << std::hexfloat << x << ", rm " << static_cast<int>(rm)
                    << ") = " << describe(got) << ", want " << describe(want);
    }
  }
}
void check_f32(float x) {
  for (RoundingMode rm : kAllModesF16) {
    const Outcome want = model(static_cast<double>(x), rm);
    const Outcome got = from_f32(x, rm);
    if (got != want && ++failures <= 10) {
      ADD_FAILURE() << "f32_to_f16(" << std::hexfloat << x << ", rm " << static_cast<int>(rm)
                    << ") = " << describe(got) << ", want " << describe(want);
    }
  }
}
// x, -x and the neighbours of both in double and in single precision.
void check_around(double x) {
  for (double v : {x, -x}) {
    check_f64(v);
    check_f64(std::nextafter(v, 0.0));
    check_f64(std::nextafter(v, v * 4));
    const auto f = static_cast<float>(v);  // rounded to nearest: check it and its neighbours
    check_f32(f);
    check_f32(std::nextafter(f, 0.0F));
    check_f32(std::nextafter(f, f * 4));
  }
}

TEST(Binary16, WideningIsExactForEveryHalf) {
  const auto& t = half_values();
  for (uint32_t h = 0; h < 0x10000; ++h) {
    uint8_t flags32 = 0, flags64 = 0;
    const uint32_t s = f16_to_f32(static_cast<uint16_t>(h), flags32);
    const uint64_t d = f16_to_f64(static_cast<uint16_t>(h), flags64);
    const unsigned magnitude = h & 0x7fff;
    const bool negative = (h & 0x8000) != 0;
    if (magnitude > 0x7c00) {  // NaN: canonical, NV only for a signaling one
      const uint8_t nv = (h & 0x200) == 0 ? kNV : 0;
      EXPECT_EQ(s, kCanonicalNaN32) << std::hex << h;
      EXPECT_EQ(d, kCanonicalNaN64) << std::hex << h;
      EXPECT_EQ(flags32, nv) << std::hex << h;
      EXPECT_EQ(flags64, nv) << std::hex << h;
      continue;
    }
    const double value = magnitude == 0x7c00 ? INFINITY : t[magnitude];
    EXPECT_EQ(d, std::bit_cast<uint64_t>(negative ? -value : value)) << std::hex << h;
    EXPECT_EQ(s, std::bit_cast<uint32_t>(static_cast<float>(negative ? -value : value)))
        << std::hex << h;
    EXPECT_EQ(flags32 | flags64, 0) << std::hex << h;
    // And back, exactly, in every mode.
    for (RoundingMode rm : kAllModesF16) {
      uint8_t f = 0;
      EXPECT_EQ(f32_to_f16(s, rm, f), h) << std::hex << h;
      EXPECT_EQ(f64_to_f16(d, rm, f), h) << std::hex << h;
      EXPECT_EQ(f, 0) << std::hex << h;
    }
  }
}

TEST(Binary16, NarrowingAroundEveryHalf) {
  const auto& t = half_values();
  failures = 0;
  for (unsigned h = 0; h < 0x7c00; ++h) {
    check_around(t[h]);
    const double next = h == 0x7bff ? 65536.0 : t[h + 1];
    check_around((t[h] + next) / 2);
  }
  for (double x : {65520.0, 65536.0, 70000.0, 1e10, 0x1p-25, 0x1p-26, 0x1p-30, 0x1p-150,
                   kMinNormalHalf - 0x1p-26, kMinNormalHalf - 0x1p-25, kMaxHalf}) {
    check_around(x);
  }
  EXPECT_EQ(failures, 0);
}

TEST(Binary16, NarrowingRandomValuesAroundTheHalfRange) {
  uint64_t state = 0x0123456789abcdefULL;  // splitmix64, fixed for reproducible failures
  const auto next = [&state] {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  failures = 0;
  for (int k = 0; k < 200000; ++k) {
    const uint64_t r = next();
    // Biased exponents from 2^-40 to 2^20: the subnormal halves to past the overflow.
    const auto e32 = static_cast<uint32_t>(87 + (r >> 40) % 61);
    check_f32(std::bit_cast<float>(static_cast<uint32_t>((r & 0x807fffff) | e32 << 23)));
    const uint64_t e64 = 983 + (r >> 20) % 61;
    check_f64(std::bit_cast<double>((next() & 0x800fffffffffffffULL) | e64 << 52));
  }
  EXPECT_EQ(failures, 0);
}

TEST(Binary16, SpecialOperandsNarrow) {
  uint8_t flags = 0;
  EXPECT_EQ(f32_to_f16(0x7f800001, RoundingMode::kRNE, flags), kCanonicalNaN16);
  EXPECT_EQ(flags, kNV);
  flags = 0;
  EXPECT_EQ(f64_to_f16(0xfff8000000000001ULL, RoundingMode::kRTZ, flags), kCanonicalNaN16);
  EXPECT_EQ(flags, 0);
  EXPECT_EQ(f32_to_f16(0xff800000, RoundingMode::kRTZ, flags), 0xfc00);
  EXPECT_EQ(f64_to_f16(0x8000000000000000ULL, RoundingMode::kRUP, flags), 0x8000);
  EXPECT_EQ(flags, 0);
}

}  // namespace
}  // namespace vessel::rv::fp
