#include <string>

#include "devices/virtio/mmio.hpp"
#include "devices/virtio/mmio_impl.hpp"

namespace vessel::virtio {

namespace {
constexpr std::string_view kVirtioMmioTag = "virtio_mmio/1";
constexpr size_t kMaxErrorLen = 4096;
constexpr uint32_t kKnownStatus = VirtioMmio::kAcknowledge | VirtioMmio::kDriver |
                                  VirtioMmio::kDriverOk | VirtioMmio::kFeaturesOk |
                                  VirtioMmio::kFailed;

struct SavedQueue {
  Virtqueue::Config config;
  uint8_t ready = 0;
  uint16_t last_avail = 0, used_idx = 0, signalled_used = 0;
  std::string error;
};
}  // namespace

// The VM is paused and the devices idle while saving, so the queue positions are stable.
void VirtioMmio::save(StateWriter& out) const {
  const State& s = *state_;
  std::lock_guard<std::mutex> lock(s.reg_mu);
  {
    std::lock_guard<std::mutex> irq_lock(s.irq_mu);
    out.begin(kVirtioMmioTag);
    out.put(static_cast<uint32_t>(device_->device_id()));
    out.put(s.status);
    out.put(s.device_features_sel);
    out.put(s.driver_features_sel);
    out.put(s.queue_sel);
    out.put(s.driver_features);
    out.put(static_cast<uint8_t>(s.activated));
    out.put(s.interrupt_status);
    out.put(s.config_generation);
    out.put(static_cast<uint8_t>(s.needs_reset));
    out.put(static_cast<uint32_t>(s.num_queues));
    for (unsigned i = 0; i < s.num_queues; ++i) {
      const Virtqueue& q = s.queues[i];
      // A ready queue's configuration is the one it was validated with.
      const Virtqueue::Config c = q.ready() ? q.config() : s.pending[i];
      out.put(c.size);
      out.put(c.desc);
      out.put(c.avail);
      out.put(c.used);
      out.put(static_cast<uint8_t>(q.ready()));
      out.put(q.last_avail());
      out.put(q.used_index());
      out.put(q.signalled_used());
      out.put_bytes(q.error().data(), q.error().size());
    }
  }
  device_->save(out);
}

Result<void> VirtioMmio::restore(StateReader& in) {
  State& s = *state_;
  TRY_VOID(in.expect(kVirtioMmioTag));
  const auto device_id = TRY(in.get<uint32_t>());
  const auto status = TRY(in.get<uint32_t>());
  const auto device_features_sel = TRY(in.get<uint32_t>());
  const auto driver_features_sel = TRY(in.get<uint32_t>());
  const auto queue_sel = TRY(in.get<uint32_t>());
  const auto driver_features = TRY(in.get<uint64_t>());
  const auto activated = TRY(in.get<uint8_t>());
  const auto interrupt_status = TRY(in.get<uint32_t>());
  const auto config_generation = TRY(in.get<uint32_t>());
  const auto needs_reset = TRY(in.get<uint8_t>());
  const auto num_queues = TRY(in.get<uint32_t>());
  if (device_id != static_cast<uint32_t>(device_->device_id()) || num_queues != s.num_queues) {
    return make_error(std::string(s.name) + " state: saved for another device");
  }
  std::vector<SavedQueue> saved(num_queues);
  for (auto& q : saved) {
    q.config.size = TRY(in.get<uint16_t>());
    q.config.desc = TRY(in.get<uint64_t>());
    q.config.avail = TRY(in.get<uint64_t>());
    q.config.used = TRY(in.get<uint64_t>());
    q.ready = TRY(in.get<uint8_t>());
    q.last_avail = TRY(in.get<uint16_t>());
    q.used_idx = TRY(in.get<uint16_t>());
    q.signalled_used = TRY(in.get<uint16_t>());
    const auto err = TRY(in.get_bytes(kMaxErrorLen));
    q.error.assign(err.begin(), err.end());
    if (q.ready > 1) return make_error(s.name + " state: queue flags out of range");
  }
  if ((status & ~kKnownStatus) != 0 || activated > 1 || needs_reset > 1 ||
      interrupt_status > (kUsedBuffer | kConfigChange) ||
      (driver_features & ~s.offered_features()) != 0 ||
      (activated != 0 && (status & kDriverOk) == 0)) {
    return make_error(s.name + " state: register values out of range");
  }

  std::lock_guard<std::mutex> lock(s.reg_mu);
  s.reset_locked();
  s.device_features_sel = device_features_sel;
  s.driver_features_sel = driver_features_sel;
  s.queue_sel = queue_sel;
  s.driver_features = driver_features;
  const uint64_t features = s.negotiated();
  for (unsigned i = 0; i < num_queues; ++i) {
    const SavedQueue& q = saved[i];
    s.pending[i] = q.config;
    if (q.ready == 0) continue;
    if (!s.queues[i].configure(s.mem, q.config, (features & kFeatureEventIdx) != 0,
                               (features & kFeatureIndirectDesc) != 0)) {
      return make_error(s.name + " state: queue " + std::to_string(i) +
                        " does not fit guest memory");
    }
    s.queues[i].set_positions(q.last_avail, q.used_idx, q.signalled_used);
    if (!q.error.empty()) s.queues[i].mark_failed(q.error);
  }
  s.status = status;
  TRY_VOID(device_->restore(in));
  // The device gets its context back only after its own state, so that it resumes serving
  // the queues from where it was.
  if (activated != 0) {
    {
      std::lock_guard<std::mutex> irq_lock(s.irq_mu);
      s.live = true;
    }
    auto ok = device_->activate(s.context(), features);
    if (!ok.ok()) return make_error(s.name + " state: " + ok.error().message);
    s.activated = true;
  }
  std::lock_guard<std::mutex> irq_lock(s.irq_mu);
  s.interrupt_status = interrupt_status;
  s.config_generation = config_generation;
  s.needs_reset = needs_reset != 0;
  s.irq.set(interrupt_status != 0);
  return {};
}

}  // namespace vessel::virtio
