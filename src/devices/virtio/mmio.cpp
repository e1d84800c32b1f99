#include "devices/virtio/mmio.hpp"

#include <algorithm>

#include "base/bits.hpp"
#include "base/log.hpp"
#include "bus/fdt.hpp"
#include "devices/virtio/mmio_impl.hpp"

namespace vessel::virtio {

namespace {
constexpr uint32_t kMmioVersion = 2;  // "modern" virtio-mmio; legacy (1) is not offered
constexpr uint64_t kTransportFeatures = kFeatureVersion1 | kFeatureEventIdx | kFeatureIndirectDesc;
constexpr uint32_t kDriverStatusBits = VirtioMmio::kAcknowledge | VirtioMmio::kDriver |
                                       VirtioMmio::kDriverOk | VirtioMmio::kFeaturesOk |
                                       VirtioMmio::kFailed;
// Replaces the queue's 32-bit half selected by `high` in a 64-bit address.
void set_half(uint64_t& addr, bool high, uint64_t value) {
  const uint64_t v = value & 0xffffffffU;
  addr = high ? (addr & 0xffffffffU) | (v << 32) : (addr & ~uint64_t{0xffffffffU}) | v;
}
// The ring address a QueueDesc/QueueDriver/QueueDevice Low/High register names.
uint64_t& ring_address(Virtqueue::Config& c, uint64_t offset) {
  return offset < VirtioMmio::kQueueDriverLow   ? c.desc
         : offset < VirtioMmio::kQueueDeviceLow ? c.avail
                                                : c.used;
}
}  // namespace

VirtioMmio::State::State(VirtioDevice& dev, const Bus& bus, IrqLine line)
    : device(dev),
      mem(bus),
      irq(line),
      name("virtio-mmio " + std::string(dev.name())),
      num_queues(dev.num_queues()),
      pending(num_queues),
      queues(num_queues) {}

uint64_t VirtioMmio::State::offered_features() const {
  return device.device_features() | kTransportFeatures;
}

void VirtioMmio::State::raise(uint32_t bits) {
  interrupt_status |= bits;
  irq.set(true);
}

void VirtioMmio::State::set_needs_reset(std::string_view why) {
  std::lock_guard<std::mutex> lock(irq_mu);
  // A guest can break a queue and reset the device in a loop: one line each time otherwise.
  static LogLimiter limiter;
  if (!needs_reset) log_limited(limiter, LogLevel::kWarn, "{}: device needs reset: {}", name, why);
  needs_reset = true;
  raise(kConfigChange);
}

DeviceContext VirtioMmio::State::context() {
  DeviceContext ctx;
  ctx.memory = &mem;
  ctx.queues = &queues;
  ctx.signal_used = [this](unsigned index) {
    std::lock_guard<std::mutex> lock(irq_mu);
    if (!live || index >= queues.size()) return;
    if (queues[index].failed()) {
      static LogLimiter limiter;
      if (!needs_reset) {
        log_limited(limiter, LogLevel::kWarn, "{}: queue {}: {}", name, index,
                    queues[index].error());
      }
      needs_reset = true;
      raise(kConfigChange);
    }
    if (queues[index].needs_interrupt()) raise(kUsedBuffer);
  };
  ctx.signal_config = [this] {
    std::lock_guard<std::mutex> lock(irq_mu);
    ++config_generation;
    if (live) raise(kConfigChange);
  };
  ctx.needs_reset = [this](std::string_view why) { set_needs_reset(why); };
  return ctx;
}

void VirtioMmio::State::reset_locked() {
  {
    std::lock_guard<std::mutex> lock(irq_mu);
    live = false;
  }
  device.reset();
  for (auto& q : queues) q.reset();
  std::fill(pending.begin(), pending.end(), Virtqueue::Config{});
  status = 0;
  device_features_sel = 0;
  driver_features_sel = 0;
  queue_sel = 0;
  driver_features = 0;
  activated = false;
  std::lock_guard<std::mutex> lock(irq_mu);
  interrupt_status = 0;
  needs_reset = false;
  irq.set(false);
}

VirtioMmio::VirtioMmio(std::unique_ptr<VirtioDevice> device, const Bus& bus, IrqLine irq)
    : state_(std::make_unique<State>(*device, bus, irq)), device_(std::move(device)) {}

VirtioMmio::~VirtioMmio() {
  // The device may still be using the queues, which die with state_ after it.
  std::lock_guard<std::mutex> lock(state_->reg_mu);
  if (state_->activated) device_->reset();
}

std::string_view VirtioMmio::name() const { return state_->name; }

uint32_t VirtioMmio::status() const {
  std::lock_guard<std::mutex> lock(state_->reg_mu);
  std::lock_guard<std::mutex> irq_lock(state_->irq_mu);
  return state_->status | (state_->needs_reset ? uint32_t{kDeviceNeedsReset} : 0U);
}

bool VirtioMmio::read(uint64_t offset, unsigned size, uint64_t& value) {
  State& s = *state_;
  value = 0;
  std::lock_guard<std::mutex> lock(s.reg_mu);
  if (offset >= kConfig) {
    uint8_t buf[8] = {};
    device_->read_config(offset - kConfig, buf, std::min(size, 8U));
    value = load_le<uint64_t>(buf);
    return true;
  }
  // The control registers are 32 bits wide and only 32-bit aligned accesses are defined.
  if (size != 4 || offset % 4 != 0) return false;
  const bool queue_valid = s.queue_sel < s.num_queues;
  switch (offset) {
    case kMagicValue: value = kMagic; break;
    case kVersion: value = kMmioVersion; break;
    case kDeviceID: value = static_cast<uint32_t>(device_->device_id()); break;
    case kVendorID: value = kVendor; break;
    case kDeviceFeatures:
      if (s.device_features_sel < 2) value = s.offered_features() >> (32 * s.device_features_sel);
      value &= 0xffffffffU;
      break;
    case kDeviceFeaturesSel: value = s.device_features_sel; break;
    case kDriverFeatures:
      if (s.driver_features_sel < 2) value = (s.driver_features >> (32 * s.driver_features_sel));
      value &= 0xffffffffU;
      break;
    case kDriverFeaturesSel: value = s.driver_features_sel; break;
    case kQueueSel: value = s.queue_sel; break;
    case kQueueNumMax:
      if (queue_valid) {
        value = std::min<uint32_t>(device_->queue_max_size(s.queue_sel), Virtqueue::kMaxSize);
      }
      break;
    case kQueueNum:
      if (queue_valid) value = s.pending[s.queue_sel].size;
      break;
    case kQueueReady:
      if (queue_valid) value = s.queues[s.queue_sel].ready() ? 1 : 0;
      break;
    case kInterruptStatus: {
      std::lock_guard<std::mutex> irq_lock(s.irq_mu);
      value = s.interrupt_status;
      break;
    }
    case kStatus: {
      std::lock_guard<std::mutex> irq_lock(s.irq_mu);
      value = s.status | (s.needs_reset ? uint32_t{kDeviceNeedsReset} : 0U);
      break;
    }
    case kQueueDescLow:
    case kQueueDescHigh:
    case kQueueDriverLow:
    case kQueueDriverHigh:
    case kQueueDeviceLow:
    case kQueueDeviceHigh:
      if (queue_valid) {
        const uint64_t addr = ring_address(s.pending[s.queue_sel], offset);
        value = (offset % 8 == 4 ? addr >> 32 : addr) & 0xffffffffU;
      }
      break;
    case kConfigGeneration: {
      std::lock_guard<std::mutex> irq_lock(s.irq_mu);
      value = s.config_generation;
      break;
    }
    default: break;  // write-only (QueueNotify, InterruptACK) and reserved offsets read 0
  }
  return true;
}

bool VirtioMmio::write(uint64_t offset, unsigned size, uint64_t value) {
  State& s = *state_;
  if (offset >= kConfig) {
    uint8_t buf[8];
    store_le<uint64_t>(buf, value);
    std::lock_guard<std::mutex> lock(s.reg_mu);
    device_->write_config(offset - kConfig, buf, std::min(size, 8U));
    return true;
  }
  if (size != 4 || offset % 4 != 0) return false;
  value &= 0xffffffffU;

  if (offset == kQueueNotify) {
    // Checked under the lock, delivered without it (see mmio_impl.hpp).
    bool deliver;
    {
      std::lock_guard<std::mutex> lock(s.reg_mu);
      deliver = s.activated && value < s.num_queues && s.queues[value].ready();
    }
    if (deliver) device_->notify(static_cast<unsigned>(value));
    return true;
  }

  std::lock_guard<std::mutex> lock(s.reg_mu);
  const bool queue_valid = s.queue_sel < s.num_queues;
  // Queue registers are frozen once the queue is enabled or the device is live: the I/O
  // thread reads them without a lock.
  const bool queue_writable =
      queue_valid && !s.queues[s.queue_sel].ready() && (s.status & kDriverOk) == 0;
  switch (offset) {
    case kDeviceFeaturesSel: s.device_features_sel = static_cast<uint32_t>(value); break;
    case kDriverFeaturesSel: s.driver_features_sel = static_cast<uint32_t>(value); break;
    case kDriverFeatures:
      if ((s.status & kFeaturesOk) == 0 && s.driver_features_sel < 2) {
        const unsigned shift = 32 * s.driver_features_sel;
        s.driver_features =
            (s.driver_features & ~(uint64_t{0xffffffffU} << shift)) | (value << shift);
      }
      break;
    case kQueueSel: s.queue_sel = static_cast<uint32_t>(value); break;
    case kQueueNum:
      // Clamped, not truncated: 0x10010 must not pass for 16. Checked at QueueReady.
      if (queue_writable)
        s.pending[s.queue_sel].size = static_cast<uint16_t>(std::min<uint64_t>(value, 0xffff));
      break;
    case kQueueDescLow:
    case kQueueDescHigh:
    case kQueueDriverLow:
    case kQueueDriverHigh:
    case kQueueDeviceLow:
    case kQueueDeviceHigh:
      if (queue_writable) {
        set_half(ring_address(s.pending[s.queue_sel], offset), offset % 8 == 4, value);
      }
      break;
    case kQueueReady:
      if (!queue_valid || (s.status & kDriverOk) != 0) break;
      if ((value & 1) == 0) {
        s.queues[s.queue_sel].reset();
      } else if (!s.queues[s.queue_sel].ready()) {
        const unsigned q = s.queue_sel;
        const uint64_t features = s.negotiated();
        const uint32_t max = std::min<uint32_t>(device_->queue_max_size(q), Virtqueue::kMaxSize);
        const auto& c = s.pending[q];
        if (c.size > max || !s.queues[q].configure(s.mem, c, (features & kFeatureEventIdx) != 0,
                                                   (features & kFeatureIndirectDesc) != 0)) {
          s.set_needs_reset("queue " + std::to_string(q) + ": size " + std::to_string(c.size) +
                            " or ring addresses invalid");
        }
      }
      break;
    case kInterruptACK: {
      std::lock_guard<std::mutex> irq_lock(s.irq_mu);
      s.interrupt_status &= ~static_cast<uint32_t>(value);
      if (s.interrupt_status == 0) s.irq.set(false);
      break;
    }
    case kStatus: s.write_status(static_cast<uint32_t>(value)); break;
    default: break;  // read-only and reserved offsets ignore writes
  }
  return true;
}

void VirtioMmio::State::write_status(uint32_t value) {
  State& s = *this;
  if (value == 0) {
    s.reset_locked();
    return;
  }
  // Status bits only accumulate until a reset; DEVICE_NEEDS_RESET is the device's to set.
  uint32_t next = s.status | (value & kDriverStatusBits);
  if ((next & kFeaturesOk) != 0 && (s.status & kFeaturesOk) == 0) {
    const uint64_t accepted = s.driver_features;
    if ((accepted & kFeatureVersion1) == 0 || (accepted & ~s.offered_features()) != 0) {
      next &= ~static_cast<uint32_t>(kFeaturesOk);  // refused: the driver reads it back clear
    }
  }
  if ((next & kDriverOk) != 0 && (s.status & kDriverOk) == 0) {
    if ((next & kFeaturesOk) == 0) {
      next &= ~static_cast<uint32_t>(kDriverOk);
    } else {
      bool broken;
      {
        std::lock_guard<std::mutex> irq_lock(s.irq_mu);
        broken = s.needs_reset;
        s.live = !broken;
      }
      if (!broken) {
        auto result = s.device.activate(s.context(), s.negotiated());
        if (result.ok()) {
          s.activated = true;
        } else {
          {
            std::lock_guard<std::mutex> irq_lock(s.irq_mu);
            s.live = false;
          }
          s.set_needs_reset(result.error().message);
        }
      }
    }
  }
  s.status = next;
}

void VirtioMmio::add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const {
  fdt.begin_node(node_name("virtio_mmio", ctx.base));
  fdt.prop_string("compatible", "virtio,mmio");
  fdt.prop_reg(ctx.base, ctx.size != 0 ? ctx.size : kWindowSize);
  fdt.prop_u32("interrupts", ctx.irq);
  fdt.prop_u32("interrupt-parent", ctx.plic_phandle);
  fdt.end_node();
}

}  // namespace vessel::virtio
