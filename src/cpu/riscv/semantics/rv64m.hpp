// M: multiply and divide. Division by zero and signed overflow do not trap; the results are
// the ones the unprivileged manual tabulates.
#pragma once

#include <limits>

#include "cpu/riscv/semantics/macros.hpp"

// The semantics read as a table, one instruction per line where it fits: keep it so.
// clang-format off
namespace vessel::rv {

namespace mdiv {
template <typename S>
S div(S a, S b) {
  if (b == 0) return -1;
  if (a == std::numeric_limits<S>::min() && b == -1) return a;
  return a / b;
}
template <typename U>
U divu(U a, U b) { return b == 0 ? std::numeric_limits<U>::max() : a / b; }
template <typename S>
S rem(S a, S b) {
  if (b == 0) return a;
  if (a == std::numeric_limits<S>::min() && b == -1) return 0;
  return a % b;
}
template <typename U>
U remu(U a, U b) { return b == 0 ? a : a % b; }
}  // namespace mdiv

using i128 = __int128;
using u128 = unsigned __int128;

VESSEL_INSN(mul) { WRITE_RD(RS1 * RS2); NEXT; }
VESSEL_INSN(mulh) {
  WRITE_RD(static_cast<uint64_t>((static_cast<i128>(static_cast<int64_t>(RS1)) *
                                  static_cast<i128>(static_cast<int64_t>(RS2))) >> 64));
  NEXT;
}
VESSEL_INSN(mulhsu) {
  WRITE_RD(static_cast<uint64_t>((static_cast<i128>(static_cast<int64_t>(RS1)) *
                                  static_cast<i128>(static_cast<u128>(RS2))) >> 64));
  NEXT;
}
VESSEL_INSN(mulhu) {
  WRITE_RD(static_cast<uint64_t>((static_cast<u128>(RS1) * static_cast<u128>(RS2)) >> 64));
  NEXT;
}
VESSEL_INSN(div) { WRITE_RD(mdiv::div(static_cast<int64_t>(RS1), static_cast<int64_t>(RS2))); NEXT; }
VESSEL_INSN(divu) { WRITE_RD(mdiv::divu(RS1, RS2)); NEXT; }
VESSEL_INSN(rem) { WRITE_RD(mdiv::rem(static_cast<int64_t>(RS1), static_cast<int64_t>(RS2))); NEXT; }
VESSEL_INSN(remu) { WRITE_RD(mdiv::remu(RS1, RS2)); NEXT; }
VESSEL_INSN(mulw) { WRITE_RD(sext32(RS1 * RS2)); NEXT; }
VESSEL_INSN(divw) {
  WRITE_RD(static_cast<int64_t>(mdiv::div(static_cast<int32_t>(RS1), static_cast<int32_t>(RS2))));
  NEXT;
}
VESSEL_INSN(divuw) {
  WRITE_RD(sext32(mdiv::divu(static_cast<uint32_t>(RS1), static_cast<uint32_t>(RS2))));
  NEXT;
}
VESSEL_INSN(remw) {
  WRITE_RD(static_cast<int64_t>(mdiv::rem(static_cast<int32_t>(RS1), static_cast<int32_t>(RS2))));
  NEXT;
}
VESSEL_INSN(remuw) {
  WRITE_RD(sext32(mdiv::remu(static_cast<uint32_t>(RS1), static_cast<uint32_t>(RS2))));
  NEXT;
}

}  // namespace vessel::rv
// clang-format on
