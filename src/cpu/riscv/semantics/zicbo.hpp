// Zicbom and Zicboz: cache-block operations on the 64-byte block that holds rs1. The host keeps
// its caches coherent with every agent the guest can see (harts and DMA alike), so clean,
// flush and inval have nothing to write back or drop: they check that menvcfg/senvcfg allow
// them and that the block may be accessed, as the specification asks. cbo.zero writes the
// block as a store would, code pages included.
#pragma once

#include "cpu/riscv/semantics/macros.hpp"

// clang-format off
namespace vessel::rv {

namespace cbo {
inline ExecStatus manage(Hart& h, const DecodedInsn& d, uint64_t enable) {
  if (!h.cbo_enabled(enable)) return h.cbo_denied(d, enable);
  MEM_OR_TRAP(h.cbo_access(RS1));
  NEXT;
}
}  // namespace cbo

// CBIE 01 makes cbo.inval a flush and 11 an invalidation: the same here.
VESSEL_INSN(cbo_inval) { return cbo::manage(h, d, envcfg::kCBIE); }
VESSEL_INSN(cbo_clean) { return cbo::manage(h, d, envcfg::kCBCFE); }
VESSEL_INSN(cbo_flush) { return cbo::manage(h, d, envcfg::kCBCFE); }
VESSEL_INSN(cbo_zero) {
  if (!h.cbo_enabled(envcfg::kCBZE)) return h.cbo_denied(d, envcfg::kCBZE);
  MEM_OR_TRAP(h.cbo_zero(RS1));
  return after_store(h, d);
}

}  // namespace vessel::rv
// clang-format on
