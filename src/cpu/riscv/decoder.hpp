// Decoder and disassembler, both driven by the instruction table (insn_table.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "cpu/riscv/decoded.hpp"

namespace vessel::rv {

struct InsnInfo {
  const char* mnemonic;
  uint32_t match;
  uint32_t mask;
  ImmKind imm;
  const char* operands;
  Ext ext;
};

struct CompressedInfo {
  const char* mnemonic;
  uint16_t match;
  uint16_t mask;
  // Fills op and operand fields of the base instruction this one stands for; false = reserved.
  bool (*expand)(uint16_t raw, DecodedInsn& out);
  Ext ext;  // C, or Zcb
};

// The flags column of the table (insn_table.hpp): what an instruction does that the decoder
// and the translator must know without running it. Op::kIllegal ends the block and traps.
static_assert(sizeof(insn_flags::kByOp) / sizeof(insn_flags::kByOp[0]) == kNumOps);
constexpr uint32_t op_flags(Op op) { return insn_flags::kByOp[static_cast<unsigned>(op)]; }
// A block must end after this instruction (control transfer, system state).
constexpr bool ends_block(Op op) { return (op_flags(op) & insn_flags::kEndsBlock) != 0; }
// A conditional branch: the block goes on past it (taken, it leaves the block).
constexpr bool is_branch(Op op) { return (op_flags(op) & insn_flags::kBranch) != 0; }
// A jump that stays inside a block when its target is a later instruction of the block (or,
// for the translator, any instruction of it): a conditional branch, or jal without a link.
constexpr bool is_local_jump(const DecodedInsn& d) {
  return is_branch(d.op) || (d.op == Op::jal && d.rd == kZeroSink);
}
// It can raise an exception (memory access, FS off, privilege, ECALL/EBREAK).
constexpr bool may_trap(Op op) { return (op_flags(op) & insn_flags::kMayTrap) != 0; }
// The memory access width in bytes: 1, 2, 4 or 8, and 0 when it accesses no memory.
constexpr unsigned mem_width(Op op) { return op_flags(op) & insn_flags::kWidthMask; }
// Reads memory (loads, FP loads, LR, AMOs); writes memory (stores, FP stores, SC, AMOs).
constexpr bool is_load(Op op) { return (op_flags(op) & insn_flags::kLoad) != 0; }
constexpr bool is_store(Op op) { return (op_flags(op) & insn_flags::kStore) != 0; }
// The value read is sign-extended into rd (lb, lh, lw, lr.w, amo*.w).
constexpr bool mem_signed(Op op) { return (op_flags(op) & insn_flags::kSigned) != 0; }
// Writes an integer rd (then x0 decodes to kZeroSink); FP destinations do not count.
constexpr bool writes_int_rd(Op op) { return (op_flags(op) & insn_flags::kWritesRd) != 0; }
// Has a rounding-mode field (funct3).
constexpr bool uses_rm(Op op) { return (op_flags(op) & insn_flags::kUsesRm) != 0; }

// Indexed by Op (kIllegal excluded).
const InsnInfo& insn_info(Op op);
const InsnInfo* insn_table(unsigned& count);
const CompressedInfo* compressed_table(unsigned& count);

// The length of the instruction whose low 16 bits are `low`: 2 or 4 (longer encodings are
// not supported and decode as illegal).
constexpr unsigned insn_length(uint16_t low) { return (low & 3) == 3 ? 4 : 2; }

// Decode one instruction. For a compressed instruction only the low 16 bits are looked at.
// The handler (fn) is filled from the interpreter's dispatch table. A row of an extension
// not in `extensions` decodes as illegal (a hart passes its own set; tools and tests that
// look at encodings take every row).
DecodedInsn decode(uint32_t raw, ExtSet extensions = kAllExtensions);

// The last decodes of instructions that run one at a time, outside any block: those that
// straddle a page end, and those on pages PMP splits. One of them inside a loop would
// otherwise be decoded again on every pass (a tenth of n-body's time once).
class DecodeMemo {
 public:
  DecodedInsn decode(uint32_t raw, ExtSet extensions) {
    Entry& e = entries_[(raw ^ (raw >> 12) ^ (raw >> 20)) % kEntries];
    if (!e.valid || e.raw != raw || e.extensions != extensions) {
      e = Entry{rv::decode(raw, extensions), raw, extensions, true};
    }
    return e.insn;
  }

 private:
  static constexpr unsigned kEntries = 8;
  struct Entry {
    DecodedInsn insn;
    uint32_t raw = 0;
    ExtSet extensions = 0;
    bool valid = false;
  };
  std::array<Entry, kEntries> entries_{};
};

// "addi a0, a0, 1" style text; pc is used for pc-relative targets.
std::string disassemble(const DecodedInsn& insn, uint64_t pc);
std::string disassemble(uint32_t raw, uint64_t pc);

}  // namespace vessel::rv
