// The host FPU's sticky exception flags (x86-64 SSE: MXCSR bits 0-5) as fflags bits. Translated
// code runs FP ops on SSE in round-to-nearest-even and leaves the flags they raise in MXCSR,
// where the host keeps them exactly as IEEE 754 defines them (tininess after rounding, UF only
// when inexact), as the RISC-V F and D extensions do; they are folded into fflags when the guest
// or the run loop looks at fflags. Any NaN result is left to the semantics, since the host's
// NaNs are not RISC-V's canonical one.
#pragma once

#include <cstdint>

#include "cpu/riscv/fpu/softfloat.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace vessel::rv::fp::host {

#if defined(__x86_64__)
inline constexpr unsigned kMxcsrFlags = 0x3f;  // IE DE ZE OE UE PE
// MXCSR's control bits as every process starts: all exceptions masked, round to nearest, no
// flush-to-zero or denormals-are-zero. Translated code relies on them.
inline constexpr unsigned kMxcsrDefault = 0x1f80;

inline uint8_t fflags_of_mxcsr(unsigned mxcsr) {
  uint8_t f = 0;
  if (mxcsr & 0x01) f |= kNV;  // IE
  if (mxcsr & 0x04) f |= kDZ;  // ZE (DE, the denormal-operand flag, has no counterpart)
  if (mxcsr & 0x08) f |= kOF;  // OE
  if (mxcsr & 0x10) f |= kUF;  // UE
  if (mxcsr & 0x20) f |= kNX;  // PE
  return f;
}

// The flags raised since the last call, as fflags bits; MXCSR's are cleared.
inline uint8_t take_flags() {
  const unsigned mxcsr = _mm_getcsr();
  if ((mxcsr & kMxcsrFlags) == 0) return 0;
  _mm_setcsr(mxcsr & ~kMxcsrFlags);
  return fflags_of_mxcsr(mxcsr);
}

// Whether the SSE control bits are as translated code expects them.
inline bool controls_default() { return (_mm_getcsr() & ~kMxcsrFlags) == kMxcsrDefault; }
#else
inline uint8_t take_flags() { return 0; }
inline bool controls_default() { return false; }
#endif

}  // namespace vessel::rv::fp::host
