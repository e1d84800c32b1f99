// The engines in lockstep (lockstep.hpp): generated torture programs over fixed seeds, with a
// check that together they executed every instruction of the table, hand-written cases for
// what a translator gets wrong first (a block that loops to itself, a store into the running
// block, a fault in the middle of a block), and tests that the checker itself sees a
// difference in every kind of state it compares.
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bits.hpp"
#include "cpu/riscv/decoder.hpp"
#include "encode.hpp"
#include "hart_test_access.hpp"
#include "lockstep.hpp"
#include "torture/asm.hpp"
#include "torture/coverage.hpp"
#include "torture/generator.hpp"
#include "torture/layout.hpp"
#include "torture/run.hpp"

namespace vessel::rv {
namespace {

using namespace test;
using lockstep::Lockstep;

constexpr uint64_t kBase = 0x80000000;

// Both machines of a lockstep pair set up alike, before they run.
class Rig {
 public:
  Rig() { ls.start(kBase); }

  // Instructions from pa on, in both machines; returns the address after them.
  uint64_t code(uint64_t pa, std::initializer_list<uint32_t> words) {
    for (uint32_t w : words) {
      put32(pa, w);
      pa += 4;
    }
    return pa;
  }
  void put32(uint64_t pa, uint32_t v) { put(pa, &v, 4); }
  void put64(uint64_t pa, uint64_t v) { put(pa, &v, 8); }
  void set_csr(uint16_t csr, uint64_t value) {
    for (lockstep::Machine* m : {&ls.reference(), &ls.test()}) {
      const Priv saved = m->hart().priv;
      HartTestAccess::set_priv(m->hart(), Priv::kM);
      EXPECT_TRUE(m->hart().csr_write(csr, value)) << std::hex << csr;
      HartTestAccess::set_priv(m->hart(), saved);
    }
  }
  uint64_t csr(Hart& h, uint16_t n) {
    uint64_t v = 0;
    EXPECT_TRUE(HartTestAccess::csr_read_as_m(h, n, v)) << std::hex << n;
    return v;
  }
  void set_priv(Priv p) {
    HartTestAccess::set_priv(ls.reference().hart(), p);
    HartTestAccess::set_priv(ls.test().hart(), p);
  }
  void set_x(unsigned r, uint64_t v) {
    ls.reference().hart().x[r] = v;
    ls.test().hart().x[r] = v;
  }
  // Runs until the reference reaches `end`; fails the test on a divergence.
  uint64_t run_to(uint64_t end) {
    const Lockstep::Result r = ls.run(1000, [end](const Hart& h) { return h.pc == end; });
    EXPECT_FALSE(r.divergence) << r.divergence->report();
    EXPECT_TRUE(r.finished);
    return r.turns;
  }

  Lockstep ls;

 private:
  void put(uint64_t pa, const void* bytes, size_t n) {
    const auto* p = static_cast<const uint8_t*>(bytes);
    EXPECT_TRUE(ls.load(pa, std::span<const uint8_t>(p, n)));
  }
};

// ---- generated programs ----

constexpr uint64_t kSeeds = 200;

class TortureSeeds : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
      const torture::Outcome o =
          torture::run_lockstep(torture::generate(seed), {.coverage = &coverage_});
      std::string failure;
      if (!o.error.empty()) failure = o.error;
      if (!o.tracking.empty()) failure = o.tracking;
      if (o.result.divergence) failure = o.result.divergence->report();
      if (failure.empty() && !o.result.finished) failure = "did not reach its end";
      if (!failure.empty()) failures_ += "seed " + std::to_string(seed) + ": " + failure + "\n";
    }
  }
  static inline torture::Coverage coverage_;
  static inline std::string failures_;
};

TEST_F(TortureSeeds, EnginesAgreeAfterEveryBlock) { EXPECT_EQ(failures_, ""); }

// A coverage check: an instruction the generator stopped producing (or a new row it does not
// know how to produce) fails here instead of going quietly untested.
TEST_F(TortureSeeds, EveryInstructionExecuted) {
  std::string missing;
  for (const std::string& name : coverage_.missing()) missing += name + " ";
  EXPECT_EQ(missing, "") << coverage_.summary();
}

TEST_F(TortureSeeds, EveryModeTrapAndInterruptKind) {
  for (Priv p : {Priv::kU, Priv::kS}) {
    for (unsigned satp : {0u, 39u, 48u}) {
      EXPECT_GT(coverage_.blocks(p, satp), 0u) << static_cast<int>(p) << " " << satp;
    }
  }
  EXPECT_GT(coverage_.blocks(Priv::kM, 0), 0u);
  // Every exception the generator means to raise: fetch, load and store access faults and
  // page faults, illegal instructions, breakpoints, misaligned AMOs and LRs, and the ecalls.
  for (unsigned cause : {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15}) {
    EXPECT_GT(coverage_.exceptions(cause), 0u) << "exception " << cause;
  }
  for (unsigned cause : {1, 5, 9}) {
    EXPECT_GT(coverage_.interrupts(cause), 0u) << "interrupt " << cause;
  }
  // A third of the programs run their S and U code at V=1, over a G stage: VS and VU blocks,
  // and the guest-page faults of fetches, loads and stores outside it.
  EXPECT_GT(coverage_.virt_blocks(Priv::kU), 0u);
  EXPECT_GT(coverage_.virt_blocks(Priv::kS), 0u);
  for (unsigned cause : {20, 21, 23}) {
    EXPECT_GT(coverage_.exceptions(cause), 0u) << "exception " << cause;
  }
}

// The same programs with each machine running free (Hart::run, so a translator chains its
// blocks), compared at the end.
TEST(Torture, FreeRunningEnginesAgreeAtTheEnd) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const torture::Outcome o = torture::run_free(torture::generate(seed));
    ASSERT_EQ(o.error, "") << "seed " << seed;
    EXPECT_FALSE(o.result.divergence) << "seed " << seed << ": " << o.result.divergence->report();
  }
}

// Again with blocks translated only from their third run: cold blocks run by the interpreter
// between translated ones, with the jump cache and chaining shared by both.
TEST(Torture, FreeRunningEnginesAgreeWithBlocksTranslatedOnceHot) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const torture::Outcome o = torture::run_free(torture::generate(seed), Engine::kJit, 3);
    ASSERT_EQ(o.error, "") << "seed " << seed;
    EXPECT_FALSE(o.result.divergence) << "seed " << seed << ": " << o.result.divergence->report();
  }
}

TEST(Torture, SameSeedSameProgram) {
  const torture::Program a = torture::generate(7), b = torture::generate(7);
  const torture::Program c = torture::generate(8);
  ASSERT_EQ(a.error, "");
  EXPECT_EQ(a.image, b.image);
  EXPECT_NE(a.image, c.image);
}

TEST(Torture, RawBytesRunBetweenTheHandlers) {
  // The fuzz target's shape: raw bytes as code in M-mode; they need not end.
  const uint8_t raw[] = {0x13, 0x05, 0x15, 0x00, 0x73, 0x00, 0x10, 0x00, 0x01, 0x45, 0x00, 0x00};
  torture::Options o;
  o.seed = 3;
  o.raw = raw;
  o.raw_only = true;
  const torture::Outcome out = torture::run_lockstep(torture::generate(o), {.max_turns = 2000});
  ASSERT_EQ(out.error, "");
  EXPECT_FALSE(out.result.divergence) << out.result.divergence->report();
  EXPECT_TRUE(out.result.finished);
}

// ---- the assembler and encoders the generator builds on ----

TEST(Torture, EncodersAgreeWithTheDecoder) {
  for (int32_t off : {-2048, -2, 2, 100, 2046}) {
    const DecodedInsn j = decode(enc::c_j(off));
    EXPECT_EQ(j.op, Op::jal);
    EXPECT_EQ(j.imm, off);
  }
  for (int32_t off : {-256, -4, 6, 254}) {
    const DecodedInsn b = decode(enc::c_bz(true, 13, off));
    EXPECT_EQ(b.op, Op::bne);
    EXPECT_EQ(b.rs1, 13);
    EXPECT_EQ(b.imm, off);
  }
  for (int32_t imm : {-512, -16, 16, 496}) {
    const DecodedInsn a = decode(enc::c_addi16sp(imm));
    EXPECT_EQ(a.op, Op::addi);
    EXPECT_EQ(a.rd, sp);
    EXPECT_EQ(a.imm, imm);
  }
  EXPECT_EQ(decode(enc::c_jr(t0)).op, Op::jalr);
  EXPECT_EQ(decode(enc::c_jalr(t0)).rd, ra);
  EXPECT_EQ(decode(enc::c_ebreak()).op, Op::ebreak);
}

TEST(Torture, LiLoadsEveryKindOfConstant) {
  const uint64_t values[] = {0,
                             1,
                             ~0ULL,
                             0x7fffffff,
                             0x80000000,
                             0xfffff800,
                             0x7ffff800,
                             0x8000000000000000ULL,
                             0x7fffffffffffffffULL,
                             0x123456789abcdef0ULL,
                             0xfffffffffffff800ULL,
                             0x5ec0de00000000ffULL,
                             0x80022000,
                             0xffffffff7fffffffULL};
  torture::Asm a(kBase);
  unsigned r = 5;
  for (uint64_t v : values) a.li(r++, v);
  const uint64_t end = a.here();
  a.word(enc::jal(zero, 0));
  std::string error;
  ASSERT_TRUE(a.finish(error)) << error;
  Rig rig;
  ASSERT_TRUE(rig.ls.load(kBase, a.bytes()));
  rig.run_to(end);
  r = 5;
  for (uint64_t v : values) EXPECT_EQ(rig.ls.reference().hart().x[r++], v) << std::hex << v;
}

// ---- hand-written cases ----

TEST(Lockstep, TimeStandsStillAtTheConfiguredValue) {
  lockstep::MachineConfig config;
  config.mtime = 123456789;
  Lockstep ls(config);
  for (lockstep::Machine* m : {&ls.reference(), &ls.test()}) {
    uint64_t time = 0;
    ASSERT_TRUE(HartTestAccess::csr_read_as_m(m->hart(), kTime, time));
    EXPECT_EQ(time, config.mtime);
  }
}

TEST(Lockstep, LoopThatChainsToItself) {
  Rig rig;
  const uint64_t end = rig.code(kBase, {enc::addi(a0, zero, 50), enc::addi(a1, a1, 3),
                                        enc::addi(a0, a0, -1), enc::bne(a0, zero, -8)});
  rig.code(end, {enc::jal(zero, 0)});
  const uint64_t turns = rig.run_to(end);
  EXPECT_EQ(turns, 50u);  // the first block runs the first iteration, then the loop's 49
  EXPECT_EQ(rig.ls.test().hart().x[a1], 150u);
  // Again from the start, the machines on their own: a translator chains the block to itself.
  rig.ls.start(kBase);
  rig.set_x(a1, 0);
  const std::optional<lockstep::Divergence> d =
      rig.ls.run_free([end](const Hart& h) { return h.pc == end; }, 10);
  EXPECT_FALSE(d) << d->report();
  EXPECT_EQ(rig.ls.test().hart().x[a1], 150u);
}

TEST(Lockstep, StoreIntoTheRunningBlock) {
  // auipc; lui+addiw; sw over the slot 20 bytes on; addi; slot; addi; then `j .`. The store
  // ends the block, and the instruction written is the one that runs.
  Rig rig;
  torture::Asm a(kBase);
  a.word(enc::auipc(t1, 0));
  a.li32(t0, enc::addi(a0, a0, 7));
  a.word(enc::sw(t0, t1, 20));
  a.word(enc::addi(a0, a0, 1));
  a.word(enc::addi(a0, a0, 100));  // the slot
  a.word(enc::addi(a0, a0, 1000));
  const uint64_t end = a.here();
  a.word(enc::jal(zero, 0));
  ASSERT_TRUE(rig.ls.load(kBase, a.bytes()));
  rig.run_to(end);
  EXPECT_EQ(rig.ls.reference().hart().x[a0], 1008u);
  EXPECT_EQ(rig.ls.test().hart().x[a0], 1008u);
}

TEST(Lockstep, LoadPageFaultInTheMiddleOfABlock) {
  // Sv39 in S-mode: the code page and a data page mapped, the page after it not. Two
  // instructions retire, the load faults to S (delegated): exact pc, instret, epc and tval.
  Rig rig;
  constexpr uint64_t kRoot = kBase + 0x30000, kL1 = kBase + 0x31000, kL0 = kBase + 0x32000;
  constexpr uint64_t kData = kBase + 0x10000, kHole = kBase + 0x11000, kTrap = kBase + 0x100;
  rig.put64(kRoot + 2 * 8, pte::table(kL1));
  rig.put64(kL1, pte::table(kL0));
  rig.put64(kL0, pte::leaf(kBase, pte::kRwxad));
  rig.put64(kL0 + 0x10 * 8, pte::leaf(kData, pte::kRwad));
  rig.code(kBase, {enc::addi(a0, zero, 1), enc::addi(a1, zero, 2), enc::ld(a2, t0, 8),
                   enc::addi(a3, zero, 3)});
  rig.code(kTrap, {enc::jal(zero, 0)});
  rig.set_csr(kStvec, kTrap);
  rig.set_csr(kMedeleg, 1 << 13);
  rig.set_csr(kPmpaddr0, ~0ULL);
  rig.set_csr(kPmpcfg0, pmp::kNapot | pmp::kR | pmp::kW | pmp::kX);
  rig.set_csr(kSatp, kSatpSv39 | kRoot >> 12);
  rig.set_x(t0, kHole);
  rig.set_x(a2, 0x5a5a);
  rig.set_priv(Priv::kS);
  ASSERT_FALSE(rig.ls.step());
  for (lockstep::Machine* m : {&rig.ls.reference(), &rig.ls.test()}) {
    Hart& h = m->hart();
    EXPECT_EQ(h.pc, kTrap);
    EXPECT_EQ(h.priv, Priv::kS);
    EXPECT_EQ(h.instret, 2u);
    EXPECT_EQ(rig.csr(h, kScause), cause(Exception::kLoadPageFault));
    EXPECT_EQ(rig.csr(h, kSepc), kBase + 8);
    EXPECT_EQ(rig.csr(h, kStval), kHole + 8);
    EXPECT_EQ(h.x[a1], 2u);
    EXPECT_EQ(h.x[a2], 0x5a5au);  // not written
    EXPECT_EQ(h.x[a3], 0u);
  }
}

TEST(Lockstep, BlocksEndingElsewhereDivergeUnlessRealigning) {
  // One machine a single instruction ahead in a run longer than a block (64 instructions),
  // as an engine whose blocks end elsewhere would be. Strictly that is a divergence;
  // realigning, the machine behind runs on until both meet at the jump, and agree there.
  for (bool realign : {false, true}) {
    for (bool test_ahead : {true, false}) {
      Rig rig;
      uint64_t end = kBase;
      for (int i = 0; i < 100; ++i) end = rig.code(end, {enc::addi(a0, a0, 1)});
      rig.code(end, {enc::jal(zero, 0)});
      rig.ls.set_realign(realign);
      (test_ahead ? rig.ls.test() : rig.ls.reference()).hart().step();
      const std::optional<lockstep::Divergence> d = rig.ls.step();
      if (realign) {
        EXPECT_FALSE(d) << d->report();
        EXPECT_EQ(rig.ls.test().hart().x[a0], 100u);
      } else {
        ASSERT_TRUE(d);
        EXPECT_TRUE(d->names("instret")) << d->report();
        EXPECT_NE(d->note.find("different places"), std::string::npos) << d->report();
      }
    }
  }
}

// ---- the checker sees every kind of difference ----

class Checker : public ::testing::Test {
 protected:
  void SetUp() override {
    rig.set_csr(kMstatus, mstatus::kFS);  // so that fcsr is compared
    rig.set_csr(kPmpaddr0, ~0ULL);        // and S-mode may run the same code
    rig.set_csr(kPmpcfg0, pmp::kNapot | pmp::kR | pmp::kW | pmp::kX);
    const uint64_t end = rig.code(kBase, {enc::addi(a0, zero, 50), enc::addi(a1, a1, 3),
                                          enc::addi(a0, a0, -1), enc::bne(a0, zero, -8)});
    rig.code(end, {enc::jal(zero, 0)});
    for (int i = 0; i < 3; ++i) ASSERT_FALSE(rig.ls.step());
  }
  // Steps once more and returns the report; fails when no divergence is seen.
  lockstep::Divergence diverge() {
    std::optional<lockstep::Divergence> d = rig.ls.step();
    if (!d) {
      ADD_FAILURE() << "the corruption went unnoticed";
      return {};
    }
    return *d;
  }
  Hart& test() { return rig.ls.test().hart(); }
  Rig rig;
};

TEST_F(Checker, NamesAnIntegerRegister) {
  test().x[t0] ^= 0x10;
  const lockstep::Divergence d = diverge();
  EXPECT_TRUE(d.names("x5")) << d.report();
  EXPECT_EQ(d.fields.size(), 1u) << d.report();
  const std::string report = d.report();
  EXPECT_NE(report.find("x5 (t0)"), std::string::npos) << report;
  EXPECT_NE(report.find("addi a1,a1,3"), std::string::npos) << report;  // the block
  EXPECT_NE(report.find("turn 4"), std::string::npos) << report;
}

TEST_F(Checker, NamesAFloatingPointRegister) {
  test().f[3] = 0x3ff0000000000000ULL;
  EXPECT_TRUE(diverge().names("f3"));
}

TEST_F(Checker, NamesPc) {
  test().pc = kBase + 0x100;  // zeros there: an illegal instruction
  const lockstep::Divergence d = diverge();
  EXPECT_TRUE(d.names("pc")) << d.report();
  EXPECT_NE(d.note, "") << d.report();  // and the progress cannot be matched
}

TEST_F(Checker, NamesPrivilege) {
  HartTestAccess::set_priv(test(), Priv::kS);
  EXPECT_TRUE(diverge().names("priv"));
}

TEST_F(Checker, NamesInstret) {
  test().instret += 1;
  EXPECT_TRUE(diverge().names("instret"));
}

TEST_F(Checker, NamesACsr) {
  ASSERT_TRUE(test().csr_write(kMscratch, 0x1234));
  const lockstep::Divergence d = diverge();
  EXPECT_TRUE(d.names("mscratch")) << d.report();
  EXPECT_EQ(d.fields.at(0).test, 0x1234u);
}

TEST_F(Checker, NamesTheFloatingPointControlState) {
  test().frm = 3;
  const lockstep::Divergence d = diverge();
  EXPECT_TRUE(d.names("frm")) << d.report();
  EXPECT_TRUE(d.names("fcsr")) << d.report();
}

TEST_F(Checker, NamesTheReservation) {
  test().reservation_pa = reinterpret_cast<uint64_t>(rig.ls.test().ram().data()) + 64;
  const lockstep::Divergence d = diverge();
  EXPECT_TRUE(d.names("reservation")) << d.report();
  EXPECT_EQ(d.fields.at(0).test, kBase + 64);
}

TEST_F(Checker, FindsTheFirstDifferingByteOfMemory) {
  rig.ls.test().ram()[0x2345] ^= 1;
  const lockstep::Divergence d = diverge();
  EXPECT_TRUE(d.names("memory")) << d.report();
  EXPECT_TRUE(d.fields.empty()) << d.report();
  EXPECT_NE(d.memory.find("ram[0x80002345]"), std::string::npos) << d.memory;
}

}  // namespace
#ifdef VESSEL_ISA_ELF_DIR
// The H extension's ISA tests (tests/isa/h_*.S) in lockstep: VS/VU modes, two-stage
// translation, guest-page faults and HLV/HSV, LCOFI through hideleg and hvip (h_lcofi: a
// counter's overflow raises it at the same instruction in both), with every CSR (the H ones
// included) and V compared after each block. The ELF's loadable segments go into both
// machines' RAM; the test reports through the tohost word (1 = pass) and then spins.
namespace {
struct IsaElf {
  uint64_t entry = 0;
  uint64_t tohost = 0;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> segments;
};

std::optional<IsaElf> read_isa_elf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), {});
  Elf64_Ehdr eh{};
  if (file.size() < sizeof eh) return std::nullopt;
  std::memcpy(&eh, file.data(), sizeof eh);
  IsaElf elf;
  elf.entry = eh.e_entry;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    const size_t at = eh.e_phoff + i * sizeof ph;
    if (at + sizeof ph > file.size()) return std::nullopt;
    std::memcpy(&ph, file.data() + at, sizeof ph);
    if (ph.p_type != PT_LOAD || ph.p_filesz == 0) continue;
    if (ph.p_offset + ph.p_filesz > file.size()) return std::nullopt;
    elf.segments.emplace_back(
        ph.p_paddr,
        std::vector<uint8_t>(file.begin() + ph.p_offset, file.begin() + ph.p_offset + ph.p_filesz));
  }
  // The .tohost section, by name.
  std::vector<Elf64_Shdr> sections(eh.e_shnum);
  if (eh.e_shoff + sections.size() * sizeof(Elf64_Shdr) > file.size() ||
      eh.e_shstrndx >= sections.size()) {
    return std::nullopt;
  }
  std::memcpy(sections.data(), file.data() + eh.e_shoff, sections.size() * sizeof(Elf64_Shdr));
  const Elf64_Shdr& names = sections[eh.e_shstrndx];
  for (const Elf64_Shdr& sh : sections) {
    const size_t name = names.sh_offset + sh.sh_name;
    if (name < file.size() &&
        std::string_view(reinterpret_cast<const char*>(file.data() + name)) == ".tohost") {
      elf.tohost = sh.sh_addr;
    }
  }
  if (elf.tohost == 0) return std::nullopt;
  return elf;
}
}  // namespace

TEST(Lockstep, HypervisorIsaTestsAgreeBlockByBlock) {
  for (const char* name : {"h_csr", "h_gstage", "h_lcofi"}) {
    SCOPED_TRACE(name);
    const std::optional<IsaElf> elf =
        read_isa_elf(std::string(VESSEL_ISA_ELF_DIR) + "/" + name + ".elf");
    ASSERT_TRUE(elf) << "cannot read " << name << ".elf";
    Lockstep ls;
    for (const auto& [pa, bytes] : elf->segments) ASSERT_TRUE(ls.load(pa, bytes));
    ls.start(elf->entry);
    const uint64_t offset = elf->tohost - ls.reference().config().ram_base;
    auto tohost = [&ls, offset] {
      uint64_t v = 0;
      std::memcpy(&v, ls.reference().ram().data() + offset, sizeof v);
      return v;
    };
    const Lockstep::Result r = ls.run(200000, [&](const Hart&) { return tohost() != 0; });
    ASSERT_FALSE(r.divergence) << r.divergence->report();
    EXPECT_TRUE(r.finished);
    EXPECT_EQ(tohost(), 1u) << "failed check " << (tohost() >> 1);
  }
}
#endif

}  // namespace vessel::rv
