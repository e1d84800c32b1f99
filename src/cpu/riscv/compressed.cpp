// RV64C and Zcb: each compressed instruction expands into the base instruction it stands for
// (unprivileged manual, "C" chapter, table of RVC instruction expansions; "Zc*" chapter, each
// Zcb instruction's 32-bit equivalent).
#include "base/bits.hpp"
#include "cpu/riscv/decoder.hpp"

namespace vessel::rv {
namespace {

constexpr uint8_t kRegSp = 2;
constexpr uint8_t kRegRa = 1;

// The 3-bit register fields of the CIW/CL/CS/CA/CB formats name x8..x15.
uint8_t creg(uint16_t raw, unsigned lo) { return static_cast<uint8_t>(8 + bits(raw, lo + 2, lo)); }
uint8_t full_rd(uint16_t raw) { return static_cast<uint8_t>(bits(raw, 11, 7)); }
uint8_t full_rs2(uint16_t raw) { return static_cast<uint8_t>(bits(raw, 6, 2)); }
int64_t ci_imm6(uint16_t raw) { return sext((bit(raw, 12) << 5) | bits(raw, 6, 2), 6); }

void set(DecodedInsn& d, Op op, uint8_t rd, uint8_t rs1, uint8_t rs2, int64_t imm) {
  d.op = op;
  d.rd = rd;
  d.rs1 = rs1;
  d.rs2 = rs2;
  d.imm = imm;
}

// CL/CS format offsets scaled by 8 (ld/sd/fld/fsd) and by 4 (lw/sw).
int64_t cl_off8(uint16_t raw) {
  return static_cast<int64_t>((bits(raw, 12, 10) << 3) | (bits(raw, 6, 5) << 6));
}
int64_t cl_off4(uint16_t raw) {
  return static_cast<int64_t>((bits(raw, 12, 10) << 3) | (bit(raw, 6) << 2) | (bit(raw, 5) << 6));
}
int64_t ci_sp_off8(uint16_t raw) {
  return static_cast<int64_t>((bit(raw, 12) << 5) | (bits(raw, 6, 5) << 3) |
                              (bits(raw, 4, 2) << 6));
}
int64_t css_off8(uint16_t raw) {
  return static_cast<int64_t>((bits(raw, 12, 10) << 3) | (bits(raw, 9, 7) << 6));
}

}  // namespace

bool c_addi4spn(uint16_t raw, DecodedInsn& d) {
  const uint64_t imm =
      (bits(raw, 12, 11) << 4) | (bits(raw, 10, 7) << 6) | (bit(raw, 6) << 2) | (bit(raw, 5) << 3);
  if (imm == 0) return false;  // includes the all-zero word, defined to be illegal
  set(d, Op::addi, creg(raw, 2), kRegSp, 0, static_cast<int64_t>(imm));
  return true;
}
bool c_fld(uint16_t raw, DecodedInsn& d) {
  set(d, Op::fld, creg(raw, 2), creg(raw, 7), 0, cl_off8(raw));
  return true;
}
bool c_lw(uint16_t raw, DecodedInsn& d) {
  set(d, Op::lw, creg(raw, 2), creg(raw, 7), 0, cl_off4(raw));
  return true;
}
bool c_ld(uint16_t raw, DecodedInsn& d) {
  set(d, Op::ld, creg(raw, 2), creg(raw, 7), 0, cl_off8(raw));
  return true;
}
bool c_fsd(uint16_t raw, DecodedInsn& d) {
  set(d, Op::fsd, 0, creg(raw, 7), creg(raw, 2), cl_off8(raw));
  return true;
}
bool c_sw(uint16_t raw, DecodedInsn& d) {
  set(d, Op::sw, 0, creg(raw, 7), creg(raw, 2), cl_off4(raw));
  return true;
}
bool c_sd(uint16_t raw, DecodedInsn& d) {
  set(d, Op::sd, 0, creg(raw, 7), creg(raw, 2), cl_off8(raw));
  return true;
}
bool c_addi(uint16_t raw, DecodedInsn& d) {
  set(d, Op::addi, full_rd(raw), full_rd(raw), 0, ci_imm6(raw));
  return true;
}
bool c_addiw(uint16_t raw, DecodedInsn& d) {
  if (full_rd(raw) == 0) return false;
  set(d, Op::addiw, full_rd(raw), full_rd(raw), 0, ci_imm6(raw));
  return true;
}
bool c_li(uint16_t raw, DecodedInsn& d) {
  set(d, Op::addi, full_rd(raw), 0, 0, ci_imm6(raw));
  return true;
}
bool c_lui(uint16_t raw, DecodedInsn& d) {
  const uint8_t rd = full_rd(raw);
  if (rd == kRegSp) {  // c.addi16sp
    const uint64_t imm = (bit(raw, 12) << 9) | (bit(raw, 6) << 4) | (bit(raw, 5) << 6) |
                         (bits(raw, 4, 3) << 7) | (bit(raw, 2) << 5);
    if (imm == 0) return false;
    set(d, Op::addi, kRegSp, kRegSp, 0, sext(imm, 10));
    return true;
  }
  const uint64_t imm = (bit(raw, 12) << 17) | (bits(raw, 6, 2) << 12);
  if (imm == 0) return false;
  set(d, Op::lui, rd, 0, 0, sext(imm, 18));
  return true;
}
bool c_srli(uint16_t raw, DecodedInsn& d) {
  set(d, Op::srli, creg(raw, 7), creg(raw, 7), 0,
      static_cast<int64_t>((bit(raw, 12) << 5) | bits(raw, 6, 2)));
  return true;
}
bool c_srai(uint16_t raw, DecodedInsn& d) {
  set(d, Op::srai, creg(raw, 7), creg(raw, 7), 0,
      static_cast<int64_t>((bit(raw, 12) << 5) | bits(raw, 6, 2)));
  return true;
}
bool c_andi(uint16_t raw, DecodedInsn& d) {
  set(d, Op::andi, creg(raw, 7), creg(raw, 7), 0, ci_imm6(raw));
  return true;
}
namespace {
bool c_alu(uint16_t raw, DecodedInsn& d, Op op) {
  set(d, op, creg(raw, 7), creg(raw, 7), creg(raw, 2), 0);
  return true;
}
int64_t cj_offset(uint16_t raw) {
  const uint64_t off = (bit(raw, 12) << 11) | (bit(raw, 11) << 4) | (bits(raw, 10, 9) << 8) |
                       (bit(raw, 8) << 10) | (bit(raw, 7) << 6) | (bit(raw, 6) << 7) |
                       (bits(raw, 5, 3) << 1) | (bit(raw, 2) << 5);
  return sext(off, 12);
}
int64_t cb_offset(uint16_t raw) {
  const uint64_t off = (bit(raw, 12) << 8) | (bits(raw, 11, 10) << 3) | (bits(raw, 6, 5) << 6) |
                       (bits(raw, 4, 3) << 1) | (bit(raw, 2) << 5);
  return sext(off, 9);
}
}  // namespace
bool c_sub(uint16_t raw, DecodedInsn& d) { return c_alu(raw, d, Op::sub); }
bool c_xor(uint16_t raw, DecodedInsn& d) { return c_alu(raw, d, Op::xor_); }
bool c_or(uint16_t raw, DecodedInsn& d) { return c_alu(raw, d, Op::or_); }
bool c_and(uint16_t raw, DecodedInsn& d) { return c_alu(raw, d, Op::and_); }
bool c_subw(uint16_t raw, DecodedInsn& d) { return c_alu(raw, d, Op::subw); }
bool c_addw(uint16_t raw, DecodedInsn& d) { return c_alu(raw, d, Op::addw); }
bool c_j(uint16_t raw, DecodedInsn& d) {
  set(d, Op::jal, 0, 0, 0, cj_offset(raw));
  return true;
}
bool c_beqz(uint16_t raw, DecodedInsn& d) {
  set(d, Op::beq, 0, creg(raw, 7), 0, cb_offset(raw));
  return true;
}
bool c_bnez(uint16_t raw, DecodedInsn& d) {
  set(d, Op::bne, 0, creg(raw, 7), 0, cb_offset(raw));
  return true;
}
bool c_slli(uint16_t raw, DecodedInsn& d) {
  set(d, Op::slli, full_rd(raw), full_rd(raw), 0,
      static_cast<int64_t>((bit(raw, 12) << 5) | bits(raw, 6, 2)));
  return true;
}
bool c_fldsp(uint16_t raw, DecodedInsn& d) {
  set(d, Op::fld, full_rd(raw), kRegSp, 0, ci_sp_off8(raw));
  return true;
}
bool c_lwsp(uint16_t raw, DecodedInsn& d) {
  if (full_rd(raw) == 0) return false;
  const uint64_t off = (bit(raw, 12) << 5) | (bits(raw, 6, 4) << 2) | (bits(raw, 3, 2) << 6);
  set(d, Op::lw, full_rd(raw), kRegSp, 0, static_cast<int64_t>(off));
  return true;
}
bool c_ldsp(uint16_t raw, DecodedInsn& d) {
  if (full_rd(raw) == 0) return false;
  set(d, Op::ld, full_rd(raw), kRegSp, 0, ci_sp_off8(raw));
  return true;
}
bool c_mv(uint16_t raw, DecodedInsn& d) {
  const uint8_t rd = full_rd(raw);
  const uint8_t rs2 = full_rs2(raw);
  if (rs2 == 0) {  // c.jr
    if (rd == 0) return false;
    set(d, Op::jalr, 0, rd, 0, 0);
  } else {
    set(d, Op::add, rd, 0, rs2, 0);
  }
  return true;
}
bool c_add(uint16_t raw, DecodedInsn& d) {
  const uint8_t rd = full_rd(raw);
  const uint8_t rs2 = full_rs2(raw);
  if (rs2 == 0 && rd == 0) {
    set(d, Op::ebreak, 0, 0, 0, 0);
  } else if (rs2 == 0) {  // c.jalr
    set(d, Op::jalr, kRegRa, rd, 0, 0);
  } else {
    set(d, Op::add, rd, rd, rs2, 0);
  }
  return true;
}
bool c_fsdsp(uint16_t raw, DecodedInsn& d) {
  set(d, Op::fsd, 0, kRegSp, full_rs2(raw), css_off8(raw));
  return true;
}
bool c_swsp(uint16_t raw, DecodedInsn& d) {
  const uint64_t off = (bits(raw, 12, 9) << 2) | (bits(raw, 8, 7) << 6);
  set(d, Op::sw, 0, kRegSp, full_rs2(raw), static_cast<int64_t>(off));
  return true;
}
bool c_sdsp(uint16_t raw, DecodedInsn& d) {
  set(d, Op::sd, 0, kRegSp, full_rs2(raw), css_off8(raw));
  return true;
}

// Zcb. The loads and stores take a zero-extended offset of two bits (c.lbu, c.sb: bit 6 is
// offset bit 0, bit 5 offset bit 1) or one (c.lh, c.lhu, c.sh: bit 5 is offset bit 1).
namespace {
int64_t clb_off(uint16_t raw) { return static_cast<int64_t>(bit(raw, 6) | (bit(raw, 5) << 1)); }
int64_t clh_off(uint16_t raw) { return static_cast<int64_t>(bit(raw, 5) << 1); }
// rs1' at 9:7; rd' of a load or rs2' of a store at 4:2.
bool c_mem(uint16_t raw, DecodedInsn& d, Op op, int64_t off) {
  if (is_store(op)) {
    set(d, op, 0, creg(raw, 7), creg(raw, 2), off);
  } else {
    set(d, op, creg(raw, 2), creg(raw, 7), 0, off);
  }
  return true;
}
// The unary ones write rd'/rs1' (bits 9:7) from itself; rs2 holds what the 32-bit form's
// rs2 field holds (sext.b and sext.h keep part of their encoding there).
bool c_unary(uint16_t raw, DecodedInsn& d, Op op, int64_t imm, uint8_t rs2 = 0) {
  set(d, op, creg(raw, 7), creg(raw, 7), rs2, imm);
  return true;
}
}  // namespace
bool c_lbu(uint16_t raw, DecodedInsn& d) { return c_mem(raw, d, Op::lbu, clb_off(raw)); }
bool c_lhu(uint16_t raw, DecodedInsn& d) { return c_mem(raw, d, Op::lhu, clh_off(raw)); }
bool c_lh(uint16_t raw, DecodedInsn& d) { return c_mem(raw, d, Op::lh, clh_off(raw)); }
bool c_sb(uint16_t raw, DecodedInsn& d) { return c_mem(raw, d, Op::sb, clb_off(raw)); }
bool c_sh(uint16_t raw, DecodedInsn& d) { return c_mem(raw, d, Op::sh, clh_off(raw)); }
bool c_zext_b(uint16_t raw, DecodedInsn& d) { return c_unary(raw, d, Op::andi, 0xff); }
bool c_sext_b(uint16_t raw, DecodedInsn& d) { return c_unary(raw, d, Op::sext_b, 0, 4); }
bool c_zext_h(uint16_t raw, DecodedInsn& d) { return c_unary(raw, d, Op::zext_h, 0); }
bool c_sext_h(uint16_t raw, DecodedInsn& d) { return c_unary(raw, d, Op::sext_h, 0, 5); }
bool c_zext_w(uint16_t raw, DecodedInsn& d) { return c_unary(raw, d, Op::add_uw, 0); }
bool c_not(uint16_t raw, DecodedInsn& d) { return c_unary(raw, d, Op::xori, -1); }
bool c_mul(uint16_t raw, DecodedInsn& d) { return c_alu(raw, d, Op::mul); }

}  // namespace vessel::rv
