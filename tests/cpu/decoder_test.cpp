// The instruction table and the decoder: rows never overlap, every row decodes to itself,
// everything else is illegal, and immediates and register fields come out as the manual says.
#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <set>
#include <string_view>
#include <utility>

#include "cpu/riscv/decoder.hpp"
#include "test_machine.hpp"

namespace vessel::rv {
namespace {

using namespace test;

TEST(InsnTable, BaseRowsDoNotOverlapAndMatchLiesInMask) {
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  ASSERT_EQ(n, static_cast<unsigned>(Op::kIllegal));
  for (unsigned a = 0; a < n; ++a) {
    EXPECT_EQ(t[a].match & ~t[a].mask, 0u) << t[a].mnemonic << ": match has bits outside mask";
    EXPECT_EQ(t[a].match & 3, 3u) << t[a].mnemonic << ": base rows are 32-bit encodings";
    for (unsigned b = a + 1; b < n; ++b) {
      EXPECT_NE((t[a].match ^ t[b].match) & t[a].mask & t[b].mask, 0u)
          << t[a].mnemonic << " and " << t[b].mnemonic << " can match the same word";
    }
  }
}

TEST(InsnTable, CompressedRowsDoNotOverlapAndMatchLiesInMask) {
  unsigned n = 0;
  const CompressedInfo* t = compressed_table(n);
  ASSERT_GT(n, 0u);
  for (unsigned a = 0; a < n; ++a) {
    EXPECT_EQ(t[a].match & ~t[a].mask, 0) << t[a].mnemonic;
    EXPECT_NE(t[a].match & 3, 3) << t[a].mnemonic << ": quadrant 3 is not compressed";
    EXPECT_EQ(t[a].mask & 3, 3) << t[a].mnemonic << ": the quadrant must be in the mask";
    for (unsigned b = a + 1; b < n; ++b) {
      EXPECT_NE((t[a].match ^ t[b].match) & t[a].mask & t[b].mask, 0)
          << t[a].mnemonic << " and " << t[b].mnemonic << " can match the same halfword";
    }
  }
}

// The flags column (insn_table.hpp) checked against what the rest of each row says, so that a
// wrong flag on a row is caught here and not by a guest.
unsigned opcode_of(const InsnInfo& row) { return row.match & 0x7f; }
unsigned funct3_of(const InsnInfo& row) { return (row.match >> 12) & 7; }
bool is_memory_opcode(unsigned opc) {
  return opc == 0x03 || opc == 0x07 || opc == 0x23 || opc == 0x27 || opc == 0x2f;
}

// lb/lbu/sb 1, lh/lhu/sh 2, lw/lwu/sw/flw/fsw and *.w 4, ld/sd/fld/fsd and *.d 8, *.q 16.
unsigned width_from_mnemonic(std::string_view m) {
  char size = 0;
  if (const size_t dot = m.rfind('.'); dot != std::string_view::npos) {
    size = m[dot + 1];  // lr.w, sc.d, amoadd.w
  } else {
    if (m.front() == 'f') m.remove_prefix(1);  // flw, fsd
    size = m[1];                               // lb, lbu, sh, sd
  }
  switch (size) {
    case 'b': return 1;
    case 'h': return 2;
    case 'w': return 4;
    case 'd': return 8;
    case 'q': return 16;
    default: return 0;
  }
}

// The accessors are constexpr: the translator folds them.
static_assert(ends_block(Op::jal) && !ends_block(Op::addi) && ends_block(Op::kIllegal));
static_assert(is_branch(Op::bne) && !ends_block(Op::bne) && !is_branch(Op::jal));
static_assert(mem_width(Op::lw) == 4 && mem_width(Op::add) == 0);
static_assert(is_load(Op::ld) && !is_store(Op::ld) && mem_signed(Op::lb) && !mem_signed(Op::lbu));
static_assert(writes_int_rd(Op::fcvt_w_s) && !writes_int_rd(Op::fadd_s) && uses_rm(Op::fadd_s));
static_assert(may_trap(Op::kIllegal) && !may_trap(Op::div));

TEST(InsnTable, WritesRdAndUsesRmAgreeWithTheOperands) {
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  for (unsigned k = 0; k < n; ++k) {
    const Op op = static_cast<Op>(k);
    const std::string_view ops = t[k].operands;
    const bool rd = ops.starts_with("d") || ops.starts_with("a,d");
    EXPECT_EQ(writes_int_rd(op), rd) << t[k].mnemonic << " \"" << ops << "\"";
    EXPECT_EQ(uses_rm(op), ops.find('m') != std::string_view::npos)
        << t[k].mnemonic << " \"" << ops << "\"";
  }
  EXPECT_FALSE(writes_int_rd(Op::kIllegal));
  EXPECT_FALSE(uses_rm(Op::kIllegal));
}

TEST(InsnTable, MemoryRowsHaveOneWidthAndItMatchesTheMnemonic) {
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  for (unsigned k = 0; k < n; ++k) {
    const Op op = static_cast<Op>(k);
    const char* mn = t[k].mnemonic;
    const uint32_t width_bits = op_flags(op) & insn_flags::kWidthMask;
    const bool memory = is_memory_opcode(opcode_of(t[k]));
    EXPECT_EQ(is_load(op) || is_store(op), memory) << mn;
    EXPECT_EQ(std::popcount(width_bits), memory ? 1 : 0) << mn;
    EXPECT_EQ(mem_width(op), width_bits) << mn;
    if (!memory) continue;
    EXPECT_EQ(mem_width(op), width_from_mnemonic(mn)) << mn;
    // And the encoding agrees: funct3 holds log2 of the width (bit 2 is "unsigned" for loads,
    // and part of the width for AMOs: amocas.q).
    const unsigned log2 = opcode_of(t[k]) == 0x2f ? funct3_of(t[k]) : funct3_of(t[k]) & 3;
    EXPECT_EQ(mem_width(op), 1u << log2) << mn;
  }
  EXPECT_EQ(mem_width(Op::kIllegal), 0u);
  const std::pair<Op, unsigned> widths[] = {
      {Op::lb, 1}, {Op::lbu, 1}, {Op::lh, 2},   {Op::lw, 4},        {Op::flw, 4},
      {Op::sw, 4}, {Op::fsw, 4}, {Op::lr_w, 4}, {Op::sc_w, 4},      {Op::amomaxu_w, 4},
      {Op::ld, 8}, {Op::fld, 8}, {Op::fsd, 8},  {Op::amoswap_d, 8}, {Op::amocas_q, 16},
  };
  for (const auto& [op, width] : widths) EXPECT_EQ(mem_width(op), width) << insn_info(op).mnemonic;
}

TEST(InsnTable, LoadsReadStoresWriteAndAmosDoBoth) {
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  for (unsigned k = 0; k < n; ++k) {
    const Op op = static_cast<Op>(k);
    const std::string_view mn = t[k].mnemonic;
    switch (opcode_of(t[k])) {
      case 0x03:  // LOAD
      case 0x07:  // LOAD-FP
        EXPECT_TRUE(is_load(op)) << mn;
        EXPECT_FALSE(is_store(op)) << mn;
        break;
      case 0x23:  // STORE
      case 0x27:  // STORE-FP
        EXPECT_FALSE(is_load(op)) << mn;
        EXPECT_TRUE(is_store(op)) << mn;
        break;
      case 0x2f:  // AMO: LR only reads, SC only writes, the rest read and write
        EXPECT_EQ(is_load(op), !mn.starts_with("sc.")) << mn;
        EXPECT_EQ(is_store(op), !mn.starts_with("lr.")) << mn;
        break;
      default: EXPECT_FALSE(is_load(op)) << mn; EXPECT_FALSE(is_store(op)) << mn;
    }
    // Sign extension into rd: the integer loads narrower than 8 bytes without the u, and the
    // 32-bit LR and AMOs (their rd gets the old word sign-extended). Not FP loads (NaN-boxed).
    const bool narrow_signed_load =
        opcode_of(t[k]) == 0x03 && (funct3_of(t[k]) & 4) == 0 && mem_width(op) < 8;
    const bool word_amo_load = opcode_of(t[k]) == 0x2f && is_load(op) && mem_width(op) == 4;
    EXPECT_EQ(mem_signed(op), narrow_signed_load || word_amo_load) << mn;
    if (mem_signed(op)) {
      EXPECT_TRUE(is_load(op)) << mn;
      EXPECT_TRUE(writes_int_rd(op)) << mn;
    }
  }
  for (Op op : {Op::lb, Op::lh, Op::lw, Op::lr_w, Op::amoadd_w}) {
    EXPECT_TRUE(mem_signed(op)) << insn_info(op).mnemonic;
  }
  for (Op op : {Op::ld, Op::lbu, Op::lhu, Op::lwu, Op::flw, Op::sw, Op::sc_w, Op::lr_d}) {
    EXPECT_FALSE(mem_signed(op)) << insn_info(op).mnemonic;
  }
}

TEST(InsnTable, BlocksEndAtJumpsAndSystemInstructionsAndGoOnPastBranches) {
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  for (unsigned k = 0; k < n; ++k) {
    const unsigned opc = opcode_of(t[k]);
    // JALR, JAL, SYSTEM (ecall, ebreak, xRET, wfi, sfence.vma) but the CSR accesses, and
    // fence.i end a block; a BRANCH leaves it only where taken, a CSR access only where its
    // write needs the run loop (Hart::csr_write_ends_block).
    const bool csr = opc == 0x73 && ((t[k].match >> 12) & 7) != 0;
    const bool ends = opc == 0x67 || opc == 0x6f || (opc == 0x73 && !csr) ||
                      std::string_view(t[k].mnemonic) == "fence.i";
    EXPECT_EQ(ends_block(static_cast<Op>(k)), ends) << t[k].mnemonic;
    EXPECT_EQ(is_branch(static_cast<Op>(k)), opc == 0x63) << t[k].mnemonic;
  }
  EXPECT_TRUE(ends_block(Op::kIllegal));
  EXPECT_FALSE(is_branch(Op::kIllegal));
  // The list the interpreter ended blocks at before the flags column existed, less the
  // branches and the CSR accesses.
  const std::set<Op> ends = {Op::jal,
                             Op::jalr,
                             Op::ecall,
                             Op::ebreak,
                             Op::fence_i,
                             Op::sret,
                             Op::mret,
                             Op::wfi,
                             Op::sfence_vma,
                             Op::kIllegal,
                             Op::sinval_vma,
                             Op::sfence_w_inval,
                             Op::sfence_inval_ir,
                             Op::hfence_vvma,
                             Op::hfence_gvma,
                             Op::hinval_vvma,
                             Op::hinval_gvma};
  for (unsigned k = 0; k < kNumOps; ++k) {
    const Op op = static_cast<Op>(k);
    EXPECT_EQ(ends_block(op), ends.contains(op)) << (k < n ? t[k].mnemonic : "kIllegal");
  }
}

TEST(InsnTable, MemoryFpAndSystemInstructionsMayTrapAndNothingElse) {
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  for (unsigned k = 0; k < n; ++k) {
    const Op op = static_cast<Op>(k);
    // Memory: page faults, access faults, misaligned AMOs. F and D: illegal while mstatus.FS
    // is off. SYSTEM: ecall/ebreak always, CSRs and xRET/wfi/sfence.vma by privilege. Jumps
    // and branches never (C is always on, so no target is misaligned), nor M (no divide trap).
    // The cache-block operations (MISC-MEM, funct3 2): menvcfg/senvcfg and page faults.
    const bool cbo = opcode_of(t[k]) == 0x0f && funct3_of(t[k]) == 2;
    const bool fp = t[k].ext == Ext::F || t[k].ext == Ext::D || t[k].ext == Ext::Zfhmin;
    const bool traps = is_load(op) || is_store(op) || fp || opcode_of(t[k]) == 0x73 || cbo;
    EXPECT_EQ(may_trap(op), traps) << t[k].mnemonic;
  }
  EXPECT_TRUE(may_trap(Op::kIllegal));
  EXPECT_FALSE(may_trap(Op::jalr));
  EXPECT_FALSE(may_trap(Op::fence_i));
  EXPECT_FALSE(may_trap(Op::divu));
  EXPECT_TRUE(may_trap(Op::fsgnj_d));
  EXPECT_TRUE(may_trap(Op::sc_d));
}

TEST(Decoder, EveryBaseRowsMatchWordDecodesToItsOp) {
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  for (unsigned k = 0; k < n; ++k) {
    const DecodedInsn d = decode(t[k].match);
    EXPECT_EQ(d.op, static_cast<Op>(k)) << t[k].mnemonic << " " << std::hex << t[k].match;
    EXPECT_EQ(d.len, 4);
    EXPECT_EQ(d.raw, t[k].match);
    EXPECT_NE(d.fn, nullptr);
    EXPECT_STREQ(insn_info(d.op).mnemonic, t[k].mnemonic);
  }
}

int matching_base_row(uint32_t w) {
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  for (unsigned k = 0; k < n; ++k) {
    if ((w & t[k].mask) == t[k].match) return static_cast<int>(k);
  }
  return -1;
}

int matching_compressed_row(uint16_t w) {
  unsigned n = 0;
  const CompressedInfo* t = compressed_table(n);
  for (unsigned k = 0; k < n; ++k) {
    if ((w & t[k].mask) == t[k].match) return static_cast<int>(k);
  }
  return -1;
}

// What still makes a word that matches a row illegal: a reserved rounding mode, or an odd
// register pair of amocas.q.
bool is_reserved_field(const DecodedInsn& d, uint32_t w) {
  const unsigned rm = (w >> 12) & 7;
  if (d.op == Op::amocas_q) return (((w >> 7) | (w >> 20)) & 1) != 0;
  return std::string(insn_info(d.op).operands).find('m') != std::string::npos &&
         (rm == 5 || rm == 6);
}

TEST(Decoder, RandomWordsMatchingNoRowAreIllegal) {
  std::mt19937 rng(12345);
  unsigned illegal_seen = 0, legal_seen = 0;
  for (int k = 0; k < 200000; ++k) {
    const uint32_t w = static_cast<uint32_t>(rng()) | 3;  // a 32-bit encoding
    const DecodedInsn d = decode(w);
    const int row = matching_base_row(w);
    EXPECT_EQ(d.len, 4);
    EXPECT_NE(d.fn, nullptr);
    if (row < 0 || (w & 0x1c) == 0x1c) {
      EXPECT_EQ(d.op, Op::kIllegal) << std::hex << w;
      EXPECT_EQ(d.raw, w);
      ++illegal_seen;
    } else if (d.op == Op::kIllegal) {
      // A row matches: only a reserved field may still make it illegal.
      EXPECT_TRUE(is_reserved_field(decode(insn_info(static_cast<Op>(row)).match), w))
          << std::hex << w;
    } else {
      EXPECT_EQ(d.op, static_cast<Op>(row)) << std::hex << w;
      ++legal_seen;
    }
  }
  EXPECT_GT(illegal_seen, 1000u);
  EXPECT_GT(legal_seen, 1000u);
}

TEST(Decoder, EveryHalfwordMatchingNoCompressedRowIsIllegal) {
  for (uint32_t w = 0; w < 0x10000; ++w) {
    if ((w & 3) == 3) continue;
    const DecodedInsn d = decode(w);
    EXPECT_EQ(d.len, 2) << std::hex << w;
    EXPECT_NE(d.fn, nullptr);
    if (matching_compressed_row(static_cast<uint16_t>(w)) < 0) {
      EXPECT_EQ(d.op, Op::kIllegal) << std::hex << w;
    }
    if (d.op == Op::kIllegal) { EXPECT_EQ(d.raw, w); }
  }
}

// The decoder looks compressed rows up by quadrant and funct3: every halfword must still come
// out as its own row's expansion, as a scan of the whole table gives it.
TEST(Decoder, EveryCompressedHalfwordDecodesAsItsRowExpandsIt) {
  unsigned n = 0;
  const CompressedInfo* t = compressed_table(n);
  unsigned legal = 0;
  for (uint32_t w = 0; w < 0x10000; ++w) {
    const int row = (w & 3) == 3 ? -1 : matching_compressed_row(static_cast<uint16_t>(w));
    if (row < 0) continue;
    DecodedInsn want;
    const bool expands = t[row].expand(static_cast<uint16_t>(w), want);
    const DecodedInsn d = decode(w);
    if (!expands) {
      EXPECT_EQ(d.op, Op::kIllegal) << std::hex << w << " is reserved in " << t[row].mnemonic;
      continue;
    }
    ASSERT_EQ(d.op, want.op) << std::hex << w << " (" << t[row].mnemonic << ")";
    // x0 as a destination becomes the write sink (finish()).
    EXPECT_TRUE(d.rd == want.rd || (want.rd == 0 && d.rd == kZeroSink)) << std::hex << w;
    EXPECT_EQ(d.rs1, want.rs1) << std::hex << w;
    EXPECT_EQ(d.rs2, want.rs2) << std::hex << w;
    EXPECT_EQ(d.imm, want.imm) << std::hex << w;
    ++legal;
  }
  EXPECT_GT(legal, 30000u);
}

TEST(Decoder, CompressedDecodingLooksOnlyAtTheLow16Bits) {
  const DecodedInsn a = decode(0x0505);  // c.addi a0, 1
  const DecodedInsn b = decode(0xdead0505);
  EXPECT_EQ(a.op, Op::addi);
  EXPECT_EQ(b.op, Op::addi);
  EXPECT_EQ(b.len, 2);
  EXPECT_EQ(b.imm, 1);
}

void expect_illegal16(uint16_t w, const char* what, ExtSet extensions = kAllExtensions) {
  const DecodedInsn d = decode(w, extensions);
  EXPECT_EQ(d.op, Op::kIllegal) << what << " " << std::hex << w;
  EXPECT_NE(d.fn, nullptr) << what;
  EXPECT_EQ(d.len, 2) << what;
  EXPECT_EQ(d.raw, w) << what;
}

TEST(Decoder, ReservedCompressedEncodingsAreIllegal) {
  expect_illegal16(0x0000, "all-zero halfword");
  expect_illegal16(0x0004, "c.addi4spn a1, sp, 0");
  expect_illegal16(0x001c, "c.addi4spn a5, sp, 0");
  expect_illegal16(0x4002, "c.lwsp x0, 0(sp)");
  expect_illegal16(0x4002 | 1 << 12 | 0x7c, "c.lwsp x0, 252(sp)");
  expect_illegal16(0x6002, "c.ldsp x0, 0(sp)");
  expect_illegal16(0x6002 | 0x1c, "c.ldsp x0, 448(sp)");
  expect_illegal16(0x8002, "c.jr x0");
  expect_illegal16(0x6001 | a0 << 7, "c.lui a0, 0");
  expect_illegal16(0x6001 | t6 << 7, "c.lui t6, 0");
  expect_illegal16(0x6001 | sp << 7, "c.addi16sp sp, 0");
  expect_illegal16(0x2001, "c.addiw x0, 0");
  expect_illegal16(0x2001 | 1 << 12 | 0x7c, "c.addiw x0, -1");
  // Zcb's encodings (c.mul, c.zext.b, c.lbu) are reserved on a hart without it; two of its
  // unary group's stay reserved on every hart.
  const ExtSet no_zcb = kAllExtensions & ~ext_bit(Ext::Zcb);
  expect_illegal16(0x9c41, "CA encoding 100111, funct2 10 without Zcb", no_zcb);
  expect_illegal16(0x9c61, "CA encoding 100111, funct2 11 without Zcb", no_zcb);
  expect_illegal16(0x8000, "quadrant 0, funct3 100 without Zcb", no_zcb);
  expect_illegal16(0x9c79, "Zcb's unary operation 110");
  expect_illegal16(0x9c7d, "Zcb's unary operation 111");
}

TEST(Decoder, NonzeroFieldsSplitSharedCompressedRows) {
  EXPECT_EQ(decode(0x8082).op, Op::jalr);    // c.jr ra
  EXPECT_EQ(decode(0x852e).op, Op::add);     // c.mv a0, a1
  EXPECT_EQ(decode(0x9002).op, Op::ebreak);  // c.ebreak
  EXPECT_EQ(decode(0x9502).op, Op::jalr);    // c.jalr a0
  EXPECT_EQ(decode(0x952e).op, Op::add);     // c.add a0, a1
  EXPECT_EQ(decode(0x713d).op, Op::addi);    // c.addi16sp sp, -32
  EXPECT_EQ(decode(0x657d).op, Op::lui);     // c.lui a0, 0x1f
  const DecodedInsn jalr = decode(0x9502);
  EXPECT_EQ(jalr.rd, ra);
  EXPECT_EQ(jalr.rs1, a0);
  const DecodedInsn jr = decode(0x8082);
  EXPECT_EQ(jr.rd, kZeroSink);
  EXPECT_EQ(jr.rs1, ra);
}

TEST(Decoder, ReservedRoundingModesAreIllegal) {
  for (unsigned rm : {5u, 6u}) {
    EXPECT_EQ(decode(enc::fadd_s(1, 2, 3, rm)).op, Op::kIllegal) << rm;
    EXPECT_EQ(decode(enc::fmadd_s(1, 2, 3, 4, rm)).op, Op::kIllegal) << rm;
    EXPECT_EQ(decode(0xd0000053 | rm << 12).op, Op::kIllegal) << "fcvt.s.w rm " << rm;
    EXPECT_EQ(decode(0x5a000053 | rm << 12).op, Op::kIllegal) << "fsqrt.d rm " << rm;
    const DecodedInsn d = decode(enc::fadd_s(1, 2, 3, rm));
    EXPECT_NE(d.fn, nullptr);
    EXPECT_EQ(d.raw, enc::fadd_s(1, 2, 3, rm));
  }
  // 0..4 are static modes and 7 is dynamic (checked against frm when executed).
  for (unsigned rm : {0u, 1u, 2u, 3u, 4u, 7u}) {
    const DecodedInsn d = decode(enc::fadd_s(1, 2, 3, rm));
    EXPECT_EQ(d.op, Op::fadd_s) << rm;
    EXPECT_EQ(d.rm, rm);
  }
  // The funct3 of instructions without a rounding mode is not a rounding mode.
  EXPECT_EQ(decode(0x20005053).op, Op::kIllegal) << "fsgnj.s with funct3 5 is no instruction";
  EXPECT_EQ(decode(enc::r(0x33, 1, 5, 2, 3, 0)).op, Op::srl);
}

TEST(Decoder, LongerEncodingsAreIllegal) {
  EXPECT_EQ(decode(0x0000001f).op, Op::kIllegal);  // 48-bit prefix
  EXPECT_EQ(decode(0x0000003f).op, Op::kIllegal);  // 64-bit prefix
  EXPECT_EQ(decode(0x0000007f).op, Op::kIllegal);
  EXPECT_EQ(decode(0xffffffff).op, Op::kIllegal);
  EXPECT_EQ(decode(0x0000001f).len, 4);
}

TEST(Decoder, ITypeImmediates) {
  EXPECT_EQ(decode(enc::addi(a0, a1, -2048)).imm, -2048);
  EXPECT_EQ(decode(enc::addi(a0, a1, 2047)).imm, 2047);
  EXPECT_EQ(decode(enc::addi(a0, a1, -1)).imm, -1);
  EXPECT_EQ(decode(enc::ld(a0, a1, -8)).imm, -8);
  EXPECT_EQ(decode(enc::jalr(ra, t0, -2)).imm, -2);
  const DecodedInsn d = decode(enc::addi(t6, s11, 1234));
  EXPECT_EQ(d.op, Op::addi);
  EXPECT_EQ(d.rd, t6);
  EXPECT_EQ(d.rs1, s11);
  EXPECT_EQ(d.imm, 1234);
}

TEST(Decoder, STypeImmediates) {
  for (int32_t imm : {-2048, -1, 0, 1, 31, 32, -33, 2047}) {
    const DecodedInsn d = decode(enc::sd(t6, sp, imm));
    EXPECT_EQ(d.op, Op::sd);
    EXPECT_EQ(d.imm, imm);
    EXPECT_EQ(d.rs1, sp);
    EXPECT_EQ(d.rs2, t6);
  }
  EXPECT_EQ(decode(enc::sb(a0, a1, -2048)).imm, -2048);
}

TEST(Decoder, BTypeImmediates) {
  for (int32_t off : {-4096, -2, 2, 4094, 2048, -2048, 0x7fe, 0x800, 0x10}) {
    const DecodedInsn d = decode(enc::bne(a0, a1, off));
    EXPECT_EQ(d.op, Op::bne);
    EXPECT_EQ(d.imm, off);
    EXPECT_EQ(d.rs1, a0);
    EXPECT_EQ(d.rs2, a1);
  }
  EXPECT_EQ(decode(0xfe000ee3).imm, -4);  // beq zero, zero, .-4 as GNU as emits it
}

TEST(Decoder, UTypeImmediates) {
  EXPECT_EQ(decode(enc::lui(a0, 0x80000)).imm, -2147483648LL);
  EXPECT_EQ(decode(enc::lui(a0, 0xfffff)).imm, -4096);
  EXPECT_EQ(decode(enc::lui(a0, 0x7ffff)).imm, 0x7ffff000);
  EXPECT_EQ(decode(enc::auipc(a0, 1)).imm, 0x1000);
  EXPECT_EQ(decode(enc::auipc(a0, 0xabcde)).imm, static_cast<int64_t>(0xffffffffabcde000ULL));
}

TEST(Decoder, JTypeImmediates) {
  for (int32_t off : {-1048576, 1048574, -2, 2, 2048, 4096, -4096, 0x7fe, 0x800}) {
    const DecodedInsn d = decode(enc::jal(ra, off));
    EXPECT_EQ(d.op, Op::jal);
    EXPECT_EQ(d.imm, off);
    EXPECT_EQ(d.rd, ra);
  }
}

TEST(Decoder, ShiftAmounts) {
  EXPECT_EQ(decode(enc::slli(a0, a1, 63)).imm, 63);
  EXPECT_EQ(decode(enc::slli(a0, a1, 32)).imm, 32);
  const DecodedInsn srai = decode(enc::srai(a0, a1, 63));
  EXPECT_EQ(srai.op, Op::srai);
  EXPECT_EQ(srai.imm, 63);  // bit 30 selects srai, it is not part of the amount
  const DecodedInsn slliw = decode(enc::i(0x1b, a0, 1, a1, 31));
  EXPECT_EQ(slliw.op, Op::slliw);
  EXPECT_EQ(slliw.imm, 31);
  const DecodedInsn sraiw = decode(enc::i(0x1b, a0, 5, a1, 0x400 | 31));
  EXPECT_EQ(sraiw.op, Op::sraiw);
  EXPECT_EQ(sraiw.imm, 31);
  // shamt[5] set is reserved for the W forms.
  EXPECT_EQ(decode(enc::i(0x1b, a0, 1, a1, 32)).op, Op::kIllegal);
  EXPECT_EQ(decode(enc::i(0x1b, a0, 5, a1, 32)).op, Op::kIllegal);
}

TEST(Decoder, CsrNumbersAreUnsigned) {
  const DecodedInsn d = decode(enc::csrrw(a0, 0xfff, a1));
  EXPECT_EQ(d.op, Op::csrrw);
  EXPECT_EQ(d.imm, 0xfff);
  EXPECT_EQ(decode(enc::csrrs(a0, 0x800, zero)).imm, 0x800);
  const DecodedInsn di = decode(enc::csrrwi(a0, kMstatus, 31));
  EXPECT_EQ(di.op, Op::csrrwi);
  EXPECT_EQ(di.imm, kMstatus);
  EXPECT_EQ(di.rs1, 31);  // the uimm rides in rs1
}

TEST(Decoder, CompressedImmediates) {
  EXPECT_EQ(decode(0x7101).imm, -512);  // c.addi16sp sp, -512
  EXPECT_EQ(decode(0x617d).imm, 496);   // c.addi16sp sp, 496
  EXPECT_EQ(decode(0x7505).imm, static_cast<int64_t>(0xfffffffffffe1000ULL));  // c.lui a0, 0xfffe1
  EXPECT_EQ(decode(0x1fe4).imm, 1020);    // c.addi4spn s1, sp, 1020
  EXPECT_EQ(decode(0xb001).imm, -2048);   // c.j .-2048
  EXPECT_EQ(decode(0xaffd).imm, 2046);    // c.j .+2046
  EXPECT_EQ(decode(0xbffd).imm, -2);      // c.j .-2
  EXPECT_EQ(decode(0x997d).imm, -1);      // c.andi s0, -1
  EXPECT_EQ(decode(0x1dfe).imm, 63);      // c.slli s11, 63
  const DecodedInsn ld = decode(0x6588);  // c.ld a0, 8(a1)
  EXPECT_EQ(ld.op, Op::ld);
  EXPECT_EQ(ld.rd, a0);
  EXPECT_EQ(ld.rs1, a1);
  EXPECT_EQ(ld.imm, 8);
}

TEST(Decoder, X0DestinationGoesToTheSinkForIntegerDestinationsOnly) {
  EXPECT_EQ(decode(enc::addi(zero, a0, 1)).rd, kZeroSink);
  EXPECT_EQ(decode(enc::lui(zero, 1)).rd, kZeroSink);
  EXPECT_EQ(decode(enc::jal(zero, 8)).rd, kZeroSink);
  EXPECT_EQ(decode(enc::ld(zero, a0, 0)).rd, kZeroSink);
  EXPECT_EQ(decode(enc::csrrs(zero, kMstatus, a0)).rd, kZeroSink);
  EXPECT_EQ(decode(enc::lr_w(zero, a0)).rd, kZeroSink);
  EXPECT_EQ(decode(enc::sc_w(zero, a1, a0)).rd, kZeroSink);
  EXPECT_EQ(decode(enc::amoadd_w(zero, a1, a0)).rd, kZeroSink);
  EXPECT_EQ(decode(0xc0000053).rd, kZeroSink) << "fcvt.w.s x0, f0";
  EXPECT_EQ(decode(0xe0000053).rd, kZeroSink) << "fmv.x.w x0, f0";
  EXPECT_EQ(decode(0xa0002053).rd, kZeroSink) << "feq.s x0, f0, f0";
  EXPECT_EQ(decode(0xa001).rd, kZeroSink) << "c.j";
  EXPECT_EQ(decode(0x0001).rd, kZeroSink) << "c.nop";
  // Floating-point destinations: f0 is an ordinary register.
  EXPECT_EQ(decode(enc::fadd_s(0, 1, 2, 7)).rd, 0);
  EXPECT_EQ(decode(enc::fld(0, a0, 0)).rd, 0);
  EXPECT_EQ(decode(0xd0000053).rd, 0) << "fcvt.s.w f0, x0";
  EXPECT_EQ(decode(0xf0000053).rd, 0) << "fmv.w.x f0, x0";
  // No destination at all: the rd field is immediate bits and stays as decoded.
  EXPECT_EQ(decode(enc::sd(a0, a1, 0)).rd, 0);
  EXPECT_EQ(decode(enc::beq(a0, a1, 0x800)).op, Op::beq);
  EXPECT_NE(decode(enc::beq(a0, a1, 0x800)).rd, kZeroSink);
  // Nonzero destinations are untouched.
  EXPECT_EQ(decode(enc::addi(t6, a0, 1)).rd, t6);
}

TEST(Decoder, AmoOrderingBits) {
  EXPECT_EQ(decode(enc::lr_w(a0, a1) | 1u << 26).rm, 2);  // aq
  EXPECT_EQ(decode(enc::lr_w(a0, a1) | 1u << 25).rm, 1);  // rl
  EXPECT_EQ(decode(enc::amoadd_w(a0, a2, a1) | 3u << 25).rm, 3);
  // lr with a nonzero rs2 field is reserved.
  EXPECT_EQ(decode(enc::lr_w(a0, a1) | a2 << 20).op, Op::kIllegal);
}

TEST(Disassembler, Basics) {
  EXPECT_EQ(disassemble(enc::addi(a0, a1, -5), 0), "addi a0,a1,-5");
  EXPECT_EQ(disassemble(enc::addi(zero, zero, 0), 0), "addi zero,zero,0");
  EXPECT_EQ(disassemble(enc::ld(s0, sp, 16), 0), "ld s0,16(sp)");
  EXPECT_EQ(disassemble(enc::jal(ra, 16), 0x80000000), "jal ra,0x80000010");
  EXPECT_EQ(disassemble(enc::csrrw(zero, kMstatus, t0), 0), "csrrw zero,0x300,t0");
  EXPECT_EQ(disassemble(0x0505, 0), "addi a0,a0,1");
  EXPECT_EQ(disassemble(0x0000, 0), "unimp (0x0000)");
  EXPECT_EQ(disassemble(0xffffffff, 0), "unimp (0xffffffff)");
  EXPECT_EQ(disassemble(enc::fadd_s(10, 11, 12, 7), 0), "fadd.s fa0,fa1,fa2,dyn");
}

}  // namespace
}  // namespace vessel::rv
