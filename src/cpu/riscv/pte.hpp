// Page-table entry bits (privileged manual, Sv39/Sv48 and their x4 forms for the G stage).
#pragma once

#include <cstdint>

namespace vessel::rv::pte {
inline constexpr uint64_t kV = 1 << 0, kR = 1 << 1, kW = 1 << 2, kX = 1 << 3, kU = 1 << 4;
inline constexpr uint64_t kG = 1 << 5, kA = 1 << 6, kD = 1 << 7;
inline constexpr uint64_t kN = 1ULL << 63;     // Svnapot: a 64 KiB NAPOT leaf
inline constexpr uint64_t kPbmt = 3ULL << 61;  // Svpbmt: PMA (0), NC (1), IO (2), reserved (3)
inline constexpr uint64_t kReservedHigh = 0x7fULL << 54;  // bits 60:54
// A NAPOT leaf's ppn[3:0]: 1000 is the 64 KiB size, the only one Svnapot defines.
inline constexpr uint64_t kNapotPpnMask = 0xf, kNapot64K = 0x8;
inline constexpr uint64_t kPpnMask = (1ULL << 44) - 1;
// Not a valid entry: V clear, or W without R (reserved).
constexpr bool invalid(uint64_t e) { return !(e & kV) || (!(e & kR) && (e & kW)); }
constexpr bool leaf(uint64_t e) { return (e & (kR | kX)) != 0; }
}  // namespace vessel::rv::pte

// satp, vsatp and hgatp: MODE in bits 63:60, the ASID (VMID for hgatp) in 59:44, the root's PPN.
namespace vessel::rv::atp {
inline constexpr unsigned kModeShift = 60;
inline constexpr uint64_t kModeBare = 0, kModeSv39 = 8, kModeSv48 = 9;
inline constexpr uint64_t kModeMask = 0xfULL << kModeShift;
inline constexpr uint64_t kAsidMask = 0xffffULL << 44;
inline constexpr uint64_t kPpnMask = (1ULL << 44) - 1;
}  // namespace vessel::rv::atp
