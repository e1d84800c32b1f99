// The outside end of a guest network card: Ethernet frames in and out, without any virtio
// header. A backend runs on the VM's EventLoop thread: send() is called there, and frames for
// the guest are handed to the receiver there.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace vessel {

using MacAddress = std::array<uint8_t, 6>;

// 52:54:00:12:34:56 (QEMU's first NIC) plus `index` in the low byte, for the index-th card.
MacAddress default_mac(unsigned index);
std::string format_mac(const MacAddress& mac);

class NetBackend {
 public:
  // The largest frame either direction carries: a 64 KiB IP datagram plus an Ethernet header
  // with a VLAN tag (QEMU's NET_BUFSIZE-sized limit).
  static constexpr size_t kMaxFrameSize = 65550;
  // The smallest: an Ethernet header alone.
  static constexpr size_t kMinFrameSize = 14;

  using Receiver = std::function<void(std::span<const uint8_t> frame)>;

  virtual ~NetBackend() = default;
  virtual std::string_view name() const = 0;

  // Start delivering frames from the outside to `receiver`, always on the loop thread. Called
  // once, from any thread; the receiver must stay valid until the backend is destroyed.
  virtual void start(Receiver receiver) = 0;
  // One frame toward the outside. Loop thread only. The backend may drop it (as a wire would).
  virtual void send(std::span<const uint8_t> frame) = 0;
  // Flow control from the receiver: while paused, a backend that can leave frames waiting
  // outside (tap) stops reading; one that cannot (slirp) keeps delivering and the receiver
  // drops. Loop thread only.
  virtual void set_receive_paused(bool paused) { (void)paused; }

  // Snapshots (docs/snapshot.md): the backend's own state, as bytes that load_state() of a
  // backend made from the same settings takes back. None by default (a tap's is the host's).
  // save_state: on the loop thread, or while the loop waits parked (VirtMachine::quiesced).
  virtual std::vector<uint8_t> save_state() { return {}; }
  // From any thread (the loop running, not parked) or the loop thread, before the guest's
  // frames flow. An error is one line without a prefix; the backend is then to be thrown away.
  virtual Result<void> load_state(std::span<const uint8_t> state) {
    if (!state.empty()) return make_error(std::string(name()) + " network: it saves no state");
    return {};
  }
};

}  // namespace vessel
