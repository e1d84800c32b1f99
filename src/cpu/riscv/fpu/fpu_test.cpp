// Random comparison of the soft FPU against the host's SSE/FMA unit.
//
// The host gives IEEE results and flags for RNE/RTZ/RDN/RUP; x86 also detects tininess after
// rounding and (with underflow masked, the default) raises UF only for inexact tiny results, as
// RISC-V does. Two documented differences are mapped: a NaN result must be the canonical NaN,
// and RISC-V's fma raises NV for inf * 0 even when the addend is a quiet NaN (x86 does not).
// RMM has no host mode: RMM equals RNE (result and flags) unless the exact result is a tie, in
// which case it is the away-from-zero neighbour. Ties are found with exact integer arithmetic.
//
// VESSEL_FPU_ITERATIONS sets how many random operand sets each operation gets (each checked in
// all five rounding modes).
#include <gtest/gtest.h>
#include <immintrin.h>

#include <bit>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <ostream>
#include <string>

#include "cpu/riscv/fpu/softfloat.hpp"

namespace vessel::rv::fp {
namespace {

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

constexpr RoundingMode kAllModes[] = {RoundingMode::kRNE, RoundingMode::kRTZ, RoundingMode::kRDN,
                                      RoundingMode::kRUP, RoundingMode::kRMM};
constexpr int kMaxFailures = 10;

long iterations() {
  static const long n = [] {
    const char* env = std::getenv("VESSEL_FPU_ITERATIONS");
    const long v = env != nullptr ? std::strtol(env, nullptr, 10) : 0;
    return v > 0 ? v : 50000L;
  }();
  return n;
}

// splitmix64: fast, and a fixed seed makes every failure reproducible.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }
  bool coin() { return (next() & 1) != 0; }
  int64_t range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo + 1)));
  }

 private:
  uint64_t state_;
};

template <typename T, typename H, int kExpBitsV, int kFracBitsV>
struct LayoutBase {
  using Host = H;
  static constexpr int kFracBits = kFracBitsV;
  static constexpr int kBias = (1 << (kExpBitsV - 1)) - 1;
  static constexpr int kEmin = 1 - kBias;
  static constexpr int64_t kMaxField = (1 << kExpBitsV) - 1;
  static constexpr uint64_t kSign = uint64_t{1} << (kExpBitsV + kFracBitsV);
  static constexpr uint64_t kFracMask = (uint64_t{1} << kFracBits) - 1;
  static constexpr uint64_t kInf = static_cast<uint64_t>(kMaxField) << kFracBits;
  static constexpr uint64_t kCanonicalNaN = kInf | (uint64_t{1} << (kFracBits - 1));

  static T make(bool negative, uint64_t field, uint64_t frac) {
    return static_cast<T>((negative ? kSign : 0) | (field << kFracBits) | (frac & kFracMask));
  }
  static uint64_t field(uint64_t x) { return (x & ~kSign) >> kFracBits; }
  static bool sign(uint64_t x) { return (x & kSign) != 0; }
  static bool is_nan(uint64_t x) { return (x & ~kSign) > kInf; }
  static bool is_inf(uint64_t x) { return (x & ~kSign) == kInf; }
  static bool is_zero(uint64_t x) { return (x & ~kSign) == 0; }
  // Exact widening to double, for reference arithmetic.
  static double to_double(uint64_t x) {
    return static_cast<double>(std::bit_cast<H>(static_cast<T>(x)));
  }
};
template <typename T>
struct Layout;
template <>
struct Layout<uint32_t> : LayoutBase<uint32_t, float, 8, 23> {};
template <>
struct Layout<uint64_t> : LayoutBase<uint64_t, double, 11, 52> {};

struct Outcome {
  uint64_t bits = 0;
  uint8_t flags = 0;
  bool operator==(const Outcome&) const = default;
};

std::string hex(uint64_t x) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(x));
  return buf;
}

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << hex(o.bits) << " [";
  const char* names[] = {"NX", "UF", "OF", "DZ", "NV"};
  for (int i = 0; i < 5; ++i) {
    if ((o.flags & (1 << i)) != 0) os << ' ' << names[i];
  }
  return os << " ]";
}

const char* mode_name(RoundingMode rm) {
  static const char* const kNames[] = {"RNE", "RTZ", "RDN", "RUP", "RMM"};
  return kNames[static_cast<int>(rm)];
}

// ---- running code on the host FPU ----

int fe_round(RoundingMode rm) {
  static const int kHostModes[] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};
  return rm == RoundingMode::kRMM ? FE_TONEAREST : kHostModes[static_cast<int>(rm)];
}

template <typename Fn>
Outcome on_host(RoundingMode rm, Fn&& fn) {
  std::fesetround(fe_round(rm));
  std::feclearexcept(FE_ALL_EXCEPT);
  const uint64_t bits = fn();
  const int raised = std::fetestexcept(FE_ALL_EXCEPT);
  std::fesetround(FE_TONEAREST);
  uint8_t flags = 0;
  if ((raised & FE_INEXACT) != 0) flags |= kNX;
  if ((raised & FE_UNDERFLOW) != 0) flags |= kUF;
  if ((raised & FE_OVERFLOW) != 0) flags |= kOF;
  if ((raised & FE_DIVBYZERO) != 0) flags |= kDZ;
  if ((raised & FE_INVALID) != 0) flags |= kNV;
  return {bits, flags};
}

bool host_has_fma() { return __builtin_cpu_supports("fma") != 0; }

// Intrinsics rather than std::sqrt/std::fma: one instruction, no libm path, no errno.
float host_sqrt(float x) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x))); }
double host_sqrt(double x) { return _mm_cvtsd_f64(_mm_sqrt_sd(_mm_set_sd(x), _mm_set_sd(x))); }
[[gnu::target("fma")]] float host_fma(float x, float y, float z) {
  return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(x), _mm_set_ss(y), _mm_set_ss(z)));
}
[[gnu::target("fma")]] double host_fma(double x, double y, double z) {
  return _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(x), _mm_set_sd(y), _mm_set_sd(z)));
}

enum class Op { kAdd, kSub, kMul, kDiv, kSqrt, kFmadd, kFmsub, kFnmsub, kFnmadd, kNarrow };

const char* op_name(Op op) {
  static const char* const kNames[] = {"add",   "sub",   "mul",    "div",    "sqrt",
                                       "fmadd", "fmsub", "fnmsub", "fnmadd", "narrow"};
  return kNames[static_cast<int>(op)];
}
bool is_fma(Op op) { return op >= Op::kFmadd && op <= Op::kFnmadd; }
bool fma_negates_product(Op op) { return op == Op::kFnmsub || op == Op::kFnmadd; }
bool fma_negates_addend(Op op) { return op == Op::kFmsub || op == Op::kFnmadd; }

// Operands are loaded from and the result stored to volatiles so that nothing is folded or
// moved across the rounding-mode changes around the call. kNarrow takes `a` as binary64 bits.
template <typename T>
[[gnu::noinline]] uint64_t host_arith(Op op, uint64_t a, uint64_t b, uint64_t c) {
  using H = typename Layout<T>::Host;
  volatile H x = std::bit_cast<H>(static_cast<T>(a));
  volatile H y = std::bit_cast<H>(static_cast<T>(b));
  volatile H z = std::bit_cast<H>(static_cast<T>(c));
  volatile H r = 0;
  // clang-format off
  switch (op) {
    case Op::kAdd: r = x + y; break;
    case Op::kSub: r = x - y; break;
    case Op::kMul: r = x * y; break;
    case Op::kDiv: r = x / y; break;
    case Op::kSqrt: r = host_sqrt(x); break;
    case Op::kFmadd: r = host_fma(x, y, z); break;
    case Op::kFmsub: r = host_fma(x, y, -z); break;
    case Op::kFnmsub: r = host_fma(-x, y, z); break;
    case Op::kFnmadd: r = host_fma(-x, y, -z); break;
    case Op::kNarrow: { volatile double wide = std::bit_cast<double>(a); r = static_cast<H>(wide); break; }
  }
  // clang-format on
  return std::bit_cast<T>(static_cast<H>(r));
}

template <typename T>
Outcome soft_arith(Op op, uint64_t a64, uint64_t b64, uint64_t c64, RoundingMode rm) {
  const auto a = static_cast<T>(a64);
  const auto b = static_cast<T>(b64);
  const auto c = static_cast<T>(c64);
  uint8_t flags = 0;
  uint64_t r = 0;
  const bool np = fma_negates_product(op);
  const bool na = fma_negates_addend(op);
  // clang-format off
  if constexpr (sizeof(T) == 4) {
    switch (op) {
      case Op::kAdd: r = f32_add(a, b, rm, flags); break;
      case Op::kSub: r = f32_sub(a, b, rm, flags); break;
      case Op::kMul: r = f32_mul(a, b, rm, flags); break;
      case Op::kDiv: r = f32_div(a, b, rm, flags); break;
      case Op::kSqrt: r = f32_sqrt(a, rm, flags); break;
      case Op::kNarrow: r = f64_to_f32(a64, rm, flags); break;
      default: r = f32_muladd(a, b, c, rm, flags, np, na); break;
    }
  } else {
    switch (op) {
      case Op::kAdd: r = f64_add(a, b, rm, flags); break;
      case Op::kSub: r = f64_sub(a, b, rm, flags); break;
      case Op::kMul: r = f64_mul(a, b, rm, flags); break;
      case Op::kDiv: r = f64_div(a, b, rm, flags); break;
      case Op::kSqrt: r = f64_sqrt(a, rm, flags); break;
      default: r = f64_muladd(a, b, c, rm, flags, np, na); break;
    }
  }
  // clang-format on
  return {r, flags};
}

[[gnu::noinline]] uint64_t host_f32_to_f64(uint32_t a) {
  volatile float x = std::bit_cast<float>(a);
  volatile double r = static_cast<double>(x);
  return std::bit_cast<uint64_t>(static_cast<double>(r));
}

// ---- exact arithmetic for finding RMM ties ----

// A binary64 value (or a binary32 value widened exactly) as (-1)^negative * mant * 2^exp. An
// infinity stands for 2^1024: as a rounding neighbour it is the value just past the largest
// finite number.
struct Parts {
  bool negative;
  uint64_t mant;
  int exp;
};
Parts parts(double v) {
  const auto bits = std::bit_cast<uint64_t>(v);
  const bool negative = (bits >> 63) != 0;
  const uint64_t field = (bits >> 52) & 0x7ff;
  const uint64_t frac = bits & ((uint64_t{1} << 52) - 1);
  if (field == 0x7ff) return {negative, 1, 1024};
  if (field == 0) return {negative, frac, -1074};
  return {negative, frac | (uint64_t{1} << 52), static_cast<int>(field) - 1075};
}

// A signed fixed-point accumulator wide enough to hold any sum of products of two binary64
// values exactly (two's complement limbs, least significant first).
class ExactSum {
 public:
  void add(double v, int scale_exp, bool negate = false) {
    const Parts p = parts(v);
    add_term(p.negative != negate, p.mant, p.exp + scale_exp);
  }
  void add_product(double x, double y, int scale_exp, bool negate = false) {
    const Parts p = parts(x);
    const Parts q = parts(y);
    add_term((p.negative != q.negative) != negate, static_cast<u128>(p.mant) * q.mant,
             p.exp + q.exp + scale_exp);
  }
  void add_integer(i128 v, int scale_exp) {
    add_term(v < 0, v < 0 ? 0 - static_cast<u128>(v) : static_cast<u128>(v), scale_exp);
  }
  bool is_zero() const {
    for (uint64_t limb : limbs_) {
      if (limb != 0) return false;
    }
    return true;
  }

 private:
  static constexpr int kLsbExp = -2240;
  static constexpr int kLimbs = 72;

  void add_term(bool negative, u128 mag, int exp) {
    if (mag == 0) return;
    const int pos = exp - kLsbExp;
    ASSERT_GE(pos, 0);
    const int index = pos / 64;
    const int shift = pos % 64;
    ASSERT_LE(index + 3, kLimbs);
    const u128 low = mag << shift;
    const uint64_t words[3] = {static_cast<uint64_t>(low), static_cast<uint64_t>(low >> 64),
                               shift == 0 ? 0 : static_cast<uint64_t>(mag >> (128 - shift))};
    uint64_t carry = 0;
    for (int i = index; i < kLimbs; ++i) {
      const uint64_t w = i - index < 3 ? words[i - index] : 0;
      if (i - index >= 3 && carry == 0) break;
      if (!negative) {
        const u128 s = static_cast<u128>(limbs_[i]) + w + carry;
        limbs_[i] = static_cast<uint64_t>(s);
        carry = static_cast<uint64_t>(s >> 64);
      } else {
        const u128 d = static_cast<u128>(limbs_[i]) - w - carry;
        limbs_[i] = static_cast<uint64_t>(d);
        carry = (d >> 64) != 0 ? 1 : 0;
      }
    }
  }

  uint64_t limbs_[kLimbs] = {};
};

// Whether the exact result of op lies exactly halfway between rdn and rup (its two rounding
// neighbours): 2x == rdn + rup, cleared of divisions and roots.
template <typename T>
bool is_tie(Op op, uint64_t a, uint64_t b, uint64_t c, uint64_t rdn, uint64_t rup) {
  using L = Layout<T>;
  const double x = op == Op::kNarrow ? std::bit_cast<double>(a) : L::to_double(a);
  const double y = L::to_double(b);
  const double z = L::to_double(c);
  const double lo = L::to_double(rdn);
  const double hi = L::to_double(rup);
  ExactSum sum;
  switch (op) {
    case Op::kDiv:  // 2a == (lo + hi) * b
      sum.add(x, 1);
      sum.add_product(lo, y, 0, true);
      sum.add_product(hi, y, 0, true);
      return sum.is_zero();
    case Op::kSqrt:  // 4a == (lo + hi)^2
      sum.add(x, 2);
      sum.add_product(lo, lo, 0, true);
      sum.add_product(lo, hi, 1, true);
      sum.add_product(hi, hi, 0, true);
      return sum.is_zero();
    case Op::kAdd:
    case Op::kSub:
      sum.add(x, 1);
      sum.add(y, 1, op == Op::kSub);
      break;
    case Op::kMul: sum.add_product(x, y, 1); break;
    case Op::kNarrow: sum.add(x, 1); break;
    default:
      sum.add_product(x, y, 1, fma_negates_product(op));
      sum.add(z, 1, fma_negates_addend(op));
      break;
  }
  sum.add(lo, 0, true);
  sum.add(hi, 0, true);
  return sum.is_zero();
}

// ---- random operands, biased to where the edge cases are ----

template <typename T>
uint64_t random_frac(Rng& rng) {
  using L = Layout<T>;
  switch (rng.below(8)) {
    case 3: {  // few significant bits: exact results and ties
      const int k = static_cast<int>(rng.below(7));
      return (rng.next() & ((uint64_t{1} << k) - 1)) << (L::kFracBits - k);
    }
    case 4: return L::kFracMask;
    case 5: return 0;
    case 6: return rng.next() & ((uint64_t{1} << rng.below(7)) - 1);
    case 7: return L::kFracMask ^ (rng.next() & 7);
    default: return rng.next() & L::kFracMask;
  }
}

template <typename T>
T random_operand(Rng& rng) {
  using L = Layout<T>;
  const bool negative = rng.coin();
  const uint64_t max_field = static_cast<uint64_t>(L::kMaxField);
  uint64_t nan_frac = rng.next() & L::kFracMask;  // quiet or signaling, random payload
  if ((nan_frac & (L::kFracMask >> 1)) == 0) nan_frac |= 1;
  // clang-format off
  switch (rng.below(16)) {
    case 0: case 1: case 2: return static_cast<T>(rng.next());
    case 3: return L::make(negative, 0, 0);
    case 4: return L::make(negative, max_field, 0);
    case 5: return L::make(negative, max_field, nan_frac);
    case 6: case 7: return L::make(negative, 0, random_frac<T>(rng));  // subnormal
    case 8: return L::make(negative, 1 + rng.below(2), random_frac<T>(rng));
    case 9: return L::make(negative, max_field - 1 - rng.below(3), random_frac<T>(rng));
    case 10: case 11:
      return L::make(negative, static_cast<uint64_t>(L::kBias + rng.range(-4, 4)), random_frac<T>(rng));
    default: return L::make(negative, 1 + rng.below(max_field - 1), random_frac<T>(rng));
  }
  // clang-format on
}

// ---- operand generation ----

template <typename T>
T operand_near(Rng& rng, int64_t field) {
  using L = Layout<T>;
  if (field < 0) field = 0;
  if (field > L::kMaxField - 1) field = L::kMaxField - 1;
  return L::make(rng.coin(), static_cast<uint64_t>(field), random_frac<T>(rng));
}

template <typename T>
int64_t exp_of(T x) {
  using L = Layout<T>;
  const int64_t field = static_cast<int64_t>(L::field(x));
  return (field == 0 ? 1 : field) - L::kBias;
}

// Replaces b's significand so that a * b falls just short of (or just past) a power of two,
// where rounding carries into the next binade: the case that tells tininess after rounding
// from tininess before it when the product is near 2^emin.
template <typename T>
T with_product_near_power_of_two(Rng& rng, T a, T b) {
  using L = Layout<T>;
  if (L::field(a) == 0 || L::field(a) >= static_cast<uint64_t>(L::kMaxField)) return b;
  const uint64_t sa = (a & L::kFracMask) | (uint64_t{1} << L::kFracBits);
  const u128 top = static_cast<u128>(1) << (2 * L::kFracBits + 1);
  u128 sb = top / sa + static_cast<u128>(rng.range(0, 1));
  if (sb >= (static_cast<u128>(1) << (L::kFracBits + 1)))
    sb = (static_cast<u128>(1) << (L::kFracBits + 1)) - 1;
  return L::make(L::sign(b), L::field(b), static_cast<uint64_t>(sb));
}

struct Operands3 {
  uint64_t a, b, c;
};

// Picks operands so that results land where rounding is delicate: cancellation, ties, and the
// edges of the subnormal and overflow ranges.
template <typename T>
Operands3 make_operands(Op op, Rng& rng) {
  using L = Layout<T>;
  const T a = random_operand<T>(rng);
  T b = random_operand<T>(rng);
  T c = random_operand<T>(rng);
  const int64_t ea = exp_of(a);
  const int64_t under = L::kEmin - static_cast<int64_t>(rng.below(L::kFracBits + 4)) + 1;
  const int64_t over = L::kBias - 1 + static_cast<int64_t>(rng.below(3));
  const int64_t edge = rng.coin() ? under : over;
  switch (op) {
    case Op::kAdd:
    case Op::kSub:
      if (rng.below(4) != 0) {
        const int64_t spread = rng.coin() ? 3 : L::kFracBits + 4;
        b = operand_near<T>(rng, static_cast<int64_t>(L::field(a)) + rng.range(-spread, spread));
      }
      break;
    case Op::kMul:
      if (rng.below(3) != 0) b = operand_near<T>(rng, edge - ea + L::kBias);
      if (rng.coin()) b = with_product_near_power_of_two<T>(rng, a, b);
      break;
    case Op::kDiv:
      if (rng.below(3) != 0) b = operand_near<T>(rng, ea - edge + L::kBias);
      break;
    case Op::kSqrt: break;
    default: {  // fused multiply-add
      if (rng.below(3) == 0) b = operand_near<T>(rng, edge - ea + L::kBias);
      const int64_t ep = ea + exp_of(b);
      if (rng.below(4) != 0) {
        const int64_t spread = rng.coin() ? 3 : 2 * L::kFracBits + 6;
        c = operand_near<T>(rng, ep + L::kBias + rng.range(-spread, spread));
      }
      break;
    }
  }
  return {a, b, c};
}

// ---- expected outcome ----

template <typename T>
Outcome expected_arith(Op op, uint64_t a, uint64_t b, uint64_t c, RoundingMode rm) {
  using L = Layout<T>;
  auto on = [&](RoundingMode mode) {
    Outcome out = on_host(mode, [&] { return host_arith<T>(op, a, b, c); });
    if (L::is_nan(static_cast<T>(out.bits))) out.bits = L::kCanonicalNaN;
    if (is_fma(op) && (L::is_inf(static_cast<T>(a)) || L::is_inf(static_cast<T>(b))) &&
        (L::is_zero(static_cast<T>(a)) || L::is_zero(static_cast<T>(b))) &&
        L::is_nan(static_cast<T>(c))) {
      out.flags |= kNV;
    }
    return out;
  };
  if (rm != RoundingMode::kRMM) return on(rm);
  const Outcome rne = on(RoundingMode::kRNE);
  if (L::is_nan(static_cast<T>(rne.bits))) return rne;
  const uint64_t rdn = on(RoundingMode::kRDN).bits;
  const uint64_t rup = on(RoundingMode::kRUP).bits;
  if (rdn == rup || !is_tie<T>(op, a, b, c, rdn, rup)) return rne;
  return {L::sign(static_cast<T>(rne.bits)) ? rdn : rup, rne.flags};
}

template <typename T>
void check_arith(Op op, uint64_t seed) {
  Rng rng(seed);
  int failures = 0;
  const long n = iterations();
  for (long i = 0; i < n && failures < kMaxFailures; ++i) {
    const Operands3 ops = make_operands<T>(op, rng);
    for (RoundingMode rm : kAllModes) {
      const Outcome got = soft_arith<T>(op, ops.a, ops.b, ops.c, rm);
      const Outcome want = expected_arith<T>(op, ops.a, ops.b, ops.c, rm);
      if (got != want) {
        ++failures;
        ADD_FAILURE() << op_name(op) << (sizeof(T) == 4 ? ".s" : ".d") << " rm=" << mode_name(rm)
                      << " a=" << hex(ops.a) << " b=" << hex(ops.b) << " c=" << hex(ops.c)
                      << ": got " << got << ", want " << want;
      }
    }
  }
}

class ArithTest : public ::testing::TestWithParam<Op> {};

TEST_P(ArithTest, Binary32MatchesHost) {
  if (is_fma(GetParam()) && !host_has_fma()) GTEST_SKIP() << "host has no FMA unit";
  check_arith<uint32_t>(GetParam(), 0x5eed0000 + static_cast<uint64_t>(GetParam()));
}
TEST_P(ArithTest, Binary64MatchesHost) {
  if (is_fma(GetParam()) && !host_has_fma()) GTEST_SKIP() << "host has no FMA unit";
  check_arith<uint64_t>(GetParam(), 0xd0d00000 + static_cast<uint64_t>(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(AllOps, ArithTest,
                         ::testing::Values(Op::kAdd, Op::kSub, Op::kMul, Op::kDiv, Op::kSqrt,
                                           Op::kFmadd, Op::kFmsub, Op::kFnmsub, Op::kFnmadd),
                         [](const ::testing::TestParamInfo<Op>& param_info) {
                           return std::string(op_name(param_info.param));
                         });

// ---- binary32 <-> binary64 ----

TEST(ConvertFormatTest, F32ToF64MatchesHost) {
  Rng rng(0xf32f64);
  int failures = 0;
  const long n = iterations();
  for (long i = 0; i < n && failures < kMaxFailures; ++i) {
    const uint32_t a = random_operand<uint32_t>(rng);
    Outcome got{};
    uint8_t flags = 0;
    got.bits = f32_to_f64(a, flags);
    got.flags = flags;
    Outcome want = on_host(RoundingMode::kRNE, [&] { return host_f32_to_f64(a); });
    if (Layout<uint64_t>::is_nan(want.bits)) want.bits = kCanonicalNaN64;
    if (got != want) {
      ++failures;
      ADD_FAILURE() << "f32_to_f64 a=" << hex(a) << ": got " << got << ", want " << want;
    }
  }
}

// Doubles around binary32's subnormal and overflow edges, and halfway patterns.
uint64_t f64_operand_for_narrowing(Rng& rng) {
  using L = Layout<uint64_t>;
  const int64_t f32_emin = Layout<uint32_t>::kEmin;
  const int64_t f32_emax = Layout<uint32_t>::kBias;
  switch (rng.below(5)) {
    case 0: return random_operand<uint64_t>(rng);
    case 1: return operand_near<uint64_t>(rng, L::kBias + f32_emin - rng.range(-2, 27));
    case 2: return operand_near<uint64_t>(rng, L::kBias + f32_emax + rng.range(-2, 1));
    default: {
      // A binary32-precision value plus a random tail at or around its half-ulp position.
      const uint64_t base =
          operand_near<uint64_t>(rng, L::kBias + rng.range(f32_emin - 25, f32_emax + 1));
      const int low = L::kFracBits - Layout<uint32_t>::kFracBits;  // 29 dropped bits
      uint64_t tail = uint64_t{1} << (low - 1);
      if (rng.coin())
        tail ^= rng.next() & ((uint64_t{1} << (low - 1)) - 1) & (rng.coin() ? 1 : ~0ULL);
      return (base & ~((uint64_t{1} << low) - 1)) | tail;
    }
  }
}

TEST(ConvertFormatTest, F64ToF32MatchesHost) {
  Rng rng(0xf64f32);
  int failures = 0;
  const long n = iterations();
  for (long i = 0; i < n && failures < kMaxFailures; ++i) {
    const uint64_t a = f64_operand_for_narrowing(rng);
    for (RoundingMode rm : kAllModes) {
      const Outcome got = soft_arith<uint32_t>(Op::kNarrow, a, 0, 0, rm);
      const Outcome want = expected_arith<uint32_t>(Op::kNarrow, a, 0, 0, rm);
      if (got != want) {
        ++failures;
        ADD_FAILURE() << "f64_to_f32 rm=" << mode_name(rm) << " a=" << hex(a) << ": got " << got
                      << ", want " << want;
      }
    }
  }
}

// ---- float -> integer ----

template <typename T>
[[gnu::noinline]] int64_t host_to_i64(uint64_t bits) {
  using H = typename Layout<T>::Host;
  volatile H x = std::bit_cast<H>(static_cast<T>(bits));
  volatile int64_t r = 0;
  if constexpr (sizeof(T) == 4) {
    r = _mm_cvtss_si64(_mm_set_ss(x));
  } else {
    r = _mm_cvtsd_si64(_mm_set_sd(x));
  }
  return r;
}

// Values around integers, halves and the integer formats' limits.
template <typename T>
uint64_t int_operand(Rng& rng) {
  using H = typename Layout<T>::Host;
  if (rng.below(4) == 0) return random_operand<T>(rng);
  static const double kFractions[] = {0.0,           0.5,           0.25,    0.75,
                                      0.5 + 0x1p-20, 0.5 - 0x1p-20, 0x1p-60, 1.0 - 0x1p-20};
  static const int kWidths[] = {1, 2, 3, 8, 23, 24, 31, 32, 33, 52, 53, 63, 64, 65};
  const int width = kWidths[rng.below(std::size(kWidths))];
  const double whole = std::ldexp(static_cast<double>(rng.next() >> 11), width - 53);
  double v = std::floor(whole) + kFractions[rng.below(std::size(kFractions))];
  if (rng.below(4) == 0) v = std::ldexp(1.0, width) + static_cast<double>(rng.range(-3, 3)) * 0.5;
  if (rng.coin()) v = -v;
  auto bits = static_cast<uint64_t>(std::bit_cast<T>(static_cast<H>(v)));
  // Nudge by a few ulps so values just inside and outside each limit come up.
  if (rng.coin()) bits = static_cast<T>(bits + static_cast<uint64_t>(rng.range(-2, 2)));
  return bits;
}

// The exact rounded integer (or "beyond 2^100") that the spec's saturation table is applied to.
struct RoundedInt {
  bool nan = false;
  bool huge = false;
  i128 value = 0;
  bool inexact = false;
};

template <typename T>
RoundedInt rounded_int(uint64_t bits, RoundingMode rm) {
  using L = Layout<T>;
  RoundedInt out;
  const double x = L::to_double(bits);
  if (std::isnan(x)) {
    out.nan = true;
  } else if (std::fabs(x) < 0x1p63) {
    auto host = [&](RoundingMode mode) {
      const Outcome o = on_host(mode, [&] { return static_cast<uint64_t>(host_to_i64<T>(bits)); });
      EXPECT_EQ(o.flags & ~kNX, 0) << hex(bits);
      return o;
    };
    if (rm != RoundingMode::kRMM) {
      const Outcome o = host(rm);
      out.value = static_cast<int64_t>(o.bits);
      out.inexact = (o.flags & kNX) != 0;
    } else {
      const auto truncated = static_cast<int64_t>(host(RoundingMode::kRTZ).bits);
      const double fraction = x - static_cast<double>(truncated);  // exact
      out.inexact = fraction != 0;
      out.value = std::fabs(fraction) == 0.5 ? truncated + (x < 0 ? -1 : 1)
                                             : static_cast<int64_t>(host(RoundingMode::kRNE).bits);
    }
  } else if (std::isinf(x) || std::fabs(x) >= 0x1p100) {
    out.huge = true;
  } else {
    const Parts p = parts(x);  // an integer: at least 2^63 with 53 significant bits
    out.value = static_cast<i128>(static_cast<u128>(p.mant) << p.exp);
    if (p.negative) out.value = -out.value;
  }
  return out;
}

// The spec's table: NaN and +inf give the largest value, -inf the smallest; rounded values out
// of range saturate; all three raise only NV. In range, NX if inexact.
template <typename I>
Outcome expected_int(const RoundedInt& r, double x) {
  const auto lo = static_cast<i128>(std::numeric_limits<I>::min());
  const auto hi = static_cast<i128>(std::numeric_limits<I>::max());
  auto as_bits = [](i128 v) { return static_cast<uint64_t>(static_cast<I>(v)); };
  if (r.nan) return {as_bits(hi), kNV};
  if (r.huge) return {as_bits(x < 0 ? lo : hi), kNV};
  if (r.value < lo) return {as_bits(lo), kNV};
  if (r.value > hi) return {as_bits(hi), kNV};
  return {as_bits(r.value), static_cast<uint8_t>(r.inexact ? kNX : 0)};
}

template <typename T>
void check_to_int(uint64_t seed) {
  Rng rng(seed);
  int failures = 0;
  const long n = iterations();
  for (long i = 0; i < n && failures < kMaxFailures; ++i) {
    const uint64_t bits = int_operand<T>(rng);
    const double x = Layout<T>::to_double(bits);
    for (RoundingMode rm : kAllModes) {
      const RoundedInt r = rounded_int<T>(bits, rm);
      const auto a = static_cast<T>(bits);
      uint8_t f[4] = {};
      Outcome got[4];
      if constexpr (sizeof(T) == 4) {
        got[0].bits = static_cast<uint32_t>(f32_to_i32(a, rm, f[0]));
        got[1].bits = f32_to_u32(a, rm, f[1]);
        got[2].bits = static_cast<uint64_t>(f32_to_i64(a, rm, f[2]));
        got[3].bits = f32_to_u64(a, rm, f[3]);
      } else {
        got[0].bits = static_cast<uint32_t>(f64_to_i32(a, rm, f[0]));
        got[1].bits = f64_to_u32(a, rm, f[1]);
        got[2].bits = static_cast<uint64_t>(f64_to_i64(a, rm, f[2]));
        got[3].bits = f64_to_u64(a, rm, f[3]);
      }
      const Outcome want[4] = {expected_int<int32_t>(r, x), expected_int<uint32_t>(r, x),
                               expected_int<int64_t>(r, x), expected_int<uint64_t>(r, x)};
      static const char* const kNames[] = {"w", "wu", "l", "lu"};
      for (int k = 0; k < 4; ++k) {
        got[k].flags = f[k];
        if (k == 0) got[k].bits = static_cast<uint32_t>(got[k].bits);
        const Outcome w = {k == 0 ? static_cast<uint32_t>(want[k].bits) : want[k].bits,
                           want[k].flags};
        if (got[k] != w) {
          ++failures;
          ADD_FAILURE() << "fcvt." << kNames[k] << (sizeof(T) == 4 ? ".s" : ".d")
                        << " rm=" << mode_name(rm) << " a=" << hex(bits) << " (" << x << "): got "
                        << got[k] << ", want " << w;
        }
      }
    }
  }
}

TEST(ConvertToIntTest, Binary32MatchesHost) { check_to_int<uint32_t>(0x70132); }
TEST(ConvertToIntTest, Binary64MatchesHost) { check_to_int<uint64_t>(0x70164); }

// ---- integer -> float ----

enum class IntKind { kI32, kU32, kI64, kU64 };

template <typename H, typename I>
H host_convert(uint64_t raw) {
  volatile auto v = static_cast<I>(raw);
  return static_cast<H>(v);
}

template <typename T>
[[gnu::noinline]] uint64_t host_from_int(IntKind kind, uint64_t raw) {
  using H = typename Layout<T>::Host;
  volatile H r = 0;
  // clang-format off
  switch (kind) {
    case IntKind::kI32: r = host_convert<H, int32_t>(raw); break;
    case IntKind::kU32: r = host_convert<H, uint32_t>(raw); break;
    case IntKind::kI64: r = host_convert<H, int64_t>(raw); break;
    case IntKind::kU64: r = host_convert<H, uint64_t>(raw); break;
  }
  // clang-format on
  return std::bit_cast<T>(static_cast<H>(r));
}

template <typename T>
Outcome soft_from_int(IntKind kind, uint64_t raw, RoundingMode rm) {
  uint8_t flags = 0;
  uint64_t r = 0;
  const auto i32 = static_cast<int32_t>(raw);
  const auto u32 = static_cast<uint32_t>(raw);
  const auto i64 = static_cast<int64_t>(raw);
  // clang-format off
  if constexpr (sizeof(T) == 4) {
    switch (kind) {
      case IntKind::kI32: r = f32_from_i32(i32, rm, flags); break;
      case IntKind::kU32: r = f32_from_u32(u32, rm, flags); break;
      case IntKind::kI64: r = f32_from_i64(i64, rm, flags); break;
      case IntKind::kU64: r = f32_from_u64(raw, rm, flags); break;
    }
  } else {
    switch (kind) {
      case IntKind::kI32: r = f64_from_i32(i32, rm, flags); break;
      case IntKind::kU32: r = f64_from_u32(u32, rm, flags); break;
      case IntKind::kI64: r = f64_from_i64(i64, rm, flags); break;
      case IntKind::kU64: r = f64_from_u64(raw, rm, flags); break;
    }
  }
  // clang-format on
  return {r, flags};
}

i128 int_value(IntKind kind, uint64_t raw) {
  switch (kind) {
    case IntKind::kI32: return static_cast<int32_t>(raw);
    case IntKind::kU32: return static_cast<uint32_t>(raw);
    case IntKind::kI64: return static_cast<int64_t>(raw);
    default: return raw;
  }
}

template <typename T>
void check_from_int(uint64_t seed) {
  using L = Layout<T>;
  Rng rng(seed);
  int failures = 0;
  const long n = iterations();
  for (long i = 0; i < n && failures < kMaxFailures; ++i) {
    // Random widths, with runs of ones and zeros near the rounding position.
    const int width = static_cast<int>(rng.below(65));
    uint64_t raw = width == 64 ? rng.next() : rng.next() & ((uint64_t{1} << width) - 1);
    if (rng.coin())
      raw = (width == 64 ? 0 : uint64_t{1} << width) + static_cast<uint64_t>(rng.range(-4, 4));
    if (rng.coin()) raw = 0 - raw;
    for (IntKind kind : {IntKind::kI32, IntKind::kU32, IntKind::kI64, IntKind::kU64}) {
      for (RoundingMode rm : kAllModes) {
        const Outcome got = soft_from_int<T>(kind, raw, rm);
        Outcome want;
        if (rm != RoundingMode::kRMM) {
          want = on_host(rm, [&] { return host_from_int<T>(kind, raw); });
        } else {
          want = on_host(RoundingMode::kRNE, [&] { return host_from_int<T>(kind, raw); });
          const uint64_t rdn =
              on_host(RoundingMode::kRDN, [&] { return host_from_int<T>(kind, raw); }).bits;
          const uint64_t rup =
              on_host(RoundingMode::kRUP, [&] { return host_from_int<T>(kind, raw); }).bits;
          ExactSum sum;
          sum.add_integer(int_value(kind, raw), 1);
          sum.add(L::to_double(rdn), 0, true);
          sum.add(L::to_double(rup), 0, true);
          if (rdn != rup && sum.is_zero()) want.bits = L::sign(want.bits) ? rdn : rup;
        }
        if (got != want) {
          ++failures;
          ADD_FAILURE() << "from int kind=" << static_cast<int>(kind)
                        << (sizeof(T) == 4 ? " .s" : " .d") << " rm=" << mode_name(rm)
                        << " x=" << hex(raw) << ": got " << got << ", want " << want;
        }
      }
    }
  }
}

TEST(ConvertFromIntTest, Binary32MatchesHost) { check_from_int<uint32_t>(0xf1032); }
TEST(ConvertFromIntTest, Binary64MatchesHost) { check_from_int<uint64_t>(0xf1064); }

}  // namespace
}  // namespace vessel::rv::fp
