// virtio network card (virtio 1.2, "Network Device"): receiveq 0 and transmitq 1, no control
// queue, one queue pair. Frames go to and come from a NetBackend (slirp, tap) on the VM's
// EventLoop thread; notify() only posts work there.
//
// Features: VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS (link always up), and checksum offload both
// ways: VIRTIO_NET_F_CSUM (the guest hands over frames with NEEDS_CSUM and the device fills
// the checksum in, on the host, where it is cheap) and VIRTIO_NET_F_GUEST_CSUM (received
// frames are marked DATA_VALID: the backends deliver correct checksums, so the guest need
// not verify them). With an emulated CPU, each checksum the guest does not compute is many
// host instructions saved. No segmentation offload and no VIRTIO_NET_F_MRG_RXBUF: every frame
// travels whole in one buffer chain.
// Linux then posts receive buffers of a full Ethernet frame (1518 bytes + header); a frame
// that does not fit in a buffer is dropped and the buffer returned with nothing written.
//
// Frames from the backend wait in a queue of at most kMaxPendingFrames until the driver posts
// receive buffers; beyond that they are dropped and the backend is asked to pause.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "base/event_loop.hpp"
#include "devices/virtio/device.hpp"
#include "host/net/net_backend.hpp"

namespace vessel::virtio {

class VirtioNet final : public VirtioDevice {
 public:
  static constexpr unsigned kReceiveq = 0;
  static constexpr unsigned kTransmitq = 1;
  static constexpr uint16_t kQueueSize = 256;

  // Feature bits.
  static constexpr uint64_t kFeatureCsum = 1ULL << 0;       // VIRTIO_NET_F_CSUM
  static constexpr uint64_t kFeatureGuestCsum = 1ULL << 1;  // VIRTIO_NET_F_GUEST_CSUM
  static constexpr uint64_t kFeatureMac = 1ULL << 5;        // VIRTIO_NET_F_MAC
  static constexpr uint64_t kFeatureStatus = 1ULL << 16;    // VIRTIO_NET_F_STATUS
  // Status field bits.
  enum : uint16_t { kStatusLinkUp = 1 };  // VIRTIO_NET_S_LINK_UP
  // virtio_net_hdr flags and gso_type values the device must recognise.
  enum : uint8_t { kHdrFNeedsCsum = 1, kHdrFDataValid = 2, kHdrGsoNone = 0 };
  // Configuration space: mac[6] then le16 status.
  enum ConfigOffset : uint64_t { kConfigMac = 0, kConfigStatus = 6, kConfigSize = 8 };
  // virtio_net_hdr with num_buffers, which VIRTIO_F_VERSION_1 always includes; a legacy
  // driver without MRG_RXBUF would use the first 10 bytes only.
  static constexpr uint32_t kHeaderSize = 12;
  static constexpr uint32_t kLegacyHeaderSize = 10;

  static constexpr size_t kMaxPendingFrames = 256;
  // Transmit chains handled per loop turn before yielding to other work.
  static constexpr unsigned kChainsPerTurn = 256;

  VirtioNet(std::unique_ptr<NetBackend> backend, EventLoop& loop, MacAddress mac);
  ~VirtioNet() override;
  VirtioNet(const VirtioNet&) = delete;
  VirtioNet& operator=(const VirtioNet&) = delete;

  std::string_view name() const override { return "virtio-net"; }
  DeviceId device_id() const override { return DeviceId::kNet; }
  uint64_t device_features() const override {
    return kFeatureCsum | kFeatureGuestCsum | kFeatureMac | kFeatureStatus;
  }
  unsigned num_queues() const override { return 2; }
  uint16_t queue_max_size(unsigned index) const override {
    (void)index;
    return kQueueSize;
  }
  void read_config(uint64_t offset, uint8_t* out, unsigned size) const override;

  Result<void> activate(const DeviceContext& ctx, uint64_t features) override;
  void notify(unsigned index) override;
  void reset() override;

  void save(StateWriter& out) const override;
  Result<void> restore(StateReader& in) override;

  MacAddress mac() const;
  // The backend's own state, apart from the card's (NetBackend::save_state, load_state and
  // their threads): a snapshot keeps it in a section of its own.
  std::vector<uint8_t> save_backend_state();
  Result<void> load_backend_state(std::span<const uint8_t> state);

  struct Stats {
    uint64_t tx_frames = 0, tx_dropped = 0;  // guest to backend
    uint64_t rx_frames = 0, rx_dropped = 0;  // backend to guest
    uint64_t tx_bytes = 0, rx_bytes = 0;     // of the frames passed, without virtio headers
  };
  Stats stats() const;

  struct Core;

 private:
  EventLoop& loop_;
  // Shared with the tasks posted to the loop and (weakly) with the backend's receiver, so that
  // work still queued when the device goes away finds it closed instead of freed.
  std::shared_ptr<Core> core_;
  // Read by the vCPU thread (configuration space) and by save/restore.
  mutable std::mutex mu_;
  MacAddress mac_;
  uint64_t features_ = 0;  // accepted by the driver
};

}  // namespace vessel::virtio
