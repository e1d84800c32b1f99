#include "cpu/riscv/decoder.hpp"

#include <fmt/format.h>

#include <array>

#include "base/bits.hpp"
#include "cpu/riscv/dispatch.hpp"

namespace vessel::rv {

// Compressed expanders live in compressed.cpp.
#define VESSEL_X(id, mn, match, mask, expander, ext) bool expander(uint16_t raw, DecodedInsn& out);
VESSEL_RV_COMPRESSED_INSNS(VESSEL_X)
#undef VESSEL_X

namespace {

constexpr InsnInfo kInsns[] = {
#define VESSEL_X(id, mn, match, mask, imm, ops, ext, flags) \
  {mn, match, mask, ImmKind::imm, ops, Ext::ext},
    VESSEL_RV_BASE_INSNS(VESSEL_X)
#undef VESSEL_X
};
constexpr unsigned kNumInsns = sizeof(kInsns) / sizeof(kInsns[0]);
static_assert(kNumInsns == static_cast<unsigned>(Op::kIllegal));

constexpr CompressedInfo kCompressed[] = {
#define VESSEL_X(id, mn, match, mask, expander, ext) {mn, match, mask, &expander, Ext::ext},
    VESSEL_RV_COMPRESSED_INSNS(VESSEL_X)
#undef VESSEL_X
};
constexpr unsigned kNumCompressed = sizeof(kCompressed) / sizeof(kCompressed[0]);

// Row indexes grouped by major opcode (bits 6:0) so that decoding scans a handful of rows.
constexpr unsigned largest_bucket() {
  unsigned largest = 0;
  for (unsigned opc = 0; opc < 128; ++opc) {
    unsigned n = 0;
    for (const InsnInfo& row : kInsns) n += (row.match & 0x7f) == opc;
    largest = n > largest ? n : largest;
  }
  return largest;
}
struct OpcodeBuckets {
  static constexpr unsigned kBucketSize = largest_bucket();  // OP-FP has the most rows
  std::array<std::array<uint16_t, kBucketSize>, 128> rows{};
  std::array<uint8_t, 128> count{};
  OpcodeBuckets() {
    for (unsigned i = 0; i < kNumInsns; ++i) {
      const unsigned opc = kInsns[i].match & 0x7f;
      rows[opc][count[opc]++] = static_cast<uint16_t>(i);
    }
  }
};
const OpcodeBuckets& buckets() {
  static const OpcodeBuckets b;
  return b;
}

// Compressed rows grouped by quadrant (bits 1:0) and funct3 (bits 15:13), each group in table
// order, so that decoding scans a handful of rows instead of the whole table (cold code, a
// boot's or a restore's, is half compressed instructions and decoded once per block). A row
// whose mask leaves some of those bits open sits in every group it can match; rows never
// overlap (decoder_test), so a group's first match is the table's.
constexpr unsigned kCompressedKeys = 32;
// A halfword's group, and back: the group's quadrant and funct3 bits.
constexpr unsigned compressed_key(uint16_t raw) { return (raw & 3u) | ((raw >> 13) << 2); }
constexpr uint16_t compressed_key_bits(unsigned key) {
  return static_cast<uint16_t>((key & 3) | ((key >> 2) << 13));
}
constexpr bool in_compressed_group(const CompressedInfo& row, unsigned key) {
  return ((compressed_key_bits(key) ^ row.match) & row.mask & 0xe003) == 0;
}
constexpr unsigned largest_compressed_group() {
  unsigned largest = 0;
  for (unsigned key = 0; key < kCompressedKeys; ++key) {
    unsigned n = 0;
    for (const CompressedInfo& row : kCompressed) n += in_compressed_group(row, key);
    largest = n > largest ? n : largest;
  }
  return largest;
}
struct CompressedGroups {
  static constexpr unsigned kGroupSize = largest_compressed_group();
  std::array<std::array<uint8_t, kGroupSize>, kCompressedKeys> rows{};
  std::array<uint8_t, kCompressedKeys> count{};
  CompressedGroups() {
    static_assert(kNumCompressed < 256);
    for (unsigned key = 0; key < kCompressedKeys; ++key) {
      for (unsigned i = 0; i < kNumCompressed; ++i) {
        if (in_compressed_group(kCompressed[i], key))
          rows[key][count[key]++] = static_cast<uint8_t>(i);
      }
    }
  }
};
const CompressedGroups& compressed_groups() {
  static const CompressedGroups g;
  return g;
}

int64_t extract_imm(ImmKind kind, uint32_t raw) {
  switch (kind) {
    case ImmKind::kNone: return 0;
    case ImmKind::kI: return sext(raw >> 20, 12);
    case ImmKind::kS: return sext((bits(raw, 31, 25) << 5) | bits(raw, 11, 7), 12);
    case ImmKind::kB:
      return sext((bit(raw, 31) << 12) | (bit(raw, 7) << 11) | (bits(raw, 30, 25) << 5) |
                      (bits(raw, 11, 8) << 1),
                  13);
    case ImmKind::kU: return sext(raw & 0xfffff000u, 32);
    case ImmKind::kJ:
      return sext((bit(raw, 31) << 20) | (bits(raw, 19, 12) << 12) | (bit(raw, 20) << 11) |
                      (bits(raw, 30, 21) << 1),
                  21);
    case ImmKind::kShamt5: return static_cast<int64_t>(bits(raw, 24, 20));
    case ImmKind::kShamt6: return static_cast<int64_t>(bits(raw, 25, 20));
    case ImmKind::kCsr: return static_cast<int64_t>(bits(raw, 31, 20));
  }
  return 0;
}

DecodedInsn illegal(uint32_t raw, uint8_t len) {
  DecodedInsn d;
  d.op = Op::kIllegal;
  d.raw = raw;
  d.len = len;
  d.fn = handler_for(Op::kIllegal);
  return d;
}

// Shared tail of both decoders: x0 destinations go to the sink, reserved rounding modes
// (5 and 6) are illegal at decode time; dynamic (7) is checked when executed against frm.
DecodedInsn finish(DecodedInsn d) {
  if (uses_rm(d.op) && (d.rm == 5 || d.rm == 6)) return illegal(d.raw, d.len);
  if (writes_int_rd(d.op) && d.rd == 0) d.rd = kZeroSink;
  d.fn = handler_for(d.op);
  return d;
}

DecodedInsn decode_compressed(uint16_t raw, ExtSet extensions) {
  const CompressedGroups& g = compressed_groups();
  const unsigned key = compressed_key(raw);
  for (unsigned k = 0; k < g.count[key]; ++k) {
    const CompressedInfo& c = kCompressed[g.rows[key][k]];
    if ((raw & c.mask) != c.match) continue;
    if ((extensions & ext_bit(c.ext)) == 0) return illegal(raw, 2);
    DecodedInsn d;
    d.raw = raw;
    d.len = 2;
    if (!c.expand(raw, d)) return illegal(raw, 2);
    // Zcb's c.sext.b/h, c.zext.h and c.zext.w need the hart to have the instruction they
    // stand for (Zbb, Zba).
    if ((extensions & ext_bit(kInsns[static_cast<unsigned>(d.op)].ext)) == 0) {
      return illegal(raw, 2);
    }
    return finish(d);
  }
  return illegal(raw, 2);
}

}  // namespace

const InsnInfo& insn_info(Op op) { return kInsns[static_cast<unsigned>(op)]; }
const InsnInfo* insn_table(unsigned& count) {
  count = kNumInsns;
  return kInsns;
}
const CompressedInfo* compressed_table(unsigned& count) {
  count = kNumCompressed;
  return kCompressed;
}

DecodedInsn decode(uint32_t raw, ExtSet extensions) {
  if ((raw & 3) != 3) return decode_compressed(static_cast<uint16_t>(raw), extensions);
  if ((raw & 0x1c) == 0x1c) return illegal(raw, 4);  // 48-bit and longer encodings
  const OpcodeBuckets& b = buckets();
  const unsigned opc = raw & 0x7f;
  for (unsigned k = 0; k < b.count[opc]; ++k) {
    const unsigned i = b.rows[opc][k];
    if ((raw & kInsns[i].mask) != kInsns[i].match) continue;
    // Rows do not overlap, so no other row can match: the word is illegal on this hart.
    if ((extensions & ext_bit(kInsns[i].ext)) == 0) return illegal(raw, 4);
    DecodedInsn d;
    d.op = static_cast<Op>(i);
    d.raw = raw;
    d.len = 4;
    d.rd = static_cast<uint8_t>(bits(raw, 11, 7));
    d.rs1 = static_cast<uint8_t>(bits(raw, 19, 15));
    d.rs2 = static_cast<uint8_t>(bits(raw, 24, 20));
    d.rs3 = static_cast<uint8_t>(bits(raw, 31, 27));
    const bool amo = kInsns[i].ext == Ext::A || kInsns[i].ext == Ext::Zacas;
    d.rm = amo ? static_cast<uint8_t>(bits(raw, 26, 25)) : static_cast<uint8_t>(bits(raw, 14, 12));
    // amocas.q's register pairs start at an even register; odd ones are reserved.
    if (d.op == Op::amocas_q && ((d.rd | d.rs2) & 1) != 0) return illegal(raw, 4);
    d.imm = extract_imm(kInsns[i].imm, raw);
    return finish(d);
  }
  return illegal(raw, 4);
}

namespace {
constexpr const char* kXNames[] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                   "s0",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                   "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                   "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
constexpr const char* kFNames[] = {"ft0", "ft1", "ft2",  "ft3",  "ft4", "ft5", "ft6",  "ft7",
                                   "fs0", "fs1", "fa0",  "fa1",  "fa2", "fa3", "fa4",  "fa5",
                                   "fa6", "fa7", "fs2",  "fs3",  "fs4", "fs5", "fs6",  "fs7",
                                   "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"};
constexpr const char* kRmNames[] = {"rne", "rtz", "rdn", "rup", "rmm", "rm5", "rm6", "dyn"};
const char* xname(uint8_t r) { return kXNames[r == kZeroSink ? 0 : (r & 31)]; }
}  // namespace

std::string disassemble(const DecodedInsn& d, uint64_t pc) {
  if (d.op == Op::kIllegal) {
    return d.len == 2 ? fmt::format("unimp (0x{:04x})", d.raw)
                      : fmt::format("unimp (0x{:08x})", d.raw);
  }
  // Zicbop's prefetches are ori hints (rd = x0, the offset's low five bits say which), printed
  // as GNU objdump prints them.
  if (d.op == Op::ori && d.rd == kZeroSink) {
    static constexpr const char* kPrefetch[] = {"prefetch.i", "prefetch.r", nullptr, "prefetch.w"};
    const auto kind = static_cast<unsigned>(d.imm & 0x1f);
    if (kind < 4 && kPrefetch[kind] != nullptr) {
      return fmt::format("{} {}({})", kPrefetch[kind], d.imm - kind, xname(d.rs1));
    }
  }
  const InsnInfo& info = insn_info(d.op);
  std::string text = info.mnemonic;
  const char* ops = info.operands;
  if (*ops == 'a') {
    static constexpr const char* kOrdering[] = {"", ".rl", ".aq", ".aqrl"};  // GNU as syntax
    text += kOrdering[d.rm & 3];
    ops += (ops[1] == ',') ? 2 : 1;
  }
  if (*ops != '\0') text += ' ';
  for (const char* p = ops; *p != '\0'; ++p) {
    switch (*p) {
      case 'd': text += xname(d.rd); break;
      case 's': text += xname(d.rs1); break;
      case 't': text += xname(d.rs2); break;
      case 'D': text += kFNames[d.rd & 31]; break;
      case 'S': text += kFNames[d.rs1 & 31]; break;
      case 'T': text += kFNames[d.rs2 & 31]; break;
      case 'R': text += kFNames[d.rs3 & 31]; break;
      case 'i':
        text += fmt::format("{}",
                            d.op == Op::lui || d.op == Op::auipc ? (d.imm >> 12) & 0xfffff : d.imm);
        break;
      case 'o': text += fmt::format("{}({})", d.imm, xname(d.rs1)); break;
      case 'p': text += fmt::format("0x{:x}", pc + static_cast<uint64_t>(d.imm)); break;
      case 'c': text += fmt::format("0x{:03x}", d.imm); break;
      case 'z': text += fmt::format("{}", d.rs1); break;
      case 'm': text += kRmNames[d.rm & 7]; break;
      case 'f': {
        const auto pred = static_cast<unsigned>(bits(d.raw, 27, 24));
        const auto succ = static_cast<unsigned>(bits(d.raw, 23, 20));
        if (d.raw == 0x0100000f) return "pause";
        if (bits(d.raw, 31, 28) == 8) return "fence.tso";
        auto set = [](unsigned v) {
          std::string s;
          if (v & 8) s += 'i';
          if (v & 4) s += 'o';
          if (v & 2) s += 'r';
          if (v & 1) s += 'w';
          return s.empty() ? std::string("0") : s;
        };
        text += set(pred) + "," + set(succ);
        break;
      }
      default: text += *p; break;
    }
  }
  return text;
}

std::string disassemble(uint32_t raw, uint64_t pc) { return disassemble(decode(raw), pc); }

}  // namespace vessel::rv
