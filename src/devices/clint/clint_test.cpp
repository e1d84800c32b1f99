#include "devices/clint/clint.hpp"

#include <gtest/gtest.h>

#include "devices/test_support.hpp"

namespace vessel {
namespace {

using testing::rd;
using testing::wr;

constexpr uint64_t kMsipBit = 1ULL << static_cast<unsigned>(InterruptBit::kMSIP);

class ClintTest : public ::testing::Test {
 protected:
  MachineClock clock;
  HartIrq h0, h1;
  Clint clint{clock, {&h0, &h1}};
};

TEST_F(ClintTest, MsipDrivesHartSoftwareInterrupt) {
  wr(clint, Clint::kMsipBase + 4, 1);
  EXPECT_EQ(h1.pending() & kMsipBit, kMsipBit);
  EXPECT_EQ(h0.pending() & kMsipBit, 0U);
  EXPECT_TRUE(h1.take_attention());  // the hart was kicked
  EXPECT_EQ(rd(clint, Clint::kMsipBase + 4), 1U);
  EXPECT_EQ(rd(clint, Clint::kMsipBase), 0U);
  // Only bit 0 counts.
  wr(clint, Clint::kMsipBase + 4, 0xfffffffe);
  EXPECT_EQ(h1.pending() & kMsipBit, 0U);
  EXPECT_EQ(rd(clint, Clint::kMsipBase + 4), 0U);
}

// Translated code compares instret with the poll limit at each block entry: a kick must make
// that compare fail at once, and arming the next poll must not undo a kick it raced with.
TEST(HartIrqTest, AKickZeroesThePollLimitAndArmingKeepsItZeroUntilTheKickIsTaken) {
  HartIrq irq;
  irq.arm_poll(4096);
  EXPECT_EQ(irq.poll_limit()->load(), 4096U);
  irq.kick();
  EXPECT_EQ(irq.poll_limit()->load(), 0U);
  irq.arm_poll(8192);  // the kick is still outstanding: the limit stays at 0
  EXPECT_EQ(irq.poll_limit()->load(), 0U);
  EXPECT_TRUE(irq.take_attention());
  irq.arm_poll(8192);
  EXPECT_EQ(irq.poll_limit()->load(), 8192U);
}

TEST_F(ClintTest, MtimecmpFullAndHalves) {
  wr(clint, Clint::kMtimecmpBase, 0x1122334455667788, 8);
  EXPECT_EQ(h0.mtimecmp(), 0x1122334455667788U);
  EXPECT_EQ(rd(clint, Clint::kMtimecmpBase, 8), 0x1122334455667788U);
  // 32-bit code writes the halves separately.
  wr(clint, Clint::kMtimecmpBase + 8 + 4, 0xaabbccdd);
  wr(clint, Clint::kMtimecmpBase + 8, 0x01020304);
  EXPECT_EQ(h1.mtimecmp(), 0xaabbccdd01020304U);
  EXPECT_EQ(rd(clint, Clint::kMtimecmpBase + 8, 4), 0x01020304U);
  EXPECT_EQ(rd(clint, Clint::kMtimecmpBase + 12, 4), 0xaabbccddU);
  wr(clint, Clint::kMtimecmpBase + 4, 0);
  EXPECT_EQ(h0.mtimecmp(), 0x55667788U);
  EXPECT_EQ(h1.mtimecmp(), 0xaabbccdd01020304U);
}

TEST_F(ClintTest, MtimeReadsAndWrites) {
  const uint64_t a = rd(clint, Clint::kMtime, 8);
  const uint64_t b = rd(clint, Clint::kMtime, 8);
  EXPECT_LE(a, b);
  wr(clint, Clint::kMtime, 1'000'000'000'000ULL, 8);
  const uint64_t c = rd(clint, Clint::kMtime, 8);
  EXPECT_GE(c, 1'000'000'000'000ULL);
  EXPECT_LT(c, 1'000'000'000'000ULL + MachineClock::kFrequencyHz);  // within a second
  EXPECT_EQ(rd(clint, Clint::kMtime + 4, 4), c >> 32);
  wr(clint, Clint::kMtime + 4, 0x7, 4);
  EXPECT_EQ(clock.mtime() >> 32, 0x7U);
}

TEST_F(ClintTest, OddAccessesAreHarmless) {
  uint64_t v = 0;
  EXPECT_FALSE(clint.read(Clint::kMsipBase, 1, v));
  EXPECT_FALSE(clint.read(Clint::kMsipBase, 8, v));
  EXPECT_FALSE(clint.write(Clint::kMtimecmpBase + 2, 4, 1));
  EXPECT_FALSE(clint.read(Clint::kWindowSize, 4, v));
  EXPECT_FALSE(clint.write(Clint::kMtime, 2, 1));
  // Harts that do not exist: reads as zero, writes ignored.
  EXPECT_EQ(rd(clint, Clint::kMsipBase + 8), 0U);
  wr(clint, Clint::kMsipBase + 4 * 100, 1);
  EXPECT_EQ(rd(clint, Clint::kMtimecmpBase + 16, 8), 0U);
  wr(clint, Clint::kMtimecmpBase + 16, 5, 8);
  EXPECT_EQ(rd(clint, 0x8000), 0U);
  EXPECT_EQ(h0.pending(), 0U);
  EXPECT_EQ(h1.pending(), 0U);
  EXPECT_EQ(h0.mtimecmp(), HartIrq::kNoDeadline);
}

TEST_F(ClintTest, SaveRestoreReproducesBehaviour) {
  wr(clint, Clint::kMsipBase, 1);
  wr(clint, Clint::kMtimecmpBase + 8, 123456789, 8);
  wr(clint, Clint::kMtime, 5'000'000'000ULL, 8);
  const auto state = testing::saved(clint);

  MachineClock clock2;
  HartIrq g0, g1;
  Clint copy(clock2, {&g0, &g1});
  StateReader in(state);
  ASSERT_TRUE(copy.restore(in).ok());
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(g0.pending() & kMsipBit, kMsipBit);
  EXPECT_EQ(g1.pending() & kMsipBit, 0U);
  EXPECT_EQ(g1.mtimecmp(), 123456789U);
  EXPECT_EQ(rd(copy, Clint::kMsipBase), 1U);
  EXPECT_EQ(rd(copy, Clint::kMtimecmpBase + 8, 8), 123456789U);
  const uint64_t t = rd(copy, Clint::kMtime, 8);
  EXPECT_GE(t, 5'000'000'000ULL);
  EXPECT_LT(t, 5'000'000'000ULL + MachineClock::kFrequencyHz);

  // A machine with a different hart count cannot take this state.
  HartIrq k0;
  Clint other(clock2, {&k0});
  StateReader in2(state);
  EXPECT_FALSE(other.restore(in2).ok());
  std::vector<uint8_t> truncated(state.begin(), state.end() - 1);
  StateReader in3(truncated);
  EXPECT_FALSE(copy.restore(in3).ok());
}

TEST_F(ClintTest, DeviceTreeNode) {
  const uint32_t intc[] = {7, 9};
  FdtContext ctx;
  ctx.base = 0x2000000;
  ctx.size = 0x10000;
  ctx.cpu_intc_phandles = intc;
  ctx.num_harts = 2;
  const auto fdt = testing::build_fdt(clint, ctx);
  const std::string path = "/soc/clint@2000000";
  EXPECT_EQ(testing::fdt_strings(fdt, path, "compatible"),
            (std::vector<std::string>{"sifive,clint0", "riscv,clint0"}));
  EXPECT_EQ(testing::fdt_reg(fdt, path), std::make_pair(uint64_t{0x2000000}, uint64_t{0x10000}));
  EXPECT_EQ(testing::fdt_cells(fdt, path, "interrupts-extended"),
            (std::vector<uint32_t>{7, 3, 7, 7, 9, 3, 9, 7}));
}

}  // namespace
}  // namespace vessel
