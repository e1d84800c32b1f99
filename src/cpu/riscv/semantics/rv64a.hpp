// A: LR/SC and AMOs, on host atomics so that several hart threads stay correct. SC is a
// compare-and-swap against the value LR saw (as QEMU's MTTCG does); x86's TSO gives the
// ordering that aq/rl ask for.
#pragma once

#include <algorithm>

#include "cpu/riscv/semantics/macros.hpp"

// The semantics read as a table, one instruction per line where it fits: keep it so.
// clang-format off
namespace vessel::rv {

namespace amo {

template <typename T>
ExecStatus load_reserved(Hart& h, const DecodedInsn& d) {
  uint8_t* p = h.amo_ptr(RS1, sizeof(T), Hart::Atomic::kLoadReserved);
  if (p == nullptr) return ExecStatus::kTrap;
  const T value = __atomic_load_n(reinterpret_cast<T*>(p), __ATOMIC_ACQUIRE);
  h.reservation_pa = reinterpret_cast<uint64_t>(p);
  h.reservation_value = static_cast<uint64_t>(value);
  WRITE_RD(static_cast<int64_t>(static_cast<std::make_signed_t<T>>(value)));
  NEXT;
}

template <typename T>
ExecStatus store_conditional(Hart& h, const DecodedInsn& d) {
  uint8_t* p = h.amo_ptr(RS1, sizeof(T), Hart::Atomic::kStoreConditional);
  if (p == nullptr) return ExecStatus::kTrap;
  bool ok = false;
  if (h.reservation_pa == reinterpret_cast<uint64_t>(p)) {
    T expected = static_cast<T>(h.reservation_value);
    ok = __atomic_compare_exchange_n(reinterpret_cast<T*>(p), &expected, static_cast<T>(RS2), false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  }
  h.reservation_pa = ~0ULL;
  WRITE_RD(ok ? 0 : 1);
  return after_store(h, d);
}

template <typename T, typename F>
ExecStatus rmw(Hart& h, const DecodedInsn& d, F op) {
  uint8_t* p = h.amo_ptr(RS1, sizeof(T), Hart::Atomic::kReadModifyWrite);
  if (p == nullptr) return ExecStatus::kTrap;
  auto* slot = reinterpret_cast<T*>(p);
  const T src = static_cast<T>(RS2);
  T old = __atomic_load_n(slot, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(slot, &old, op(old, src), true, __ATOMIC_ACQ_REL,
                                      __ATOMIC_RELAXED)) {
  }
  WRITE_RD(static_cast<int64_t>(static_cast<std::make_signed_t<T>>(old)));
  return after_store(h, d);
}

}  // namespace amo

#define VESSEL_AMO(suffix, T, S)                                                                 \
  VESSEL_INSN(lr_##suffix) { return amo::load_reserved<T>(h, d); }                               \
  VESSEL_INSN(sc_##suffix) { return amo::store_conditional<T>(h, d); }                           \
  VESSEL_INSN(amoswap_##suffix) { return amo::rmw<T>(h, d, [](T, T b) { return b; }); }          \
  VESSEL_INSN(amoadd_##suffix) { return amo::rmw<T>(h, d, [](T a, T b) { return static_cast<T>(a + b); }); } \
  VESSEL_INSN(amoxor_##suffix) { return amo::rmw<T>(h, d, [](T a, T b) { return static_cast<T>(a ^ b); }); } \
  VESSEL_INSN(amoand_##suffix) { return amo::rmw<T>(h, d, [](T a, T b) { return static_cast<T>(a & b); }); } \
  VESSEL_INSN(amoor_##suffix) { return amo::rmw<T>(h, d, [](T a, T b) { return static_cast<T>(a | b); }); }  \
  VESSEL_INSN(amomin_##suffix) {                                                                 \
    return amo::rmw<T>(h, d, [](T a, T b) { return static_cast<S>(a) < static_cast<S>(b) ? a : b; }); \
  }                                                                                              \
  VESSEL_INSN(amomax_##suffix) {                                                                 \
    return amo::rmw<T>(h, d, [](T a, T b) { return static_cast<S>(a) > static_cast<S>(b) ? a : b; }); \
  }                                                                                              \
  VESSEL_INSN(amominu_##suffix) { return amo::rmw<T>(h, d, [](T a, T b) { return std::min(a, b); }); } \
  VESSEL_INSN(amomaxu_##suffix) { return amo::rmw<T>(h, d, [](T a, T b) { return std::max(a, b); }); }

VESSEL_AMO(w, uint32_t, int32_t)
VESSEL_AMO(d, uint64_t, int64_t)
#undef VESSEL_AMO

}  // namespace vessel::rv
// clang-format on
