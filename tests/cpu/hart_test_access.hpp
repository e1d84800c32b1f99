// Declared a friend by Hart (src/cpu/riscv/hart.hpp): what tests may do to a hart that guest
// code cannot, kept in one place and without a test framework (fuzz targets use it too).
#pragma once

#include <cstdint>

#include "cpu/riscv/hart.hpp"

namespace vessel::rv {

class HartTestAccess {
 public:
  // Switches privilege without a trap round trip, keeping the derived translation modes
  // consistent.
  // `virt` is the H extension's V (VS- or VU-mode), never with M.
  static void set_priv(Hart& h, Priv p, bool virt = false) {
    h.priv = p;
    h.virt = virt && p != Priv::kM;
    h.update_modes();
  }
  // Reads a CSR as M-mode software would, whatever mode the hart is in; false when it does
  // not exist (or, for the FP CSRs, while mstatus.FS is off).
  static bool csr_read_as_m(Hart& h, uint16_t csr, uint64_t& value) {
    const Priv saved = h.priv;
    const bool saved_virt = h.virt;
    set_priv(h, Priv::kM);
    const bool ok = h.csr_read(csr, value);
    set_priv(h, saved, saved_virt);
    h.csr_virtual_ = false;
    return ok;
  }
  // Decodes the block at va (whose bytes are at host) into the hart's code cache, as the run
  // loop does for code it meets the first time (bench/translate measures the translator on
  // such blocks).
  static Block* build_block(Hart& h, uint64_t va, const uint8_t* host) {
    return h.build_block(va, host);
  }
};

}  // namespace vessel::rv
