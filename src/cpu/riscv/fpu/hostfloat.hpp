// The host FPU where it is exact (as QEMU's "hardfloat"): round-to-nearest-even add, sub, mul,
// div and sqrt on operands and results well inside the normal range, where the host's SSE
// result is the IEEE result and only the inexact flag is left to find. That flag comes from
// the exact error of the operation (TwoSum for add, an FMA residual for the others), which is
// itself exact in that range. Everything else (other rounding modes, zeros that are not plain,
// subnormals, infinities, NaNs, results near overflow or underflow) takes the soft-float path.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace vessel::rv::fp::host {

template <typename H>
struct Traits;
template <>
struct Traits<double> {
  using Bits = uint64_t;
  static constexpr int kExpShift = 52;
  static constexpr unsigned kExpMax = 0x7ff;
  // Biased exponents kept clear of both ends by twice the precision, so that no residual
  // underflows and no result or intermediate overflows.
  static constexpr unsigned kLow = 2 * 53 + 2;
  static constexpr unsigned kHigh = kExpMax - 2 * 53 - 2;
};
template <>
struct Traits<float> {
  using Bits = uint32_t;
  static constexpr int kExpShift = 23;
  static constexpr unsigned kExpMax = 0xff;
  static constexpr unsigned kLow = 2 * 24 + 2;
  static constexpr unsigned kHigh = kExpMax - 2 * 24 - 2;
};

// Whether `v` is zero or a normal number with its exponent in [kLow, kHigh].
template <typename H>
inline bool in_range(H v, bool zero_ok) {
  using T = Traits<H>;
  const auto bits = std::bit_cast<typename T::Bits>(v);
  const auto e = static_cast<unsigned>(bits >> T::kExpShift) & T::kExpMax;
  if (e == 0) return zero_ok && (bits << 1) == 0;
  return e >= T::kLow && e <= T::kHigh;
}

enum class Op : uint8_t { kAdd, kSub, kMul, kDiv };

// On success stores the result and ORs NX into flags when it is inexact.
template <typename H>
inline bool binary(Op op, H a, H b, H& out, uint8_t& flags, uint8_t nx) {
  if (!in_range(a, true) || !in_range(b, op != Op::kDiv)) return false;
  H r;
  bool inexact = false;
  switch (op) {
    case Op::kAdd:
    case Op::kSub: {
      const H bb = op == Op::kAdd ? b : -b;
      r = a + bb;
      const H t = r - a;  // TwoSum: the rounding error of a + bb, exactly
      inexact = ((a - (r - t)) + (bb - t)) != 0;
      if (r == 0) {  // exact cancellation (or 0 + 0): the sign IEEE gives is the host's
        out = r;
        return true;
      }
      break;
    }
    case Op::kMul:
      r = a * b;
      if (a == 0 || b == 0) {  // exactly zero, with the sign IEEE gives
        out = r;
        return true;
      }
      inexact = std::fma(a, b, -r) != 0;
      break;
    case Op::kDiv:
      r = a / b;
      if (a == 0) {
        out = r;
        return true;
      }
      inexact = std::fma(-r, b, a) != 0;
      break;
  }
  if (!in_range(r, false)) return false;
  out = r;
  if (inexact) flags |= nx;
  return true;
}

template <typename H>
inline bool square_root(H a, H& out, uint8_t& flags, uint8_t nx) {
  if (!in_range(a, false) || a < 0) return false;
  const H r = std::sqrt(a);
  if (std::fma(-r, r, a) != 0) flags |= nx;
  out = r;
  return true;
}

}  // namespace vessel::rv::fp::host
