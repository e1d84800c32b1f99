// Test helpers for virtio device models (on top of test_support.hpp's guest RAM and driver
// queues): a stand-in transport that hands a device its DeviceContext directly and records
// what the device asks of it, and the driver's bring-up sequence through the real transport.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/event_loop.hpp"
#include "bus/device.hpp"
#include "devices/virtio/device.hpp"
#include "devices/virtio/mmio.hpp"
#include "devices/virtio/test_support.hpp"

namespace vessel::virtio::testing {

// Owns the device-side Virtqueues and records signal_used and needs_reset calls (which come
// from the device's I/O thread).
class FakeTransport {
 public:
  FakeTransport(GuestRam& ram, unsigned num_queues)
      : ram_(ram), queues_(num_queues), signals_(num_queues) {}

  // Configures queue `index` from the driver's layout, as QueueReady=1 would.
  void attach(unsigned index, const DriverQueue& q, bool event_idx = false) {
    ASSERT_TRUE(queues_[index].configure(ram_.mem, q.config(), event_idx));
  }
  DeviceContext context() {
    DeviceContext ctx;
    ctx.memory = &ram_.mem;
    ctx.queues = &queues_;
    ctx.signal_used = [this](unsigned i) {
      std::lock_guard<std::mutex> lock(mu_);
      if (i < signals_.size()) ++signals_[i];
    };
    ctx.signal_config = [] {};
    ctx.needs_reset = [this](std::string_view why) {
      std::lock_guard<std::mutex> lock(mu_);
      resets_.emplace_back(why);
    };
    return ctx;
  }
  unsigned signals(unsigned index) const {
    std::lock_guard<std::mutex> lock(mu_);
    return signals_[index];
  }
  std::vector<std::string> resets() const {
    std::lock_guard<std::mutex> lock(mu_);
    return resets_;
  }

 private:
  GuestRam& ram_;
  std::vector<Virtqueue> queues_;
  mutable std::mutex mu_;
  std::vector<unsigned> signals_;
  std::vector<std::string> resets_;
};

// Builds a chain of fresh descriptors (readable buffers first) and makes it available.
inline uint16_t add_chain(DriverQueue& q,
                          const std::vector<std::pair<uint64_t, uint32_t>>& readable,
                          const std::vector<std::pair<uint64_t, uint32_t>>& writable) {
  const uint16_t head = q.chain(readable, writable);
  q.publish(head);
  return head;
}

// Buffer space in q's area filled with `fill`.
inline uint64_t buffer(DriverQueue& q, uint32_t len, uint8_t fill = 0) {
  const std::vector<uint8_t> bytes(len, fill);
  return q.alloc(len, bytes.data());
}

// Used ring entries {id, len} from position `from` up to the current used index; advances
// `from`.
inline std::vector<std::pair<uint32_t, uint32_t>> take_used(DriverQueue& q, uint16_t& from) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const uint16_t end = q.used_idx(); from != end; ++from) out.push_back(q.used(from));
  return out;
}

// Drains the loop until cond() holds (work may be re-posted over several turns); false if it
// never does.
inline bool settle(EventLoop& loop, const std::function<bool()>& cond, int turns = 1000) {
  for (int i = 0; i < turns; ++i) {
    loop.drain();
    if (cond()) return true;
    if (i > 10) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return cond();
}

// What Linux's virtio_mmio driver does up to DRIVER_OK: reset, ACKNOWLEDGE, DRIVER, features,
// FEATURES_OK, each queue's size and addresses and QueueReady, DRIVER_OK.
inline void bring_up(VirtioMmio& mmio, uint64_t features,
                     const std::vector<const DriverQueue*>& queues) {
  auto set = [&](uint64_t offset, uint64_t v) {
    EXPECT_TRUE(mmio.write(offset, 4, v & 0xffffffffU)) << "write at " << offset;
  };
  using M = VirtioMmio;
  set(M::kStatus, 0);
  set(M::kStatus, M::kAcknowledge);
  set(M::kStatus, M::kAcknowledge | M::kDriver);
  set(M::kDriverFeaturesSel, 0);
  set(M::kDriverFeatures, features);
  set(M::kDriverFeaturesSel, 1);
  set(M::kDriverFeatures, features >> 32);
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk);
  ASSERT_NE(mmio.status() & M::kFeaturesOk, 0U) << "features refused";
  for (unsigned i = 0; i < queues.size(); ++i) {
    const Virtqueue::Config c = queues[i]->config();
    set(M::kQueueSel, i);
    set(M::kQueueNum, c.size);
    set(M::kQueueDescLow, c.desc);
    set(M::kQueueDescHigh, c.desc >> 32);
    set(M::kQueueDriverLow, c.avail);
    set(M::kQueueDriverHigh, c.avail >> 32);
    set(M::kQueueDeviceLow, c.used);
    set(M::kQueueDeviceHigh, c.used >> 32);
    set(M::kQueueReady, 1);
  }
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk | M::kDriverOk);
  ASSERT_NE(mmio.status() & M::kDriverOk, 0U) << "DRIVER_OK refused";
}

}  // namespace vessel::virtio::testing
