#include "devices/virtio/rng/rng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "devices/test_support.hpp"
#include "devices/virtio/device_test_support.hpp"
#include "devices/virtio/mmio.hpp"

namespace vessel::virtio {
namespace {

using testing::add_chain;
using testing::buffer;
using testing::DriverQueue;
using testing::FakeTransport;
using testing::GuestRam;
using testing::settle;
using testing::take_used;

bool all_equal(const std::vector<uint8_t>& v, uint8_t b) {
  return std::all_of(v.begin(), v.end(), [b](uint8_t x) { return x == b; });
}

class RngTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop.start("rng-test").ok());
    transport.attach(VirtioRng::kRequestq, q);
  }
  void activate() { ASSERT_TRUE(rng->activate(transport.context(), kFeatureVersion1).ok()); }
  // One device-writable buffer of len bytes filled with `fill`; returns its address.
  uint64_t request(uint32_t len, uint8_t fill = 0) {
    const uint64_t a = buffer(q, len, fill);
    add_chain(q, {}, {{a, len}});
    return a;
  }
  // Notifies and waits until the used ring holds `count` entries in all.
  bool served(uint16_t count) {
    rng->notify(VirtioRng::kRequestq);
    return settle(loop, [&] { return q.used_idx() == count; });
  }

  EventLoop loop;
  GuestRam ram;
  DriverQueue q{ram, 128};
  FakeTransport transport{ram, 1};
  std::unique_ptr<VirtioRng> rng = std::make_unique<VirtioRng>(loop);
};

TEST_F(RngTest, Identity) {
  EXPECT_EQ(rng->device_id(), DeviceId::kEntropy);
  EXPECT_EQ(rng->num_queues(), 1U);
  EXPECT_EQ(rng->device_features(), 0U);
  uint8_t cfg[4] = {1, 2, 3, 4};
  rng->read_config(0, cfg, 4);
  EXPECT_EQ(cfg[0] | cfg[1] | cfg[2] | cfg[3], 0);
}

TEST_F(RngTest, FillsWritableBuffers) {
  activate();
  const uint64_t a = request(64);
  const uint64_t b = request(64);
  ASSERT_TRUE(served(2));
  uint16_t seen = 0;
  const auto used = take_used(q, seen);
  ASSERT_EQ(used.size(), 2U);
  EXPECT_EQ(used[0], std::make_pair(0U, 64U));
  EXPECT_EQ(used[1], std::make_pair(1U, 64U));
  // 512 random bits are all zero, or repeat, with negligible probability.
  EXPECT_FALSE(all_equal(ram.bytes(a, 64), 0));
  EXPECT_NE(ram.bytes(a, 64), ram.bytes(b, 64));
  EXPECT_GE(transport.signals(VirtioRng::kRequestq), 1U);
  EXPECT_EQ(rng->bytes_provided(), 128U);
  EXPECT_TRUE(transport.resets().empty());
}

TEST_F(RngTest, FillsEverySegmentOfAChain) {
  activate();
  const uint64_t a = buffer(q, 10, 0x5a);
  const uint64_t b = buffer(q, 20, 0x5a);
  const uint64_t c = buffer(q, 30, 0x5a);
  add_chain(q, {}, {{a, 10}, {b, 20}, {c, 30}});
  ASSERT_TRUE(served(1));
  EXPECT_EQ(q.used(0).second, 60U);
  EXPECT_FALSE(all_equal(ram.bytes(a, 10), 0x5a));
  EXPECT_FALSE(all_equal(ram.bytes(b, 20), 0x5a));
  EXPECT_FALSE(all_equal(ram.bytes(c, 30), 0x5a));
}

TEST_F(RngTest, CapsOneRequest) {
  activate();
  const uint32_t cap = VirtioRng::kMaxRequestBytes;
  const uint64_t a = request(2 * cap, 0xaa);
  ASSERT_TRUE(served(1));
  EXPECT_EQ(q.used(0).second, cap);
  EXPECT_TRUE(all_equal(ram.bytes(a + cap, cap), 0xaa));
}

// /entropy's rate limiter: a request waits in the ring until the bandwidth bucket holds all of
// it, then is served whole; one bigger than the bucket gets a full bucket's worth; the guest
// gets its entropy, slower.
TEST_F(RngTest, RateLimiterBoundsBytesAndRequests) {
  RateLimiterConfig limits;
  // 100 bytes, refilled at one every 10 ms.
  limits.bandwidth = TokenBucketConfig{.size = 100, .one_time_burst = 0, .refill_time_ms = 1000};
  rng = std::make_unique<VirtioRng>(loop, limits);
  activate();
  for (int i = 0; i < 3; ++i) request(64);
  request(200);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(served(1));
  EXPECT_EQ(q.used(0).second, 64U);
  // 28 more bytes for the second, 64 for the third, a full 100 for the last: about 1.9 s.
  ASSERT_TRUE(settle(
      loop, [&] { return q.used_idx() == 4; }, 5000));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1200));
  EXPECT_EQ(q.used(1).second, 64U);
  EXPECT_EQ(q.used(2).second, 64U);
  EXPECT_EQ(q.used(3).second, 100U) << "bigger than the bucket: what a full bucket holds";
  EXPECT_EQ(rng->bytes_provided(), 292U);

  // Requests: two at once, then one every 300 ms.
  limits = {};
  limits.ops = TokenBucketConfig{.size = 2, .one_time_burst = 0, .refill_time_ms = 600};
  rng->reset();
  rng = std::make_unique<VirtioRng>(loop, limits);
  activate();
  const uint16_t before = q.used_idx();
  for (int i = 0; i < 3; ++i) request(8);
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(served(static_cast<uint16_t>(before + 2)));
  ASSERT_TRUE(settle(
      loop, [&] { return q.used_idx() == before + 3; }, 3000));
  EXPECT_GE(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(250));
  EXPECT_EQ(q.used(static_cast<uint16_t>(before + 2)).second, 8U);
}

TEST_F(RngTest, ReadableBuffersAreNotWritten) {
  activate();
  const uint64_t r = buffer(q, 32, 0x11);
  const uint64_t w = buffer(q, 16, 0x11);
  add_chain(q, {{r, 32}}, {});
  add_chain(q, {{r, 32}}, {{w, 16}});
  ASSERT_TRUE(served(2));
  EXPECT_EQ(q.used(0).second, 0U);
  EXPECT_EQ(q.used(1).second, 16U);
  EXPECT_TRUE(all_equal(ram.bytes(r, 32), 0x11));
}

TEST_F(RngTest, ManyRequestsSpanSeveralTurns) {
  activate();
  const int n = VirtioRng::kChainsPerTurn + 40;  // below the ring size of 128
  for (int i = 0; i < n; ++i) request(8);
  ASSERT_TRUE(served(static_cast<uint16_t>(n)));
  EXPECT_EQ(rng->bytes_provided(), 8U * n);
}

TEST_F(RngTest, IdleBeforeActivateAndAfterReset) {
  request(16);
  rng->notify(VirtioRng::kRequestq);
  loop.drain();
  EXPECT_EQ(q.used_idx(), 0);
  // DRIVER_OK serves what was queued before it.
  activate();
  ASSERT_TRUE(settle(loop, [&] { return q.used_idx() == 1; }));

  rng->reset();
  request(16);
  rng->notify(VirtioRng::kRequestq);
  loop.drain();
  EXPECT_EQ(q.used_idx(), 1);
  activate();
  rng->notify(7);  // no such queue: ignored
  ASSERT_TRUE(served(2));
}

TEST_F(RngTest, EventIdxRearmsNotification) {
  DriverQueue q2{ram, 8, GuestRam::kBase + 0x80000};
  FakeTransport t2{ram, 1};
  t2.attach(0, q2, /*event_idx=*/true);
  ASSERT_TRUE(rng->activate(t2.context(), kFeatureVersion1 | kFeatureEventIdx).ok());
  add_chain(q2, {}, {{buffer(q2, 4), 4}});
  add_chain(q2, {}, {{buffer(q2, 4), 4}});
  rng->notify(0);
  ASSERT_TRUE(settle(loop, [&] { return q2.used_idx() == 2; }));
  // With the ring empty the device asks to hear about the next entry.
  EXPECT_EQ(q2.avail_event(), 2);
}

TEST_F(RngTest, MalformedChainNeedsReset) {
  activate();
  const uint64_t a = buffer(q, 16);
  // `next` points outside the 128-entry table.
  q.set_desc(0, a, 16, kDescWrite | kDescNext, 500);
  q.publish(0);
  rng->notify(VirtioRng::kRequestq);
  ASSERT_TRUE(settle(loop, [&] { return !transport.resets().empty(); }));
  EXPECT_EQ(q.used_idx(), 0);
  EXPECT_NE(transport.resets()[0].find("virtio-rng"), std::string::npos);
  // Reported once; the stopped queue is left alone.
  request(16);
  rng->notify(VirtioRng::kRequestq);
  loop.drain();
  EXPECT_EQ(transport.resets().size(), 1U);
  EXPECT_EQ(q.used_idx(), 0);
}

TEST_F(RngTest, BufferOutsideRamNeedsReset) {
  activate();
  add_chain(q, {}, {{GuestRam::kBase - 64, 64}});
  rng->notify(VirtioRng::kRequestq);
  ASSERT_TRUE(settle(loop, [&] { return !transport.resets().empty(); }));
  EXPECT_EQ(q.used_idx(), 0);
  EXPECT_EQ(rng->bytes_provided(), 0U);
}

TEST_F(RngTest, ActivateWithoutQueuesFails) {
  EXPECT_FALSE(rng->activate(DeviceContext{}, 0).ok());
}

TEST_F(RngTest, SaveRestore) {
  StateWriter w;
  rng->save(w);
  VirtioRng other(loop);
  StateReader r(w.bytes());
  EXPECT_TRUE(other.restore(r).ok());
  EXPECT_TRUE(r.at_end());

  StateWriter bad;
  bad.begin("virtio-console/1");
  StateReader rb(bad.bytes());
  EXPECT_FALSE(other.restore(rb).ok());
  StateReader empty(nullptr, 0);
  EXPECT_FALSE(other.restore(empty).ok());
}

TEST_F(RngTest, DestroyedWithWorkQueued) {
  // The loop is held up until the device is gone, so the turns that activate() and notify()
  // queued run after its destruction.
  std::promise<void> gate;
  loop.post([held = gate.get_future().share()] { held.wait(); });
  activate();
  for (int i = 0; i < 4; ++i) request(8);
  rng->notify(VirtioRng::kRequestq);
  rng.reset();
  gate.set_value();
  loop.drain();
  EXPECT_EQ(q.used_idx(), 0);
}

TEST_F(RngTest, NotifyFromManyThreads) {
  activate();
  const int n = 100;
  for (int i = 0; i < n; ++i) request(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) rng->notify(VirtioRng::kRequestq);
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(settle(loop, [&] { return q.used_idx() == n; }));
  EXPECT_EQ(rng->bytes_provided(), 8U * n);
}

// Through the real transport, as Linux drives it: the request is answered and the used-buffer
// interrupt raised.
TEST_F(RngTest, ServesThroughMmioTransport) {
  vessel::testing::FakeController pic;
  constexpr unsigned kIrq = 5;
  DriverQueue mq{ram, 64, GuestRam::kBase + 0x80000};
  VirtioMmio mmio(std::make_unique<VirtioRng>(loop), ram.bus, IrqLine(&pic, kIrq));
  EXPECT_EQ(vessel::testing::rd(mmio, VirtioMmio::kDeviceID), 4U);
  testing::bring_up(mmio, kFeatureVersion1 | kFeatureEventIdx, {&mq});
  const uint64_t a = buffer(mq, 32);
  add_chain(mq, {}, {{a, 32}});
  vessel::testing::wr(mmio, VirtioMmio::kQueueNotify, 0);
  ASSERT_TRUE(settle(loop, [&] { return mq.used_idx() == 1 && pic.level(kIrq); }));
  EXPECT_EQ(mq.used(0).second, 32U);
  EXPECT_FALSE(all_equal(ram.bytes(a, 32), 0));
  EXPECT_EQ(vessel::testing::rd(mmio, VirtioMmio::kInterruptStatus) & VirtioMmio::kUsedBuffer,
            VirtioMmio::kUsedBuffer);
  vessel::testing::wr(mmio, VirtioMmio::kStatus, 0);  // reset while idle
  EXPECT_EQ(mmio.status(), 0U);
}

}  // namespace
}  // namespace vessel::virtio
