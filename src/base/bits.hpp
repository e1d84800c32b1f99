// Bit helpers shared by the CPU, devices and loaders.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace vessel {

// Bits [hi:lo] of x, as the specs write them.
constexpr uint64_t bits(uint64_t x, unsigned hi, unsigned lo) {
  return (x >> lo) & ((hi - lo + 1 >= 64) ? ~0ULL : ((1ULL << (hi - lo + 1)) - 1));
}
constexpr uint64_t bit(uint64_t x, unsigned n) { return (x >> n) & 1; }
// The low half of a 64-bit register that 32-bit accesses reach in two halves.
inline constexpr uint64_t kLow32 = 0xffff'ffffULL;

// Sign-extend the low `width` bits of x.
constexpr int64_t sext(uint64_t x, unsigned width) {
  const unsigned shift = 64 - width;
  return static_cast<int64_t>(x << shift) >> shift;
}
constexpr uint64_t sext32(uint64_t x) {
  return static_cast<uint64_t>(
      static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(x))));
}

// Little-endian loads/stores from byte buffers (host may read guest memory unaligned).
template <typename T>
inline T load_le(const void* p) {
  static_assert(std::is_trivially_copyable_v<T>);
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
inline void store_le(void* p, T v) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::memcpy(p, &v, sizeof v);
}

constexpr bool is_power_of_two(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }
constexpr uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }
constexpr uint64_t align_down(uint64_t x, uint64_t a) { return x & ~(a - 1); }

// Overflow-safe "does [base, base+len) lie inside [0, limit)".
constexpr bool range_within(uint64_t base, uint64_t len, uint64_t limit) {
  return base <= limit && len <= limit - base;
}

}  // namespace vessel
