// The builtin SBI against a real hart and bus: every implemented function of BASE, TIME, IPI,
// RFENCE, HSM, SRST, DBCN and the legacy extensions, the error codes of the SBI v2.0
// specification, and the ecall path from S-mode end to end.
#include "sbi/sbi.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "tests/cpu/test_machine.hpp"

namespace vessel::sbi {
namespace {

using rv::test::TestMachine;
namespace enc = rv::test::enc;

// Function IDs as the specification numbers them.
enum : uint64_t {
  kFidSpecVersion = 0,
  kFidImplId,
  kFidImplVersion,
  kFidProbe,
  kFidMvendorid,
  kFidMarchid,
  kFidMimpid
};
enum : uint64_t {
  kFidFenceI = 0,
  kFidSfenceVma,
  kFidSfenceVmaAsid,
  kFidHfenceGvmaVmid,
  kFidHfenceGvma,
  kFidHfenceVvmaAsid,
  kFidHfenceVvma
};
enum : uint64_t { kFidHartStart = 0, kFidHartStop, kFidHartGetStatus, kFidHartSuspend };
enum : uint64_t { kFidConsoleWrite = 0, kFidConsoleRead, kFidConsoleWriteByte };

constexpr uint64_t kAllHarts = ~0ULL;  // hart_mask_base = -1
constexpr uint64_t kRetentive = 0, kNonRetentive = 0x80000000;
constexpr uint64_t kShutdown = 0, kColdReboot = 1, kWarmReboot = 2;
constexpr uint64_t kNoReason = 0, kSystemFailure = 1;
constexpr uint64_t kRam = TestMachine::kRamBase;
constexpr uint64_t kRamEnd = TestMachine::kRamBase + TestMachine::kRamSize;
constexpr uint64_t kRomBase = 0x1000;

// One hart booted into S-mode as `--firmware builtin` leaves it, with the SBI installed and the
// platform's console and reset recorded.
class SbiTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kCode = kRam + 0x1000;

  SbiTest() : rom(0x100, 0x5a) {
    EXPECT_TRUE(m.bus.add_memory({kRomBase, rom.size(), rom.data(), false, "rom"}).ok());
    Platform p;
    p.harts = {&m.hart};
    p.console_write = [this](const uint8_t* data, size_t len) {
      written.append(reinterpret_cast<const char*>(data), len);
    };
    p.console_read = [this](uint8_t* data, size_t len) {
      size_t n = 0;
      for (; n < len && !input.empty(); ++n) {
        data[n] = static_cast<uint8_t>(input.front());
        input.pop_front();
      }
      return n;
    };
    p.system_reset = [this](bool reboot) { resets.push_back(reboot); };
    p.bus = &m.bus;
    sbi = std::make_unique<Sbi>(std::move(p));
    m.hart.set_ecall_handler(sbi.get());
    m.hart.boot_supervisor(kCode, 0);
  }

  SbiRet call(uint64_t eid, uint64_t fid, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
              uint64_t a3 = 0, uint64_t a4 = 0, uint64_t a5 = 0) {
    const uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
    return sbi->call(m.hart, eid, fid, a);
  }
  bool stip() const { return (m.hart.read_mip() & rv::irq::kSTIP) != 0; }
  bool ssip() const { return (m.hart.read_mip() & rv::irq::kSSIP) != 0; }
  void put_bytes(uint64_t pa, const std::string& s) {
    std::memcpy(m.host(pa, s.size()), s.data(), s.size());
  }
  std::string get_bytes(uint64_t pa, size_t n) {
    return std::string(reinterpret_cast<const char*>(m.host(pa, n)), n);
  }

  TestMachine m;
  std::vector<uint8_t> rom;
  std::unique_ptr<Sbi> sbi;
  std::string written;
  std::deque<char> input;
  std::vector<bool> resets;
};

// For EXPECT_TRUE: an SbiRet of exactly this error and value.
::testing::AssertionResult returns(const SbiRet& r, int64_t error, uint64_t value = 0) {
  if (r.error == error && r.value == value) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "returned {error " << r.error << ", value " << r.value << "}, expected {error " << error
         << ", value " << value << "}";
}

// --- BASE ---

TEST_F(SbiTest, BaseReportsVersionAndImplementation) {
  EXPECT_TRUE(
      returns(call(kBase, kFidSpecVersion), kSuccess, 0x02000000));  // major 2 in bits 30:24
  EXPECT_TRUE(returns(call(kBase, kFidImplId), kSuccess, Sbi::kImplId));
  EXPECT_TRUE(returns(call(kBase, kFidImplVersion), kSuccess, Sbi::kImplVersion));
}

TEST_F(SbiTest, BaseProbesKnownAndUnknownExtensions) {
  for (uint64_t eid :
       {uint64_t{kLegacySetTimer}, uint64_t{kLegacyConsolePutchar}, uint64_t{kLegacyConsoleGetchar},
        uint64_t{kLegacyShutdown}, uint64_t{kBase}, uint64_t{kTime}, uint64_t{kIpi},
        uint64_t{kRfence}, uint64_t{kHsm}, uint64_t{kSrst}, uint64_t{kDbcn}, uint64_t{kPmu}}) {
    EXPECT_TRUE(returns(call(kBase, kFidProbe, eid), kSuccess, 1));
  }
  // Legacy clear_ipi/send_ipi/remote fences, SUSP, a vendor EID, nonsense.
  for (uint64_t eid :
       {0x03ULL, 0x04ULL, 0x07ULL, 0x09ULL, 0x53555350ULL, 0x09000000ULL, 0x12345678ULL, ~0ULL}) {
    EXPECT_TRUE(returns(call(kBase, kFidProbe, eid), kSuccess, 0));
  }
}

TEST_F(SbiTest, BaseMachineIdsMatchTheCsrs) {
  EXPECT_TRUE(returns(call(kBase, kFidMvendorid), kSuccess, m.csr(rv::kMvendorid)));
  EXPECT_TRUE(returns(call(kBase, kFidMarchid), kSuccess, m.csr(rv::kMarchid)));
  EXPECT_TRUE(returns(call(kBase, kFidMimpid), kSuccess, m.csr(rv::kMimpid)));
}

TEST_F(SbiTest, UnknownExtensionsAndFunctionsAreNotSupported) {
  for (uint64_t eid : {0x53555350ULL, 0x12345678ULL, 0x0A000000ULL, ~0ULL}) {
    EXPECT_TRUE(returns(call(eid, 0), kErrNotSupported));
  }
  EXPECT_TRUE(returns(call(kPmu, 5), kErrNotSupported)) << "no firmware counters";
  EXPECT_TRUE(returns(call(kBase, 7), kErrNotSupported));
  EXPECT_TRUE(returns(call(kBase, ~0ULL), kErrNotSupported));
  EXPECT_TRUE(returns(call(kTime, 1), kErrNotSupported));
  EXPECT_TRUE(returns(call(kIpi, 1), kErrNotSupported));
  EXPECT_TRUE(returns(call(kRfence, 7), kErrNotSupported));
  EXPECT_TRUE(returns(call(kHsm, 4), kErrNotSupported));
  EXPECT_TRUE(returns(call(kSrst, 1), kErrNotSupported));
  EXPECT_TRUE(returns(call(kDbcn, 3), kErrNotSupported));
  EXPECT_TRUE(resets.empty());
  EXPECT_TRUE(written.empty());
}

// --- TIME ---

// PMU: cycles and instructions on mcycle (counter 0) and minstret (counter 2), started and
// stopped through mcountinhibit, as Linux's riscv_pmu_sbi drives them.
TEST_F(SbiTest, PmuCountersCyclesAndInstructions) {
  enum : uint64_t { kNum = 0, kInfo, kMatch, kStart, kStop };
  EXPECT_TRUE(returns(call(kPmu, kNum), kSuccess, 11));
  EXPECT_TRUE(returns(call(kPmu, kInfo, 0), kSuccess, 0xc00 | (63ULL << 12)));
  EXPECT_TRUE(returns(call(kPmu, kInfo, 2), kSuccess, 0xc02 | (63ULL << 12)));
  EXPECT_TRUE(returns(call(kPmu, kInfo, 1), kErrInvalidParam)) << "time is no counter";
  EXPECT_TRUE(returns(call(kPmu, kInfo, 3), kSuccess, 0xc03 | (63ULL << 12)));
  EXPECT_TRUE(returns(call(kPmu, kInfo, 11), kErrInvalidParam));
  EXPECT_TRUE(returns(call(kPmu, kInfo, (1ULL << 32) | 3), kErrInvalidParam)) << "not 3";
  EXPECT_TRUE(returns(call(kPmu, kStart, (1ULL << 32) | 3, 1), kErrInvalidParam));
  // Linux stops everything first.
  EXPECT_TRUE(returns(call(kPmu, kStop, 0, 0b101), kSuccess));
  EXPECT_EQ(m.csr(rv::kMcountinhibit) & 0b101, 0b101u);
  EXPECT_TRUE(returns(call(kPmu, kStop, 0, 0b1), kErrAlreadyStopped));
  // Instructions (event 2), cleared and started: counter 2.
  EXPECT_TRUE(returns(call(kPmu, kMatch, 0, 0b101, 0b110, 2), kSuccess, 2));
  EXPECT_EQ(m.csr(rv::kMcountinhibit) & 0b101, 0b001u);
  EXPECT_TRUE(returns(call(kPmu, kStart, 2, 0b1), kErrAlreadyStarted));
  // Cycles only where the mask allows it; cache events are not counted.
  EXPECT_TRUE(returns(call(kPmu, kMatch, 2, 0b1, 0, 1), kErrNotSupported));
  EXPECT_TRUE(returns(call(kPmu, kMatch, 0, 0b101, 0, (1ULL << 16) | 3), kErrNotSupported));
  EXPECT_TRUE(returns(call(kPmu, kMatch, 0, 0b111, 0, 1), kErrInvalidParam)) << "1 is time";
  EXPECT_TRUE(returns(call(kPmu, kMatch, 0, 0b1, 0, 1), kSuccess, 0));
  // Started with an initial value.
  EXPECT_TRUE(returns(call(kPmu, kStart, 0, 0b1, 1, 1000), kSuccess));
  EXPECT_EQ(m.csr(rv::kMcountinhibit) & 1, 0u);
  EXPECT_GE(m.csr(rv::kMcycle), 1000u);
  EXPECT_TRUE(returns(call(kPmu, kStop, 0, ~0ULL), kErrInvalidParam)) << "time, and past 10";
}

// The programmable counters (3-10): with Sscofpmf they are what cycles and instructions get
// first (they sample on overflow), each configured one is taken until a stop with reset, the
// config's filters land in mhpmevent with M-mode inhibited, and counter_start clears OF.
TEST_F(SbiTest, PmuProgrammableCounters) {
  enum : uint64_t { kNum = 0, kInfo, kMatch, kStart, kStop };
  constexpr uint64_t kAll = 0x7fd;  // 0, 2, 3-10
  constexpr uint64_t kClear = 2, kSinh = 1 << 6, kReset = 1;
  EXPECT_TRUE(returns(call(kPmu, kStop, 0, kAll), kSuccess));
  EXPECT_TRUE(returns(call(kPmu, kMatch, 0, kAll, kClear | kSinh, 1), kSuccess, 3));
  EXPECT_EQ(m.csr(rv::kMhpmevent3), 1 | rv::Hpm::kOF | rv::Hpm::kMINH | rv::Hpm::kSINH);
  EXPECT_TRUE(returns(call(kPmu, kMatch, 0, kAll, kClear, 2), kSuccess, 4));
  EXPECT_TRUE(returns(call(kPmu, kStart, 3, 0b1, 1, ~0ULL - 5), kSuccess));
  EXPECT_EQ(m.csr(rv::kMhpmevent3) & rv::Hpm::kOF, 0u) << "started: overflow armed";
  EXPECT_EQ((m.csr(rv::kMcountinhibit) >> 3) & 1, 0u);
  EXPECT_EQ(m.csr(rv::kMhpmcounter3), ~0ULL - 5) << "S-mode inhibited, nothing ran";
  // Stopping with reset frees it (an already-stopped one too, with the error Linux ignores).
  EXPECT_TRUE(returns(call(kPmu, kStop, 3, 0b1, kReset), kSuccess));
  EXPECT_TRUE(returns(call(kPmu, kStop, 4, 0b1, kReset), kErrAlreadyStopped));
  EXPECT_EQ(m.csr(rv::kMhpmevent3), 0u);
  EXPECT_TRUE(returns(call(kPmu, kMatch, 0, kAll, 0, 2), kSuccess, 3));
  // Events these counters do not count.
  EXPECT_TRUE(returns(call(kPmu, kMatch, 3, 0b1, 1, (1ULL << 16) | 3), kErrNotSupported));
}

TEST_F(SbiTest, SetTimerDrivesStip) {
  m.clock.set_mtime(1'000'000'000);
  EXPECT_FALSE(stip());
  EXPECT_TRUE(returns(call(kTime, 0, m.clock.mtime() + 1'000'000'000'000ULL), kSuccess));
  EXPECT_FALSE(stip()) << "deadline in the future";
  EXPECT_TRUE(returns(call(kTime, 0, m.clock.mtime() - 1000), kSuccess));
  EXPECT_TRUE(stip()) << "deadline in the past";
  // Moving the deadline out again is how a kernel acknowledges the timer interrupt.
  EXPECT_TRUE(returns(call(kTime, 0, m.clock.mtime() + 1'000'000'000'000ULL), kSuccess));
  EXPECT_FALSE(stip());
  EXPECT_TRUE(returns(call(kTime, 0, 0), kSuccess));
  EXPECT_TRUE(stip());
  EXPECT_TRUE(returns(call(kTime, 0, ~0ULL), kSuccess));
  EXPECT_FALSE(stip()) << "(uint64_t)-1 means no timer";
}

// --- IPI ---

TEST_F(SbiTest, SendIpiToSelfMakesSsipPendingUntilSipClearsIt) {
  EXPECT_FALSE(ssip());
  EXPECT_TRUE(returns(call(kIpi, 0, 0b1, 0), kSuccess));
  EXPECT_TRUE(ssip());
  uint64_t sip = 0;
  ASSERT_TRUE(m.hart.csr_read(rv::kSip, sip));
  EXPECT_NE(sip & rv::irq::kSSIP, 0u) << "delegated, so visible in sip";
  ASSERT_TRUE(m.hart.csr_write(rv::kSip, 0));
  EXPECT_FALSE(ssip());

  EXPECT_TRUE(returns(call(kIpi, 0, 0, kAllHarts), kSuccess));
  EXPECT_TRUE(ssip()) << "base -1: every hart, mask ignored";
  ASSERT_TRUE(m.hart.csr_write(rv::kSip, 0));

  EXPECT_TRUE(returns(call(kIpi, 0, 0b1000, kAllHarts), kSuccess));
  EXPECT_TRUE(ssip());
  ASSERT_TRUE(m.hart.csr_write(rv::kSip, 0));

  EXPECT_TRUE(returns(call(kIpi, 0, 0, 0), kSuccess));
  EXPECT_FALSE(ssip()) << "an empty mask names no hart";
}

TEST_F(SbiTest, SendIpiRejectsMasksNamingMissingHarts) {
  const struct {
    uint64_t mask, base;
  } bad[] = {
      {0b10, 0},            // hart 1
      {0b11, 0},            // harts 0 and 1: all or nothing
      {0b1, 1},             // hart 1 through the base
      {1ULL << 63, 0},      // hart 63
      {0b1, 1ULL << 40},    // far away
      {0b100, ~0ULL - 1},   // base + bit wraps around to hart 0
      {~0ULL, ~0ULL - 63},  // every bit, the top of the id space
  };
  for (const auto& b : bad) {
    EXPECT_TRUE(returns(call(kIpi, 0, b.mask, b.base), kErrInvalidParam));
    EXPECT_FALSE(ssip()) << std::hex << b.mask << " " << b.base;
  }
}

// --- RFENCE ---

TEST_F(SbiTest, RemoteFenceI) {
  EXPECT_TRUE(returns(call(kRfence, kFidFenceI, 0b1, 0), kSuccess));
  EXPECT_TRUE(returns(call(kRfence, kFidFenceI, 0, kAllHarts), kSuccess));
  EXPECT_TRUE(returns(call(kRfence, kFidFenceI, 0b10, 0), kErrInvalidParam));
  EXPECT_TRUE(returns(call(kRfence, kFidFenceI, 0b1, 3), kErrInvalidParam));
}

TEST_F(SbiTest, HypervisorFencesNeedTheHExtension) {
  // With H (the default) they fence; a hart without it has none to offer.
  for (uint64_t fid : {kFidHfenceGvmaVmid, kFidHfenceGvma, kFidHfenceVvmaAsid, kFidHfenceVvma}) {
    EXPECT_TRUE(returns(call(kRfence, fid, 0b1, 0, 0, 0, 0), kSuccess));
    EXPECT_TRUE(returns(call(kRfence, fid, 0b10, 0, 0, 0, 0), kErrInvalidParam));
  }
  m.hart.set_extensions(rv::kAllExtensions & ~rv::ext_bit(rv::Ext::H));
  for (uint64_t fid : {kFidHfenceGvmaVmid, kFidHfenceGvma, kFidHfenceVvmaAsid, kFidHfenceVvma}) {
    EXPECT_TRUE(returns(call(kRfence, fid, 0b1, 0, 0, 0, 0), kErrNotSupported));
    EXPECT_TRUE(returns(call(kRfence, fid, 0, kAllHarts), kErrNotSupported));
  }
}

TEST_F(SbiTest, RemoteSfenceVmaRejectsBadMasks) {
  for (uint64_t fid : {kFidSfenceVma, kFidSfenceVmaAsid}) {
    EXPECT_TRUE(returns(call(kRfence, fid, 0b10, 0, 0, 0), kErrInvalidParam));
    EXPECT_TRUE(returns(call(kRfence, fid, 0b1, 7, 0x1000, 0x1000), kErrInvalidParam));
  }
}

// An Sv39 mapping whose PTE the test rewrites behind the hart's back: the hart keeps using the
// old translation until a fence drops it, which shows what each remote_sfence_vma flushed.
class SbiSfenceTest : public SbiTest {
 protected:
  static constexpr uint64_t kVa = 0x40000000;  // two pages from here
  static constexpr uint64_t kOld = kRam + 0x100000;
  static constexpr uint64_t kNew = kRam + 0x200000;

  SbiSfenceTest() : pt(m, 3) {
    for (uint64_t i = 0; i < 2; ++i) {
      m.put64(kOld + i * 0x1000, 0x1111 + i);
      m.put64(kNew + i * 0x1000, 0x2222 + i);
      ptes[i] = pt.map(kVa + i * 0x1000, kOld + i * 0x1000, rv::test::pte::kRwad);
    }
    m.set_csr(rv::kSatp, pt.satp());
    EXPECT_EQ(m.hart.priv, rv::Priv::kS);
    EXPECT_EQ(load(0), 0x1111u);
    EXPECT_EQ(load(1), 0x1112u);
    for (uint64_t i = 0; i < 2; ++i) {
      m.put64(ptes[i], rv::test::pte::leaf(kNew + i * 0x1000, rv::test::pte::kRwad));
    }
    EXPECT_EQ(load(0), 0x1111u) << "the TLB still holds the old mapping";
    EXPECT_EQ(load(1), 0x1112u);
  }
  uint64_t load(uint64_t page, uint64_t offset = 0) {
    uint64_t v = 0;
    EXPECT_TRUE(m.hart.load<uint64_t>(kVa + page * 0x1000 + offset, v));
    return v;
  }

  rv::test::PageTables pt;
  uint64_t ptes[2] = {};
};

TEST_F(SbiSfenceTest, OnePageFlushesThatPage) {
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVma, 0b1, 0, kVa, 0x1000), kSuccess));
  EXPECT_EQ(load(0), 0x2222u);
}

TEST_F(SbiSfenceTest, UnalignedRangeCoversEveryPageItTouches) {
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVma, 0b1, 0, kVa + 0xff8, 0x10), kSuccess));
  EXPECT_EQ(load(0), 0x2222u);
  EXPECT_EQ(load(1), 0x2223u);
}

TEST_F(SbiSfenceTest, AsidVariantFlushesToo) {
  EXPECT_TRUE(
      returns(call(kRfence, kFidSfenceVmaAsid, 0, kAllHarts, kVa + 0x1000, 0x1000, 5), kSuccess));
  EXPECT_EQ(load(1), 0x2223u);
}

// One address space's fence of everything keeps the global translations (PTE.G), as the
// sfence.vma with rs2 != x0 it stands for does; the plain form drops them too.
TEST_F(SbiSfenceTest, AsidVariantOfEverythingKeepsGlobalTranslations) {
  using rv::test::pte::kRwad;
  const uint64_t global = kRwad | rv::test::pte::kG;
  m.put64(ptes[0], rv::test::pte::leaf(kOld, kRwad));
  m.put64(ptes[1], rv::test::pte::leaf(kOld + 0x1000, global));
  ASSERT_TRUE(returns(call(kRfence, kFidSfenceVma, 0b1, 0, 0, 0), kSuccess));
  EXPECT_EQ(load(0), 0x1111u);
  EXPECT_EQ(load(1), 0x1112u);
  m.put64(ptes[0], rv::test::pte::leaf(kNew, kRwad));
  m.put64(ptes[1], rv::test::pte::leaf(kNew + 0x1000, global));
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVmaAsid, 0b1, 0, 0, 0, 5), kSuccess));
  EXPECT_EQ(load(0), 0x2222u);
  EXPECT_EQ(load(1), 0x1112u) << "a global translation outlives one address space's fence";
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVma, 0b1, 0, 0, 0), kSuccess));
  EXPECT_EQ(load(1), 0x2223u);
}

TEST_F(SbiSfenceTest, ZeroStartAndSizeFlushEverything) {
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVma, 0b1, 0, 0, 0), kSuccess));
  EXPECT_EQ(load(0), 0x2222u);
  EXPECT_EQ(load(1), 0x2223u);
}

TEST_F(SbiSfenceTest, SizeAllOnesFlushesEverything) {
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVma, 0, kAllHarts, 0x1234000, ~0ULL), kSuccess));
  EXPECT_EQ(load(0), 0x2222u);
  EXPECT_EQ(load(1), 0x2223u);
}

TEST_F(SbiSfenceTest, LargeRangeFlushes) {
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVma, 0b1, 0, kVa - (1 << 20), 4 << 20), kSuccess));
  EXPECT_EQ(load(0), 0x2222u);
  EXPECT_EQ(load(1), 0x2223u);
}

TEST_F(SbiSfenceTest, RangesAtTheTopOfTheAddressSpaceEndAndFlushNothingElse) {
  // Ranges whose last page is the top one (the loop once wrapped past 2^64 and ran ~forever),
  // and a range that wraps, which is treated as everything.
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVma, 0b1, 0, ~0ULL - 0xfff, 0xfff), kSuccess));
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVma, 0b1, 0, ~0ULL - 0x1fff, 0x1fff), kSuccess));
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVma, 0b1, 0, ~0ULL - 0x10, 0x10), kSuccess));
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVma, 0b1, 0, ~0ULL, 0), kSuccess));
  EXPECT_EQ(load(0), 0x1111u) << "none of those named kVa";
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVma, 0b1, 0, ~0ULL - 0xfff, 0x2000), kSuccess));
  EXPECT_EQ(load(0), 0x2222u) << "a range that wraps is everything";
}

TEST_F(SbiSfenceTest, BadMaskFlushesNothing) {
  EXPECT_TRUE(returns(call(kRfence, kFidSfenceVma, 0b11, 0, 0, 0), kErrInvalidParam));
  EXPECT_EQ(load(0), 0x1111u);
}

// --- HSM ---

TEST_F(SbiTest, HartStatus) {
  EXPECT_TRUE(returns(call(kHsm, kFidHartGetStatus, 0), kSuccess, kStarted));
  EXPECT_TRUE(returns(call(kHsm, kFidHartGetStatus, 1), kErrInvalidParam));
  EXPECT_TRUE(returns(call(kHsm, kFidHartGetStatus, ~0ULL), kErrInvalidParam));
}

TEST_F(SbiTest, HartStartAndStop) {
  EXPECT_TRUE(returns(call(kHsm, kFidHartStart, 0, kCode, 0x1234), kErrAlreadyAvailable));
  EXPECT_TRUE(returns(call(kHsm, kFidHartStart, 1, kCode, 0), kErrInvalidParam));
  EXPECT_TRUE(returns(call(kHsm, kFidHartStart, ~0ULL, kCode, 0), kErrInvalidParam));
  EXPECT_TRUE(returns(call(kHsm, kFidHartStop), kErrFailed)) << "the only hart cannot stop";
  EXPECT_TRUE(returns(call(kHsm, kFidHartGetStatus, 0), kSuccess, kStarted));
}

TEST_F(SbiTest, NonRetentiveSuspendResumesAtTheResumeAddress) {
  m.hart.set_wfi_max_sleep(std::chrono::milliseconds(1));  // nothing will wake it otherwise
  m.hart.x[11] = 0x5555;
  const SbiRet r = call(kHsm, kFidHartSuspend, kNonRetentive, kCode + 0x40, 0xfeed);
  EXPECT_TRUE(r.redirected) << "the caller's registers are not the place for a return value";
  EXPECT_EQ(m.hart.pc, kCode + 0x40);
  EXPECT_EQ(m.hart.priv, rv::Priv::kS);
  EXPECT_EQ(m.hart.x[10], 0u) << "a0 = hart id";
  EXPECT_EQ(m.hart.x[11], 0xfeedu) << "a1 = opaque";
  EXPECT_EQ(m.csr(rv::kSatp), 0u);
}

TEST_F(SbiTest, HartSuspend) {
  EXPECT_TRUE(returns(call(kHsm, kFidHartSuspend, kRetentive, 0, 0), kSuccess));
  EXPECT_TRUE(returns(call(kHsm, kFidHartSuspend, kNonRetentive, 0x10, 0), kErrInvalidAddress))
      << "resume_addr is not memory";
  // Reserved, and platform-specific ones Vessel does not implement.
  for (uint64_t type : {0x1ULL, 0x0FFFFFFFULL, 0x10000000ULL, 0x7FFFFFFFULL, 0x80000001ULL,
                        0x8FFFFFFFULL, 0x90000000ULL, 0xFFFFFFFFULL}) {
    EXPECT_TRUE(returns(call(kHsm, kFidHartSuspend, type, kCode, 0), kErrInvalidParam))
        << std::hex << type;
  }
  EXPECT_TRUE(returns(call(kHsm, kFidHartGetStatus, 0), kSuccess, kStarted));
}

// --- SRST ---

TEST_F(SbiTest, SystemResetCallsThePlatform) {
  EXPECT_TRUE(returns(call(kSrst, 0, kShutdown, kNoReason), kSuccess));
  EXPECT_TRUE(returns(call(kSrst, 0, kColdReboot, kNoReason), kSuccess));
  EXPECT_TRUE(returns(call(kSrst, 0, kWarmReboot, kSystemFailure), kSuccess));
  EXPECT_EQ(resets, (std::vector<bool>{false, true, true}));
}

TEST_F(SbiTest, SystemResetRejectsReservedAndUnimplementedValues) {
  for (uint64_t type : {3ULL, 0xEFFFFFFFULL, 0xF0000000ULL, 0xFFFFFFFFULL}) {
    EXPECT_TRUE(returns(call(kSrst, 0, type, kNoReason), kErrInvalidParam)) << std::hex << type;
  }
  for (uint64_t reason : {2ULL, 0xDFFFFFFFULL, 0xE0000000ULL, 0xF0000000ULL, 0xFFFFFFFFULL}) {
    EXPECT_TRUE(returns(call(kSrst, 0, kShutdown, reason), kErrInvalidParam)) << std::hex << reason;
  }
  EXPECT_TRUE(resets.empty());
}

// --- DBCN ---

TEST_F(SbiTest, ConsoleWriteSendsTheBufferAndReturnsTheCount) {
  put_bytes(kRam + 0x3000, "hello, console");
  EXPECT_TRUE(returns(call(kDbcn, kFidConsoleWrite, 5, kRam + 0x3000, 0), kSuccess, 5));
  EXPECT_EQ(written, "hello");
  EXPECT_TRUE(returns(call(kDbcn, kFidConsoleWrite, 0, kRam + 0x3000, 0), kSuccess, 0));
  EXPECT_EQ(written, "hello");
  // The last bytes of RAM and read-only memory are fine.
  put_bytes(kRamEnd - 2, "!\n");
  EXPECT_TRUE(returns(call(kDbcn, kFidConsoleWrite, 2, kRamEnd - 2, 0), kSuccess, 2));
  EXPECT_TRUE(returns(call(kDbcn, kFidConsoleWrite, 1, kRomBase, 0), kSuccess, 1));
  EXPECT_EQ(written, "hello!\n\x5a");
}

TEST_F(SbiTest, ConsoleWriteOfALongBufferMayBePartial) {
  for (uint64_t i = 0; i < 10000; ++i) m.host(kRam + 0x10000 + i)[0] = static_cast<uint8_t>(i);
  const SbiRet r = call(kDbcn, kFidConsoleWrite, 10000, kRam + 0x10000, 0);
  EXPECT_EQ(r.error, kSuccess);
  ASSERT_GT(r.value, 0u);
  ASSERT_LE(r.value, 10000u);
  EXPECT_EQ(written, get_bytes(kRam + 0x10000, r.value));
}

TEST_F(SbiTest, ConsoleWriteRejectsBuffersOutsideMemory) {
  const struct {
    uint64_t len, lo, hi;
  } bad[] = {
      {4, 0x0, 0},               // nothing there
      {4, 0x10000000, 0},        // MMIO-land, no memory
      {4, kRamEnd, 0},           // just past RAM
      {4, kRamEnd - 2, 0},       // straddles the end of RAM
      {8192, kRamEnd - 100, 0},  // straddles it, longer than one call moves
      {~0ULL, kRam, 0},          // longer than memory
      {2, ~0ULL, 0},             // wraps around
      {4, kRam, 1},              // bit 64 and up: no such address
      {4, kRam, 1ULL << 32},     // the same, not bits 32 and up as RV32 would split it
      {0x200, kRomBase, 0},      // runs off the ROM
  };
  for (const auto& b : bad) {
    EXPECT_TRUE(returns(call(kDbcn, kFidConsoleWrite, b.len, b.lo, b.hi), kErrInvalidParam))
        << std::hex << b.lo << " +" << b.len;
  }
  EXPECT_TRUE(written.empty());
}

TEST_F(SbiTest, ConsoleReadReturnsWhatIsWaiting) {
  put_bytes(kRam + 0x3000, "........");
  EXPECT_TRUE(returns(call(kDbcn, kFidConsoleRead, 8, kRam + 0x3000, 0), kSuccess, 0));
  EXPECT_EQ(get_bytes(kRam + 0x3000, 8), "........") << "nothing waiting, nothing written";
  input = {'a', 'b', 'c'};
  EXPECT_TRUE(returns(call(kDbcn, kFidConsoleRead, 2, kRam + 0x3000, 0), kSuccess, 2));
  EXPECT_EQ(get_bytes(kRam + 0x3000, 8), "ab......");
  EXPECT_TRUE(returns(call(kDbcn, kFidConsoleRead, 8, kRam + 0x3004, 0), kSuccess, 1));
  EXPECT_EQ(get_bytes(kRam + 0x3000, 8), "ab..c...");
}

TEST_F(SbiTest, ConsoleReadRejectsBadBuffers) {
  input = {'a', 'b', 'c'};
  EXPECT_TRUE(returns(call(kDbcn, kFidConsoleRead, 2, kRomBase, 0), kErrInvalidParam))
      << "read-only";
  EXPECT_TRUE(returns(call(kDbcn, kFidConsoleRead, 4, kRamEnd - 2, 0), kErrInvalidParam));
  EXPECT_TRUE(returns(call(kDbcn, kFidConsoleRead, 4, 0x10000000, 0), kErrInvalidParam));
  EXPECT_TRUE(returns(call(kDbcn, kFidConsoleRead, 4, kRam, 1), kErrInvalidParam));
  EXPECT_EQ(input.size(), 3u) << "no input consumed";
  EXPECT_EQ(rom[0], 0x5a);
}

TEST_F(SbiTest, ConsoleWriteByte) {
  EXPECT_TRUE(returns(call(kDbcn, kFidConsoleWriteByte, 'x'), kSuccess, 0));
  EXPECT_TRUE(
      returns(call(kDbcn, kFidConsoleWriteByte, 0x100 | 'y'), kSuccess, 0));  // only the byte
  EXPECT_EQ(written, "xy");
}

// --- legacy extensions ---

TEST_F(SbiTest, LegacyConsole) {
  EXPECT_TRUE(returns(call(kLegacyConsolePutchar, 0, 'A'), kSuccess));
  EXPECT_EQ(written, "A");
  EXPECT_TRUE(returns(call(kLegacyConsoleGetchar, 0), kErrFailed));  // -1: nothing waiting
  input = {'q'};
  EXPECT_TRUE(returns(call(kLegacyConsoleGetchar, 0), kSuccess, 'q'));
}

TEST_F(SbiTest, LegacySetTimerAndShutdown) {
  m.clock.set_mtime(1'000'000'000);
  EXPECT_TRUE(returns(call(kLegacySetTimer, 0, 0), kSuccess));
  EXPECT_TRUE(stip());
  EXPECT_TRUE(returns(call(kLegacySetTimer, 0, m.clock.mtime() + 1'000'000'000'000ULL), kSuccess));
  EXPECT_FALSE(stip()) << "setting the timer clears the pending interrupt";
  EXPECT_TRUE(returns(call(kLegacyShutdown, 0), kSuccess));
  EXPECT_EQ(resets, std::vector<bool>{false});
}

TEST_F(SbiTest, UnimplementedLegacyExtensionsAreNotSupported) {
  for (uint64_t eid = 0x03; eid <= 0x0F; ++eid) {
    if (eid == kLegacyShutdown) continue;
    EXPECT_TRUE(returns(call(eid, 0), kErrNotSupported)) << eid;
  }
  EXPECT_FALSE(ssip());
  EXPECT_TRUE(resets.empty());
}

// --- the ecall path ---

class SbiEcallTest : public SbiTest {
 protected:
  void SetUp() override {
    m.program(kCode, {enc::ecall(), enc::ecall()});
    m.set_csr(rv::kScause, 0x5c);
    m.set_csr(rv::kMcause, 0x3c);
    m.set_csr(rv::kSepc, 0x4000);
    m.set_csr(rv::kMepc, 0x4004);
    for (unsigned r = 1; r < 32; ++r) m.hart.x[r] = 0x1000 + r;
  }
  // One ecall from S-mode; checks that it was answered without a trap.
  void ecall(uint64_t eid, uint64_t fid, std::initializer_list<uint64_t> args) {
    m.hart.pc = kCode;
    m.hart.x[rv::test::a7] = eid;
    m.hart.x[rv::test::a6] = fid;
    unsigned r = rv::test::a0;
    for (uint64_t v : args) m.hart.x[r++] = v;
    saved.assign(std::begin(m.hart.x), std::end(m.hart.x));
    m.step();
    EXPECT_EQ(m.hart.pc, kCode + 4);
    EXPECT_EQ(m.hart.priv, rv::Priv::kS);
    EXPECT_EQ(m.csr(rv::kScause), 0x5cu) << "no trap into S";
    EXPECT_EQ(m.csr(rv::kMcause), 0x3cu) << "no trap into M";
    EXPECT_EQ(m.csr(rv::kSepc), 0x4000u);
    EXPECT_EQ(m.csr(rv::kMepc), 0x4004u);
  }
  // Every register but those the call may write is as it was.
  void expect_preserved_except(std::initializer_list<unsigned> written_regs) {
    for (unsigned r = 1; r < 32; ++r) {
      if (std::find(written_regs.begin(), written_regs.end(), r) != written_regs.end()) continue;
      EXPECT_EQ(m.hart.x[r], saved[r]) << "x" << r;
    }
  }
  std::vector<uint64_t> saved;
};

TEST_F(SbiEcallTest, ReturnsErrorAndValueInA0A1) {
  const uint64_t calls = sbi->calls();
  ecall(kBase, kFidSpecVersion, {});
  EXPECT_EQ(m.hart.x[rv::test::a0], 0u);
  EXPECT_EQ(m.hart.x[rv::test::a1], 0x02000000u);
  expect_preserved_except({rv::test::a0, rv::test::a1});
  EXPECT_EQ(sbi->calls(), calls + 1);

  ecall(kBase, kFidProbe, {kDbcn});
  EXPECT_EQ(m.hart.x[rv::test::a0], 0u);
  EXPECT_EQ(m.hart.x[rv::test::a1], 1u);

  ecall(kHsm, kFidHartGetStatus, {1});
  EXPECT_EQ(static_cast<int64_t>(m.hart.x[rv::test::a0]), kErrInvalidParam);

  ecall(0x12345678, 0, {});
  EXPECT_EQ(static_cast<int64_t>(m.hart.x[rv::test::a0]), kErrNotSupported);
  expect_preserved_except({rv::test::a0, rv::test::a1});
}

TEST_F(SbiEcallTest, ConsoleWriteThroughRegisters) {
  put_bytes(kRam + 0x3000, "via ecall");
  ecall(kDbcn, kFidConsoleWrite, {9, kRam + 0x3000, 0});
  EXPECT_EQ(m.hart.x[rv::test::a0], 0u);
  EXPECT_EQ(m.hart.x[rv::test::a1], 9u);
  EXPECT_EQ(written, "via ecall");
  expect_preserved_except({rv::test::a0, rv::test::a1});
}

TEST_F(SbiEcallTest, IpiAndTimerThroughRegisters) {
  ecall(kIpi, 0, {0b1, 0});
  EXPECT_EQ(m.hart.x[rv::test::a0], 0u);
  EXPECT_TRUE(ssip());
  m.clock.set_mtime(1'000'000);
  ecall(kTime, 0, {10});
  EXPECT_EQ(m.hart.x[rv::test::a0], 0u);
  EXPECT_TRUE(stip());
}

TEST_F(SbiEcallTest, LegacyCallsReturnOnlyA0) {
  ecall(kLegacyConsoleGetchar, 0, {});
  EXPECT_EQ(m.hart.x[rv::test::a0], ~0ULL) << "-1: nothing waiting";
  expect_preserved_except({rv::test::a0});
  input = {'k'};
  ecall(kLegacyConsoleGetchar, 0, {});
  EXPECT_EQ(m.hart.x[rv::test::a0], static_cast<uint64_t>('k'));
  ecall(kLegacyConsolePutchar, 0, {'!'});
  EXPECT_EQ(m.hart.x[rv::test::a0], 0u);
  EXPECT_EQ(written, "!");
  expect_preserved_except({rv::test::a0});
  // Reserved legacy EIDs follow the legacy convention too: a1 is left alone.
  ecall(0x0F, 0, {});
  EXPECT_EQ(static_cast<int64_t>(m.hart.x[rv::test::a0]), kErrNotSupported);
  expect_preserved_except({rv::test::a0});
}

TEST_F(SbiEcallTest, SuspendResumesAfterTheEcall) {
  ecall(kHsm, kFidHartSuspend, {kRetentive, 0, 0});
  EXPECT_EQ(m.hart.x[rv::test::a0], 0u);
}

TEST_F(SbiEcallTest, WithoutTheHandlerEcallTrapsToM) {
  // The control case: the same instruction with no handler installed is an ordinary
  // environment call from S, which boot_supervisor leaves undelegated.
  m.hart.set_ecall_handler(nullptr);
  m.hart.pc = kCode;
  m.hart.x[rv::test::a7] = kBase;
  m.step();
  EXPECT_EQ(m.hart.priv, rv::Priv::kM);
  EXPECT_EQ(m.csr(rv::kMcause), rv::test::cause(rv::Exception::kEcallFromS));
  EXPECT_EQ(m.csr(rv::kMepc), kCode);
}

}  // namespace
}  // namespace vessel::sbi
