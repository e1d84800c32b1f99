// A build without libslirp (VESSEL_SLIRP off: Debian ships no static libslirp, nor the static
// GLib it needs, for the riscv64 build). --net tap still works.
#include "host/net/slirp_backend.hpp"

namespace vessel {

Result<std::unique_ptr<SlirpBackend>> SlirpBackend::create(EventLoop&, const NetSpec&,
                                                           std::shared_ptr<net::MmdsStore>) {
  return make_error(
      "--net user: user-mode networking is not in this build of vessel "
      "(VESSEL_SLIRP=OFF); use --net tap=IFNAME");
}

// Never reached: create() makes no backend.
SlirpBackend::~SlirpBackend() = default;
void SlirpBackend::start(Receiver) {}
void SlirpBackend::send(std::span<const uint8_t>) {}
std::vector<uint8_t> SlirpBackend::save_state() { return {}; }
Result<void> SlirpBackend::load_state(std::span<const uint8_t>) { return {}; }

}  // namespace vessel
