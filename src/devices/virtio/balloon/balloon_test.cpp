#include "devices/virtio/balloon/balloon.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "devices/virtio/device_test_support.hpp"

namespace vessel::virtio {
namespace {

using namespace std::chrono_literals;
using testing::add_chain;
using testing::buffer;
using testing::DriverQueue;
using testing::FakeTransport;
using testing::GuestRam;
using testing::settle;

class BalloonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop.start("balloon-test").ok());
    transport.attach(VirtioBalloon::kInflateq, inflate);
    transport.attach(VirtioBalloon::kDeflateq, deflate);
    transport.attach(VirtioBalloon::kStatsq, statsq);
  }
  void make(VirtioBalloon::Options o) {
    balloon = std::make_unique<VirtioBalloon>(loop, o);
    ASSERT_TRUE(
        balloon->activate(transport.context(), kFeatureVersion1 | balloon->device_features()).ok());
  }
  // A chain of le32 page frame numbers on `q`.
  void pfns(DriverQueue& q, const std::vector<uint32_t>& list) {
    const auto len = static_cast<uint32_t>(list.size() * 4);
    const uint64_t a = q.alloc(len, reinterpret_cast<const uint8_t*>(list.data()));
    add_chain(q, {{a, len}}, {});
  }
  static uint32_t pfn_of(uint64_t gpa) { return static_cast<uint32_t>(gpa >> 12); }

  EventLoop loop;
  GuestRam ram{4 << 20};
  DriverQueue inflate{ram, 64, GuestRam::kBase + 0x10000};
  DriverQueue deflate{ram, 64, GuestRam::kBase + 0x40000};
  DriverQueue statsq{ram, 64, GuestRam::kBase + 0x70000};
  FakeTransport transport{ram, 3};
  std::unique_ptr<VirtioBalloon> balloon;
};

TEST_F(BalloonTest, FeaturesFollowTheOptions) {
  VirtioBalloon plain(loop, {});
  EXPECT_EQ(plain.device_id(), DeviceId::kBalloon);
  EXPECT_EQ(plain.device_features(), 0U);
  VirtioBalloon full(loop, {true, 5s});
  EXPECT_EQ(full.device_features(),
            VirtioBalloon::kFeatureStatsVq | VirtioBalloon::kFeatureDeflateOnOom);
  EXPECT_FALSE(plain.set_stats_interval(1s));  // statistics were not offered
}

TEST_F(BalloonTest, TargetAndActualInConfigSpace) {
  make({});
  balloon->set_target_pages(0x1234);
  uint8_t cfg[8] = {};
  balloon->read_config(0, cfg, 8);
  uint32_t words[2];
  std::memcpy(words, cfg, 8);
  EXPECT_EQ(words[0], 0x1234U);
  EXPECT_EQ(words[1], 0U);
  const uint32_t actual = 77;
  balloon->write_config(4, reinterpret_cast<const uint8_t*>(&actual), 4);
  const uint32_t bogus = 9;
  balloon->write_config(0, reinterpret_cast<const uint8_t*>(&bogus), 4);  // the host's field
  EXPECT_EQ(balloon->actual_pages(), 77U);
  EXPECT_EQ(balloon->target_pages(), 0x1234U);
  uint8_t beyond[4] = {1, 1, 1, 1};
  balloon->read_config(8, beyond, 4);
  EXPECT_EQ(beyond[0] | beyond[3], 0);
}

TEST_F(BalloonTest, InflatedPagesAreReleasedAndBadFramesSkipped) {
  make({});
  const uint64_t page_a = GuestRam::kBase + 0x200000, page_b = GuestRam::kBase + 0x300000;
  std::memset(ram.host(page_a), 0xab, 4096);
  std::memset(ram.host(page_b), 0xcd, 4096);
  std::memset(ram.host(page_b + 4096), 0xee, 16);  // the next page is not in the balloon
  pfns(inflate, {pfn_of(page_a), 0x10, 0xffffffffU, pfn_of(page_b)});
  balloon->notify(VirtioBalloon::kInflateq);
  ASSERT_TRUE(settle(loop, [&] { return inflate.used_idx() == 1; }));
  EXPECT_EQ(ram.bytes(page_a, 4096), std::vector<uint8_t>(4096, 0));
  EXPECT_EQ(ram.bytes(page_b, 4096), std::vector<uint8_t>(4096, 0));
  EXPECT_EQ(ram.bytes(page_b + 4096, 16), std::vector<uint8_t>(16, 0xee));
  EXPECT_EQ(balloon->pages_released(), 2U);
  pfns(deflate, {pfn_of(page_a)});
  balloon->notify(VirtioBalloon::kDeflateq);
  ASSERT_TRUE(settle(loop, [&] { return deflate.used_idx() == 1; }));
  EXPECT_TRUE(transport.resets().empty());
}

TEST_F(BalloonTest, StatisticsAreKeptAndAskedForEveryInterval) {
  make({false, 1s});
  // struct virtio_balloon_stat entries, packed: le16 tag, le64 value.
  std::vector<uint8_t> report;
  auto entry = [&](uint16_t tag, uint64_t v) {
    const auto* t = reinterpret_cast<const uint8_t*>(&tag);
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    report.insert(report.end(), t, t + 2);
    report.insert(report.end(), p, p + 8);
  };
  entry(4, 1000);  // free memory
  entry(5, 4000);  // total memory
  entry(99, 5);    // unknown tag: ignored
  const uint64_t a = statsq.alloc(static_cast<uint32_t>(report.size()), report.data());
  add_chain(statsq, {{a, static_cast<uint32_t>(report.size())}}, {});
  balloon->notify(VirtioBalloon::kStatsq);
  ASSERT_TRUE(settle(loop, [&] { return balloon->stats().reports == 1; }));
  const BalloonStats s = balloon->stats();
  EXPECT_EQ(s.get(BalloonStat::kFreeMemory), 1000U);
  EXPECT_EQ(s.get(BalloonStat::kTotalMemory), 4000U);
  EXPECT_FALSE(s.get(BalloonStat::kSwapIn).has_value());
  EXPECT_EQ(statsq.used_idx(), 0);  // kept until a new report is wanted
  // The interval passes: the buffer goes back so that the driver refills it.
  ASSERT_TRUE(settle(
      loop, [&] { return statsq.used_idx() == 1; }, 3000));
  EXPECT_GE(transport.signals(VirtioBalloon::kStatsq), 1U);
}

TEST_F(BalloonTest, StateRoundTrip) {
  make({false, 2s});
  balloon->set_target_pages(512);
  const uint32_t actual = 256;
  balloon->write_config(4, reinterpret_cast<const uint8_t*>(&actual), 4);
  StateWriter w;
  balloon->save(w);
  VirtioBalloon copy(loop, {false, 2s});
  StateReader r(w.bytes());
  ASSERT_TRUE(copy.restore(r).ok());
  EXPECT_EQ(copy.target_pages(), 512U);
  EXPECT_EQ(copy.actual_pages(), 256U);
  EXPECT_EQ(copy.stats_interval(), 2s);
  std::vector<uint8_t> cut(w.bytes().begin(), w.bytes().end() - 3);
  StateReader truncated(cut);
  EXPECT_FALSE(VirtioBalloon(loop, {}).restore(truncated).ok());
}

}  // namespace
}  // namespace vessel::virtio
