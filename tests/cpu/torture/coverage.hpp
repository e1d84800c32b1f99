// Which instructions a lockstep run executed: every Op (kIllegal included) and every row of
// the compressed table, counted from the reference machine's blocks. An instruction that
// raised an exception counts (ecall and ebreak never retire).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/riscv/decoded.hpp"
#include "lockstep.hpp"

namespace vessel::rv::torture {

class Coverage {
 public:
  Coverage();
  void add(const lockstep::BlockTrace& block);
  // The mnemonics of the ops and compressed rows never executed.
  std::vector<std::string> missing() const;
  uint64_t executed() const { return executed_; }
  unsigned ops_covered() const;
  unsigned compressed_covered() const;
  unsigned compressed_rows() const { return static_cast<unsigned>(compressed_.size()); }
  // Blocks run by privilege (U, S, M) and translation (bare, Sv39, Sv48; M counts as bare).
  uint64_t blocks(Priv priv, unsigned satp_mode) const;
  // Blocks run at V=1 by privilege (VU, VS).
  uint64_t virt_blocks(Priv priv) const { return virt_blocks_.at(static_cast<unsigned>(priv)); }
  uint64_t exceptions(unsigned cause) const { return exceptions_.at(cause); }
  uint64_t interrupts(unsigned cause) const { return interrupts_.at(cause); }
  std::string summary() const;

 private:
  std::array<uint64_t, kNumOps> ops_{};
  std::vector<uint64_t> compressed_;
  uint64_t executed_ = 0;
  std::array<std::array<uint64_t, 3>, 4> blocks_{};
  std::array<uint64_t, 2> virt_blocks_{};
  // By cause; the H extension's go up to 23 (store guest-page fault).
  static constexpr unsigned kCauses = 24;
  std::array<uint64_t, kCauses> exceptions_{};
  std::array<uint64_t, kCauses> interrupts_{};
};

}  // namespace vessel::rv::torture
