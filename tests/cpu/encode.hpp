// Instruction and page-table encoders for tests that write small guest programs by hand or
// generate them (the torture generator): no test framework, so fuzz targets can use them too.
#pragma once

#include <cstdint>

#include "cpu/riscv/csr.hpp"

namespace vessel::rv::test {

// Integer registers by ABI name.
// clang-format off
enum Reg : unsigned {
  zero, ra, sp, gp, tp, t0, t1, t2, s0, s1, a0, a1, a2, a3, a4, a5,
  a6, a7, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, t3, t4, t5, t6,
};
// clang-format on

// Instruction encoders (unprivileged manual, "Base Instruction Formats").
namespace enc {
constexpr uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }
constexpr uint32_t r(uint32_t opc, unsigned rd, unsigned f3, unsigned rs1, unsigned rs2,
                     unsigned f7) {
  return opc | rd << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | f7 << 25;
}
constexpr uint32_t i(uint32_t opc, unsigned rd, unsigned f3, unsigned rs1, int32_t imm) {
  return opc | rd << 7 | f3 << 12 | rs1 << 15 | (u32(imm) & 0xfff) << 20;
}
constexpr uint32_t s(uint32_t opc, unsigned f3, unsigned rs1, unsigned rs2, int32_t imm) {
  const uint32_t v = u32(imm);
  return opc | (v & 0x1f) << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | ((v >> 5) & 0x7f) << 25;
}
constexpr uint32_t b(unsigned f3, unsigned rs1, unsigned rs2, int32_t off) {
  const uint32_t v = u32(off);
  return 0x63 | ((v >> 11) & 1) << 7 | ((v >> 1) & 0xf) << 8 | f3 << 12 | rs1 << 15 | rs2 << 20 |
         ((v >> 5) & 0x3f) << 25 | ((v >> 12) & 1) << 31;
}
constexpr uint32_t u(uint32_t opc, unsigned rd, uint32_t imm20) {
  return opc | rd << 7 | (imm20 & 0xfffff) << 12;
}
constexpr uint32_t j(unsigned rd, int32_t off) {
  const uint32_t v = u32(off);
  return 0x6f | rd << 7 | ((v >> 12) & 0xff) << 12 | ((v >> 11) & 1) << 20 |
         ((v >> 1) & 0x3ff) << 21 | ((v >> 20) & 1) << 31;
}

constexpr uint32_t lui(unsigned rd, uint32_t imm20) { return u(0x37, rd, imm20); }
constexpr uint32_t auipc(unsigned rd, uint32_t imm20) { return u(0x17, rd, imm20); }
constexpr uint32_t jal(unsigned rd, int32_t off) { return j(rd, off); }
constexpr uint32_t jalr(unsigned rd, unsigned rs1, int32_t imm) { return i(0x67, rd, 0, rs1, imm); }
constexpr uint32_t beq(unsigned rs1, unsigned rs2, int32_t off) { return b(0, rs1, rs2, off); }
constexpr uint32_t bne(unsigned rs1, unsigned rs2, int32_t off) { return b(1, rs1, rs2, off); }
constexpr uint32_t lb(unsigned rd, unsigned rs1, int32_t imm) { return i(0x03, rd, 0, rs1, imm); }
constexpr uint32_t lh(unsigned rd, unsigned rs1, int32_t imm) { return i(0x03, rd, 1, rs1, imm); }
constexpr uint32_t lw(unsigned rd, unsigned rs1, int32_t imm) { return i(0x03, rd, 2, rs1, imm); }
constexpr uint32_t ld(unsigned rd, unsigned rs1, int32_t imm) { return i(0x03, rd, 3, rs1, imm); }
constexpr uint32_t lbu(unsigned rd, unsigned rs1, int32_t imm) { return i(0x03, rd, 4, rs1, imm); }
constexpr uint32_t sb(unsigned rs2, unsigned rs1, int32_t imm) { return s(0x23, 0, rs1, rs2, imm); }
constexpr uint32_t sh(unsigned rs2, unsigned rs1, int32_t imm) { return s(0x23, 1, rs1, rs2, imm); }
constexpr uint32_t sw(unsigned rs2, unsigned rs1, int32_t imm) { return s(0x23, 2, rs1, rs2, imm); }
constexpr uint32_t sd(unsigned rs2, unsigned rs1, int32_t imm) { return s(0x23, 3, rs1, rs2, imm); }
constexpr uint32_t addi(unsigned rd, unsigned rs1, int32_t imm) { return i(0x13, rd, 0, rs1, imm); }
constexpr uint32_t addiw(unsigned rd, unsigned rs1, int32_t imm) {
  return i(0x1b, rd, 0, rs1, imm);
}
constexpr uint32_t slli(unsigned rd, unsigned rs1, unsigned sh) {
  return i(0x13, rd, 1, rs1, static_cast<int32_t>(sh));
}
constexpr uint32_t srai(unsigned rd, unsigned rs1, unsigned sh) {
  return i(0x13, rd, 5, rs1, static_cast<int32_t>(sh | 0x400));
}
constexpr uint32_t add(unsigned rd, unsigned rs1, unsigned rs2) {
  return r(0x33, rd, 0, rs1, rs2, 0);
}
constexpr uint32_t csrrw(unsigned rd, unsigned csr, unsigned rs1) {
  return i(0x73, rd, 1, rs1, static_cast<int32_t>(csr));
}
constexpr uint32_t csrrs(unsigned rd, unsigned csr, unsigned rs1) {
  return i(0x73, rd, 2, rs1, static_cast<int32_t>(csr));
}
constexpr uint32_t csrrc(unsigned rd, unsigned csr, unsigned rs1) {
  return i(0x73, rd, 3, rs1, static_cast<int32_t>(csr));
}
constexpr uint32_t csrrwi(unsigned rd, unsigned csr, unsigned uimm) {
  return i(0x73, rd, 5, uimm, static_cast<int32_t>(csr));
}
constexpr uint32_t csrrsi(unsigned rd, unsigned csr, unsigned uimm) {
  return i(0x73, rd, 6, uimm, static_cast<int32_t>(csr));
}
constexpr uint32_t ecall() { return 0x00000073; }
constexpr uint32_t ebreak() { return 0x00100073; }
constexpr uint32_t sret() { return 0x10200073; }
constexpr uint32_t mret() { return 0x30200073; }
constexpr uint32_t wfi() { return 0x10500073; }
constexpr uint32_t sfence_vma(unsigned rs1, unsigned rs2) { return r(0x73, 0, 0, rs1, rs2, 0x09); }
constexpr uint32_t fence_i() { return 0x0000100f; }
constexpr uint32_t lr_w(unsigned rd, unsigned rs1) { return r(0x2f, rd, 2, rs1, 0, 0x08); }
constexpr uint32_t sc_w(unsigned rd, unsigned rs2, unsigned rs1) {
  return r(0x2f, rd, 2, rs1, rs2, 0x0c);
}
constexpr uint32_t lr_d(unsigned rd, unsigned rs1) { return r(0x2f, rd, 3, rs1, 0, 0x08); }
constexpr uint32_t sc_d(unsigned rd, unsigned rs2, unsigned rs1) {
  return r(0x2f, rd, 3, rs1, rs2, 0x0c);
}
constexpr uint32_t amoadd_w(unsigned rd, unsigned rs2, unsigned rs1) {
  return r(0x2f, rd, 2, rs1, rs2, 0x00);
}
constexpr uint32_t amoswap_d(unsigned rd, unsigned rs2, unsigned rs1) {
  return r(0x2f, rd, 3, rs1, rs2, 0x04);
}
constexpr uint32_t fadd_s(unsigned rd, unsigned rs1, unsigned rs2, unsigned rm) {
  return r(0x53, rd, rm, rs1, rs2, 0x00);
}
constexpr uint32_t fmadd_s(unsigned rd, unsigned rs1, unsigned rs2, unsigned rs3, unsigned rm) {
  return 0x43 | rd << 7 | rm << 12 | rs1 << 15 | rs2 << 20 | rs3 << 27;
}
constexpr uint32_t fld(unsigned rd, unsigned rs1, int32_t imm) { return i(0x07, rd, 3, rs1, imm); }
constexpr uint32_t lhu(unsigned rd, unsigned rs1, int32_t imm) { return i(0x03, rd, 5, rs1, imm); }
constexpr uint32_t andi(unsigned rd, unsigned rs1, int32_t imm) { return i(0x13, rd, 7, rs1, imm); }
constexpr uint32_t sltiu(unsigned rd, unsigned rs1, int32_t imm) {
  return i(0x13, rd, 3, rs1, imm);
}
constexpr uint32_t srli(unsigned rd, unsigned rs1, unsigned sh) {
  return i(0x13, rd, 5, rs1, static_cast<int32_t>(sh));
}
constexpr uint32_t sub(unsigned rd, unsigned rs1, unsigned rs2) {
  return r(0x33, rd, 0, rs1, rs2, 0x20);
}
constexpr uint32_t sll(unsigned rd, unsigned rs1, unsigned rs2) {
  return r(0x33, rd, 1, rs1, rs2, 0);
}
constexpr uint32_t csrrci(unsigned rd, unsigned csr, unsigned uimm) {
  return i(0x73, rd, 7, uimm, static_cast<int32_t>(csr));
}
constexpr uint32_t fmv_d_x(unsigned rd, unsigned rs1) { return r(0x53, rd, 0, rs1, 0, 0x79); }
constexpr uint32_t fmv_x_d(unsigned rd, unsigned rs1) { return r(0x53, rd, 0, rs1, 0, 0x71); }
constexpr uint32_t fdiv_d(unsigned rd, unsigned rs1, unsigned rs2, unsigned rm) {
  return r(0x53, rd, rm, rs1, rs2, 0x0d);
}
constexpr uint32_t feq_d(unsigned rd, unsigned rs1, unsigned rs2) {
  return r(0x53, rd, 2, rs1, rs2, 0x51);
}
constexpr uint32_t fcvt_w_d(unsigned rd, unsigned rs1, unsigned rm) {
  return r(0x53, rd, rm, rs1, 0, 0x61);
}

// Compressed (RVC) encoders for the forms whose fields tests choose.
constexpr uint16_t u16(uint32_t v) { return static_cast<uint16_t>(v); }
constexpr uint16_t c_j(int32_t off) {
  const uint32_t v = u32(off);
  return u16(0xa001 | ((v >> 11) & 1) << 12 | ((v >> 4) & 1) << 11 | ((v >> 8) & 3) << 9 |
             ((v >> 10) & 1) << 8 | ((v >> 6) & 1) << 7 | ((v >> 7) & 1) << 6 |
             ((v >> 1) & 7) << 3 | ((v >> 5) & 1) << 2);
}
// c.beqz / c.bnez on x8..x15 (rs1 is the full register number).
constexpr uint16_t c_bz(bool nonzero, unsigned rs1, int32_t off) {
  const uint32_t v = u32(off);
  return u16((nonzero ? 0xe001 : 0xc001) | ((v >> 8) & 1) << 12 | ((v >> 3) & 3) << 10 |
             ((rs1 - 8) & 7) << 7 | ((v >> 6) & 3) << 5 | ((v >> 1) & 3) << 3 |
             ((v >> 5) & 1) << 2);
}
constexpr uint16_t c_jr(unsigned rs1) { return u16(0x8002 | rs1 << 7); }
constexpr uint16_t c_jalr(unsigned rs1) { return u16(0x9002 | rs1 << 7); }
constexpr uint16_t c_ebreak() { return 0x9002; }
constexpr uint16_t c_nop() { return 0x0001; }
// c.addi16sp: imm is a nonzero multiple of 16 in [-512, 496].
constexpr uint16_t c_addi16sp(int32_t imm) {
  const uint32_t v = u32(imm);
  return u16(0x6101 | ((v >> 9) & 1) << 12 | ((v >> 4) & 1) << 6 | ((v >> 6) & 1) << 5 |
             ((v >> 7) & 3) << 3 | ((v >> 5) & 1) << 2);
}
}  // namespace enc

// Privileged-manual constants the tests use.
inline constexpr uint64_t kInterrupt = 1ULL << 63;
inline constexpr uint64_t cause(Exception e) { return static_cast<uint64_t>(e); }
inline constexpr uint64_t kSatpSv39 = 8ULL << 60;
inline constexpr uint64_t kSatpSv48 = 9ULL << 60;
namespace pte {
inline constexpr uint64_t kV = 1, kR = 2, kW = 4, kX = 8, kU = 16, kG = 32, kA = 64, kD = 128;
inline constexpr uint64_t leaf(uint64_t pa, uint64_t flags) { return (pa >> 12) << 10 | flags; }
inline constexpr uint64_t table(uint64_t pa) { return (pa >> 12) << 10 | kV; }
inline constexpr uint64_t kRwad = kV | kR | kW | kA | kD;
inline constexpr uint64_t kRwxad = kRwad | kX;
}  // namespace pte
namespace pmp {
inline constexpr uint8_t kR = 1, kW = 2, kX = 4, kTor = 1 << 3, kNa4 = 2 << 3, kNapot = 3 << 3,
                         kL = 0x80;
}  // namespace pmp

}  // namespace vessel::rv::test
