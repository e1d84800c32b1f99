// The vocabulary of instruction semantics, in the manner of Spike's insns/*.h: each
// instruction is a few lines over these names. Included only by semantics/*.hpp.
#pragma once

#include "base/bits.hpp"
#include "cpu/riscv/hart.hpp"

#define VESSEL_INSN(id)                                                             \
  inline ::vessel::rv::ExecStatus exec_##id([[maybe_unused]] ::vessel::rv::Hart& h, \
                                            [[maybe_unused]] const ::vessel::rv::DecodedInsn& d)

#define RS1 (h.x[d.rs1])
#define RS2 (h.x[d.rs2])
#define IMM (d.imm)
#define UIMM (static_cast<uint64_t>(d.imm))
#define PC (h.pc)
#define WRITE_RD(value) (h.x[d.rd] = static_cast<uint64_t>(value))
#define NEXT return ::vessel::rv::ExecStatus::kNext
#define JUMP_TO(target)                     \
  do {                                      \
    h.pc = (target);                        \
    return ::vessel::rv::ExecStatus::kJump; \
  } while (0)
// A failed memory access has already entered its trap.
#define MEM_OR_TRAP(expr) \
  if (!(expr)) return ::vessel::rv::ExecStatus::kTrap

namespace vessel::rv {
// After a store: if it hit a page holding decoded code, leave the (possibly stale) block.
inline ExecStatus after_store(Hart& h, const DecodedInsn& d) {
  if (h.stop_block) [[unlikely]] {
    h.stop_block = false;
    h.pc += d.len;
    return ExecStatus::kBreak;
  }
  return ExecStatus::kNext;
}
}  // namespace vessel::rv
