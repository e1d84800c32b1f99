#include "devices/virtio/rng/rng.hpp"

namespace vessel::virtio {

namespace {
constexpr std::string_view kVirtioRngTag = "virtio-rng/1";
}

// The device keeps nothing between requests: each one is served from the ring whole, and the
// rings are the transport's to save. The tag still catches a stream meant for another device.
void VirtioRng::save(StateWriter& out) const { out.begin(kVirtioRngTag); }

Result<void> VirtioRng::restore(StateReader& in) {
  TRY_VOID(in.expect(kVirtioRngTag));
  return {};
}

}  // namespace vessel::virtio
