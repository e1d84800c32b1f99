// Zcb (16-bit forms of RV64I, Zbb, Zba and M instructions): a hart without it, or without the
// extension an instruction stands for, decodes it as illegal; the reserved encodings among
// them are illegal on every hart; and a block of them runs alike on both engines.
// Zacas: its rows, amocas.q's reserved odd registers, and compare-and-swap through the
// translator's helper path as through the interpreter. Zfhmin: its rows, and half-precision
// loads, conversions and moves through that path too.
// Results are checked by the ISA tests (tests/isa/rv64uzcb.S, rv64uzacas.S, rv64uzfhmin.S,
// bitmanip_off.S, rva23_off.S) and the conversions' rounding by fpu_test.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cpu/riscv/decoder.hpp"
#include "test_machine.hpp"

namespace vessel::rv {
namespace {

using namespace test;

// c.OP with rd'/rs1' = x8 + r (r in 0..7): the unary ones (funct2 11, the operation at 4:2)
// and c.mul (funct2 10, rs2' at 4:2).
constexpr uint16_t c_unary(unsigned r, unsigned operation) {
  return static_cast<uint16_t>(0x9c61 | r << 7 | operation << 2);
}
constexpr uint16_t c_mul(unsigned r, unsigned r2) {
  return static_cast<uint16_t>(0x9c41 | r << 7 | r2 << 2);
}
enum : unsigned { kZextB, kSextB, kZextH, kSextH, kZextW, kNot };

TEST(Zcb, IsOptional) { EXPECT_NE(kOptionalExtensions & ext_bit(Ext::Zcb), 0U); }

TEST(Zcb, RowsDecodeToTheInstructionTheyStandFor) {
  const std::pair<uint16_t, Op> rows[] = {
      {0x80c8, Op::lbu},
      {0x85a8, Op::lhu},
      {0x86f0, Op::lh},
      {0x89c8, Op::sb},
      {0x8da8, Op::sh},
      {c_unary(2, kZextB), Op::andi},
      {c_unary(2, kSextB), Op::sext_b},
      {c_unary(2, kZextH), Op::zext_h},
      {c_unary(2, kSextH), Op::sext_h},
      {c_unary(2, kZextW), Op::add_uw},
      {c_unary(2, kNot), Op::xori},
      {c_mul(2, 3), Op::mul},
  };
  for (const auto& [word, op] : rows) {
    const DecodedInsn d = decode(word);
    EXPECT_EQ(d.op, op) << std::hex << word;
    EXPECT_EQ(d.len, 2) << std::hex << word;
    EXPECT_EQ(decode(word, kAllExtensions & ~ext_bit(Ext::Zcb)).op, Op::kIllegal)
        << std::hex << word << ": a hart without Zcb";
  }
  EXPECT_EQ(decode(c_unary(2, kNot)).imm, -1);
  EXPECT_EQ(decode(c_unary(7, kZextB)).imm, 0xff);
  EXPECT_EQ(decode(c_unary(7, kZextB)).rd, 15);
  EXPECT_EQ(decode(c_mul(0, 7)).rs2, 15);
}

TEST(Zcb, FormsOfZbbAndZbaGoWithThem) {
  const ExtSet no_zbb = kAllExtensions & ~ext_bit(Ext::Zbb);
  const ExtSet no_zba = kAllExtensions & ~ext_bit(Ext::Zba);
  for (unsigned operation : {kSextB, kZextH, kSextH}) {
    const DecodedInsn d = decode(c_unary(1, operation), no_zbb);
    EXPECT_EQ(d.op, Op::kIllegal) << operation;
    EXPECT_EQ(d.raw, c_unary(1, operation)) << "mtval is the 16-bit word";
    EXPECT_EQ(d.len, 2);
    EXPECT_NE(decode(c_unary(1, operation), no_zba).op, Op::kIllegal) << operation;
  }
  EXPECT_EQ(decode(c_unary(1, kZextW), no_zba).op, Op::kIllegal);
  EXPECT_EQ(decode(c_unary(1, kZextW), no_zbb).op, Op::add_uw);
  for (ExtSet set : {no_zbb, no_zba}) {
    EXPECT_EQ(decode(c_unary(1, kZextB), set).op, Op::andi);
    EXPECT_EQ(decode(c_unary(1, kNot), set).op, Op::xori);
    EXPECT_EQ(decode(c_mul(1, 2), set).op, Op::mul);
  }
}

TEST(Zcb, ReservedEncodingsAreIllegal) {
  // The unary group's operations 110 and 111, and c.sh with bit 6 set.
  for (uint16_t word : {c_unary(0, 6), c_unary(5, 7), uint16_t{0x8c40}, uint16_t{0x8c7c}}) {
    EXPECT_EQ(decode(word).op, Op::kIllegal) << std::hex << word;
  }
}

struct ZcbBlock : OnEachEngine {};

// One block of every Zcb instruction, the same registers used often enough for the
// translator to keep them in host registers: both engines leave the same state.
TEST_P(ZcbBlock, RunsAsTheInstructionsItStandsFor) {
  const uint64_t base = TestMachine::kRamBase;
  const uint64_t data = base + 0x1000;
  // s0 (x8) = data, a0.. (x10..) values.
  const std::vector<uint16_t> code = {
      0x8000 | 0 << 7 | 2 << 5 | 2 << 2,  // c.lbu a0, 1(s0)
      0x8440 | 0 << 7 | 1 << 5 | 3 << 2,  // c.lh a1, 2(s0)
      0x8400 | 0 << 7 | 0 << 5 | 4 << 2,  // c.lhu a2, 0(s0)
      c_unary(3, kSextB),                 // c.sext.b a1
      c_unary(4, kSextH),                 // c.sext.h a2
      c_unary(5, kZextW),                 // c.zext.w a3
      c_unary(5, kNot),                   // c.not a3
      c_mul(3, 5),                        // c.mul a1, a3
      c_unary(2, kZextH),                 // c.zext.h a0
      c_unary(4, kZextB),                 // c.zext.b a2
      0x8800 | 0 << 7 | 1 << 5 | 3 << 2,  // c.sb a1, 2(s0)
      0x8c00 | 0 << 7 | 1 << 5 | 4 << 2,  // c.sh a2, 2(s0) (after c.sb: the later store wins)
      c_mul(2, 2),                        // c.mul a0, a0
  };
  uint64_t pc = base;
  for (uint16_t h : code) {
    m.put16(pc, h);
    pc += 2;
  }
  m.put32(pc, enc::jal(zero, 0));
  m.put64(data, 0x1122334455667788);
  m.hart.x[s0] = data;
  m.hart.x[a3] = 0xfedcba9880000001;
  run_to(pc);
  // lbu 0x77, lh 0x5566, lhu 0x7788; sext.b 0x66; sext.h 0x7788; zext.w/not a3.
  const uint64_t a3_value = ~uint64_t{0x80000001};
  EXPECT_EQ(m.hart.x[a3], a3_value);
  EXPECT_EQ(m.hart.x[a1], 0x66 * a3_value);
  EXPECT_EQ(m.hart.x[a2], 0x88U);
  EXPECT_EQ(m.hart.x[a0], 0x77U * 0x77U);
  EXPECT_EQ(m.get64(data), 0x1122334400887788U);
}

INSTANTIATE_TEST_SUITE_P(Engines, ZcbBlock, ::testing::Values(Engine::kInterp, Engine::kJit),
                         [](const auto& p) { return std::string(engine_name(p.param)); });

constexpr uint32_t amocas(unsigned width_log2, unsigned rd, unsigned rs2, unsigned rs1,
                          unsigned aqrl = 0) {
  return 0x2800002f | aqrl << 25 | rs2 << 20 | rs1 << 15 | width_log2 << 12 | rd << 7;
}

TEST(Zacas, RowsAndReservedRegisterPairs) {
  EXPECT_NE(kOptionalExtensions & ext_bit(Ext::Zacas), 0U);
  const ExtSet no_zacas = kAllExtensions & ~ext_bit(Ext::Zacas);
  const std::pair<unsigned, Op> rows[] = {{2, Op::amocas_w}, {3, Op::amocas_d}, {4, Op::amocas_q}};
  for (const auto& [width, op] : rows) {
    const DecodedInsn d = decode(amocas(width, a0, a2, a1, 3));
    EXPECT_EQ(d.op, op);
    EXPECT_EQ(d.rm, 3) << "aq and rl";
    EXPECT_EQ(decode(amocas(width, a0, a2, a1), no_zacas).op, Op::kIllegal);
  }
  EXPECT_EQ(mem_width(Op::amocas_q), 16U);
  EXPECT_EQ(decode(amocas(4, a1, a2, a0)).op, Op::kIllegal) << "odd rd";
  EXPECT_EQ(decode(amocas(4, a0, a3, a0)).op, Op::kIllegal) << "odd rs2";
  EXPECT_EQ(decode(amocas(3, a1, a3, a0)).op, Op::amocas_d) << "only amocas.q has pairs";
  const DecodedInsn x0 = decode(amocas(4, zero, zero, a0));
  EXPECT_EQ(x0.op, Op::amocas_q);
  EXPECT_EQ(x0.rd, kZeroSink);
  EXPECT_EQ(disassemble(amocas(4, zero, a4, t6, 2), 0), "amocas.q.aq zero,a4,(t6)");
}

struct ZacasBlock : OnEachEngine {};

// amocas.d and amocas.q in one block (through the helper path when translated), then an
// amocas.q off its 16-byte alignment.
TEST_P(ZacasBlock, ComparesAndSwapsOnBothEngines) {
  const uint64_t base = TestMachine::kRamBase;
  const uint64_t data = base + 0x1000;
  const uint64_t handler = OnEachEngine::handler();
  m.program(base, {amocas(3, a0, a1, s0), amocas(4, a2, a4, s1), amocas(4, zero, zero, s1),
                   enc::addi(t0, a2, 1), amocas(4, a6, a4, t1)});
  m.put64(data, 7);
  m.put64(data + 16, 0x1111);
  m.put64(data + 24, 0x2222);
  m.hart.x[s0] = data;
  m.hart.x[s1] = data + 16;
  m.hart.x[t1] = data + 8;
  m.hart.x[a0] = 7;
  m.hart.x[a1] = 9;
  m.hart.x[a2] = 0x1111;
  m.hart.x[a3] = 0x2222;
  m.hart.x[a4] = 0x3333;
  m.hart.x[a5] = 0x4444;
  m.hart.x[ra] = 0x5555;
  run_to(handler);
  EXPECT_EQ(m.get64(data), 9U);
  EXPECT_EQ(m.hart.x[a0], 7U);
  EXPECT_EQ(m.hart.x[a2], 0x1111U);
  EXPECT_EQ(m.hart.x[a3], 0x2222U);
  EXPECT_EQ(m.hart.x[t0], 0x1112U);
  // The second amocas.q compared (0, 0) with (0x3333, 0x4444): no store, x1 untouched.
  EXPECT_EQ(m.get64(data + 16), 0x3333U);
  EXPECT_EQ(m.get64(data + 24), 0x4444U);
  EXPECT_EQ(m.hart.x[ra], 0x5555U);
  EXPECT_EQ(m.csr(kMcause), cause(Exception::kStoreAddressMisaligned));
  EXPECT_EQ(m.csr(kMepc), base + 16);
  EXPECT_EQ(m.csr(kMtval), data + 8);
}

INSTANTIATE_TEST_SUITE_P(Engines, ZacasBlock, ::testing::Values(Engine::kInterp, Engine::kJit),
                         [](const auto& p) { return std::string(engine_name(p.param)); });

TEST(Zfhmin, RowsAreIllegalWithoutIt) {
  EXPECT_NE(kOptionalExtensions & ext_bit(Ext::Zfhmin), 0U);
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  unsigned rows = 0;
  for (unsigned k = 0; k < n; ++k) {
    if (t[k].ext != Ext::Zfhmin) continue;
    ++rows;
    EXPECT_EQ(decode(t[k].match).op, static_cast<Op>(k)) << t[k].mnemonic;
    EXPECT_EQ(decode(t[k].match, kAllExtensions & ~ext_bit(Ext::Zfhmin)).op, Op::kIllegal)
        << t[k].mnemonic;
  }
  EXPECT_EQ(rows, 8U);
}

struct ZfhminBlock : OnEachEngine {};

// flh, the four conversions (one rounding), fmv.x.h and fsh in one block.
TEST_P(ZfhminBlock, ConvertsAndMovesHalvesOnBothEngines) {
  const uint64_t base = TestMachine::kRamBase;
  const uint64_t data = base + 0x1000;
  constexpr unsigned kRtz = 1;
  const auto fp_op = [](Op op, unsigned rd, unsigned rs1, unsigned rm) {
    return insn_info(op).match | rd << 7 | rm << 12 | rs1 << 15;
  };
  const uint32_t flh = insn_info(Op::flh).match | 10 << 7 | s0 << 15;            // flh fa0, 0(s0)
  const uint32_t fsh = insn_info(Op::fsh).match | 12 << 20 | s0 << 15 | 2 << 7;  // fsh fa2, 2(s0)
  const uint64_t end =
      m.program(base, {flh, fp_op(Op::fcvt_d_h, 11, 10, 0), fp_op(Op::fcvt_s_h, 13, 10, 0),
                       fp_op(Op::fcvt_h_d, 12, 11, kRtz), fp_op(Op::fcvt_h_s, 14, 13, 0),
                       fp_op(Op::fmv_x_h, a0, 12, 0), fsh, enc::jal(zero, 0)});
  m.set_csr(kMstatus, m.csr(kMstatus) | mstatus::kFS);
  m.put64(data, 0x0000000000003555);  // 0x3555: 1/3 in half precision
  m.hart.x[s0] = data;
  run_to(end - 4);
  EXPECT_EQ(m.hart.f[10], 0xffffffffffff3555U);
  EXPECT_EQ(m.hart.f[11], 0x3fd5540000000000U) << "0x3555 as a double";
  EXPECT_EQ(m.hart.f[13], 0xffffffff3eaaa000U) << "0x3555 as a single";
  EXPECT_EQ(m.hart.f[12], 0xffffffffffff3555U);
  EXPECT_EQ(m.hart.f[14], 0xffffffffffff3555U);
  EXPECT_EQ(m.hart.x[a0], 0x3555U);
  EXPECT_EQ(m.get64(data), 0x0000000035553555U);
  EXPECT_EQ(m.hart.fflags, 0) << "all exact";
}

INSTANTIATE_TEST_SUITE_P(Engines, ZfhminBlock, ::testing::Values(Engine::kInterp, Engine::kJit),
                         [](const auto& p) { return std::string(engine_name(p.param)); });

}  // namespace
}  // namespace vessel::rv
