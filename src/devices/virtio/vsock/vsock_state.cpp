#include "devices/virtio/vsock/vsock.hpp"

namespace vessel::virtio {

namespace {
constexpr std::string_view kVirtioVsockTag = "virtio-vsock/1";
}

// The guest CID is the configuration's. Connections are host sockets and are not saved: a
// restored guest finds its connections reset (as after Firecracker's snapshot restore).
void VirtioVsock::save(StateWriter& out) const {
  out.begin(kVirtioVsockTag);
  out.put<uint64_t>(config_.guest_cid);
}

Result<void> VirtioVsock::restore(StateReader& in) {
  TRY_VOID(in.expect(kVirtioVsockTag));
  const uint64_t cid = TRY(in.get<uint64_t>());
  if (cid != config_.guest_cid) {
    return make_error("virtio-vsock: the saved guest CID is not this VM's");
  }
  return {};
}

}  // namespace vessel::virtio
