#include "devices/goldfish_rtc/goldfish_rtc.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "devices/test_support.hpp"

namespace vessel {
namespace {

using testing::FakeController;
using testing::rd;
using testing::wr;
using R = GoldfishRtc;

constexpr unsigned kRtcIrq = 11;

uint64_t read_time(GoldfishRtc& rtc) {
  const uint64_t low = rd(rtc, R::kTimeLow);
  return (rd(rtc, R::kTimeHigh) << 32) | low;
}

TEST(GoldfishRtcHostClock, TimeIsNearHostTimeAndMonotonic) {
  FakeController pic;
  GoldfishRtc rtc(IrqLine(&pic, kRtcIrq));
  const uint64_t before = GoldfishRtc::host_realtime_ns();
  const uint64_t a = read_time(rtc);
  const uint64_t b = read_time(rtc);
  const uint64_t after = GoldfishRtc::host_realtime_ns();
  EXPECT_GE(a, before);
  EXPECT_LE(a, b);
  EXPECT_LE(b, after);
  EXPECT_GT(a, 1'600'000'000ULL * 1'000'000'000ULL);  // after 2020: really the epoch clock
}

class GoldfishRtcTest : public ::testing::Test {
 protected:
  void arm(uint64_t at) {
    wr(rtc, R::kAlarmHigh, at >> 32);
    wr(rtc, R::kAlarmLow, at & 0xffffffff);
  }
  bool irq() const { return pic.level(kRtcIrq); }

  std::atomic<uint64_t> host_now{0x1'ffff'fff0ULL};
  FakeController pic;
  GoldfishRtc rtc{IrqLine(&pic, kRtcIrq), [this] { return host_now.load(); }};
};

TEST_F(GoldfishRtcTest, ReadingTimeLowLatchesTimeHigh) {
  EXPECT_EQ(rd(rtc, R::kTimeLow), 0xfffffff0U);
  host_now = 0x2'0000'0010ULL;  // the high word moves between the two reads
  EXPECT_EQ(rd(rtc, R::kTimeHigh), 1U);
  EXPECT_EQ(read_time(rtc), 0x2'0000'0010ULL);
}

TEST_F(GoldfishRtcTest, GuestSetsTime) {
  const uint64_t wanted = 1'700'000'000'123'456'789ULL;
  wr(rtc, R::kTimeHigh, wanted >> 32);
  wr(rtc, R::kTimeLow, wanted & 0xffffffff);
  EXPECT_EQ(read_time(rtc), wanted);
  host_now += 1000;
  EXPECT_EQ(read_time(rtc), wanted + 1000);  // and it keeps running
}

TEST_F(GoldfishRtcTest, AlarmRaisesInterruptAfterPoll) {
  wr(rtc, R::kIrqEnabled, 1);
  EXPECT_EQ(rtc.next_deadline_ns(), GoldfishRtc::kNoDeadline);
  const uint64_t at = host_now + 1000;
  arm(at);
  EXPECT_EQ(rd(rtc, R::kAlarmStatus), 1U);
  EXPECT_EQ(rd(rtc, R::kAlarmLow), at & 0xffffffff);
  EXPECT_EQ(rd(rtc, R::kAlarmHigh), at >> 32);
  EXPECT_EQ(rtc.next_deadline_ns(), at);
  rtc.poll();
  EXPECT_FALSE(irq());
  host_now += 999;
  rtc.poll();
  EXPECT_FALSE(irq());
  host_now += 1;
  rtc.poll();
  EXPECT_TRUE(irq());
  EXPECT_EQ(rd(rtc, R::kAlarmStatus), 0U);
  EXPECT_EQ(rtc.next_deadline_ns(), GoldfishRtc::kNoDeadline);
  wr(rtc, R::kClearInterrupt, 1);
  EXPECT_FALSE(irq());
}

TEST_F(GoldfishRtcTest, AlarmInThePastFiresAtOnce) {
  wr(rtc, R::kIrqEnabled, 1);
  arm(host_now - 5);
  EXPECT_TRUE(irq());
  EXPECT_EQ(rd(rtc, R::kAlarmStatus), 0U);
}

TEST_F(GoldfishRtcTest, IrqEnabledGatesTheLine) {
  arm(host_now);
  EXPECT_FALSE(irq());
  wr(rtc, R::kIrqEnabled, 1);
  EXPECT_EQ(rd(rtc, R::kIrqEnabled), 1U);
  EXPECT_TRUE(irq());
  wr(rtc, R::kIrqEnabled, 0);
  EXPECT_FALSE(irq());
}

TEST_F(GoldfishRtcTest, ClearAlarmDisarms) {
  wr(rtc, R::kIrqEnabled, 1);
  arm(host_now + 10);
  wr(rtc, R::kClearAlarm, 1);
  EXPECT_EQ(rd(rtc, R::kAlarmStatus), 0U);
  EXPECT_EQ(rtc.next_deadline_ns(), GoldfishRtc::kNoDeadline);
  host_now += 100;
  rtc.poll();
  EXPECT_FALSE(irq());
}

TEST_F(GoldfishRtcTest, DeadlineIsInHostTimeWhenGuestMovedItsClock) {
  const uint64_t guest_time = 5'000'000'000'000ULL;
  wr(rtc, R::kTimeHigh, guest_time >> 32);
  wr(rtc, R::kTimeLow, guest_time & 0xffffffff);
  arm(guest_time + 500);
  EXPECT_EQ(rtc.next_deadline_ns(), host_now + 500);
}

TEST_F(GoldfishRtcTest, OddAccessesAreHarmless) {
  uint64_t v = 0;
  EXPECT_FALSE(rtc.read(R::kTimeLow, 8, v));
  EXPECT_FALSE(rtc.read(R::kTimeLow, 1, v));
  EXPECT_FALSE(rtc.write(R::kAlarmLow + 1, 4, 0));
  EXPECT_FALSE(rtc.read(R::kWindowSize, 4, v));
  EXPECT_EQ(rd(rtc, 0x20), 0U);
  wr(rtc, 0x800, 0xffffffff);
  EXPECT_EQ(rd(rtc, R::kAlarmStatus), 0U);
  EXPECT_FALSE(irq());
}

TEST_F(GoldfishRtcTest, SaveRestoreReproducesBehaviour) {
  const uint64_t guest_time = 1'234'567'890'000'000'000ULL;
  wr(rtc, R::kTimeHigh, guest_time >> 32);
  wr(rtc, R::kTimeLow, guest_time & 0xffffffff);
  wr(rtc, R::kIrqEnabled, 1);
  arm(guest_time + 100);
  const auto state = testing::saved(rtc);

  FakeController pic2;
  GoldfishRtc copy(IrqLine(&pic2, kRtcIrq), [this] { return host_now.load(); });
  StateReader in(state);
  ASSERT_TRUE(copy.restore(in).ok());
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(read_time(copy), read_time(rtc));
  EXPECT_EQ(rd(copy, R::kAlarmStatus), 1U);
  EXPECT_EQ(copy.next_deadline_ns(), rtc.next_deadline_ns());
  host_now += 100;
  rtc.poll();
  copy.poll();
  EXPECT_TRUE(irq());
  EXPECT_TRUE(pic2.level(kRtcIrq));

  std::vector<uint8_t> bad = state;
  bad.back() = 7;  // irq_pending must be 0 or 1
  StateReader in2(bad);
  EXPECT_FALSE(copy.restore(in2).ok());
}

TEST_F(GoldfishRtcTest, DeviceTreeNode) {
  FdtContext ctx;
  ctx.base = 0x101000;
  ctx.size = 0x1000;
  ctx.irq = kRtcIrq;
  ctx.plic_phandle = 3;
  const auto fdt = testing::build_fdt(rtc, ctx);
  const std::string path = "/soc/rtc@101000";
  EXPECT_EQ(testing::fdt_strings(fdt, path, "compatible"),
            std::vector<std::string>{"google,goldfish-rtc"});
  EXPECT_EQ(testing::fdt_reg(fdt, path), std::make_pair(uint64_t{0x101000}, uint64_t{0x1000}));
  EXPECT_EQ(testing::fdt_cells(fdt, path, "interrupts"), std::vector<uint32_t>{kRtcIrq});
  EXPECT_EQ(testing::fdt_cells(fdt, path, "interrupt-parent"), std::vector<uint32_t>{3});
}

}  // namespace
}  // namespace vessel
