#include "devices/virtio/console/console.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <string>
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
using C = VirtioConsole;

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop.start("console-test").ok());
    transport.attach(C::kReceiveq0, rxq);
    transport.attach(C::kTransmitq0, txq);
  }
  void activate() { ASSERT_TRUE(con->activate(transport.context(), kFeatureVersion1).ok()); }
  void push(const std::string& s) {
    con->push_input(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  std::string output() {
    std::lock_guard<std::mutex> lock(out_mu);
    return out;
  }
  C::Sink sink() {
    return [this](const uint8_t* d, size_t n) {
      std::lock_guard<std::mutex> lock(out_mu);
      out.append(reinterpret_cast<const char*>(d), n);
    };
  }
  std::string text(uint64_t addr, size_t len) {
    const auto b = ram.bytes(addr, len);
    return std::string(b.begin(), b.end());
  }
  // A transmit chain holding `parts`, one readable segment each.
  void transmit(DriverQueue& q, const std::vector<std::string>& parts) {
    std::vector<std::pair<uint64_t, uint32_t>> segs;
    for (const auto& p : parts) {
      const auto len = static_cast<uint32_t>(p.size());
      segs.emplace_back(q.alloc(len, p.data()), len);
    }
    add_chain(q, segs, {});
  }
  // Posts a receive buffer of len bytes filled with '.'; returns its address.
  uint64_t post_rx(DriverQueue& q, uint32_t len) {
    const uint64_t a = buffer(q, len, '.');
    add_chain(q, {}, {{a, len}});
    return a;
  }

  EventLoop loop;
  GuestRam ram;
  DriverQueue rxq{ram, 64, GuestRam::kBase + 0x10000};
  DriverQueue txq{ram, 64, GuestRam::kBase + 0x80000};
  FakeTransport transport{ram, 2};
  std::mutex out_mu;
  std::string out;
  std::unique_ptr<C> con = std::make_unique<C>(loop, sink());
};

TEST_F(ConsoleTest, Identity) {
  EXPECT_EQ(con->device_id(), DeviceId::kConsole);
  EXPECT_EQ(con->num_queues(), 2U);
  EXPECT_EQ(con->device_features() & (C::kFeatureMultiport | C::kFeatureSize), 0U);
  uint8_t cfg[C::kConfigSize];
  std::memset(cfg, 0xff, sizeof cfg);
  con->read_config(0, cfg, sizeof cfg);
  for (uint8_t b : cfg) EXPECT_EQ(b, 0);
}

TEST_F(ConsoleTest, TransmitReachesSink) {
  activate();
  transmit(txq, {"hello, "});
  transmit(txq, {"wor", "ld", "\n"});
  con->notify(C::kTransmitq0);
  ASSERT_TRUE(settle(loop, [&] { return txq.used_idx() == 2; }));
  EXPECT_EQ(output(), "hello, world\n");
  EXPECT_EQ(txq.used(0), std::make_pair(0U, 0U));
  EXPECT_EQ(txq.used(1), std::make_pair(1U, 0U));
  EXPECT_GE(transport.signals(C::kTransmitq0), 1U);
  EXPECT_EQ(transport.signals(C::kReceiveq0), 0U);
}

TEST_F(ConsoleTest, LargeTransmitArrivesWhole) {
  activate();
  std::string big(20000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  transmit(txq, {big});
  con->notify(C::kTransmitq0);
  ASSERT_TRUE(settle(loop, [&] { return txq.used_idx() == 1; }));
  EXPECT_EQ(output(), big);
}

TEST_F(ConsoleTest, InputWaitsForReceiveBuffers) {
  activate();
  push("hi");
  loop.drain();
  EXPECT_EQ(rxq.used_idx(), 0);
  const uint64_t a = post_rx(rxq, 16);
  con->notify(C::kReceiveq0);
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 1; }));
  EXPECT_EQ(rxq.used(0).second, 2U);
  EXPECT_EQ(text(a, 3), "hi.");
  EXPECT_GE(transport.signals(C::kReceiveq0), 1U);
}

TEST_F(ConsoleTest, InputFillsPostedBuffersInOrder) {
  activate();
  const uint64_t a = post_rx(rxq, 4);
  const uint64_t b = post_rx(rxq, 4);
  const uint64_t c = post_rx(rxq, 4);
  const uint64_t d = post_rx(rxq, 4);
  con->notify(C::kReceiveq0);
  loop.drain();
  EXPECT_EQ(rxq.used_idx(), 0);  // buffers are taken only when there is input
  push("0123456789");            // no notify: input schedules its own delivery
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 3; }));
  EXPECT_EQ(text(a, 4), "0123");
  EXPECT_EQ(text(b, 4), "4567");
  EXPECT_EQ(text(c, 4), "89..");
  EXPECT_EQ(rxq.used(2).second, 2U);
  push("z");
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 4; }));
  EXPECT_EQ(text(d, 2), "z.");
}

TEST_F(ConsoleTest, InputSpansSegmentsOfOneBuffer) {
  activate();
  const uint64_t a = buffer(rxq, 3, '.');
  const uint64_t b = buffer(rxq, 8, '.');
  add_chain(rxq, {}, {{a, 3}, {b, 8}});
  push("abcdef");
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 1; }));
  EXPECT_EQ(rxq.used(0).second, 6U);
  EXPECT_EQ(text(a, 3) + text(b, 4), "abcdef.");
}

TEST_F(ConsoleTest, BackPressureAndHardLimit) {
  EXPECT_TRUE(con->wants_input());
  push(std::string(C::kHostQueueSoftLimit - 1, 'a'));
  EXPECT_TRUE(con->wants_input());
  push("b");
  EXPECT_FALSE(con->wants_input());
  push(std::string(C::kHostQueueHardLimit, 'c'));
  EXPECT_EQ(con->dropped_input(), C::kHostQueueSoftLimit);
  EXPECT_FALSE(con->wants_input());

  // The guest drains it and input is wanted again.
  activate();
  const uint32_t chunk = 32 * 1024;
  const uint64_t buf = buffer(rxq, chunk);
  for (int round = 0; round < 100 && !con->wants_input(); ++round) {
    const uint16_t target = static_cast<uint16_t>(rxq.used_idx() + 8);
    for (int i = 0; i < 8; ++i) add_chain(rxq, {}, {{buf, chunk}});  // one buffer, reused
    con->notify(C::kReceiveq0);
    ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == target || con->wants_input(); }));
  }
  EXPECT_TRUE(con->wants_input());
}

TEST_F(ConsoleTest, InputBeforeDriverOkIsDelivered) {
  push("early");
  loop.drain();
  const uint64_t a = post_rx(rxq, 16);
  activate();
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 1; }));
  EXPECT_EQ(text(a, 5), "early");
}

TEST_F(ConsoleTest, ResetKeepsUndeliveredInput) {
  activate();
  push("kept");
  loop.drain();
  con->reset();
  post_rx(rxq, 16);
  con->notify(C::kReceiveq0);
  loop.drain();
  EXPECT_EQ(rxq.used_idx(), 0);

  // The next driver, with fresh queues, gets it.
  DriverQueue rx2{ram, 8, GuestRam::kBase + 0x40000};
  DriverQueue tx2{ram, 8, GuestRam::kBase + 0x60000};
  FakeTransport t2{ram, 2};
  t2.attach(C::kReceiveq0, rx2);
  t2.attach(C::kTransmitq0, tx2);
  const uint64_t a = post_rx(rx2, 8);
  ASSERT_TRUE(con->activate(t2.context(), kFeatureVersion1).ok());
  ASSERT_TRUE(settle(loop, [&] { return rx2.used_idx() == 1; }));
  EXPECT_EQ(text(a, 5), "kept.");
}

TEST_F(ConsoleTest, MalformedTransmitChainNeedsReset) {
  activate();
  // A buffer running past the end of RAM.
  txq.set_desc(0, GuestRam::kBase + ram.size() - 4, 64, 0, 0);
  txq.publish(0);
  con->notify(C::kTransmitq0);
  ASSERT_TRUE(settle(loop, [&] { return !transport.resets().empty(); }));
  EXPECT_NE(transport.resets()[0].find("transmitq0"), std::string::npos);
  EXPECT_EQ(output(), "");
  EXPECT_EQ(txq.used_idx(), 0);
  // The receive side keeps working; the failure is reported once.
  const uint64_t r = post_rx(rxq, 8);
  push("ok");
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 1; }));
  EXPECT_EQ(text(r, 2), "ok");
  EXPECT_EQ(transport.resets().size(), 1U);
}

TEST_F(ConsoleTest, DescriptorLoopNeedsReset) {
  activate();
  const uint64_t a = buffer(rxq, 16);
  rxq.set_desc(0, a, 8, kDescWrite | kDescNext, 1);
  rxq.set_desc(1, a, 8, kDescWrite | kDescNext, 0);
  rxq.publish(0);
  push("x");
  ASSERT_TRUE(settle(loop, [&] { return !transport.resets().empty(); }));
  EXPECT_NE(transport.resets()[0].find("receiveq0"), std::string::npos);
  EXPECT_EQ(rxq.used_idx(), 0);
}

TEST_F(ConsoleTest, SaveRestoreKeepsQueuedInput) {
  push("abc");
  StateWriter w;
  con->save(w);

  C other(loop, sink());
  StateReader r(w.bytes());
  ASSERT_TRUE(other.restore(r).ok());
  EXPECT_TRUE(r.at_end());
  const uint64_t a = post_rx(rxq, 8);
  ASSERT_TRUE(other.activate(transport.context(), kFeatureVersion1).ok());
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 1; }));
  EXPECT_EQ(text(a, 4), "abc.");
  other.reset();
}

TEST_F(ConsoleTest, RestoreRejectsBadStreams) {
  StateWriter wrong;
  wrong.begin("virtio-rng/1");
  StateReader r1(wrong.bytes());
  EXPECT_FALSE(con->restore(r1).ok());

  StateWriter big;
  big.begin("virtio-console/1");
  big.put<uint64_t>(C::kHostQueueHardLimit + 1);  // more than the host queue can hold
  StateReader r2(big.bytes());
  EXPECT_FALSE(con->restore(r2).ok());

  StateWriter truncated;
  truncated.begin("virtio-console/1");
  truncated.put<uint64_t>(10);
  StateReader r3(truncated.bytes());
  EXPECT_FALSE(con->restore(r3).ok());
}

TEST_F(ConsoleTest, InputFromAnotherThreadArrivesInOrder) {
  activate();
  std::string sent;
  for (int i = 0; i < 20000; ++i) sent.push_back(static_cast<char>('A' + i % 50));
  // The producer gives up when the consumer does, so a failure cannot hang the test.
  std::atomic<bool> give_up{false};
  std::thread producer([&] {
    for (size_t i = 0; i < sent.size() && !give_up; i += 7) {
      while (!con->wants_input() && !give_up) std::this_thread::yield();
      push(sent.substr(i, 7));
    }
  });
  // Descriptor i always points at bufs[i]; at most 8 buffers are outstanding.
  std::vector<uint64_t> bufs;
  for (int i = 0; i < 64; ++i) bufs.push_back(buffer(rxq, 64));
  std::string got;
  unsigned posted = 0;
  unsigned outstanding = 0;
  uint16_t seen = 0;
  // Bounded by time, not by rounds: on a loaded host the producer may not run for a while.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (got.size() < sent.size() && std::chrono::steady_clock::now() < deadline) {
    for (; outstanding < 8; ++outstanding, ++posted) add_chain(rxq, {}, {{bufs[posted % 64], 64}});
    con->notify(C::kReceiveq0);
    loop.drain();
    for (const auto& [id, len] : take_used(rxq, seen)) {
      EXPECT_LT(id, 64U);
      EXPECT_LE(len, 64U);
      if (id >= 64 || len > 64) break;
      got += text(bufs[id], len);
      --outstanding;
    }
  }
  give_up = true;
  producer.join();
  EXPECT_EQ(got, sent);
  EXPECT_EQ(con->dropped_input(), 0U);
}

TEST_F(ConsoleTest, DestroyedWithWorkQueued) {
  // The loop is held up until the device is gone, so the turns queued for it run after.
  std::promise<void> gate;
  loop.post([held = gate.get_future().share()] { held.wait(); });
  activate();
  transmit(txq, {"late"});
  con->notify(C::kTransmitq0);
  post_rx(rxq, 8);
  push("in");
  con.reset();
  gate.set_value();
  loop.drain();
  EXPECT_EQ(output(), "");
  EXPECT_EQ(txq.used_idx(), 0);
  EXPECT_EQ(rxq.used_idx(), 0);
}

// Through the real transport, as Linux drives it: output reaches the sink, input reaches the
// guest's receive buffer, and both raise the used-buffer interrupt.
TEST_F(ConsoleTest, WorksThroughMmioTransport) {
  vessel::testing::FakeController pic;
  constexpr unsigned kIrq = 6;
  DriverQueue mrx{ram, 64, GuestRam::kBase + 0x40000};
  DriverQueue mtx{ram, 64, GuestRam::kBase + 0x60000};
  VirtioMmio mmio(std::make_unique<C>(loop, sink()), ram.bus, IrqLine(&pic, kIrq));
  auto& dev = static_cast<C&>(mmio.device());
  EXPECT_EQ(vessel::testing::rd(mmio, VirtioMmio::kDeviceID), 3U);
  testing::bring_up(mmio, kFeatureVersion1 | kFeatureEventIdx, {&mrx, &mtx});

  transmit(mtx, {"login: "});
  vessel::testing::wr(mmio, VirtioMmio::kQueueNotify, C::kTransmitq0);
  ASSERT_TRUE(settle(loop, [&] { return mtx.used_idx() == 1 && pic.level(kIrq); }));
  EXPECT_EQ(output(), "login: ");
  vessel::testing::wr(mmio, VirtioMmio::kInterruptACK, VirtioMmio::kUsedBuffer);
  EXPECT_FALSE(pic.level(kIrq));

  const uint64_t a = post_rx(mrx, 32);
  vessel::testing::wr(mmio, VirtioMmio::kQueueNotify, C::kReceiveq0);
  const std::string typed = "root\r";
  dev.push_input(reinterpret_cast<const uint8_t*>(typed.data()), typed.size());
  ASSERT_TRUE(settle(loop, [&] { return mrx.used_idx() == 1 && pic.level(kIrq); }));
  EXPECT_EQ(text(a, 6), "root\r.");
  vessel::testing::wr(mmio, VirtioMmio::kStatus, 0);
  EXPECT_EQ(mmio.status(), 0U);
}

}  // namespace
}  // namespace vessel::virtio
