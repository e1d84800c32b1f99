// A small assembler for generated guest programs: 16- and 32-bit instruction words at known
// physical addresses, labels with pc-relative fixups resolved at the end, and constants
// loaded with the usual lui/addiw/slli/addi sequences.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vessel::rv::torture {

struct Label {
  uint32_t id = ~0u;
};

class Asm {
 public:
  explicit Asm(uint64_t base) : base_(base) {}

  uint64_t here() const { return base_ + bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  uint64_t base() const { return base_; }

  void word(uint32_t w);
  void half(uint16_t h);
  // Moves forward to physical address pa, filling with zeros.
  void org(uint64_t pa);

  Label label();
  void bind(Label l);
  bool bound(Label l) const { return offsets_.at(l.id) != kUnbound; }
  uint64_t address(Label l) const { return base_ + offsets_.at(l.id); }

  // pc-relative instructions whose offset comes from a label.
  void branch(uint32_t insn, Label target);  // B-type: insn holds opcode, funct3, rs1, rs2
  void jal(unsigned rd, Label target);
  void c_j(Label target);
  void c_bz(bool nonzero, unsigned rs1, Label target);    // rs1 in x8..x15
  void la(unsigned rd, Label target);                     // auipc + addi
  void la(unsigned rd, uint64_t target);                  // the same, to a known address
  void jalr_to(unsigned tmp, unsigned rd, Label target);  // auipc tmp + jalr rd, lo(tmp)

  // rd = value, in as few instructions as the simple recursive scheme gives.
  void li(unsigned rd, uint64_t value);
  // rd = value sign-extended from 32 bits, always exactly lui + addiw (a fixed length).
  void li32(unsigned rd, uint32_t value);

  // Resolves every fixup; false, with what went wrong, when a label is unbound or a target is
  // out of an instruction's reach.
  bool finish(std::string& error);

 private:
  static constexpr uint64_t kUnbound = ~0ULL;
  enum class Kind : uint8_t { kBranch, kJal, kCj, kCbz, kAuipcPair };
  struct Fixup {
    Kind kind;
    uint64_t at;  // offset of the (first) instruction
    Label target;
  };
  void put32(uint64_t at, uint32_t w);
  void put16(uint64_t at, uint16_t h);
  bool resolve(const Fixup& f, std::string& error);

  uint64_t base_;
  std::vector<uint8_t> bytes_;
  std::vector<uint64_t> offsets_;
  std::vector<Fixup> fixups_;
};

}  // namespace vessel::rv::torture
