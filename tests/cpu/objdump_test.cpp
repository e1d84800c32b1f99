// Vessel's decoder and disassembler against GNU binutils: encodings.S holds every instruction
// of the table (those binutils does not know yet: newer_than_binutils below) and every
// compressed form; the build assembles it and keeps objdump's listing
// (-M no-aliases). Each listed word must decode to the instruction objdump names, and Vessel's
// text must agree with objdump's operands.
#include <gtest/gtest.h>

#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "cpu/riscv/decoder.hpp"

namespace vessel::rv {
namespace {

struct Line {
  uint64_t pc = 0;
  uint32_t word = 0;
  unsigned len = 4;
  std::string mnemonic;
  std::string operands;
  int number = 0;  // line in the dump, for messages
};

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<Line> read_dump(std::string& error) {
  const std::string path = VESSEL_ENCODINGS_DUMP;
  if (path.empty()) {
    error =
        "riscv64-linux-gnu-as/objdump were not found when cpu_test was configured (install "
        "binutils-riscv64-linux-gnu and re-run cmake): the binutils cross-check cannot run";
    return {};
  }
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open the objdump listing of encodings.S";
    return {};
  }
  // "   4:	00359513          	slli	a0,a1,0x3"
  static const std::regex kInsn(R"(^\s*([0-9a-f]+):\s+([0-9a-f]{4}|[0-9a-f]{8})\s+(\S+)\s*(.*)$)");
  std::vector<Line> lines;
  std::string text;
  int number = 0;
  while (std::getline(in, text)) {
    ++number;
    std::smatch m;
    if (!std::regex_match(text, m, kInsn)) continue;
    Line l;
    l.pc = std::stoull(m[1].str(), nullptr, 16);
    l.word = static_cast<uint32_t>(std::stoul(m[2].str(), nullptr, 16));
    l.len = m[2].length() == 4 ? 2 : 4;
    l.mnemonic = m[3].str();
    std::string ops = m[4].str();
    if (const auto hash = ops.find('#'); hash != std::string::npos) ops = ops.substr(0, hash);
    l.operands = trim(ops);
    l.number = number;
    lines.push_back(l);
  }
  if (lines.empty()) error = path + ": no instructions in the objdump listing";
  return lines;
}

const std::vector<Line>& dump() {
  static std::string error;
  static const std::vector<Line> lines = read_dump(error);
  if (!error.empty()) ADD_FAILURE() << error;
  return lines;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    out.push_back(trim(s.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The CSR names objdump prints for the CSRs encodings.S uses; others print as numbers.
const std::map<std::string, uint64_t>& csr_names() {
  static const std::map<std::string, uint64_t> m = {
      {"fflags", 0x001},  {"frm", 0x002},  {"fcsr", 0x003}, {"cycle", 0xc00},
      {"mstatus", 0x300}, {"mepc", 0x341}, {"satp", 0x180}, {"sstatus", 0x100}};
  return m;
}

std::optional<uint64_t> number(const std::string& s, int base_if_bare) {
  if (s.empty()) return std::nullopt;
  const bool neg = s[0] == '-';
  std::string digits = neg ? s.substr(1) : s;
  int base = base_if_bare;
  if (digits.size() > 2 && digits[0] == '0' && digits[1] == 'x') {
    digits = digits.substr(2);
    base = 16;
  }
  uint64_t v = 0;
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (ec != std::errc() || p != digits.data() + digits.size()) return std::nullopt;
  return neg ? ~v + 1 : v;
}

// One operand in a form both sides share: numbers as values, "off(reg)" split, CSR names as
// numbers, objdump's "<label>" annotations dropped. `target` marks a pc-relative target,
// which objdump prints as bare hex.
std::string canonical(std::string tok, bool target) {
  if (const auto lt = tok.find(" <"); lt != std::string::npos) tok = tok.substr(0, lt);
  if (const auto paren = tok.find('('); paren != std::string::npos && paren > 0) {
    return canonical(tok.substr(0, paren), false) + tok.substr(paren);
  }
  if (auto it = csr_names().find(tok); it != csr_names().end()) return std::to_string(it->second);
  if (auto v = number(tok, target ? 16 : 10)) return std::to_string(*v);
  return tok;
}

bool is_rounding_mode(const std::string& s) {
  return s == "rne" || s == "rtz" || s == "rdn" || s == "rup" || s == "rmm" || s == "dyn";
}

// Vessel's text vs objdump's for the same instruction: "" when they agree, else a description.
std::string compare_text(const DecodedInsn& d, const std::string& vessel, const Line& l) {
  const auto space = vessel.find(' ');
  const std::string vmn = vessel.substr(0, space);
  const std::string vops = space == std::string::npos ? "" : vessel.substr(space + 1);
  if (vmn != l.mnemonic) return "mnemonic '" + vmn + "' vs objdump '" + l.mnemonic + "'";
  std::vector<std::string> a = split(vops), b = split(l.operands);
  // objdump leaves out the rounding mode when it is dyn, and for the conversions that are
  // always exact (binutils 2.40 encodes rne there and accepts no other).
  const std::string mn = insn_info(d.op).mnemonic;
  const bool exact_conversion = mn == "fcvt.d.s" || mn == "fcvt.d.w" || mn == "fcvt.d.wu" ||
                                mn == "fcvt.s.h" || mn == "fcvt.d.h";
  if (a.size() == b.size() + 1 && is_rounding_mode(a.back()) &&
      (a.back() == "dyn" || (exact_conversion && a.back() == "rne"))) {
    a.pop_back();
  }
  const bool has_target = std::string(insn_info(d.op).operands).find('p') != std::string::npos;
  if (a.size() != b.size()) return "operands '" + vops + "' vs objdump '" + l.operands + "'";
  for (size_t k = 0; k < a.size(); ++k) {
    const bool target = has_target && k + 1 == a.size();
    if (canonical(a[k], false) != canonical(b[k], target)) {
      return "operand " + std::to_string(k + 1) + " '" + a[k] + "' vs objdump '" + b[k] +
             "' (in '" + vops + "' vs '" + l.operands + "')";
    }
  }
  return "";
}

// objdump's name for the Op: AMOs carry their ordering suffix; fence.tso and pause are
// fences with particular fields, prefetch.i/r/w ori.
std::string base_mnemonic(const std::string& m) {
  for (const char* suffix : {".aqrl", ".aq", ".rl"}) {
    const std::string s = suffix;
    if (m.size() > s.size() && m.compare(m.size() - s.size(), s.size(), s) == 0 &&
        (m.rfind("lr.", 0) == 0 || m.rfind("sc.", 0) == 0 || m.rfind("amo", 0) == 0)) {
      return m.substr(0, m.size() - s.size());
    }
  }
  if (m == "fence.tso" || m == "pause") return "fence";
  if (m.rfind("prefetch.", 0) == 0) return "ori";  // Zicbop's hints
  return m;
}

std::string where(const Line& l) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "dump line %d, pc 0x%llx, word 0x%0*x: ", l.number,
                static_cast<unsigned long long>(l.pc), l.len == 2 ? 4 : 8, l.word);
  return buf + l.mnemonic + " " + l.operands + ": ";
}

// Which rows of the compressed table objdump's names fall under (one row covers the forms
// that differ only in whether a field is zero).
std::string compressed_row_for(const std::string& objdump_name) {
  static const std::map<std::string, std::string> shared = {{"c.jr", "c.mv"},
                                                            {"c.jalr", "c.add"},
                                                            {"c.ebreak", "c.add"},
                                                            {"c.addi16sp", "c.lui"},
                                                            {"c.nop", "c.addi"}};
  auto it = shared.find(objdump_name);
  return it == shared.end() ? objdump_name : it->second;
}

const CompressedInfo* compressed_row(uint16_t w) {
  unsigned n = 0;
  const CompressedInfo* t = compressed_table(n);
  for (unsigned k = 0; k < n; ++k) {
    if ((w & t[k].mask) == t[k].match) return &t[k];
  }
  return nullptr;
}

// Instructions newer than binutils 2.40 (Debian 12's), which has no Zicond or Zacas: encodings.S
// builds their words with .insn from the fields the specification gives them, objdump lists
// them as ".4byte", and Vessel's text must be the specification's assembler syntax. A newer
// binutils names them, and they are then checked like the rest.
const std::map<uint32_t, std::string>& newer_than_binutils() {
  static const std::map<uint32_t, std::string> m = {
      {0x0ec5d533, "czero.eqz a0,a1,a2"},        {0x0e0dffb3, "czero.nez t6,s11,zero"},
      {0x28b6252f, "amocas.w a0,a1,(a2)"},       {0x2e7132af, "amocas.d.aqrl t0,t2,(sp)"},
      {0x28c5c52f, "amocas.q a0,a2,(a1)"},       {0x2c0fc02f, "amocas.q.aq zero,zero,(t6)"},
      {0x2bfda02f, "amocas.w.rl zero,t6,(s11)"}, {0x2f05472f, "amocas.q.aqrl a4,a6,(a0)"},
  };
  return m;
}

// Zcb's 16-bit words, which binutils 2.40 lists as ".2byte": the row each must fall under (the
// expansion is still checked against the 32-bit form that follows it, which objdump knows).
const std::map<uint16_t, std::string>& newer_compressed_than_binutils() {
  static const std::map<uint16_t, std::string> m = {
      {0x80c8, "c.lbu"},    {0x83e0, "c.lbu"},    {0x801c, "c.lbu"},    {0x85a8, "c.lhu"},
      {0x8704, "c.lhu"},    {0x86f0, "c.lh"},     {0x8448, "c.lh"},     {0x89c8, "c.sb"},
      {0x8ba4, "c.sb"},     {0x8da8, "c.sh"},     {0x8c1c, "c.sh"},     {0x9d61, "c.zext.b"},
      {0x9ce5, "c.sext.b"}, {0x9fe9, "c.zext.h"}, {0x9e6d, "c.sext.h"}, {0x9ef1, "c.zext.w"},
      {0x9f75, "c.not"},    {0x9d4d, "c.mul"},    {0x9c5d, "c.mul"},
  };
  return m;
}

TEST(Objdump, ListingIsAvailable) { EXPECT_GT(dump().size(), 300u); }

TEST(Objdump, BaseInstructionsDecodeAndDisassembleAlike) {
  unsigned checked = 0;
  for (const Line& l : dump()) {
    if (l.len != 4) continue;
    const DecodedInsn d = decode(l.word);
    if (l.mnemonic.rfind(".", 0) == 0) {  // ".4byte": objdump does not know the word
      const auto newer = newer_than_binutils().find(l.word);
      if (newer == newer_than_binutils().end()) {
        ADD_FAILURE() << where(l) << "objdump has no name for this word";
      } else {
        EXPECT_EQ(disassemble(d, l.pc), newer->second) << where(l);
        ++checked;
      }
      continue;
    }
    if (d.op == Op::kIllegal) {
      ADD_FAILURE() << where(l) << "Vessel decodes it as illegal";
      continue;
    }
    EXPECT_EQ(insn_info(d.op).mnemonic, base_mnemonic(l.mnemonic)) << where(l);
    const std::string text = disassemble(d, l.pc);
    const std::string diff = compare_text(d, text, l);
    EXPECT_EQ(diff, "") << where(l) << "Vessel says '" << text << "'";
    ++checked;
  }
  EXPECT_GT(checked, 200u);
}

// Compares the fields an operand letter reads: what the expansion must get right.
std::string compare_fields(const DecodedInsn& c, const DecodedInsn& full) {
  if (c.op != full.op) {
    return std::string("expands to ") + insn_info(c.op).mnemonic + ", the 32-bit form is " +
           insn_info(full.op).mnemonic;
  }
  std::string diff;
  for (const char* p = insn_info(c.op).operands; *p != '\0'; ++p) {
    auto check = [&](const char* name, int64_t x, int64_t y) {
      if (x != y)
        diff += std::string(name) + " " + std::to_string(x) + " vs " + std::to_string(y) + "; ";
    };
    switch (*p) {
      case 'd':
      case 'D': check("rd", c.rd, full.rd); break;
      case 's':
      case 'S':
      case 'z': check("rs1", c.rs1, full.rs1); break;
      case 't':
      case 'T': check("rs2", c.rs2, full.rs2); break;
      case 'R': check("rs3", c.rs3, full.rs3); break;
      case 'i':
      case 'o':
      case 'p':
      case 'c': check("imm", c.imm, full.imm); break;
      default: break;
    }
  }
  return diff;
}

TEST(Objdump, CompressedInstructionsExpandToTheFollowingInstruction) {
  const std::vector<Line>& lines = dump();
  unsigned checked = 0;
  for (size_t k = 0; k < lines.size(); ++k) {
    const Line& c = lines[k];
    if (c.len != 2) continue;
    const CompressedInfo* row = compressed_row(static_cast<uint16_t>(c.word));
    if (row == nullptr) {
      ADD_FAILURE() << where(c) << "no compressed row matches";
      continue;
    }
    if (c.mnemonic.rfind(".", 0) == 0) {  // ".2byte": objdump does not know the word
      const auto newer = newer_compressed_than_binutils().find(static_cast<uint16_t>(c.word));
      if (newer == newer_compressed_than_binutils().end()) {
        ADD_FAILURE() << where(c) << "objdump has no name for this word";
        continue;
      }
      EXPECT_EQ(row->mnemonic, newer->second) << where(c);
    } else {
      EXPECT_EQ(row->mnemonic, compressed_row_for(c.mnemonic)) << where(c);
    }
    const DecodedInsn d = decode(c.word);
    EXPECT_EQ(d.len, 2) << where(c);
    if (d.op == Op::kIllegal) {
      ADD_FAILURE() << where(c) << "Vessel decodes it as illegal";
      continue;
    }
    if (k + 1 == lines.size() || lines[k + 1].len != 4) {
      ADD_FAILURE() << where(c) << "encodings.S must follow it with its 32-bit expansion";
      continue;
    }
    const Line& full = lines[k + 1];
    const DecodedInsn f = decode(full.word);
    EXPECT_EQ(compare_fields(d, f), "")
        << where(c) << "vs its expansion " << full.mnemonic << " " << full.operands;
    // Disassembled at the expansion's pc, the expanded instruction reads as objdump's text
    // for the 32-bit form (pc-relative offsets are the same in both).
    const std::string text = disassemble(d, full.pc);
    EXPECT_EQ(compare_text(d, text, full), "")
        << where(c) << "expanded, Vessel says '" << text << "'";
    ++checked;
  }
  EXPECT_GT(checked, 80u);
}

TEST(Objdump, EncodingsCoverEveryRowOfBothTables) {
  std::set<Op> ops;
  std::set<std::string> compressed;
  for (const Line& l : dump()) {
    if (l.len == 4) {
      ops.insert(decode(l.word).op);
    } else if (const CompressedInfo* row = compressed_row(static_cast<uint16_t>(l.word))) {
      compressed.insert(l.mnemonic);
      compressed.insert(row->mnemonic);
    }
  }
  unsigned n = 0;
  const InsnInfo* t = insn_table(n);
  for (unsigned k = 0; k < n; ++k) {
    EXPECT_TRUE(ops.count(static_cast<Op>(k))) << t[k].mnemonic << " is missing from encodings.S";
  }
  const CompressedInfo* c = compressed_table(n);
  for (unsigned k = 0; k < n; ++k) {
    EXPECT_TRUE(compressed.count(c[k].mnemonic)) << c[k].mnemonic << " is missing from encodings.S";
  }
  for (const char* form : {"c.jr", "c.jalr", "c.ebreak", "c.addi16sp", "c.mv", "c.add", "c.lui"}) {
    EXPECT_TRUE(compressed.count(form)) << form << " is missing from encodings.S";
  }
}

}  // namespace
}  // namespace vessel::rv
