// Decoder and disassembler, both driven by the instruction table (insn_table.hpp).
#pragma once

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
};

// Indexed by Op (kIllegal excluded).
const InsnInfo& insn_info(Op op);
const InsnInfo* insn_table(unsigned& count);
const CompressedInfo* compressed_table(unsigned& count);

// The length of the instruction whose low 16 bits are `low`: 2 or 4 (longer encodings are
// not supported and decode as illegal).
constexpr unsigned insn_length(uint16_t low) { return (low & 3) == 3 ? 4 : 2; }

// Decode one instruction. For a compressed instruction only the low 16 bits are looked at.
// The handler (fn) is filled from the interpreter's dispatch table.
DecodedInsn decode(uint32_t raw);

// "addi a0, a0, 1" style text; pc is used for pc-relative targets.
std::string disassemble(const DecodedInsn& insn, uint64_t pc);
std::string disassemble(uint32_t raw, uint64_t pc);

}  // namespace vessel::rv
