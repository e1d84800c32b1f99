// The RVA22 extensions beyond the bit-manipulation ones: Zicbom, Zicboz (cache-block
// operations), Zicbop and Zihintntl (hints of RV64I), Zkt (advertised only), Zihpm (the
// hpmcounter CSRs). A hart without
// one decodes its rows as illegal; the hints stay hints on every hart; and cbo.zero over code
// that ran drops that code on both engines. The instructions' behaviour is checked by the ISA
// tests (tests/isa/rv64uzicbo.S, vm_sv39.S, rva22_off.S).
#include <gtest/gtest.h>

#include <string>

#include "cpu/riscv/decoder.hpp"
#include "test_machine.hpp"

namespace vessel::rv {
namespace {

using namespace test;

constexpr Ext kNew[] = {Ext::Zicbom,  Ext::Zicboz,  Ext::Zicbop, Ext::Zihintntl, Ext::Zkt,
                        Ext::Svinval, Ext::Svnapot, Ext::Svpbmt, Ext::Zihpm};

constexpr uint32_t cbo(unsigned function, unsigned rs1) {
  return 0x0000200f | function << 20 | rs1 << 15;
}
constexpr unsigned kInval = 0, kClean = 1, kFlush = 2, kZero = 4;

TEST(Rva22Extensions, AreOptional) {
  for (Ext e : kNew) EXPECT_NE(kOptionalExtensions & ext_bit(e), 0U) << static_cast<unsigned>(e);
}

TEST(Rva22Extensions, ARowOfAnExtensionTurnedOffDecodesAsIllegal) {
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  unsigned rows = 0;
  for (Ext off : kNew) {
    const ExtSet set = kAllExtensions & ~ext_bit(off);
    for (unsigned k = 0; k < n; ++k) {
      const uint32_t word = t[k].match | 0x00050000;  // rs1 = a0: every row keeps its fields
      const DecodedInsn d = decode(word, set);
      if (t[k].ext == off) {
        ++rows;
        EXPECT_EQ(d.op, Op::kIllegal) << t[k].mnemonic;
        EXPECT_EQ(d.raw, word) << t[k].mnemonic << ": mtval is the word";
      } else {
        EXPECT_EQ(d.op, decode(word).op) << t[k].mnemonic;
      }
    }
  }
  EXPECT_EQ(rows, 4U + 3U) << "cbo.inval, cbo.clean, cbo.flush (Zicbom), cbo.zero (Zicboz), "
                              "sinval.vma, sfence.w.inval, sfence.inval.ir (Svinval)";
  EXPECT_EQ(decode(cbo(kZero, a0)).op, Op::cbo_zero);
  EXPECT_EQ(decode(cbo(kInval, a0)).op, Op::cbo_inval);
  EXPECT_EQ(decode(cbo(kClean, a0)).op, Op::cbo_clean);
  EXPECT_EQ(decode(cbo(kFlush, a0)).op, Op::cbo_flush);
  EXPECT_EQ(decode(cbo(3, a0)).op, Op::kIllegal) << "function 3 is reserved";
}

TEST(Rva22Extensions, PrefetchesAndNonTemporalHintsAreHintsOnEveryHart) {
  const ExtSet without = kAllExtensions & ~ext_bit(Ext::Zicbop) & ~ext_bit(Ext::Zihintntl);
  for (ExtSet set : {kAllExtensions, without}) {
    const DecodedInsn prefetch_w = decode(0x7e3fe013, set);  // prefetch.w 2016(t6)
    EXPECT_EQ(prefetch_w.op, Op::ori);
    EXPECT_EQ(prefetch_w.rd, kZeroSink);
    const DecodedInsn ntl_all = decode(enc::add(zero, zero, t0), set);  // ntl.all
    EXPECT_EQ(ntl_all.op, Op::add);
    EXPECT_EQ(ntl_all.rd, kZeroSink);
    const DecodedInsn c_ntl_p1 = decode(0x900a, set);  // c.ntl.p1 = c.add x0, x2
    EXPECT_EQ(c_ntl_p1.op, Op::add);
    EXPECT_EQ(c_ntl_p1.rd, kZeroSink);
  }
  EXPECT_EQ(disassemble(0x04056013, 0), "prefetch.i 64(a0)");
  EXPECT_EQ(disassemble(0xfe15e013, 0), "prefetch.r -32(a1)");
  EXPECT_EQ(disassemble(0x7e3fe013, 0), "prefetch.w 2016(t6)");
  EXPECT_EQ(disassemble(0x04256013, 0), "ori zero,a0,66") << "offset bits 4:0 = 2: no prefetch";
  EXPECT_EQ(disassemble(0x04056513, 0), "ori a0,a0,64") << "rd is not x0";
  EXPECT_EQ(disassemble(cbo(kZero, s11), 0), "cbo.zero (s11)");
}

struct CboZero : OnEachEngine {};

// Code that ran once, zeroed by cbo.zero: the next run runs the zeros, as after a store.
TEST_P(CboZero, OverCodeThatRanDropsIt) {
  const uint64_t base = TestMachine::kRamBase;
  const uint64_t handler = OnEachEngine::handler();
  m.program(base, {enc::beq(a2, zero, 8), cbo(kZero, a0), enc::jal(zero, 56)});
  m.program(base + 64, {enc::addi(a1, a1, 1), enc::jal(zero, 0)});
  m.hart.x[a0] = base + 64 + 20;  // anywhere in the block
  m.hart.x[a2] = 0;
  run_to(base + 68);
  EXPECT_EQ(m.hart.x[a1], 1U);
  m.hart.pc = base;
  m.hart.x[a2] = 1;
  run_to(handler);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction));
  EXPECT_EQ(m.csr(kMepc), base + 64);
  EXPECT_EQ(m.hart.x[a1], 1U);
  for (uint64_t a = base + 64; a < base + 128; a += 8) EXPECT_EQ(m.get64(a), 0U);
  EXPECT_EQ(m.get32(base + 128), 0U) << "untouched (never written)";
  EXPECT_EQ(m.get32(base + 8), enc::jal(zero, 56)) << "the block before is untouched";
}

INSTANTIATE_TEST_SUITE_P(Engines, CboZero, ::testing::Values(Engine::kInterp, Engine::kJit),
                         [](const auto& p) { return std::string(engine_name(p.param)); });

// Zihpm: hpmcounter3..31 exist (read zero) on a hart with it, and are illegal without it; the
// machine-mode counters and their events stay either way.
TEST(Zihpm, HpmcountersGoWithIt) {
  TestMachine m;
  for (ExtSet set : {kAllExtensions, kAllExtensions & ~ext_bit(Ext::Zihpm)}) {
    m.hart.set_extensions(set);
    const bool on = (set & ext_bit(Ext::Zihpm)) != 0;
    for (uint16_t csr : {uint16_t{kHpmcounter3}, uint16_t{kHpmcounter31}}) {
      uint64_t v = on ? 1 : 0;
      EXPECT_EQ(m.hart.csr_read(csr, v), on) << std::hex << csr;
      EXPECT_EQ(v, 0U) << std::hex << csr;
    }
    uint64_t v = 0;
    EXPECT_TRUE(m.hart.csr_read(kMhpmcounter3, v));
    EXPECT_TRUE(m.hart.csr_read(kMhpmevent31, v));
    EXPECT_TRUE(m.hart.csr_read(kCycle, v));
  }
}

}  // namespace
}  // namespace vessel::rv
