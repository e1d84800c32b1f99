// What the card itself holds across save/restore: its MAC address (the guest has seen it)
// and the features the driver accepted. Queue positions are the transport's; frames waiting
// for receive buffers are not kept, as a network may drop frames at any time.
#include <mutex>

#include "devices/virtio/net/net.hpp"

namespace vessel::virtio {

namespace {
constexpr std::string_view kVirtioNetTag = "virtio-net/1";
}

void VirtioNet::save(StateWriter& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out.begin(kVirtioNetTag);
  out.put_bytes(mac_.data(), mac_.size());
  out.put(features_);
}

Result<void> VirtioNet::restore(StateReader& in) {
  TRY_VOID(in.expect(kVirtioNetTag));
  const auto mac_bytes = TRY(in.get_bytes(6));
  const auto features = TRY(in.get<uint64_t>());
  if (mac_bytes.size() != 6 || (mac_bytes[0] & 1) != 0) {
    return make_error("virtio-net state: bad MAC address");
  }
  const uint64_t offered =
      device_features() | kFeatureVersion1 | kFeatureEventIdx | kFeatureIndirectDesc;
  if ((features & ~offered) != 0) return make_error("virtio-net state: unknown features");
  MacAddress m;
  for (size_t i = 0; i < m.size(); ++i) m[i] = mac_bytes[i];
  std::lock_guard<std::mutex> lock(mu_);
  mac_ = m;
  features_ = features;
  return {};
}

}  // namespace vessel::virtio
