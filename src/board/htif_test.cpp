#include "board/htif.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/bits.hpp"
#include "base/mapped_memory.hpp"

namespace vessel {
namespace {

constexpr uint64_t kHtifRamBase = 0x80000000;
constexpr uint64_t kRamSize = 2 << 20;
constexpr uint64_t kToHost = kHtifRamBase + 0x1000;
constexpr uint64_t kFromHost = kHtifRamBase + 0x1008;
constexpr uint64_t kMagicMem = kHtifRamBase + 0x2000;
constexpr uint64_t kBuf = kHtifRamBase + 0x3000;

uint64_t command(uint64_t device, uint64_t cmd, uint64_t payload) {
  return device << 56 | cmd << 48 | payload;
}

class HtifTest : public ::testing::Test {
 protected:
  HtifTest() {
    auto mem = MappedMemory::allocate(kRamSize);
    EXPECT_TRUE(mem.ok());
    ram_ = std::move(mem.value());
    EXPECT_TRUE(bus_.add_memory({kHtifRamBase, kRamSize, ram_.data(), true, "ram"}).ok());
    EXPECT_TRUE(bus_.add_memory({0x1000, rom_.size(), rom_.data(), false, "rom"}).ok());
  }
  uint64_t read64(uint64_t addr) const {
    uint64_t v = 0;
    EXPECT_TRUE(bus_.read_phys(addr, &v, sizeof v));
    return v;
  }
  void write64(uint64_t addr, uint64_t v) { EXPECT_TRUE(bus_.write_phys(addr, &v, sizeof v)); }
  void write_bytes(uint64_t addr, const std::string& s) {
    EXPECT_TRUE(bus_.write_phys(addr, s.data(), s.size()));
  }
  // magic_mem = {syscall number, args...}, then tohost = its address.
  void syscall(std::vector<uint64_t> magic_mem, uint64_t at = kMagicMem) {
    magic_mem.resize(8);
    for (size_t i = 0; i < 8; ++i) write64(at + 8 * i, magic_mem[i]);
    write64(kToHost, command(Htif::kSyscallProxy, 0, at));
  }
  Htif make(uint64_t tohost = kToHost, uint64_t fromhost = kFromHost) {
    return Htif(bus_, tohost, fromhost,
                [this](uint8_t c) { out_.push_back(static_cast<char>(c)); });
  }

  MappedMemory ram_;
  std::vector<uint8_t> rom_ = std::vector<uint8_t>(0x1000);
  Bus bus_;
  std::string out_;
};

TEST_F(HtifTest, NothingToDoWhileTohostIsZero) {
  Htif h = make();
  EXPECT_EQ(h.poll(), std::nullopt);
  EXPECT_EQ(h.poll(), std::nullopt);
  EXPECT_EQ(read64(kFromHost), 0u);
}

TEST_F(HtifTest, ExitPassAndFailCodes) {
  Htif h = make();
  write64(kToHost, 1);  // riscv-tests: pass
  EXPECT_EQ(h.poll(), 0);
  EXPECT_EQ(read64(kToHost), 0u);
  EXPECT_EQ(h.poll(), 0);  // stays exited

  Htif h2 = make();
  write64(kToHost, 5 << 1 | 1);  // test 5 failed
  EXPECT_EQ(h2.poll(), 5);
}

TEST_F(HtifTest, BcdPutchar) {
  Htif h = make();
  for (char c : std::string("ok\n")) {
    write64(kToHost, command(Htif::kBcd, Htif::kBcdWrite, static_cast<uint8_t>(c)));
    EXPECT_EQ(h.poll(), std::nullopt);
    EXPECT_EQ(read64(kToHost), 0u);
  }
  EXPECT_EQ(out_, "ok\n");
  EXPECT_EQ(read64(kFromHost), 0u);  // putchar is not answered
  write64(kToHost, command(Htif::kBcd, Htif::kBcdWrite, 0x1234'5678'9A41));
  h.poll();
  EXPECT_EQ(out_.back(), 'A');  // only the low byte
  write64(kToHost, command(Htif::kBcd, Htif::kBcdRead, 0));
  EXPECT_EQ(h.poll(), std::nullopt);  // no input: no reply
  EXPECT_EQ(read64(kFromHost), 0u);
}

TEST_F(HtifTest, SyscallWriteReturnsLengthAndAnswersInFromhost) {
  Htif h = make();
  write_bytes(kBuf, "hello");
  syscall({Htif::kSysWrite, 1, kBuf, 5});
  EXPECT_EQ(h.poll(), std::nullopt);
  EXPECT_EQ(out_, "hello");
  EXPECT_EQ(read64(kMagicMem), 5u);
  EXPECT_EQ(read64(kFromHost), command(0, 0, 1));
  EXPECT_EQ(read64(kToHost), 0u);
}

TEST_F(HtifTest, SyscallExitAndUnknownSyscall) {
  Htif h = make();
  syscall({57 /* close */, 3});
  EXPECT_EQ(h.poll(), std::nullopt);
  EXPECT_EQ(static_cast<int64_t>(read64(kMagicMem)), -Htif::kEnosys);
  write64(kFromHost, 0);
  syscall({Htif::kSysExit, 7});
  EXPECT_EQ(h.poll(), 7);
}

TEST_F(HtifTest, BadBuffersGiveErrorsNotCrashes) {
  Htif h = make();
  auto result = [&](std::vector<uint64_t> mm) {
    write64(kFromHost, 0);
    syscall(std::move(mm));
    EXPECT_EQ(h.poll(), std::nullopt);
    return static_cast<int64_t>(read64(kMagicMem));
  };
  EXPECT_EQ(result({Htif::kSysWrite, 1, 0x10, 4}), -Htif::kEfault);  // unmapped
  EXPECT_EQ(result({Htif::kSysWrite, 1, kHtifRamBase + kRamSize - 2, 4}),
            -Htif::kEfault);                                                     // straddles
  EXPECT_EQ(result({Htif::kSysWrite, 1, ~uint64_t{0} - 1, 4}), -Htif::kEfault);  // wraps
  EXPECT_EQ(result({Htif::kSysWrite, 3, kBuf, 4}), -Htif::kEbadf);
  EXPECT_EQ(result({Htif::kSysWrite, 2, kBuf, 0}), 0);
  EXPECT_TRUE(out_.empty());
  // A huge length is cut to kMaxWrite: the guest sees a short write.
  EXPECT_EQ(result({Htif::kSysWrite, 1, kHtifRamBase, ~uint64_t{0}}),
            static_cast<int64_t>(Htif::kMaxWrite));
  EXPECT_EQ(out_.size(), Htif::kMaxWrite);
}

TEST_F(HtifTest, BadSyscallBlockStillAnswers) {
  Htif h = make();
  write64(kToHost, command(0, 0, 0x7000));  // magic_mem outside RAM
  EXPECT_EQ(h.poll(), std::nullopt);
  EXPECT_EQ(read64(kFromHost), command(0, 0, 1));
  write64(kFromHost, 0);
  write64(kToHost, command(0, 0, kHtifRamBase + kRamSize - 32));  // straddles the end
  EXPECT_EQ(h.poll(), std::nullopt);
  EXPECT_EQ(read64(kFromHost), command(0, 0, 1));
  write64(kFromHost, 0);
  write64(kToHost, command(0, 0, 0x1000));  // in ROM: readable, result not writable
  EXPECT_EQ(h.poll(), std::nullopt);
  EXPECT_EQ(read64(kFromHost), command(0, 0, 1));
}

TEST_F(HtifTest, RepliesWaitUntilTheGuestClearsFromhost) {
  Htif h = make();
  syscall({Htif::kSysWrite, 1, kBuf, 0});
  h.poll();
  EXPECT_EQ(read64(kFromHost), command(0, 0, 1));
  write64(kMagicMem + 8, 3);  // second syscall while fromhost is still full
  write64(kToHost, command(0, 0, kMagicMem));
  h.poll();
  EXPECT_EQ(read64(kFromHost), command(0, 0, 1));
  write64(kFromHost, 0);  // guest consumed the first reply
  h.poll();
  EXPECT_EQ(read64(kFromHost), command(0, 0, 1));
}

TEST_F(HtifTest, UnusableTohostOrFromhostAddresses) {
  Htif outside = make(0x10, 0x18);
  EXPECT_EQ(outside.poll(), std::nullopt);
  Htif no_fromhost = make(kToHost, 0);
  syscall({Htif::kSysWrite, 1, kBuf, 0});
  EXPECT_EQ(no_fromhost.poll(), std::nullopt);
  EXPECT_EQ(read64(kFromHost), 0u);
  Htif rom_fromhost = make(kToHost, 0x1000);
  for (int i = 0; i < 100; ++i) {
    syscall({Htif::kSysWrite, 1, kBuf, 0});
    EXPECT_EQ(rom_fromhost.poll(), std::nullopt);
  }
  Htif straddling = make(kHtifRamBase + kRamSize - 4, kFromHost);
  EXPECT_EQ(straddling.poll(), std::nullopt);
  write64(kToHost, command(0x42, 0x17, 0));  // unknown device: ignored, but consumed
  Htif h = make();
  EXPECT_EQ(h.poll(), std::nullopt);
  EXPECT_EQ(read64(kToHost), 0u);
}

}  // namespace
}  // namespace vessel
