#include "devices/virtio/console/console.hpp"

namespace vessel::virtio {

namespace {
constexpr std::string_view kVirtioConsoleTag = "virtio-console/1";
}

// The rings are the transport's to save; the device's own state is the host input that the
// driver has not taken yet.
void VirtioConsole::save(StateWriter& out) const {
  out.begin(kVirtioConsoleTag);
  const std::vector<uint8_t> input = queued_input();
  out.put_bytes(input.data(), input.size());
}

Result<void> VirtioConsole::restore(StateReader& in) {
  TRY_VOID(in.expect(kVirtioConsoleTag));
  const std::vector<uint8_t> input = TRY(in.get_bytes(kHostQueueHardLimit));
  set_queued_input(input);
  return {};
}

}  // namespace vessel::virtio
