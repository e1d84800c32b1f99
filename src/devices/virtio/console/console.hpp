// virtio console (virtio 1.2, "Console Device"), the basic device: one port, no MULTIPORT, no
// control queues. Linux binds it as /dev/hvc0 (virtio_console is built into Debian's kernel).
//
// receiveq0 (queue 0) carries host input to the guest in buffers the driver posts; transmitq0
// (queue 1) carries guest output, which goes to the sink. Both are served on the VM's
// EventLoop thread. Host input waits in a bounded host-side queue until the driver has posted
// receive buffers, with the same back-pressure as the UART: wants_input() turns false at the
// soft limit so that the producer stops reading, and bytes past the hard limit are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "base/event_loop.hpp"
#include "devices/virtio/device.hpp"
#include "devices/virtio/queue_worker.hpp"

namespace vessel::virtio {

class VirtioConsole final : public VirtioDevice {
 public:
  using Sink = std::function<void(const uint8_t* data, size_t len)>;

  enum Queue : unsigned { kReceiveq0 = 0, kTransmitq0 = 1, kNumQueues = 2 };
  // Feature bits (none offered: cols/rows and the emergency write need them, and the port
  // works without).
  enum Feature : uint64_t {
    kFeatureSize = 1ULL << 0,        // VIRTIO_CONSOLE_F_SIZE
    kFeatureMultiport = 1ULL << 1,   // VIRTIO_CONSOLE_F_MULTIPORT
    kFeatureEmergWrite = 1ULL << 2,  // VIRTIO_CONSOLE_F_EMERG_WRITE
  };
  // struct virtio_console_config; every field reads 0 without the features above.
  enum ConfigOffset : uint64_t {
    kConfigCols = 0x0,
    kConfigRows = 0x2,
    kConfigMaxNrPorts = 0x4,
    kConfigEmergWr = 0x8,
    kConfigSize = 0xc,
  };

  // wants_input() turns false at this many queued host bytes: the producer should wait.
  static constexpr size_t kHostQueueSoftLimit = 4096;
  // Bytes beyond this are dropped, so a producer that ignores wants_input() cannot exhaust memory.
  static constexpr size_t kHostQueueHardLimit = 1 << 20;
  // Chains served per queue in one loop turn before other work on the loop gets a turn.
  static constexpr unsigned kChainsPerTurn = 64;

  VirtioConsole(EventLoop& loop, Sink sink);

  std::string_view name() const override { return "virtio-console"; }
  DeviceId device_id() const override { return DeviceId::kConsole; }
  uint64_t device_features() const override { return 0; }
  unsigned num_queues() const override { return kNumQueues; }
  void read_config(uint64_t offset, uint8_t* out, unsigned size) const override;

  Result<void> activate(const DeviceContext& ctx, uint64_t features) override;
  void notify(unsigned index) override;
  void reset() override { worker_.stop(); }

  void save(StateWriter& out) const override;
  Result<void> restore(StateReader& in) override;

  // Host input (terminal thread). Thread-safe.
  void push_input(const uint8_t* data, size_t len);
  // True while the host queue has room; the terminal stops reading its input while false.
  bool wants_input() const;
  // Bytes lost because the host queue was full (producer ignored wants_input()).
  uint64_t dropped_input() const;

 private:
  // The host side: input waiting for the guest, and the sink. Shared with the worker's
  // service, which may outlive this object in a task still queued on the loop.
  struct Host;
  // The host queue as save()/restore() see it.
  std::vector<uint8_t> queued_input() const;
  void set_queued_input(const std::vector<uint8_t>& bytes);

  std::shared_ptr<Host> host_;
  QueueWorker worker_;
};

}  // namespace vessel::virtio
