#include "devices/virtio/mmio.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "devices/test_support.hpp"
#include "devices/virtio/test_support.hpp"

namespace vessel::virtio {
namespace {

using testing::DriverQueue;
using testing::GuestRam;
using vessel::testing::FakeController;
using vessel::testing::rd;
using vessel::testing::wr;
using M = VirtioMmio;

constexpr unsigned kIrq = 3;
constexpr uint64_t kDeviceFeature = 1ULL << 5;       // a device-specific bit
constexpr uint64_t kHighDeviceFeature = 1ULL << 40;  // and one in the high window

// Records what the transport asks of it; 2 queues (max 64 and 32), an 8-byte config space.
class FakeDevice : public VirtioDevice {
 public:
  std::string_view name() const override { return "fake"; }
  DeviceId device_id() const override { return DeviceId::kEntropy; }
  uint64_t device_features() const override { return kDeviceFeature | kHighDeviceFeature; }
  unsigned num_queues() const override { return 2; }
  uint16_t queue_max_size(unsigned index) const override { return index == 0 ? 64 : 32; }
  void read_config(uint64_t offset, uint8_t* out, unsigned size) const override {
    for (unsigned i = 0; i < size; ++i) out[i] = offset + i < 8 ? config[offset + i] : 0;
  }
  void write_config(uint64_t offset, const uint8_t* in, unsigned size) override {
    // Bytes 4..7 are writable, 0..3 read-only.
    for (unsigned i = 0; i < size; ++i) {
      if (offset + i >= 4 && offset + i < 8) config[offset + i] = in[i];
    }
  }
  Result<void> activate(const DeviceContext& c, uint64_t features) override {
    if (fail_activate) return make_error("fake: cannot start");
    ctx = c;
    active_features = features;
    ++activations;
    return {};
  }
  void notify(unsigned index) override { notified.push_back(index); }
  void reset() override {
    ++resets;
    ctx = DeviceContext{};
  }
  void save(StateWriter& out) const override { out.put(saved_value); }
  Result<void> restore(StateReader& in) override {
    saved_value = TRY(in.get<uint32_t>());
    return {};
  }

  uint8_t config[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  DeviceContext ctx;
  uint64_t active_features = 0;
  int activations = 0;
  int resets = 0;
  bool fail_activate = false;
  uint32_t saved_value = 0;
  std::vector<unsigned> notified;
};

class MmioTest : public ::testing::Test {
 protected:
  MmioTest() {
    auto d = std::make_unique<FakeDevice>();
    dev = d.get();
    mmio = std::make_unique<M>(std::move(d), ram.bus, IrqLine(&pic, kIrq));
  }

  uint32_t reg(uint64_t offset) { return static_cast<uint32_t>(rd(*mmio, offset)); }
  void set(uint64_t offset, uint64_t v) { wr(*mmio, offset, v); }
  uint64_t offered() {
    set(M::kDeviceFeaturesSel, 0);
    const uint64_t lo = reg(M::kDeviceFeatures);
    set(M::kDeviceFeaturesSel, 1);
    return lo | (uint64_t{reg(M::kDeviceFeatures)} << 32);
  }
  void accept(uint64_t features) {
    set(M::kDriverFeaturesSel, 0);
    set(M::kDriverFeatures, features & 0xffffffffU);
    set(M::kDriverFeaturesSel, 1);
    set(M::kDriverFeatures, features >> 32);
  }
  void setup_queue(unsigned index, const DriverQueue& q, uint16_t size) {
    const auto c = q.config();
    set(M::kQueueSel, index);
    set(M::kQueueNum, size);
    set(M::kQueueDescLow, c.desc & 0xffffffffU);
    set(M::kQueueDescHigh, c.desc >> 32);
    set(M::kQueueDriverLow, c.avail & 0xffffffffU);
    set(M::kQueueDriverHigh, c.avail >> 32);
    set(M::kQueueDeviceLow, c.used & 0xffffffffU);
    set(M::kQueueDeviceHigh, c.used >> 32);
    set(M::kQueueReady, 1);
  }
  // The Linux driver's sequence: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues,
  // DRIVER_OK.
  void bring_up(uint64_t features = kFeatureVersion1 | kFeatureEventIdx | kDeviceFeature) {
    const int activations = dev->activations;
    set(M::kStatus, 0);
    set(M::kStatus, M::kAcknowledge);
    set(M::kStatus, M::kAcknowledge | M::kDriver);
    accept(features);
    set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk);
    ASSERT_TRUE(reg(M::kStatus) & M::kFeaturesOk);
    setup_queue(0, q0, 64);
    setup_queue(1, q1, 32);
    set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk | M::kDriverOk);
    ASSERT_EQ(dev->activations, activations + 1);
  }
  bool irq() const { return pic.level(kIrq); }

  GuestRam ram;
  DriverQueue q0{ram, 64, GuestRam::kBase + 0x10000};
  DriverQueue q1{ram, 32, GuestRam::kBase + 0x20000};
  FakeController pic;
  FakeDevice* dev = nullptr;
  std::unique_ptr<M> mmio;
};

TEST_F(MmioTest, Identity) {
  EXPECT_EQ(reg(M::kMagicValue), 0x74726976U);
  EXPECT_EQ(reg(M::kVersion), 2U);
  EXPECT_EQ(reg(M::kDeviceID), 4U);
  EXPECT_EQ(reg(M::kVendorID), M::kVendor);
  EXPECT_EQ(reg(M::kStatus), 0U);
  EXPECT_EQ(reg(M::kInterruptStatus), 0U);
  EXPECT_EQ(reg(0x0c0), 0U);  // reserved
  EXPECT_NE(mmio->name().find("fake"), std::string_view::npos);
}

TEST_F(MmioTest, RegistersNeed32BitAlignedAccess) {
  uint64_t v = 0;
  EXPECT_FALSE(mmio->read(M::kMagicValue, 1, v));
  EXPECT_FALSE(mmio->read(M::kMagicValue, 8, v));
  EXPECT_FALSE(mmio->read(M::kMagicValue + 2, 2, v));
  EXPECT_FALSE(mmio->write(M::kStatus, 1, M::kAcknowledge));
  EXPECT_EQ(reg(M::kStatus), 0U);
}

TEST_F(MmioTest, ConfigSpaceForwardedAtAnyWidth) {
  EXPECT_EQ(rd(*mmio, M::kConfig, 1), 0x11U);
  EXPECT_EQ(rd(*mmio, M::kConfig + 1, 2), 0x3322U);
  EXPECT_EQ(rd(*mmio, M::kConfig + 4, 4), 0x88776655U);
  EXPECT_EQ(rd(*mmio, M::kConfig, 8), 0x8877665544332211ULL);
  EXPECT_EQ(rd(*mmio, M::kConfig + 6, 4), 0x8877U);  // beyond the space reads 0
  EXPECT_EQ(rd(*mmio, M::kConfig + 0x800, 4), 0U);
  wr(*mmio, M::kConfig + 4, 0xaabb, 2);
  EXPECT_EQ(rd(*mmio, M::kConfig + 4, 4), 0x8877aabbU);
  wr(*mmio, M::kConfig, 0xffffffffffffffffULL, 8);  // read-only half ignored by the device
  EXPECT_EQ(rd(*mmio, M::kConfig, 8), 0xffffffff44332211ULL);
}

TEST_F(MmioTest, FeatureWindows) {
  const uint64_t f = offered();
  EXPECT_EQ(f, kDeviceFeature | kHighDeviceFeature | kFeatureVersion1 | kFeatureEventIdx |
                   kFeatureIndirectDesc);
  set(M::kDeviceFeaturesSel, 2);
  EXPECT_EQ(reg(M::kDeviceFeatures), 0U);
}

TEST_F(MmioTest, FeaturesOkAccepted) {
  set(M::kStatus, M::kAcknowledge | M::kDriver);
  accept(kFeatureVersion1 | kHighDeviceFeature);
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk);
  EXPECT_EQ(reg(M::kStatus), M::kAcknowledge | M::kDriver | M::kFeaturesOk);
  // Features are frozen once FEATURES_OK is set.
  set(M::kDriverFeaturesSel, 0);
  set(M::kDriverFeatures, 0xffffffff);
  EXPECT_EQ(reg(M::kDriverFeatures), 0U);
}

TEST_F(MmioTest, FeaturesOkRefusedWithoutVersion1) {
  set(M::kStatus, M::kAcknowledge | M::kDriver);
  accept(kDeviceFeature);
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk);
  EXPECT_EQ(reg(M::kStatus) & M::kFeaturesOk, 0U);
  // DRIVER_OK without FEATURES_OK does not start the device.
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk | M::kDriverOk);
  EXPECT_EQ(reg(M::kStatus) & (M::kFeaturesOk | M::kDriverOk), 0U);
  EXPECT_EQ(dev->activations, 0);
}

TEST_F(MmioTest, FeaturesOkRefusedForBitsNotOffered) {
  set(M::kStatus, M::kAcknowledge | M::kDriver);
  accept(kFeatureVersion1 | (1ULL << 6));
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk);
  EXPECT_EQ(reg(M::kStatus) & M::kFeaturesOk, 0U);
  // The driver may try again with a subset.
  accept(kFeatureVersion1);
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk);
  EXPECT_NE(reg(M::kStatus) & M::kFeaturesOk, 0U);
}

TEST_F(MmioTest, QueueSetupAndActivation) {
  set(M::kQueueSel, 0);
  EXPECT_EQ(reg(M::kQueueNumMax), 64U);
  set(M::kQueueSel, 1);
  EXPECT_EQ(reg(M::kQueueNumMax), 32U);
  set(M::kQueueSel, 2);
  EXPECT_EQ(reg(M::kQueueNumMax), 0U);
  set(M::kQueueSel, 0xffffffff);
  EXPECT_EQ(reg(M::kQueueNumMax), 0U);
  EXPECT_EQ(reg(M::kQueueReady), 0U);

  bring_up();
  EXPECT_EQ(dev->active_features, kFeatureVersion1 | kFeatureEventIdx | kDeviceFeature);
  ASSERT_NE(dev->ctx.queues, nullptr);
  ASSERT_EQ(dev->ctx.queues->size(), 2U);
  const Virtqueue& vq = (*dev->ctx.queues)[0];
  EXPECT_TRUE(vq.ready());
  EXPECT_EQ(vq.size(), 64);
  EXPECT_TRUE(vq.event_idx());
  EXPECT_FALSE(vq.indirect_desc());  // not accepted by this driver
  EXPECT_EQ(vq.config().avail, q0.avail_addr());
  EXPECT_EQ(dev->ctx.memory, &(*dev->ctx.memory));
  set(M::kQueueSel, 1);
  EXPECT_EQ(reg(M::kQueueReady), 1U);
  EXPECT_EQ(reg(M::kQueueNum), 32U);
  EXPECT_EQ(reg(M::kQueueDeviceLow), q1.used_addr() & 0xffffffffU);
  EXPECT_EQ(reg(M::kStatus), M::kAcknowledge | M::kDriver | M::kFeaturesOk | M::kDriverOk);
  EXPECT_EQ(mmio->status(), reg(M::kStatus));
}

TEST_F(MmioTest, QueueRegistersFrozenWhileReady) {
  bring_up();
  set(M::kQueueSel, 0);
  set(M::kQueueDescLow, 0x1234);
  set(M::kQueueReady, 0);  // after DRIVER_OK: ignored
  EXPECT_EQ(reg(M::kQueueDescLow), q0.desc_addr() & 0xffffffffU);
  EXPECT_EQ(reg(M::kQueueReady), 1U);
}

TEST_F(MmioTest, InvalidQueueNeedsReset) {
  set(M::kStatus, M::kAcknowledge | M::kDriver);
  accept(kFeatureVersion1);
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk);
  DriverQueue big(ram, 128, GuestRam::kBase + 0x40000);
  setup_queue(0, big, 128);  // more than QueueNumMax (64)
  EXPECT_EQ(reg(M::kQueueReady), 0U);
  EXPECT_NE(reg(M::kStatus) & M::kDeviceNeedsReset, 0U);
  EXPECT_EQ(reg(M::kInterruptStatus), M::kConfigChange);
  EXPECT_TRUE(irq());
  // DRIVER_OK does not start a device that needs a reset.
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk | M::kDriverOk);
  EXPECT_EQ(dev->activations, 0);
  // Reset clears it all.
  set(M::kStatus, 0);
  EXPECT_EQ(reg(M::kStatus), 0U);
  EXPECT_EQ(reg(M::kInterruptStatus), 0U);
  EXPECT_FALSE(irq());
}

TEST_F(MmioTest, MisalignedRingsNeedReset) {
  set(M::kStatus, M::kAcknowledge | M::kDriver);
  accept(kFeatureVersion1);
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk);
  set(M::kQueueSel, 0);
  set(M::kQueueNum, 64);
  set(M::kQueueDescLow, (q0.desc_addr() + 8) & 0xffffffffU);
  set(M::kQueueDescHigh, 0);
  set(M::kQueueDriverLow, q0.avail_addr() & 0xffffffffU);
  set(M::kQueueDeviceLow, q0.used_addr() & 0xffffffffU);
  set(M::kQueueReady, 1);
  EXPECT_EQ(reg(M::kQueueReady), 0U);
  EXPECT_NE(reg(M::kStatus) & M::kDeviceNeedsReset, 0U);
}

TEST_F(MmioTest, NotifyReachesTheDevice) {
  set(M::kQueueNotify, 0);  // before DRIVER_OK: ignored
  bring_up();
  set(M::kQueueNotify, 1);
  set(M::kQueueNotify, 0);
  set(M::kQueueNotify, 2);           // no such queue
  set(M::kQueueNotify, 0x10000001);  // nor this
  EXPECT_EQ(dev->notified, (std::vector<unsigned>{1, 0}));
}

TEST_F(MmioTest, NotifyIgnoredForQueueNotReady) {
  set(M::kStatus, M::kAcknowledge | M::kDriver);
  accept(kFeatureVersion1);
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk);
  setup_queue(0, q0, 64);
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk | M::kDriverOk);
  set(M::kQueueNotify, 1);
  set(M::kQueueNotify, 0);
  EXPECT_EQ(dev->notified, (std::vector<unsigned>{0}));
}

TEST_F(MmioTest, UsedBufferInterruptAndAck) {
  bring_up(kFeatureVersion1);
  q0.publish(q0.chain({}, {{q0.alloc(16), 16}}));
  set(M::kQueueNotify, 0);
  auto& vq = (*dev->ctx.queues)[0];
  auto chain = vq.pop();
  ASSERT_TRUE(chain.has_value());
  vq.push_used(chain->head, 16);
  dev->ctx.signal_used(0);
  EXPECT_EQ(reg(M::kInterruptStatus), M::kUsedBuffer);
  EXPECT_TRUE(irq());
  set(M::kInterruptACK, M::kConfigChange);  // acking the other bit leaves it pending
  EXPECT_TRUE(irq());
  set(M::kInterruptACK, M::kUsedBuffer);
  EXPECT_EQ(reg(M::kInterruptStatus), 0U);
  EXPECT_FALSE(irq());
  EXPECT_EQ(q0.used_idx(), 1);
  // Nothing new used: no interrupt.
  dev->ctx.signal_used(0);
  EXPECT_FALSE(irq());
  dev->ctx.signal_used(7);  // out of range: ignored
  EXPECT_FALSE(irq());
}

TEST_F(MmioTest, UsedBufferInterruptSuppressed) {
  bring_up(kFeatureVersion1);
  q0.set_avail_flags(kAvailNoInterrupt);
  q0.publish(q0.chain({{q0.alloc(4), 4}}, {}));
  auto& vq = (*dev->ctx.queues)[0];
  auto chain = vq.pop();
  ASSERT_TRUE(chain.has_value());
  vq.push_used(chain->head, 0);
  dev->ctx.signal_used(0);
  EXPECT_EQ(reg(M::kInterruptStatus), 0U);
  EXPECT_FALSE(irq());
}

TEST_F(MmioTest, ConfigChangeBumpsGeneration) {
  bring_up();
  const uint32_t gen = reg(M::kConfigGeneration);
  dev->config[0] = 0x99;
  dev->ctx.signal_config();
  EXPECT_EQ(reg(M::kConfigGeneration), gen + 1);
  EXPECT_EQ(reg(M::kInterruptStatus), M::kConfigChange);
  EXPECT_TRUE(irq());
  EXPECT_EQ(rd(*mmio, M::kConfig, 1), 0x99U);
  set(M::kInterruptACK, M::kConfigChange);
  EXPECT_FALSE(irq());
}

TEST_F(MmioTest, DeviceReportsNeedsReset) {
  bring_up();
  dev->ctx.needs_reset("bad request");
  EXPECT_NE(reg(M::kStatus) & M::kDeviceNeedsReset, 0U);
  EXPECT_EQ(reg(M::kInterruptStatus), M::kConfigChange);
  EXPECT_TRUE(irq());
  // The driver cannot clear it except by a reset.
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk | M::kDriverOk);
  EXPECT_NE(reg(M::kStatus) & M::kDeviceNeedsReset, 0U);
}

TEST_F(MmioTest, MalformedChainFoundAtSignalNeedsReset) {
  bring_up();
  q0.publish(70);  // head out of range
  auto& vq = (*dev->ctx.queues)[0];
  EXPECT_FALSE(vq.pop().has_value());
  EXPECT_TRUE(vq.failed());
  dev->ctx.signal_used(0);
  EXPECT_NE(reg(M::kStatus) & M::kDeviceNeedsReset, 0U);
}

TEST_F(MmioTest, ActivationFailureNeedsReset) {
  dev->fail_activate = true;
  set(M::kStatus, M::kAcknowledge | M::kDriver);
  accept(kFeatureVersion1);
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk);
  set(M::kStatus, M::kAcknowledge | M::kDriver | M::kFeaturesOk | M::kDriverOk);
  EXPECT_NE(reg(M::kStatus) & M::kDeviceNeedsReset, 0U);
}

TEST_F(MmioTest, ResetClearsEverything) {
  bring_up();
  dev->ctx.signal_config();
  ASSERT_TRUE(irq());
  auto signal_used = dev->ctx.signal_used;  // a stale copy held by an I/O thread
  const int resets = dev->resets;
  set(M::kStatus, 0);
  EXPECT_EQ(dev->resets, resets + 1);
  EXPECT_EQ(reg(M::kStatus), 0U);
  EXPECT_EQ(reg(M::kInterruptStatus), 0U);
  EXPECT_FALSE(irq());
  for (unsigned i = 0; i < 2; ++i) {
    set(M::kQueueSel, i);
    EXPECT_EQ(reg(M::kQueueReady), 0U);
    EXPECT_EQ(reg(M::kQueueNum), 0U);
    EXPECT_EQ(reg(M::kQueueDescLow), 0U);
  }
  set(M::kDriverFeaturesSel, 1);
  EXPECT_EQ(reg(M::kDriverFeatures), 0U);
  signal_used(0);  // after reset: ignored
  EXPECT_FALSE(irq());
  set(M::kQueueNotify, 0);
  EXPECT_TRUE(dev->notified.empty());
  // And the device comes up again.
  bring_up();
  EXPECT_EQ(dev->activations, 2);
}

TEST_F(MmioTest, DeviceTreeNode) {
  FdtContext ctx;
  ctx.base = 0x10001000;
  ctx.size = M::kWindowSize;
  ctx.irq = 1;
  ctx.plic_phandle = 7;
  const auto fdt = vessel::testing::build_fdt(*mmio, ctx);
  const std::string path = "/soc/virtio_mmio@10001000";
  EXPECT_EQ(vessel::testing::fdt_strings(fdt, path, "compatible"),
            std::vector<std::string>{"virtio,mmio"});
  EXPECT_EQ(vessel::testing::fdt_reg(fdt, path),
            std::make_pair(uint64_t{0x10001000}, uint64_t{0x1000}));
  EXPECT_EQ(vessel::testing::fdt_cells(fdt, path, "interrupts"), std::vector<uint32_t>{1});
  EXPECT_EQ(vessel::testing::fdt_cells(fdt, path, "interrupt-parent"), std::vector<uint32_t>{7});
}

TEST_F(MmioTest, SaveRestore) {
  bring_up();
  q0.publish(q0.chain({{q0.alloc(4), 4}}, {}));
  q0.publish(q0.chain({{q0.alloc(4), 4}}, {}));
  auto& vq = (*dev->ctx.queues)[0];
  auto chain = vq.pop();
  ASSERT_TRUE(chain.has_value());
  vq.push_used(chain->head, 4);
  dev->ctx.signal_used(0);
  ASSERT_TRUE(irq());
  dev->saved_value = 0xfeed;
  set(M::kQueueSel, 1);
  const auto blob = vessel::testing::saved(*mmio);

  FakeController pic2;
  auto d2 = std::make_unique<FakeDevice>();
  FakeDevice* dev2 = d2.get();
  M other(std::move(d2), ram.bus, IrqLine(&pic2, kIrq));
  StateReader in(blob);
  ASSERT_TRUE(other.restore(in).ok());
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(dev2->saved_value, 0xfeedU);
  EXPECT_EQ(dev2->activations, 1);
  EXPECT_EQ(dev2->active_features, dev->active_features);
  EXPECT_EQ(other.status(), mmio->status());
  EXPECT_TRUE(pic2.level(kIrq));
  uint64_t v = 0;
  ASSERT_TRUE(other.read(M::kInterruptStatus, 4, v));
  EXPECT_EQ(v, M::kUsedBuffer);
  ASSERT_TRUE(other.read(M::kQueueSel, 4, v));
  EXPECT_EQ(v, 1U);
  // The restored queue continues where the saved one was: the second chain is next.
  auto& vq2 = (*dev2->ctx.queues)[0];
  EXPECT_EQ(vq2.last_avail(), 1);
  EXPECT_EQ(vq2.used_index(), 1);
  auto next = vq2.pop();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->head, 1);
  // A saved stream is identical when saved again.
  EXPECT_EQ(vessel::testing::saved(other).size(), blob.size());
}

TEST_F(MmioTest, RestoreRejectsGarbage) {
  bring_up();
  auto blob = vessel::testing::saved(*mmio);
  for (size_t cut : {size_t{0}, size_t{10}, blob.size() / 2, blob.size() - 1}) {
    std::vector<uint8_t> part(blob.begin(), blob.begin() + static_cast<ptrdiff_t>(cut));
    StateReader in(part);
    auto d = std::make_unique<FakeDevice>();
    M other(std::move(d), ram.bus, IrqLine(&pic, kIrq));
    EXPECT_FALSE(other.restore(in).ok()) << cut;
  }
  // A queue whose rings no longer fit guest memory.
  {
    auto d = std::make_unique<FakeDevice>();
    GuestRam small(0x10000);
    M other(std::move(d), small.bus, IrqLine(&pic, kIrq));
    StateReader in(blob);
    EXPECT_FALSE(other.restore(in).ok());
  }
}

}  // namespace
}  // namespace vessel::virtio
