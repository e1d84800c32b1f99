// Integer-only IEEE 754 arithmetic for the RISC-V F and D extensions.
//
// Every finite operation computes its exact result (or a value carrying the same rounding
// information: the significand's bits plus a "sticky" bit standing for anything nonzero below
// them) and hands it to round_pack(), the only place where rounding, overflow and underflow are
// decided. Both formats share one template.
#include "cpu/riscv/fpu/softfloat.hpp"

#include "cpu/riscv/fpu/hostfloat.hpp"

#include <bit>
#include <limits>
#include <type_traits>
#include <utility>

namespace vessel::rv::fp {
namespace {

__extension__ typedef unsigned __int128 u128;

template <typename B, int kExpBitsV, int kFracBitsV>
struct Format {
  using Bits = B;
  static constexpr int kFracBits = kFracBitsV;
  static constexpr int kPrec = kFracBits + 1;
  static constexpr int kBias = (1 << (kExpBitsV - 1)) - 1;
  static constexpr int kEmin = 1 - kBias;
  static constexpr int kEmax = kBias;
  static constexpr Bits kSign = static_cast<Bits>(Bits{1} << (sizeof(Bits) * 8 - 1));
  static constexpr Bits kFracMask = static_cast<Bits>((Bits{1} << kFracBits) - 1);
  static constexpr Bits kInf = static_cast<Bits>(~kSign & ~kFracMask);
  static constexpr Bits kQuiet = static_cast<Bits>(Bits{1} << (kFracBits - 1));
  static constexpr Bits kMaxFinite = kInf - 1;
  static constexpr Bits kCanonicalNaN = kInf | kQuiet;
};
using F16 = Format<uint16_t, 5, 10>;
using F32 = Format<uint32_t, 8, 23>;
using F64 = Format<uint64_t, 11, 52>;
static_assert(F16::kCanonicalNaN == kCanonicalNaN16 && F32::kCanonicalNaN == kCanonicalNaN32 &&
              F64::kCanonicalNaN == kCanonicalNaN64);

template <class F>
constexpr bool sign_of(typename F::Bits x) {
  return (x & F::kSign) != 0;
}
template <class F>
constexpr bool is_nan(typename F::Bits x) {
  return (x & ~F::kSign) > F::kInf;
}
template <class F>
constexpr bool is_snan(typename F::Bits x) {
  return is_nan<F>(x) && (x & F::kQuiet) == 0;
}
template <class F>
constexpr bool is_inf(typename F::Bits x) {
  return (x & ~F::kSign) == F::kInf;
}
template <class F>
constexpr bool is_zero(typename F::Bits x) {
  return (x & ~F::kSign) == 0;
}
template <class F>
constexpr typename F::Bits sign_bit(bool negative) {
  return negative ? F::kSign : typename F::Bits{0};
}

// A finite nonzero operand: value = sig * 2^(exp - kFracBits), with sig in [2^kFracBits,
// 2^kPrec) even for subnormal encodings, so exp is the exponent of the leading bit.
struct Unpacked {
  int exp;
  uint64_t sig;
};

template <class F>
Unpacked unpack(typename F::Bits x) {
  const int field = static_cast<int>((x & ~F::kSign) >> F::kFracBits);
  const uint64_t frac = x & F::kFracMask;
  if (field != 0) return {field - F::kBias, frac | (uint64_t{1} << F::kFracBits)};
  const int shift = std::countl_zero(frac) - (63 - F::kFracBits);
  return {F::kEmin - shift, frac << shift};
}

inline int clz128(u128 x) {
  const auto hi = static_cast<uint64_t>(x >> 64);
  return hi != 0 ? std::countl_zero(hi) : 64 + std::countl_zero(static_cast<uint64_t>(x));
}

// n / d and n % d for a quotient known to fit in 64 bits (n >> 64 < d). libgcc's general
// 128-bit division is several times slower than the one instruction x86-64 has for this.
inline uint64_t div_narrow(u128 n, uint64_t d, uint64_t& rem) {
#if defined(__x86_64__)
  uint64_t q = 0;
  asm("divq %[d]"
      : "=a"(q), "=d"(rem)
      : "a"(static_cast<uint64_t>(n)), "d"(static_cast<uint64_t>(n >> 64)), [d] "rm"(d));
  return q;
#else
  rem = static_cast<uint64_t>(n % d);
  return static_cast<uint64_t>(n / d);
#endif
}

// Shift right, OR-ing every bit shifted out into bit 0 so that "inexact" and the direction of
// rounding survive.
inline uint64_t shift_right_jam(uint64_t x, int n) {
  if (n <= 0) return x;
  if (n >= 63) return x != 0 ? 1 : 0;
  return (x >> n) | ((x << (64 - n)) != 0 ? 1 : 0);
}
inline u128 shift_right_jam128(u128 x, int n) {
  if (n <= 0) return x;
  if (n >= 127) return x != 0 ? 1 : 0;
  return (x >> n) | ((x << (128 - n)) != 0 ? 1 : 0);
}

// Whether to add one unit to the kept bits; rem is what is being discarded, half its midpoint.
inline bool round_increment(RoundingMode rm, bool negative, bool odd, uint64_t rem, uint64_t half) {
  switch (rm) {
    case RoundingMode::kRTZ: return false;
    case RoundingMode::kRDN: return negative && rem != 0;
    case RoundingMode::kRUP: return !negative && rem != 0;
    case RoundingMode::kRMM: return rem >= half;
    case RoundingMode::kRNE:
    default: return rem > half || (rem == half && odd);
  }
}

// Drops the low `shift` bits (1..63) of sig, rounding by rm.
inline uint64_t round_shift(uint64_t sig, int shift, bool negative, RoundingMode rm,
                            bool& inexact) {
  const uint64_t kept = sig >> shift;
  const uint64_t rem = sig & ((uint64_t{1} << shift) - 1);
  inexact = rem != 0;
  return kept +
         (round_increment(rm, negative, (kept & 1) != 0, rem, uint64_t{1} << (shift - 1)) ? 1 : 0);
}

template <class F>
typename F::Bits overflow(bool negative, RoundingMode rm, uint8_t& flags) {
  flags |= kOF | kNX;
  bool to_inf = true;
  switch (rm) {
    case RoundingMode::kRTZ: to_inf = false; break;
    case RoundingMode::kRDN: to_inf = negative; break;
    case RoundingMode::kRUP: to_inf = !negative; break;
    default: break;
  }
  return static_cast<typename F::Bits>(sign_bit<F>(negative) | (to_inf ? F::kInf : F::kMaxFinite));
}

// Rounds the nonzero value (-1)^negative * sig * 2^(exp - 62), where sig has its leading bit at
// bit 62 and may carry a sticky bit 0, to format F.
template <class F>
typename F::Bits round_pack(bool negative, int exp, uint64_t sig, RoundingMode rm, uint8_t& flags) {
  using Bits = typename F::Bits;
  constexpr int kLow = 62 - F::kFracBits;  // bits below the result's last significand bit
  bool inexact = false;
  if (exp < F::kEmin) {
    // Tininess is judged after rounding to full precision with an unbounded exponent: only a
    // value just below 2^emin can round up out of the tiny range.
    bool tiny = true;
    if (exp == F::kEmin - 1) {
      bool unused = false;
      tiny = (round_shift(sig, kLow, negative, rm, unused) >> F::kPrec) == 0;
    }
    // A carry out of the subnormal significand lands in the exponent field as 2^emin.
    const uint64_t kept =
        round_shift(shift_right_jam(sig, F::kEmin - exp), kLow, negative, rm, inexact);
    if (inexact) flags |= tiny ? (kNX | kUF) : kNX;
    return static_cast<Bits>(sign_bit<F>(negative) | static_cast<Bits>(kept));
  }
  const uint64_t kept = round_shift(sig, kLow, negative, rm, inexact);
  if (exp > F::kEmax || (exp == F::kEmax && (kept >> F::kPrec) != 0)) {
    return overflow<F>(negative, rm, flags);
  }
  if (inexact) flags |= kNX;
  // kept includes the leading bit, which adds one to the exponent field (and a rounding carry
  // to 2^kPrec adds one more, as it should).
  return static_cast<Bits>(sign_bit<F>(negative) +
                           (static_cast<Bits>(exp + F::kBias - 1) << F::kFracBits) +
                           static_cast<Bits>(kept));
}

// Rounds the nonzero value (-1)^negative * x * 2^lsb_exp.
template <class F>
typename F::Bits round_pack_u64(bool negative, int lsb_exp, uint64_t x, RoundingMode rm,
                                uint8_t& flags) {
  const int msb = 63 - std::countl_zero(x);
  if (msb == 63) return round_pack<F>(negative, lsb_exp + 63, (x >> 1) | (x & 1), rm, flags);
  return round_pack<F>(negative, lsb_exp + msb, x << (62 - msb), rm, flags);
}
template <class F>
typename F::Bits round_pack_u128(bool negative, int lsb_exp, u128 x, RoundingMode rm,
                                 uint8_t& flags) {
  const int msb = 127 - clz128(x);
  if (msb <= 62) {
    return round_pack<F>(negative, lsb_exp + msb, static_cast<uint64_t>(x) << (62 - msb), rm,
                         flags);
  }
  return round_pack<F>(negative, lsb_exp + msb,
                       static_cast<uint64_t>(shift_right_jam128(x, msb - 62)), rm, flags);
}

// ---- arithmetic ----

template <class F>
typename F::Bits add(typename F::Bits a, typename F::Bits b, bool negate_b, RoundingMode rm,
                     uint8_t& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    if (is_snan<F>(a) || is_snan<F>(b)) flags |= kNV;
    return F::kCanonicalNaN;
  }
  if (negate_b) b ^= F::kSign;
  const bool sa = sign_of<F>(a);
  const bool sb = sign_of<F>(b);
  if (is_inf<F>(a) || is_inf<F>(b)) {
    if (is_inf<F>(a) && is_inf<F>(b) && sa != sb) {
      flags |= kNV;
      return F::kCanonicalNaN;
    }
    return is_inf<F>(a) ? a : b;
  }
  if (is_zero<F>(b)) {
    if (!is_zero<F>(a) || sa == sb) return a;
    return sign_bit<F>(rm == RoundingMode::kRDN);
  }
  if (is_zero<F>(a)) return b;

  const Unpacked ua = unpack<F>(a);
  const Unpacked ub = unpack<F>(b);
  // Leading bits at 61 leave room for a carry; the bits below give guard room for jamming.
  uint64_t ma = ua.sig << (61 - F::kFracBits);
  uint64_t mb = ub.sig << (61 - F::kFracBits);
  int ea = ua.exp;
  int eb = ub.exp;
  bool negative = sa;
  if (ea < eb || (ea == eb && ma < mb)) {
    std::swap(ma, mb);
    std::swap(ea, eb);
    negative = sb;
  }
  mb = shift_right_jam(mb, ea - eb);
  if (sa == sb) {
    const uint64_t sum = ma + mb;
    if ((sum >> 62) != 0) return round_pack<F>(negative, ea + 1, sum, rm, flags);
    return round_pack<F>(negative, ea, sum << 1, rm, flags);
  }
  const uint64_t diff = ma - mb;
  if (diff == 0) return sign_bit<F>(rm == RoundingMode::kRDN);
  const int lz = std::countl_zero(diff);
  return round_pack<F>(negative, ea - (lz - 2), diff << (lz - 1), rm, flags);
}

template <class F>
typename F::Bits mul(typename F::Bits a, typename F::Bits b, RoundingMode rm, uint8_t& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    if (is_snan<F>(a) || is_snan<F>(b)) flags |= kNV;
    return F::kCanonicalNaN;
  }
  const bool negative = sign_of<F>(a) != sign_of<F>(b);
  if (is_inf<F>(a) || is_inf<F>(b)) {
    if (is_zero<F>(a) || is_zero<F>(b)) {
      flags |= kNV;
      return F::kCanonicalNaN;
    }
    return sign_bit<F>(negative) | F::kInf;
  }
  if (is_zero<F>(a) || is_zero<F>(b)) return sign_bit<F>(negative);
  const Unpacked ua = unpack<F>(a);
  const Unpacked ub = unpack<F>(b);
  const int lsb_exp = ua.exp + ub.exp - 2 * F::kFracBits;
  if constexpr (F::kPrec <= 32) {
    return round_pack_u64<F>(negative, lsb_exp, ua.sig * ub.sig, rm, flags);
  } else {
    return round_pack_u128<F>(negative, lsb_exp, static_cast<u128>(ua.sig) * ub.sig, rm, flags);
  }
}

template <class F>
typename F::Bits div(typename F::Bits a, typename F::Bits b, RoundingMode rm, uint8_t& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    if (is_snan<F>(a) || is_snan<F>(b)) flags |= kNV;
    return F::kCanonicalNaN;
  }
  const bool negative = sign_of<F>(a) != sign_of<F>(b);
  if (is_inf<F>(a)) {
    if (is_inf<F>(b)) {
      flags |= kNV;
      return F::kCanonicalNaN;
    }
    return sign_bit<F>(negative) | F::kInf;
  }
  if (is_inf<F>(b)) return sign_bit<F>(negative);
  if (is_zero<F>(b)) {
    if (is_zero<F>(a)) {
      flags |= kNV;
      return F::kCanonicalNaN;
    }
    flags |= kDZ;
    return sign_bit<F>(negative) | F::kInf;
  }
  if (is_zero<F>(a)) return sign_bit<F>(negative);
  const Unpacked ua = unpack<F>(a);
  const Unpacked ub = unpack<F>(b);
  // The quotient gets at least kPrec + 2 bits, so the remainder can be folded into bit 0.
  if constexpr (F::kPrec <= 32) {
    constexpr int kScale = 62 - F::kPrec;
    const uint64_t num = ua.sig << kScale;
    const uint64_t q = num / ub.sig;
    const uint64_t sticky = (num - q * ub.sig) != 0 ? 1 : 0;
    return round_pack_u64<F>(negative, ua.exp - ub.exp - kScale, q | sticky, rm, flags);
  } else {
    // sig_a < 2 * sig_b, so the quotient fits in 64 bits (and has at least 63).
    uint64_t rem = 0;
    const uint64_t q = div_narrow(static_cast<u128>(ua.sig) << 63, ub.sig, rem);
    return round_pack_u64<F>(negative, ua.exp - ub.exp - 63, q | (rem != 0 ? 1 : 0), rm, flags);
  }
}

// floor(sqrt(n)), one result bit per step: only used on a small seed.
inline uint64_t isqrt_bitwise(uint64_t n) {
  uint64_t root = 0;
  uint64_t bit = uint64_t{1} << 62;
  while (bit > n) bit >>= 2;
  while (bit != 0) {
    // Branch-free: the comparison is a coin toss for the predictor.
    const uint64_t trial = root + bit;
    const uint64_t take = n >= trial ? ~uint64_t{0} : 0;
    n -= trial & take;
    root = (root >> 1) + (bit & take);
    bit >>= 2;
  }
  return root;
}

// floor(sqrt(m)) and whether it is exact. A seed from the top bits of m is correct to about
// half the result's bits; one Newton step from above doubles that, and the step never lands
// below the floor, so a decrement or two finishes the job.
template <typename U>
U isqrt(U m, bool& exact) {
  constexpr int kSeedBits = sizeof(U) == 16 ? 64 : 32;
  int msb = 0;
  if constexpr (sizeof(U) == 16) {
    msb = 127 - clz128(m);
  } else {
    msb = 63 - std::countl_zero(m);
  }
  int shift = msb + 1 - kSeedBits;
  if (shift < 0) shift = 0;
  shift += shift & 1;
  U x = static_cast<U>(isqrt_bitwise(static_cast<uint64_t>(m >> shift)) + 1) << (shift / 2);
  if constexpr (sizeof(U) == 16) {
    // x < 2^64 and m < 2^128 with sqrt(m) < x: the quotient is below x.
    uint64_t rem = 0;
    x = (x + div_narrow(m, static_cast<uint64_t>(x), rem)) >> 1;
  } else {
    x = (x + m / x) >> 1;
  }
  while (x * x > m) --x;
  exact = x * x == m;
  return x;
}

template <class F>
typename F::Bits sqrt(typename F::Bits a, RoundingMode rm, uint8_t& flags) {
  if (is_nan<F>(a)) {
    if (is_snan<F>(a)) flags |= kNV;
    return F::kCanonicalNaN;
  }
  if (is_zero<F>(a)) return a;  // sqrt(-0) is -0
  if (sign_of<F>(a)) {
    flags |= kNV;
    return F::kCanonicalNaN;
  }
  if (is_inf<F>(a)) return a;
  const Unpacked ua = unpack<F>(a);
  const int lsb_exp = ua.exp - F::kFracBits;
  // Scale so the exponent is even and the root gets at least kPrec + 2 bits.
  constexpr int kBaseScale = F::kPrec <= 32 ? 30 : 60;
  const int scale = kBaseScale + ((lsb_exp - kBaseScale) & 1);
  const int root_lsb_exp = (lsb_exp - scale) / 2;
  bool exact = false;
  if constexpr (F::kPrec <= 32) {
    const uint64_t root = isqrt<uint64_t>(ua.sig << scale, exact);
    return round_pack_u64<F>(false, root_lsb_exp, root | (exact ? 0 : 1), rm, flags);
  } else {
    const u128 root = isqrt<u128>(static_cast<u128>(ua.sig) << scale, exact);
    return round_pack_u128<F>(false, root_lsb_exp, root | (exact ? 0 : 1), rm, flags);
  }
}

template <class F>
typename F::Bits muladd(typename F::Bits a, typename F::Bits b, typename F::Bits c, RoundingMode rm,
                        uint8_t& flags, bool negate_product, bool negate_addend) {
  if (is_snan<F>(a) || is_snan<F>(b) || is_snan<F>(c)) flags |= kNV;
  // The RISC-V spec requires NV for inf * 0 even when the addend is a quiet NaN.
  if ((is_inf<F>(a) && is_zero<F>(b)) || (is_zero<F>(a) && is_inf<F>(b))) {
    flags |= kNV;
    return F::kCanonicalNaN;
  }
  if (is_nan<F>(a) || is_nan<F>(b) || is_nan<F>(c)) return F::kCanonicalNaN;
  const bool sp = (sign_of<F>(a) != sign_of<F>(b)) != negate_product;
  if (negate_addend) c ^= F::kSign;
  const bool sc = sign_of<F>(c);
  if (is_inf<F>(a) || is_inf<F>(b)) {
    if (is_inf<F>(c) && sc != sp) {
      flags |= kNV;
      return F::kCanonicalNaN;
    }
    return sign_bit<F>(sp) | F::kInf;
  }
  if (is_inf<F>(c)) return c;
  if (is_zero<F>(a) || is_zero<F>(b)) {
    if (!is_zero<F>(c) || sp == sc) return c;
    return sign_bit<F>(rm == RoundingMode::kRDN);
  }
  const Unpacked ua = unpack<F>(a);
  const Unpacked ub = unpack<F>(b);
  const u128 product = static_cast<u128>(ua.sig) * ub.sig;
  const int product_lsb_exp = ua.exp + ub.exp - 2 * F::kFracBits;
  if (is_zero<F>(c)) return round_pack_u128<F>(sp, product_lsb_exp, product, rm, flags);

  // Exact product and addend, both with their leading bit at 125 (room for a carry above and,
  // since neither has more than 2 * kPrec bits, zeros below, so a shift by one loses nothing).
  const Unpacked uc = unpack<F>(c);
  const int product_msb = 127 - clz128(product);
  u128 mp = product << (125 - product_msb);
  int ep = product_lsb_exp + product_msb;
  u128 mc = static_cast<u128>(uc.sig) << (125 - F::kFracBits);
  int ec = uc.exp;
  bool negative = sp;
  if (ep < ec || (ep == ec && mp < mc)) {
    std::swap(mp, mc);
    std::swap(ep, ec);
    negative = sc;
  }
  mc = shift_right_jam128(mc, ep - ec);
  u128 wide = 0;  // leading bit at 126
  int exp = ep;
  if (sp == sc) {
    wide = mp + mc;
    if ((wide >> 126) != 0) {
      exp = ep + 1;
    } else {
      wide <<= 1;
    }
  } else {
    wide = mp - mc;
    if (wide == 0) return sign_bit<F>(rm == RoundingMode::kRDN);
    const int lz = clz128(wide);
    exp = ep - (lz - 2);
    wide <<= (lz - 1);
  }
  const uint64_t sig =
      static_cast<uint64_t>(wide >> 64) | (static_cast<uint64_t>(wide) != 0 ? 1 : 0);
  return round_pack<F>(negative, exp, sig, rm, flags);
}

// ---- comparisons, min/max, classify ----

// Maps a non-NaN encoding to an unsigned key ordered like its value, with -0 below +0.
template <class F>
typename F::Bits order_key(typename F::Bits x) {
  return sign_of<F>(x) ? static_cast<typename F::Bits>(~x) : (x | F::kSign);
}

template <class F>
typename F::Bits min_max(typename F::Bits a, typename F::Bits b, bool want_max, uint8_t& flags) {
  if (is_snan<F>(a) || is_snan<F>(b)) flags |= kNV;
  const bool a_nan = is_nan<F>(a);
  const bool b_nan = is_nan<F>(b);
  if (a_nan && b_nan) return F::kCanonicalNaN;
  if (a_nan) return b;
  if (b_nan) return a;
  const bool a_below = order_key<F>(a) < order_key<F>(b);
  return (a_below != want_max) ? a : b;
}

template <class F>
bool eq(typename F::Bits a, typename F::Bits b, uint8_t& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    if (is_snan<F>(a) || is_snan<F>(b)) flags |= kNV;
    return false;
  }
  return a == b || (is_zero<F>(a) && is_zero<F>(b));
}

template <class F>
bool lt(typename F::Bits a, typename F::Bits b, bool or_equal, uint8_t& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    flags |= kNV;
    return false;
  }
  if (is_zero<F>(a) && is_zero<F>(b)) return or_equal;
  return or_equal ? order_key<F>(a) <= order_key<F>(b) : order_key<F>(a) < order_key<F>(b);
}

template <class F>
uint32_t classify(typename F::Bits x) {
  const bool negative = sign_of<F>(x);
  if (is_nan<F>(x)) return is_snan<F>(x) ? kClassSignalingNaN : kClassQuietNaN;
  if (is_inf<F>(x)) return negative ? kClassNegInf : kClassPosInf;
  if (is_zero<F>(x)) return negative ? kClassNegZero : kClassPosZero;
  if ((x & F::kInf) == 0) return negative ? kClassNegSubnormal : kClassPosSubnormal;
  return negative ? kClassNegNormal : kClassPosNormal;
}

// ---- integer conversions ----

template <class F, typename I>
I to_int(typename F::Bits a, RoundingMode rm, uint8_t& flags) {
  using Limits = std::numeric_limits<I>;
  constexpr auto kMaxPositive = static_cast<uint64_t>(Limits::max());
  constexpr uint64_t kMaxNegativeMagnitude =
      std::is_signed_v<I> ? static_cast<uint64_t>(Limits::max()) + 1 : 0;
  if (is_nan<F>(a)) {
    flags |= kNV;
    return Limits::max();
  }
  const bool negative = sign_of<F>(a);
  bool representable = !is_inf<F>(a);
  bool inexact = false;
  uint64_t magnitude = 0;
  if (representable && !is_zero<F>(a)) {
    const Unpacked ua = unpack<F>(a);
    if (ua.exp >= 64) {
      representable = false;
    } else if (ua.exp >= F::kFracBits) {
      magnitude = ua.sig << (ua.exp - F::kFracBits);
    } else {
      const int shift = F::kFracBits - ua.exp;
      // Beyond 62 bits of shift the value is far below one half; a sticky bit says so.
      magnitude = shift > 62 ? round_shift(1, 62, negative, rm, inexact)
                             : round_shift(ua.sig, shift, negative, rm, inexact);
    }
  }
  if (representable && magnitude <= (negative ? kMaxNegativeMagnitude : kMaxPositive)) {
    if (inexact) flags |= kNX;
    return static_cast<I>(negative ? 0 - magnitude : magnitude);
  }
  // Out of range after rounding: the spec saturates and raises only NV.
  flags |= kNV;
  return negative ? Limits::min() : Limits::max();
}

template <class F>
typename F::Bits from_int(bool negative, uint64_t magnitude, RoundingMode rm, uint8_t& flags) {
  if (magnitude == 0) return 0;
  return round_pack_u64<F>(negative, 0, magnitude, rm, flags);
}

inline uint64_t magnitude_of(int64_t x) {
  return x < 0 ? 0 - static_cast<uint64_t>(x) : static_cast<uint64_t>(x);
}

}  // namespace

// ---- public entry points ----

// add, sub, mul, div and sqrt try the host FPU first (hostfloat.hpp): exact, and much
// faster, for ordinary operands in round-to-nearest-even.
template <class F, typename H>
typename F::Bits host_or_soft(host::Op op, typename F::Bits a, typename F::Bits b, RoundingMode rm,
                              uint8_t& flags) {
  H r;
  if (rm == RoundingMode::kRNE &&
      host::binary<H>(op, std::bit_cast<H>(a), std::bit_cast<H>(b), r, flags, kNX)) {
    return std::bit_cast<typename F::Bits>(r);
  }
  switch (op) {
    case host::Op::kAdd: return add<F>(a, b, false, rm, flags);
    case host::Op::kSub: return add<F>(a, b, true, rm, flags);
    case host::Op::kMul: return mul<F>(a, b, rm, flags);
    case host::Op::kDiv: break;
  }
  return div<F>(a, b, rm, flags);
}
template <class F, typename H>
typename F::Bits host_or_soft_sqrt(typename F::Bits a, RoundingMode rm, uint8_t& flags) {
  H r;
  if (rm == RoundingMode::kRNE && host::square_root<H>(std::bit_cast<H>(a), r, flags, kNX)) {
    return std::bit_cast<typename F::Bits>(r);
  }
  return sqrt<F>(a, rm, flags);
}

#define VESSEL_FP_DEFINE(P, F, T, H)                                                \
  T P##_add(T a, T b, RoundingMode rm, uint8_t& flags) {                            \
    return host_or_soft<F, H>(host::Op::kAdd, a, b, rm, flags);                     \
  }                                                                                 \
  T P##_sub(T a, T b, RoundingMode rm, uint8_t& flags) {                            \
    return host_or_soft<F, H>(host::Op::kSub, a, b, rm, flags);                     \
  }                                                                                 \
  T P##_mul(T a, T b, RoundingMode rm, uint8_t& flags) {                            \
    return host_or_soft<F, H>(host::Op::kMul, a, b, rm, flags);                     \
  }                                                                                 \
  T P##_div(T a, T b, RoundingMode rm, uint8_t& flags) {                            \
    return host_or_soft<F, H>(host::Op::kDiv, a, b, rm, flags);                     \
  }                                                                                 \
  T P##_sqrt(T a, RoundingMode rm, uint8_t& flags) {                                \
    return host_or_soft_sqrt<F, H>(a, rm, flags);                                   \
  }                                                                                 \
  T P##_muladd(T a, T b, T c, RoundingMode rm, uint8_t& flags, bool negate_product, \
               bool negate_addend) {                                                \
    return muladd<F>(a, b, c, rm, flags, negate_product, negate_addend);            \
  }                                                                                 \
  T P##_min(T a, T b, uint8_t& flags) { return min_max<F>(a, b, false, flags); }    \
  T P##_max(T a, T b, uint8_t& flags) { return min_max<F>(a, b, true, flags); }     \
  bool P##_eq(T a, T b, uint8_t& flags) { return eq<F>(a, b, flags); }              \
  bool P##_lt(T a, T b, uint8_t& flags) { return lt<F>(a, b, false, flags); }       \
  bool P##_le(T a, T b, uint8_t& flags) { return lt<F>(a, b, true, flags); }        \
  uint32_t P##_classify(T a) { return classify<F>(a); }                             \
  int32_t P##_to_i32(T a, RoundingMode rm, uint8_t& flags) {                        \
    return to_int<F, int32_t>(a, rm, flags);                                        \
  }                                                                                 \
  uint32_t P##_to_u32(T a, RoundingMode rm, uint8_t& flags) {                       \
    return to_int<F, uint32_t>(a, rm, flags);                                       \
  }                                                                                 \
  int64_t P##_to_i64(T a, RoundingMode rm, uint8_t& flags) {                        \
    return to_int<F, int64_t>(a, rm, flags);                                        \
  }                                                                                 \
  uint64_t P##_to_u64(T a, RoundingMode rm, uint8_t& flags) {                       \
    return to_int<F, uint64_t>(a, rm, flags);                                       \
  }                                                                                 \
  T P##_from_i32(int32_t x, RoundingMode rm, uint8_t& flags) {                      \
    return from_int<F>(x < 0, magnitude_of(x), rm, flags);                          \
  }                                                                                 \
  T P##_from_u32(uint32_t x, RoundingMode rm, uint8_t& flags) {                     \
    return from_int<F>(false, x, rm, flags);                                        \
  }                                                                                 \
  T P##_from_i64(int64_t x, RoundingMode rm, uint8_t& flags) {                      \
    return from_int<F>(x < 0, magnitude_of(x), rm, flags);                          \
  }                                                                                 \
  T P##_from_u64(uint64_t x, RoundingMode rm, uint8_t& flags) {                     \
    return from_int<F>(false, x, rm, flags);                                        \
  }

VESSEL_FP_DEFINE(f32, F32, uint32_t, float)
VESSEL_FP_DEFINE(f64, F64, uint64_t, double)
#undef VESSEL_FP_DEFINE

// ---- format conversions ----

namespace {

// Widening is exact: a subnormal of the narrower format is a normal number of the wider one.
template <class From, class To>
typename To::Bits widen(typename From::Bits a, uint8_t& flags) {
  using Bits = typename To::Bits;
  if (is_nan<From>(a)) {
    if (is_snan<From>(a)) flags |= kNV;
    return To::kCanonicalNaN;
  }
  const bool negative = sign_of<From>(a);
  if (is_inf<From>(a)) return sign_bit<To>(negative) | To::kInf;
  if (is_zero<From>(a)) return sign_bit<To>(negative);
  const Unpacked ua = unpack<From>(a);
  return sign_bit<To>(negative) |
         static_cast<Bits>(static_cast<Bits>(ua.exp + To::kBias) << To::kFracBits) |
         static_cast<Bits>((ua.sig << (To::kFracBits - From::kFracBits)) & To::kFracMask);
}

template <class From, class To>
typename To::Bits narrow(typename From::Bits a, RoundingMode rm, uint8_t& flags) {
  using Bits = typename To::Bits;
  if (is_nan<From>(a)) {
    if (is_snan<From>(a)) flags |= kNV;
    return To::kCanonicalNaN;
  }
  const bool negative = sign_of<From>(a);
  if (is_inf<From>(a)) return static_cast<Bits>(sign_bit<To>(negative) | To::kInf);
  if (is_zero<From>(a)) return sign_bit<To>(negative);
  const Unpacked ua = unpack<From>(a);
  return round_pack<To>(negative, ua.exp, ua.sig << (62 - From::kFracBits), rm, flags);
}

}  // namespace

uint64_t f32_to_f64(uint32_t a, uint8_t& flags) { return widen<F32, F64>(a, flags); }
uint32_t f64_to_f32(uint64_t a, RoundingMode rm, uint8_t& flags) {
  return narrow<F64, F32>(a, rm, flags);
}
uint32_t f16_to_f32(uint16_t a, uint8_t& flags) { return widen<F16, F32>(a, flags); }
uint64_t f16_to_f64(uint16_t a, uint8_t& flags) { return widen<F16, F64>(a, flags); }
uint16_t f32_to_f16(uint32_t a, RoundingMode rm, uint8_t& flags) {
  return narrow<F32, F16>(a, rm, flags);
}
uint16_t f64_to_f16(uint64_t a, RoundingMode rm, uint8_t& flags) {
  return narrow<F64, F16>(a, rm, flags);
}

}  // namespace vessel::rv::fp
