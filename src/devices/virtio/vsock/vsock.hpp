// virtio socket device (virtio 1.2, "Socket Device"): stream sockets between the guest (its
// CID) and the host (CID 2), over three queues: rx (packets to the guest), tx (from it) and
// event (never used: no transport resets happen without migration). Linux's driver is
// vmw_vsock_virtio_transport. The host side is the Muxer (muxer.hpp): Firecracker's Unix-socket
// convention, flow-controlled by the spec's credits and bounded against a hostile guest.
//
// Queues are served on the VM's EventLoop: each turn takes at most kChainsPerTurn chains from
// tx and fills at most kChainsPerTurn rx buffers, then yields to the other work on the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/event_loop.hpp"
#include "devices/virtio/device.hpp"
#include "devices/virtio/queue_worker.hpp"
#include "devices/virtio/vsock/muxer.hpp"

namespace vessel::virtio {

// --vsock cid=N,uds=PATH, and the API's PUT /vsock {guest_cid, uds_path}.
struct VsockConfig {
  uint32_t guest_cid = 3;
  std::string uds_path;
};
// Guest CIDs 0-2 are reserved (hypervisor, local, host), and Linux's are 32-bit with
// 0xffffffff meaning any.
inline constexpr uint64_t kMinGuestCid = 3, kMaxGuestCid = 0xfffffffeU;
Result<VsockConfig> parse_vsock_option(const std::string& text);

class VirtioVsock final : public VirtioDevice {
 public:
  static constexpr unsigned kRxq = 0, kTxq = 1, kEventq = 2;
  static constexpr unsigned kChainsPerTurn = 64;

  // Listens on config.uds_path at once: an error when it cannot.
  static Result<std::unique_ptr<VirtioVsock>> create(EventLoop& loop, const VsockConfig& config);
  ~VirtioVsock() override;

  std::string_view name() const override { return "virtio-vsock"; }
  DeviceId device_id() const override { return DeviceId::kVsock; }
  uint64_t device_features() const override { return 0; }  // stream sockets only
  unsigned num_queues() const override { return 3; }
  // le64 guest_cid.
  void read_config(uint64_t offset, uint8_t* out, unsigned size) const override;

  Result<void> activate(const DeviceContext& ctx, uint64_t features) override;
  void notify(unsigned index) override;
  void reset() override;

  void save(StateWriter& out) const override;
  Result<void> restore(StateReader& in) override;

  // Statistics and tests: read on the loop thread (posted there).
  vsock::Muxer::Counters counters();
  size_t connection_count();

 private:
  VirtioVsock(EventLoop& loop, VsockConfig config);

  EventLoop& loop_;
  const VsockConfig config_;
  std::shared_ptr<vsock::Muxer> muxer_;
  QueueWorker worker_;
};

}  // namespace vessel::virtio
