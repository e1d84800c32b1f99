#include "torture/coverage.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "cpu/riscv/decoder.hpp"

namespace vessel::rv::torture {

Coverage::Coverage() {
  unsigned count = 0;
  compressed_table(count);
  compressed_.resize(count);
}

namespace {
unsigned satp_index(Priv priv, uint64_t satp) {
  if (priv == Priv::kM) return 0;
  const uint64_t mode = satp >> 60;
  return mode == 8 ? 1 : (mode == 9 ? 2 : 0);
}
}  // namespace

uint64_t Coverage::blocks(Priv priv, unsigned satp_mode) const {
  const unsigned index = satp_mode == 39 ? 1 : (satp_mode == 48 ? 2 : 0);
  return blocks_.at(static_cast<unsigned>(priv)).at(index);
}

std::string Coverage::summary() const {
  std::string text = fmt::format("{} instructions; ops {}/{}, compressed rows {}/{}\n", executed_,
                                 ops_covered(), kNumOps, compressed_covered(), compressed_rows());
  text += fmt::format("blocks U bare/Sv39/Sv48 {}/{}/{}, S {}/{}/{}, M {}\n", blocks_[0][0],
                      blocks_[0][1], blocks_[0][2], blocks_[1][0], blocks_[1][1], blocks_[1][2],
                      blocks_[3][0]);
  text += fmt::format("blocks at V=1: VU {}, VS {}\n", virt_blocks_[0], virt_blocks_[1]);
  text += "exceptions by cause:";
  for (unsigned c = 0; c < kCauses; ++c) {
    if (exceptions_[c] != 0) text += fmt::format(" {}:{}", c, exceptions_[c]);
  }
  text += "\ninterrupts by cause:";
  for (unsigned c = 0; c < kCauses; ++c) {
    if (interrupts_[c] != 0) text += fmt::format(" {}:{}", c, interrupts_[c]);
  }
  return text + "\n";
}

void Coverage::add(const lockstep::BlockTrace& block) {
  ++blocks_[static_cast<unsigned>(block.priv)][satp_index(block.priv, block.satp)];
  if (block.virt && block.priv != Priv::kM) ++virt_blocks_[static_cast<unsigned>(block.priv)];
  // (an interrupt's cause without mcause's interrupt bit)
  const uint64_t cause = std::min<uint64_t>(block.cause & ~(1ULL << 63), kCauses - 1);
  if (block.interrupt) ++interrupts_[cause];
  if (block.trapped) ++exceptions_[cause];
  unsigned count = 0;
  const CompressedInfo* rows = compressed_table(count);
  for (const DecodedInsn& d : block.executed()) {
    ++executed_;
    ++ops_[static_cast<unsigned>(d.op)];
    if (d.len != 2) continue;
    for (unsigned i = 0; i < count; ++i) {
      if ((d.raw & rows[i].mask) == rows[i].match) ++compressed_[i];
    }
  }
}

std::vector<std::string> Coverage::missing() const {
  std::vector<std::string> names;
  for (unsigned i = 0; i < kNumOps; ++i) {
    const auto op = static_cast<Op>(i);
    if (ops_[i] != 0) continue;
    names.emplace_back(op == Op::kIllegal ? "(illegal)" : insn_info(op).mnemonic);
  }
  unsigned count = 0;
  const CompressedInfo* rows = compressed_table(count);
  for (unsigned i = 0; i < count; ++i) {
    if (compressed_[i] == 0) names.emplace_back(rows[i].mnemonic);
  }
  return names;
}

unsigned Coverage::ops_covered() const {
  return static_cast<unsigned>(
      std::count_if(ops_.begin(), ops_.end(), [](uint64_t n) { return n != 0; }));
}

unsigned Coverage::compressed_covered() const {
  return static_cast<unsigned>(
      std::count_if(compressed_.begin(), compressed_.end(), [](uint64_t n) { return n != 0; }));
}

}  // namespace vessel::rv::torture
