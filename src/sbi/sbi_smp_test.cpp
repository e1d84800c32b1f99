// The builtin SBI with several harts, each running on a thread of its own as in a VM: HSM
// start, stop and status across harts, IPIs that reach a hart asleep in WFI, and remote
// sfence.vma that reaches a hart spinning on a cached translation.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "sbi/sbi.hpp"
#include "tests/cpu/test_machine.hpp"

namespace vessel::sbi {
namespace {

using rv::test::TestMachine;
namespace enc = rv::test::enc;
namespace pte = rv::test::pte;

enum : uint64_t { kFidHartStart = 0, kFidHartStop, kFidHartGetStatus };
enum : uint64_t { kFidSfenceVma = 1 };

constexpr unsigned kA0 = 10, kA1 = 11, kA6 = 16, kA7 = 17, kT0 = 5, kT1 = 6, kT2 = 7, kT3 = 28;
constexpr unsigned kCsrSstatus = 0x100, kCsrSie = 0x104, kCsrStvec = 0x105, kCsrSip = 0x144,
                   kCsrSatp = 0x180;
constexpr uint64_t kRam = TestMachine::kRamBase;
constexpr auto kPatience = std::chrono::seconds(10);

// Hart 0 is the TestMachine's, driven from the test's thread as the caller of the SBI; harts 1
// and 2 run their run loops on threads of their own, stopped until HSM starts them.
class SbiSmpTest : public ::testing::Test {
 protected:
  static constexpr unsigned kHarts = 3;

  SbiSmpTest() {
    auto sharing = rv::CodeSharing::create(m.ram.data(), m.ram.size());
    EXPECT_TRUE(sharing.ok());
    code_sharing = std::move(sharing.value());
    code_sharing->add(m.code);
    harts.push_back(&m.hart);
    for (unsigned i = 1; i < kHarts; ++i) {
      irqs.push_back(std::make_unique<HartIrq>());
      caches.push_back(std::make_unique<rv::CodeCache>());
      code_sharing->add(*caches.back());
      owned.push_back(std::make_unique<rv::Hart>(i, m.bus, *irqs.back(), m.clock, *caches.back()));
      harts.push_back(owned.back().get());
    }
    Platform p;
    p.harts = harts;
    p.bus = &m.bus;
    sbi = std::make_unique<Sbi>(std::move(p));
    for (rv::Hart* h : harts) h->set_ecall_handler(sbi.get());
    m.hart.boot_supervisor(kRam, 0);
    for (unsigned i = 1; i < kHarts; ++i) {
      harts[i]->set_stopped();
      threads.emplace_back([this, i] { harts[i]->run(stop, nullptr); });
    }
  }
  ~SbiSmpTest() override {
    stop = true;
    for (auto& irq : irqs) irq->kick();
    for (auto& t : threads) t.join();
  }

  SbiRet call(uint64_t eid, uint64_t fid, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
              uint64_t a3 = 0) {
    const uint64_t a[6] = {a0, a1, a2, a3, 0, 0};
    return sbi->call(m.hart, eid, fid, a);
  }
  uint64_t status(uint64_t hart) { return call(kHsm, kFidHartGetStatus, hart).value; }
  // Guest memory another thread writes: read atomically.
  uint64_t peek(uint64_t pa) {
    return std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(m.host(pa, 8)))
        .load(std::memory_order_acquire);
  }
  void poke(uint64_t pa, uint64_t v) {
    std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(m.host(pa, 8)))
        .store(v, std::memory_order_release);
  }
  bool eventually(const std::function<bool()>& done) {
    const auto until = std::chrono::steady_clock::now() + kPatience;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  // Writes hart 1's program: record a0 and a1 at opaque+0/+8, set opaque+16, then wait for a
  // command at opaque+24; command 1 is HSM hart_stop (its error, if it returns, at +32).
  static constexpr uint64_t kEntry = kRam + 0x10000;
  void write_start_program() {
    m.program(kEntry, {
                          enc::sd(kA0, kA1, 0),
                          enc::sd(kA1, kA1, 8),
                          enc::addi(kT0, 0, 1),
                          enc::sd(kT0, kA1, 16),
                          enc::ld(kT1, kA1, 24),  // loop:
                          enc::beq(kT1, 0, -4),
                          enc::lui(kA7, 0x485),  // "HSM" = 0x48534d
                          enc::addi(kA7, kA7, 0x34d),
                          enc::addi(kA6, 0, static_cast<int32_t>(kFidHartStop)),
                          enc::ecall(),
                          enc::sd(kA0, kA1, 32),
                          enc::jal(0, -28),
                      });
  }

  TestMachine m;
  std::unique_ptr<rv::CodeSharing> code_sharing;
  std::vector<std::unique_ptr<HartIrq>> irqs;
  std::vector<std::unique_ptr<rv::CodeCache>> caches;
  std::vector<std::unique_ptr<rv::Hart>> owned;
  std::vector<rv::Hart*> harts;
  std::unique_ptr<Sbi> sbi;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
};

TEST_F(SbiSmpTest, StartRunsTheHartAtItsEntryWithHartIdAndOpaque) {
  write_start_program();
  const uint64_t data = kRam + 0x20000;
  EXPECT_EQ(status(1), kStopped);
  ASSERT_EQ(call(kHsm, kFidHartStart, 1, kEntry, data).error, kSuccess);
  ASSERT_TRUE(eventually([&] { return peek(data + 16) == 1; })) << "hart 1 never ran";
  EXPECT_EQ(peek(data), 1u) << "a0 = hart id";
  EXPECT_EQ(peek(data + 8), data) << "a1 = opaque";
  EXPECT_EQ(status(1), kStarted);
  EXPECT_EQ(status(2), kStopped) << "only the named hart starts";
  EXPECT_EQ(call(kHsm, kFidHartStart, 1, kEntry, data).error, kErrAlreadyAvailable)
      << "starting a started hart";
}

TEST_F(SbiSmpTest, StoppedHartParksAndCanBeStartedAgain) {
  write_start_program();
  const uint64_t first = kRam + 0x20000, second = kRam + 0x21000;
  ASSERT_EQ(call(kHsm, kFidHartStart, 1, kEntry, first).error, kSuccess);
  ASSERT_TRUE(eventually([&] { return peek(first + 16) == 1; }));
  poke(first + 24, 1);  // ask it to stop
  ASSERT_TRUE(eventually([&] { return status(1) == kStopped; }));
  EXPECT_EQ(peek(first + 32), 0u) << "hart_stop does not return on success";
  ASSERT_EQ(call(kHsm, kFidHartStart, 1, kEntry, second).error, kSuccess);
  ASSERT_TRUE(eventually([&] { return peek(second + 16) == 1; })) << "the second start";
  EXPECT_EQ(peek(second + 8), second);
  EXPECT_EQ(status(1), kStarted);
}

TEST_F(SbiSmpTest, TheLastStartedHartCannotStop) {
  EXPECT_EQ(call(kHsm, kFidHartStop).error, kErrFailed);
  EXPECT_EQ(status(0), kStarted);
}

TEST_F(SbiSmpTest, BadStartsAreRejectedAndChangeNothing) {
  EXPECT_EQ(call(kHsm, kFidHartStart, kHarts, kEntry, 0).error, kErrInvalidParam);
  EXPECT_EQ(call(kHsm, kFidHartStart, ~0ULL, kEntry, 0).error, kErrInvalidParam);
  EXPECT_EQ(call(kHsm, kFidHartStart, 1, 0x10, 0).error, kErrInvalidAddress) << "not memory";
  EXPECT_EQ(call(kHsm, kFidHartStart, 1, kRam + TestMachine::kRamSize, 0).error, kErrInvalidAddress)
      << "just past RAM";
  EXPECT_EQ(status(1), kStopped);
  EXPECT_EQ(call(kHsm, kFidHartGetStatus, kHarts).error, kErrInvalidParam);
}

TEST_F(SbiSmpTest, IpiWakesAHartInWfiAndTakesItsHandler) {
  // Hart 1: enable SSIE and SIE, sleep in WFI; the handler counts at opaque+0 and clears SSIP.
  const uint64_t entry = kRam + 0x10000, handler = kRam + 0x10100, data = kRam + 0x20000;
  m.program(entry, {
                       enc::auipc(kT0, 0),
                       enc::addi(kT0, kT0, static_cast<int32_t>(handler - entry)),
                       enc::csrrw(0, kCsrStvec, kT0),
                       enc::csrrsi(0, kCsrSie, 2),
                       enc::csrrsi(0, kCsrSstatus, 2),
                       enc::wfi(),  // loop:
                       enc::jal(0, -4),
                   });
  m.program(handler, {
                         enc::ld(kT1, kA1, 0),
                         enc::addi(kT1, kT1, 1),
                         enc::sd(kT1, kA1, 0),
                         enc::addi(kT2, 0, 2),
                         enc::csrrc(0, kCsrSip, kT2),
                         enc::sret(),
                     });
  ASSERT_EQ(call(kHsm, kFidHartStart, 1, entry, data).error, kSuccess);
  ASSERT_TRUE(eventually([&] { return status(1) == kStarted; }));
  for (uint64_t n = 1; n <= 3; ++n) {
    ASSERT_EQ(call(kIpi, 0, 0b10, 0).error, kSuccess);
    ASSERT_TRUE(eventually([&] { return peek(data) == n; })) << "IPI " << n;
  }
  EXPECT_EQ(call(kIpi, 0, 0b1000, 0).error, kErrInvalidParam) << "hart 3 does not exist";
  EXPECT_EQ(call(kIpi, 0, 1, kHarts).error, kErrInvalidParam);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(peek(data), 3u) << "a rejected mask sends nothing";
}

TEST_F(SbiSmpTest, RemoteSfenceVmaReachesAHartSpinningOnACachedTranslation) {
  // Hart 1 turns on Sv39 and copies the word at kVa to opaque+0 forever, with no fence of its
  // own: only a remote sfence.vma can make it see a new mapping of kVa.
  constexpr uint64_t kVa = 0x40000000, kOld = kRam + 0x100000, kNew = kRam + 0x200000;
  const uint64_t entry = kRam + 0x10000, data = kRam + 0x20000;
  rv::test::PageTables pt(m, 3);
  pt.map(entry, entry, pte::kRwxad);
  pt.map(data, data, pte::kRwad);
  const uint64_t leaf = pt.map(kVa, kOld, pte::kRwad);
  m.put64(kOld, 0x1111);
  m.put64(kNew, 0x2222);
  m.put64(data + 8, pt.satp());
  m.put64(data + 16, kVa);
  m.program(entry, {
                       enc::ld(kT0, kA1, 8),
                       enc::csrrw(0, kCsrSatp, kT0),
                       enc::sfence_vma(0, 0),
                       enc::ld(kT2, kA1, 16),
                       enc::ld(kT3, kT2, 0),  // loop:
                       enc::sd(kT3, kA1, 0),
                       enc::jal(0, -8),
                   });
  ASSERT_EQ(call(kHsm, kFidHartStart, 1, entry, data).error, kSuccess);
  ASSERT_TRUE(eventually([&] { return peek(data) == 0x1111; }));
  poke(leaf, pte::leaf(kNew, pte::kRwad));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(peek(data), 0x1111u) << "without a fence hart 1 keeps its cached translation";
  ASSERT_EQ(call(kRfence, kFidSfenceVma, 0b10, 0, kVa, 0x1000).error, kSuccess);
  // The call returns once hart 1 has flushed: its next load walks the new table.
  EXPECT_TRUE(eventually([&] { return peek(data) == 0x2222; }));
}

}  // namespace
}  // namespace vessel::sbi
