// A hart on a bus with RAM, wired as the virt board wires it, plus an instruction encoder,
// for tests that run small guest programs with Hart::step() and Hart::run().
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "base/bits.hpp"
#include "base/clock.hpp"
#include "board/bus.hpp"
#include "cpu/riscv/code_cache.hpp"
#include "cpu/riscv/csr.hpp"
#include "cpu/riscv/hart.hpp"
#include "devices/irq.hpp"

namespace vessel::rv {

// Declared a friend by Hart: lets tests switch privilege without a trap round trip while
// keeping the hart's derived translation modes consistent.
class HartTestAccess {
 public:
  static void set_priv(Hart& h, Priv p) {
    h.priv = p;
    h.update_modes();
  }
};

namespace test {

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

struct TestMachine {
  static constexpr uint64_t kRamBase = 0x80000000;
  static constexpr uint64_t kRamSize = 8ULL << 20;

  std::vector<uint8_t> ram;
  Bus bus;
  HartIrq irq;
  MachineClock clock;
  CodeCache code;
  Hart hart;

  TestMachine() : ram(kRamSize), hart(0, bus, irq, clock, code) {
    Result<void> r = bus.add_memory({kRamBase, kRamSize, ram.data(), true, "ram"});
    EXPECT_TRUE(r.ok());
    // As the virt board does: DMA and loader writes drop decoded code, and a page that
    // gains code loses its write mappings so that stores to it reach the code cache.
    bus.set_write_observer(
        [this](uint64_t host, uint64_t len) { code.invalidate_later(host, len); });
    code.set_new_code_page_listener([this](uint64_t) { hart.drop_write_mappings(); });
    hart.reset(kRamBase);
  }

  uint8_t* host(uint64_t pa, uint64_t len = 1) {
    EXPECT_TRUE(range_within(pa - kRamBase, len, kRamSize)) << std::hex << pa;
    return ram.data() + (pa - kRamBase);
  }
  void put32(uint64_t pa, uint32_t v) { store_le<uint32_t>(host(pa, 4), v); }
  void put16(uint64_t pa, uint16_t v) { store_le<uint16_t>(host(pa, 2), v); }
  void put64(uint64_t pa, uint64_t v) { store_le<uint64_t>(host(pa, 8), v); }
  uint32_t get32(uint64_t pa) { return load_le<uint32_t>(host(pa, 4)); }
  uint64_t get64(uint64_t pa) { return load_le<uint64_t>(host(pa, 8)); }
  // Writes 32-bit instructions from pa on; returns the address after the last one.
  uint64_t program(uint64_t pa, std::initializer_list<uint32_t> words) {
    for (uint32_t w : words) {
      put32(pa, w);
      pa += 4;
    }
    return pa;
  }

  // CSR access as M-mode software would do it, whatever mode the hart is in.
  uint64_t csr(unsigned n) {
    const Priv saved = hart.priv;
    HartTestAccess::set_priv(hart, Priv::kM);
    uint64_t v = 0;
    EXPECT_TRUE(hart.csr_read(static_cast<uint16_t>(n), v)) << "csr " << std::hex << n;
    HartTestAccess::set_priv(hart, saved);
    return v;
  }
  void set_csr(unsigned n, uint64_t v) {
    const Priv saved = hart.priv;
    HartTestAccess::set_priv(hart, Priv::kM);
    EXPECT_TRUE(hart.csr_write(static_cast<uint16_t>(n), v)) << "csr " << std::hex << n;
    HartTestAccess::set_priv(hart, saved);
  }
  void set_priv(Priv p) { HartTestAccess::set_priv(hart, p); }

  // PMP entry 15 grants S and U everything (as OpenSBI's last entry does); lower entries
  // stay free for the tests' own rules, which take precedence.
  void open_pmp() {
    set_csr(kPmpaddr0 + 15, ~0ULL);
    set_csr(kPmpcfg0 + 2, static_cast<uint64_t>(pmp::kNapot | pmp::kR | pmp::kW | pmp::kX) << 56);
  }

  void step(unsigned n = 1) {
    for (unsigned k = 0; k < n; ++k) hart.step();
  }
};

// Builds Sv39 or Sv48 page tables in the machine's RAM.
class PageTables {
 public:
  static constexpr uint64_t kPool = TestMachine::kRamBase + 0x600000;  // tables come from here

  PageTables(TestMachine& m, unsigned levels) : m_(m), levels_(levels), next_(kPool) {
    root_ = new_table();
  }
  uint64_t root() const { return root_; }
  uint64_t satp() const { return (levels_ == 3 ? kSatpSv39 : kSatpSv48) | root_ >> 12; }

  // Maps va to pa with a leaf at `level` (0: 4 KiB, 1: 2 MiB, 2: 1 GiB); returns the PTE's
  // physical address.
  uint64_t map(uint64_t va, uint64_t pa, uint64_t flags, unsigned level = 0) {
    uint64_t table = root_;
    for (unsigned l = levels_ - 1; l > level; --l) {
      const uint64_t slot = table + ((va >> (12 + 9 * l)) & 0x1ff) * 8;
      uint64_t e = m_.get64(slot);
      if (!(e & pte::kV)) {
        e = pte::table(new_table());
        m_.put64(slot, e);
      }
      table = (e >> 10) << 12;
    }
    const uint64_t slot = table + ((va >> (12 + 9 * level)) & 0x1ff) * 8;
    m_.put64(slot, pte::leaf(pa, flags));
    return slot;
  }

 private:
  uint64_t new_table() {
    const uint64_t t = next_;
    next_ += 0x1000;
    std::fill_n(m_.host(t, 0x1000), 0x1000, 0);
    return t;
  }

  TestMachine& m_;
  unsigned levels_;
  uint64_t next_;
  uint64_t root_ = 0;
};

}  // namespace test
}  // namespace vessel::rv
