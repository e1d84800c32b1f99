#include "devices/virtio/balloon/balloon.hpp"

namespace vessel::virtio {

namespace {
constexpr std::string_view kVirtioBalloonTag = "virtio-balloon/1";
}

// The target, what the driver reported holding, the stats interval, and the driver's stats
// buffer if the device is keeping it (so that the driver's next report is asked for, not lost).
void VirtioBalloon::save(StateWriter& out) const {
  out.begin(kVirtioBalloonTag);
  out.put<uint32_t>(target_.load());
  out.put<uint32_t>(actual_.load());
  out.put<int64_t>(interval_s_.load());
  out.put<uint8_t>(shared_->held_stats ? 1 : 0);
  out.put<uint16_t>(shared_->held_stats.value_or(0));
}

Result<void> VirtioBalloon::restore(StateReader& in) {
  TRY_VOID(in.expect(kVirtioBalloonTag));
  const uint32_t target = TRY(in.get<uint32_t>());
  const uint32_t actual = TRY(in.get<uint32_t>());
  const int64_t interval = TRY(in.get<int64_t>());
  const uint8_t held = TRY(in.get<uint8_t>());
  const uint16_t head = TRY(in.get<uint16_t>());
  if (held > 1 || interval < 0 || interval > 86400) return make_error("virtio-balloon: bad state");
  target_.store(target);
  actual_.store(actual);
  interval_s_.store(options_.stats_interval.count() > 0 ? interval : 0);
  if (held != 0) shared_->held_stats = head;
  return {};
}

}  // namespace vessel::virtio
