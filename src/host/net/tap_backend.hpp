// A host tap interface (/dev/net/tun, IFF_TAP | IFF_NO_PI): frames the guest sends appear on
// the host interface IFNAME and the other way round. The interface is created if it does not
// exist (needs CAP_NET_ADMIN), or attached to if it is a persistent tap this user may use;
// addressing, bridging and bringing it up are the host administrator's business.
//
// No IFF_VNET_HDR: the virtio-net device offers no checksum or segmentation offloads, so a
// vnet header would always be zero; without it every read(2) and write(2) is one bare frame.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "host/net/net_backend.hpp"

namespace vessel {

class TapBackend final : public NetBackend {
 public:
  // Errors are one line naming the interface: "tap tap0: TUNSETIFF: Operation not permitted".
  static Result<std::unique_ptr<TapBackend>> open(const std::string& ifname, EventLoop& loop);
  // As SlirpBackend's: on the loop thread directly, otherwise through a task it waits for.
  ~TapBackend() override;
  TapBackend(const TapBackend&) = delete;
  TapBackend& operator=(const TapBackend&) = delete;

  std::string_view name() const override { return "tap"; }
  // The interface name the kernel gave (the one asked for).
  const std::string& ifname() const;

  void start(Receiver receiver) override;
  void send(std::span<const uint8_t> frame) override;
  void set_receive_paused(bool paused) override;

  struct Impl;

 private:
  TapBackend(EventLoop& loop, std::shared_ptr<Impl> impl);
  EventLoop& loop_;
  std::shared_ptr<Impl> impl_;  // shared with the fd callback and posted tasks
  std::atomic<bool> started_{false};
};

}  // namespace vessel
