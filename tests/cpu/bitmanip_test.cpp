// Zba, Zbb, Zbs and Zicond: a hart without one of them decodes its rows as illegal
// instructions (--cpu-features), on both engines; and the translator's emitters for them agree
// with the interpreter's semantics for every way the registers can alias and every value
// that is an edge for one of them. The values themselves are checked by the ISA tests
// (tests/isa/rv64uzb*.S, rv64uzicond.S), against QEMU too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/jit/emitter.hpp"
#include "test_machine.hpp"

namespace vessel::rv {
namespace {

using namespace test;

constexpr Ext kOptional[] = {Ext::Zba, Ext::Zbb, Ext::Zbs, Ext::Zicond};

bool is_optional(Ext e) {
  return std::find(std::begin(kOptional), std::end(kOptional), e) != std::end(kOptional);
}

// The instruction `op` with these registers (rs2 where the row has one, or the shift amount).
uint32_t encode(Op op, unsigned rd, unsigned rs1, unsigned rs2_or_shamt) {
  const InsnInfo& row = insn_info(op);
  uint32_t w = row.match | rd << 7 | rs1 << 15;
  const bool has_rs2 = std::strchr(row.operands, 't') != nullptr;
  const bool has_shamt = row.imm == ImmKind::kShamt5 || row.imm == ImmKind::kShamt6;
  if (has_rs2 || has_shamt) w |= rs2_or_shamt << 20;
  return w;
}

std::vector<Op> optional_ops() {
  std::vector<Op> ops;
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  for (unsigned k = 0; k < n; ++k) {
    if (is_optional(t[k].ext)) ops.push_back(static_cast<Op>(k));
  }
  return ops;
}

TEST(OptionalExtensions, EachOneHasRows) {
  for (Ext e : kOptional) {
    unsigned rows = 0;
    for (Op op : optional_ops()) rows += insn_info(op).ext == e;
    EXPECT_GT(rows, 1U) << static_cast<unsigned>(e);
  }
  EXPECT_EQ(optional_ops().size(), 8U + 24U + 8U + 2U) << "Zba, Zbb, Zbs, Zicond";
  for (Ext e : kOptional) EXPECT_NE(kOptionalExtensions & ext_bit(e), 0U);
}

TEST(OptionalExtensions, ARowOfAnExtensionTurnedOffDecodesAsIllegal) {
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  for (Ext off : kOptional) {
    const ExtSet set = kAllExtensions & ~ext_bit(off);
    for (unsigned k = 0; k < n; ++k) {
      const DecodedInsn d = decode(t[k].match | 0x00b50500, set);  // rd, rs1, rs2 nonzero
      if (t[k].ext == off) {
        EXPECT_EQ(d.op, Op::kIllegal) << t[k].mnemonic;
        EXPECT_EQ(d.raw, t[k].match | 0x00b50500) << t[k].mnemonic << ": mtval is the word";
      } else {
        EXPECT_EQ(d.op, decode(t[k].match | 0x00b50500).op) << t[k].mnemonic;
      }
    }
  }
  // Without any of them: RV64GC as before.
  EXPECT_EQ(decode(encode(Op::sh1add, a0, a1, a2), kAllExtensions & ~kOptionalExtensions).op,
            Op::kIllegal);
  EXPECT_EQ(decode(enc::add(a0, a1, a2), kAllExtensions & ~kOptionalExtensions).op, Op::add);
}

struct WithoutAnExtension : OnEachEngine {};

TEST_P(WithoutAnExtension, ItsInstructionsAreIllegalOnBothEngines) {
  const uint64_t base = TestMachine::kRamBase;
  const uint64_t handler = OnEachEngine::handler();
  for (Op op : optional_ops()) {
    SCOPED_TRACE(insn_info(op).mnemonic);
    const Ext ext = insn_info(op).ext;
    const uint32_t word = encode(op, a2, a0, a1);
    // Two instructions retire, then the one the hart lacks traps and leaves a2 alone.
    m.program(base, {enc::addi(a0, zero, 5), enc::addi(a1, zero, 3), word, enc::jal(zero, 0)});
    m.hart.set_extensions(kAllExtensions & ~ext_bit(ext));
    m.hart.pc = base;
    m.hart.x[a2] = 0x1234;
    const uint64_t instret = m.hart.instret;
    run_to(handler);
    EXPECT_EQ(m.csr(kMcause), cause(Exception::kIllegalInstruction));
    EXPECT_EQ(m.csr(kMepc), base + 8);
    EXPECT_EQ(m.csr(kMtval), word);
    EXPECT_EQ(m.hart.x[a2], 0x1234U);
    EXPECT_EQ(m.hart.instret - instret, 2U);
    // Turned on again, the same code runs (what was decoded without it is gone).
    m.hart.set_extensions(kAllExtensions);
    m.hart.pc = base;
    run_to(base + 12);
    EXPECT_EQ(m.csr(kMepc), base + 8) << "no new trap";
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, WithoutAnExtension,
                         ::testing::Values(Engine::kInterp, Engine::kJit),
                         [](const auto& p) { return std::string(engine_name(p.param)); });

// Values that are an edge for some instruction: zero, all ones, the signed extremes, word and
// halfword boundaries, single bits, mixed bytes.
constexpr uint64_t kValues[] = {0,
                                1,
                                ~0ULL,
                                1ULL << 63,
                                (1ULL << 63) - 1,
                                0x80000000,
                                0xffffffff,
                                0xffffffff80000000,
                                0x8000,
                                0xff80,
                                0x0123456789abcdef,
                                0xfedcba9876543210,
                                0x00ff00000000ff00,
                                63,
                                32,
                                0x100000001};
constexpr unsigned kNumValues = sizeof(kValues) / sizeof(kValues[0]);

// One block that runs `op` with every aliasing of rd, rs1 and rs2 (x0 included), using the
// same registers often enough that the translator keeps them in host registers. An immediate
// form takes `shamt` where the others take rs2.
std::vector<uint32_t> aliasing_block(Op op, unsigned shamt) {
  const bool imm = insn_info(op).imm != ImmKind::kNone;
  auto w = [&](unsigned rd, unsigned rs1, unsigned rs2) {
    return encode(op, rd, rs1, imm ? shamt : rs2);
  };
  return {w(a0, a1, a2), w(a3, a1, a2),   w(a1, a1, a2),   w(a2, a4, a2),
          w(a5, a5, a5), w(zero, a1, a2), w(a6, zero, a4), w(t0, t1, zero),
          w(a7, a2, a1), w(t2, a7, a0),   w(a2, a2, a2),   enc::jal(zero, 0)};
}

std::vector<unsigned> shift_amounts(Op op) {
  switch (insn_info(op).imm) {
    case ImmKind::kShamt5: return {0, 1, 13, 31};
    case ImmKind::kShamt6: return {0, 1, 31, 32, 63};
    default: return {0};
  }
}

TEST(BitmanipEmitters, TranslatedCodeAgreesWithTheInterpreter) {
  unsigned native = 0;
  for (Op op : optional_ops()) {
    SCOPED_TRACE(insn_info(op).mnemonic);
    native += jit::has_emitter(op);
    for (unsigned shamt : shift_amounts(op)) {
      const std::vector<uint32_t> code = aliasing_block(op, shamt);
      const uint64_t end = TestMachine::kRamBase + 4 * (code.size() - 1);
      TestMachine interp, jit;
      ASSERT_TRUE(interp.hart.set_engine(Engine::kInterp).ok());
      ASSERT_TRUE(jit.hart.set_engine(Engine::kJit).ok());
      jit.hart.set_jit_threshold(1);  // translated from the first run
      for (TestMachine* tm : {&interp, &jit}) {
        for (unsigned k = 0; k < code.size(); ++k)
          tm->put32(TestMachine::kRamBase + 4 * k, code[k]);
      }
      for (unsigned round = 0; round < kNumValues; ++round) {
        for (TestMachine* tm : {&interp, &jit}) {
          for (unsigned r = 1; r < 32; ++r) tm->hart.x[r] = kValues[(round + r) % kNumValues];
          tm->hart.pc = TestMachine::kRamBase;
          tm->hart.step_block();
          ASSERT_EQ(tm->hart.pc, end);
        }
        for (unsigned r = 0; r < 32; ++r) {
          EXPECT_EQ(jit.hart.x[r], interp.hart.x[r])
              << "x" << r << ", shamt " << shamt << ", round " << round;
        }
      }
      EXPECT_EQ(jit.hart.jit_stats().blocks_translated, 1U);
    }
  }
  EXPECT_GE(native, 19U) << "the emitters of emit_bitmanip.cpp";
}

}  // namespace
}  // namespace vessel::rv
