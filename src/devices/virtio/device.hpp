// What a virtio device (blk, net, console, rng) implements; the transport (mmio.hpp) owns the
// registers, feature negotiation, status and queues, and calls in here.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "base/state.hpp"
#include "devices/virtio/queue.hpp"

namespace vessel::virtio {

// Device IDs (virtio 1.2, "Device Types").
enum class DeviceId : uint32_t {
  kNet = 1,
  kBlock = 2,
  kConsole = 3,
  kEntropy = 4,
  kBalloon = 5,
  kVsock = 19
};

// Feature bits the transport offers for every device.
inline constexpr uint64_t kFeatureIndirectDesc = 1ULL << 28;  // VIRTIO_F_INDIRECT_DESC
inline constexpr uint64_t kFeatureEventIdx = 1ULL << 29;      // VIRTIO_F_EVENT_IDX
inline constexpr uint64_t kFeatureVersion1 = 1ULL << 32;      // VIRTIO_F_VERSION_1

// Given to a device when the driver sets DRIVER_OK: its queues, guest memory, and the way to
// interrupt the driver. The queues live in the transport and stay valid until reset().
struct DeviceContext {
  const GuestMemory* memory = nullptr;
  std::vector<Virtqueue>* queues = nullptr;
  // Raise a used-buffer interrupt for queue `index` if the driver wants one (the transport
  // checks the queue's needs_interrupt()). Thread-safe.
  std::function<void(unsigned index)> signal_used;
  // Raise a configuration-change interrupt. Thread-safe.
  std::function<void()> signal_config;
  // The device found a malformed request it cannot recover from: DEVICE_NEEDS_RESET. Call it
  // with the queue's error() when Virtqueue::pop() leaves the queue failed() (signal_used
  // notices a failed queue too, but only if it is called).
  std::function<void(std::string_view why)> needs_reset;
};

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;
  virtual std::string_view name() const = 0;
  virtual DeviceId device_id() const = 0;
  // Device-specific feature bits (the transport adds the common ones above).
  virtual uint64_t device_features() const = 0;
  virtual unsigned num_queues() const = 0;
  virtual uint16_t queue_max_size(unsigned index) const {
    (void)index;
    return 256;
  }

  // Device configuration space (little-endian), offsets relative to its start. Reads beyond
  // the space return 0; writes to read-only fields are ignored.
  virtual void read_config(uint64_t offset, uint8_t* out, unsigned size) const = 0;
  virtual void write_config(uint64_t offset, const uint8_t* in, unsigned size) {
    (void)offset, (void)in, (void)size;
  }

  // DRIVER_OK with the features the driver accepted. Devices start serving their queues.
  virtual Result<void> activate(const DeviceContext& ctx, uint64_t features) = 0;
  // The driver wrote QueueNotify for `index`. Called on the vCPU thread: devices hand the
  // work to their I/O thread rather than doing host I/O here. Called without transport locks,
  // so it may race a reset() from another vCPU: ignore it when not active.
  virtual void notify(unsigned index) = 0;
  // Device reset (status 0, or the transport's own reset): stop using the queues; any
  // request in flight completes or is dropped before this returns.
  virtual void reset() = 0;

  // The transport saves its registers and queue positions before the device's state. On
  // restore it resets the device, restores its own state and the queues, calls restore(),
  // and then, if the driver had set DRIVER_OK, activate() with a fresh context.
  virtual void save(StateWriter& out) const = 0;
  virtual Result<void> restore(StateReader& in) = 0;
  // Before save (snapshots): complete every request in flight, so that no completion lands
  // in guest memory after the queues' positions were taken. Called on the device's I/O
  // thread while no hart runs. Devices that finish every request where they take it keep
  // the default.
  virtual void quiesce() {}
};

}  // namespace vessel::virtio
