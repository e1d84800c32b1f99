// virtio entropy device (virtio 1.2, "Entropy Device"): one queue, requestq, of device-writable
// buffers that the device fills with random bytes from the host's getrandom(2). Linux's driver
// is hw_random/virtio-rng (/dev/hwrng).
//
// Requests are served on the VM's EventLoop thread, never on the vCPU that notified. Each
// request gets at most kMaxRequestBytes, and one loop turn serves at most kChainsPerTurn
// requests before yielding to the other work on the loop. A rate limiter (Firecracker's
// /entropy rate_limiter: bytes and requests) may bound it further: a request waits in the ring
// until the buckets hold enough for all of it (a request bigger than the bandwidth bucket gets
// what the full bucket holds), then is served whole.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "base/event_loop.hpp"
#include "base/rate_limiter.hpp"
#include "devices/virtio/device.hpp"
#include "devices/virtio/queue_worker.hpp"

namespace vessel::virtio {

class VirtioRng final : public VirtioDevice {
 public:
  static constexpr unsigned kRequestq = 0;
  static constexpr uint32_t kMaxRequestBytes = 64 * 1024;
  static constexpr unsigned kChainsPerTurn = 64;

  explicit VirtioRng(EventLoop& loop, const RateLimiterConfig& limiter = {});

  std::string_view name() const override { return "virtio-rng"; }
  DeviceId device_id() const override { return DeviceId::kEntropy; }
  uint64_t device_features() const override { return 0; }
  unsigned num_queues() const override { return 1; }
  // No device configuration space: reads are zero.
  void read_config(uint64_t offset, uint8_t* out, unsigned size) const override;

  Result<void> activate(const DeviceContext& ctx, uint64_t features) override;
  void notify(unsigned index) override;
  void reset() override { worker_.stop(); }

  void save(StateWriter& out) const override;
  Result<void> restore(StateReader& in) override;

  // Random bytes handed to the guest so far (statistics, tests).
  uint64_t bytes_provided() const { return bytes_->load(std::memory_order_relaxed); }

 private:
  std::shared_ptr<std::atomic<uint64_t>> bytes_;  // shared with the worker's service
  QueueWorker worker_;
};

}  // namespace vessel::virtio
