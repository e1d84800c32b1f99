#include "devices/goldfish_rtc/goldfish_rtc.hpp"

namespace vessel {

namespace {
constexpr std::string_view kGoldfishRtcTag = "goldfish_rtc/1";
}

// The offset from host time is saved rather than the time itself, so that a restored guest's
// clock keeps tracking wall time instead of resuming at the moment of the save.
void GoldfishRtc::save(StateWriter& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out.begin(kGoldfishRtcTag);
  out.put(offset_);
  out.put(alarm_next_);
  out.put(time_high_);
  out.put(static_cast<uint8_t>(alarm_running_));
  out.put(static_cast<uint8_t>(irq_enabled_));
  out.put(static_cast<uint8_t>(irq_pending_));
}

Result<void> GoldfishRtc::restore(StateReader& in) {
  TRY_VOID(in.expect(kGoldfishRtcTag));
  const auto offset = TRY(in.get<uint64_t>());
  const auto alarm_next = TRY(in.get<uint64_t>());
  const auto time_high = TRY(in.get<uint32_t>());
  const auto alarm_running = TRY(in.get<uint8_t>());
  const auto irq_enabled = TRY(in.get<uint8_t>());
  const auto irq_pending = TRY(in.get<uint8_t>());
  if (alarm_running > 1 || irq_enabled > 1 || irq_pending > 1) {
    return make_error("goldfish_rtc state: flag out of range");
  }
  std::lock_guard<std::mutex> lock(mu_);
  offset_ = offset;
  alarm_next_ = alarm_next;
  time_high_ = time_high;
  alarm_running_ = alarm_running != 0;
  irq_enabled_ = irq_enabled != 0;
  irq_pending_ = irq_pending != 0;
  update_irq();
  return {};
}

}  // namespace vessel
