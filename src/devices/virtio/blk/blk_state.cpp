// Snapshot state of virtio-blk: the negotiated features and the identity of the disk. The
// queues belong to the transport; requests in flight are not saved (quiesce() first).
#include <fmt/format.h>

#include "base/log.hpp"
#include "devices/virtio/blk/blk.hpp"

namespace vessel::virtio {

namespace {
constexpr std::string_view kVirtioBlkTag = "virtio-blk/1";
// Device-specific feature bits are 0..23; the rest belong to the transport.
constexpr uint64_t kDeviceFeatureMask = (1ULL << 24) - 1;
}  // namespace

void VirtioBlk::save(StateWriter& out) const {
  out.begin(kVirtioBlkTag);
  out.put<uint64_t>(capacity_);
  out.put<uint8_t>(read_only_ ? 1 : 0);
  out.put<uint64_t>(negotiated_.load());
  out.put_bytes(serial_.data(), serial_.size());
}

Result<void> VirtioBlk::restore(StateReader& in) {
  TRY_VOID(in.expect(kVirtioBlkTag));
  const auto capacity = TRY(in.get<uint64_t>());
  const auto read_only = TRY(in.get<uint8_t>());
  const auto features = TRY(in.get<uint64_t>());
  const auto serial = TRY(in.get_bytes(kIdBytes));
  if (capacity != capacity_) {
    return make_error(
        fmt::format("virtio-blk state: the disk has {} sectors, the snapshot was taken with {}",
                    capacity_, capacity));
  }
  if (read_only > 1 || (read_only != 0) != read_only_) {
    return make_error("virtio-blk state: the disk's read-only setting differs from the snapshot");
  }
  if ((features & kDeviceFeatureMask & ~device_features()) != 0) {
    return make_error(fmt::format("virtio-blk state: features {:#x} were never offered", features));
  }
  negotiated_.store(features);
  serial_.assign(serial.begin(), serial.end());
  return {};
}

}  // namespace vessel::virtio
