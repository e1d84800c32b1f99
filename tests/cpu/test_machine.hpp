// A hart on a bus with RAM, wired as the virt board wires it, for tests that run small guest
// programs (written with encode.hpp's encoders) with Hart::step() and Hart::run().
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "base/bits.hpp"
#include "base/clock.hpp"
#include "base/mapped_memory.hpp"
#include "bus/bus.hpp"
#include "cpu/riscv/code_cache.hpp"
#include "cpu/riscv/csr.hpp"
#include "cpu/riscv/hart.hpp"
#include "devices/irq.hpp"
#include "encode.hpp"
#include "hart_test_access.hpp"

namespace vessel::rv::test {

struct TestMachine {
  static constexpr uint64_t kRamBase = 0x80000000;
  static constexpr uint64_t kRamSize = 8ULL << 20;

  // Page-aligned, as the VMM maps guest RAM: the code cache tracks code by host page.
  MappedMemory ram = allocate_ram();
  Bus bus;
  HartIrq irq;
  MachineClock clock;
  CodeCache code;
  Hart hart;

  static MappedMemory allocate_ram() {
    Result<MappedMemory> m = MappedMemory::allocate(kRamSize);
    EXPECT_TRUE(m.ok());
    return std::move(m.value());
  }

  TestMachine() : hart(0, bus, irq, clock, code) {
    Result<void> r = bus.add_memory({kRamBase, kRamSize, ram.data(), true, "ram"});
    EXPECT_TRUE(r.ok());
    // As the virt board does: DMA and loader writes drop decoded code, and a page that
    // gains code loses its write mappings so that stores to it reach the code cache.
    bus.set_write_observer(
        [this](uint64_t host, uint64_t len) { code.invalidate_later(host, len); });
    code.set_new_code_page_listener([this](uint64_t) { hart.drop_write_mappings(); });
    code.set_pending_listener([this] { irq.kick(); });
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

// A TestMachine on the engine the test is instantiated with (the translator translating every
// block before its first run), for tests that run the same program on both engines.
struct OnEachEngine : ::testing::TestWithParam<Engine> {
  TestMachine m;
  void SetUp() override {
    ASSERT_TRUE(m.hart.set_engine(GetParam()).ok());
    m.hart.set_jit_threshold(1);
  }
  // Traps go to a loop at kRamBase + 0x800 (mtvec): run_to(handler()) runs up to a trap.
  uint64_t handler() {
    const uint64_t at = TestMachine::kRamBase + 0x800;
    m.set_csr(kMtvec, at);
    m.program(at, {enc::jal(zero, 0)});
    return at;
  }
  // Runs block by block until pc reaches `end`.
  void run_to(uint64_t end) {
    for (unsigned n = 0; m.hart.pc != end && n < 100; ++n) m.hart.step_block();
    ASSERT_EQ(m.hart.pc, end);
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

}  // namespace vessel::rv::test
