#include "devices/goldfish_rtc/goldfish_rtc.hpp"

#include <chrono>
#include <utility>

#include "base/bits.hpp"
#include "bus/fdt.hpp"

namespace vessel {

namespace {
uint64_t with_low(uint64_t x, uint64_t v) { return (x & ~kLow32) | (v & kLow32); }
uint64_t with_high(uint64_t x, uint64_t v) { return (x & kLow32) | ((v & kLow32) << 32); }
}  // namespace

uint64_t GoldfishRtc::host_realtime_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

GoldfishRtc::GoldfishRtc(IrqLine irq, HostClock host_now)
    : irq_(irq), host_now_(host_now ? std::move(host_now) : HostClock(&host_realtime_ns)) {}

void GoldfishRtc::raise_alarm() {
  alarm_running_ = false;
  irq_pending_ = true;
  update_irq();
}

void GoldfishRtc::update_irq() { irq_.set(irq_pending_ && irq_enabled_); }

bool GoldfishRtc::read(uint64_t offset, unsigned size, uint64_t& value) {
  value = 0;
  if (size != 4 || offset % 4 != 0 || offset >= kWindowSize) return false;
  std::lock_guard<std::mutex> lock(mu_);
  switch (offset) {
    case kTimeLow: {
      // The driver reads TIME_LOW then TIME_HIGH; latching keeps the pair consistent.
      const uint64_t now = guest_now();
      time_high_ = static_cast<uint32_t>(now >> 32);
      value = now & kLow32;
      break;
    }
    case kTimeHigh: value = time_high_; break;
    case kAlarmLow: value = alarm_next_ & kLow32; break;
    case kAlarmHigh: value = alarm_next_ >> 32; break;
    case kIrqEnabled: value = irq_enabled_ ? 1 : 0; break;
    case kAlarmStatus: value = alarm_running_ ? 1 : 0; break;
    default: break;
  }
  return true;
}

bool GoldfishRtc::write(uint64_t offset, unsigned size, uint64_t value) {
  if (size != 4 || offset % 4 != 0 || offset >= kWindowSize) return false;
  std::lock_guard<std::mutex> lock(mu_);
  switch (offset) {
    case kTimeLow:
    case kTimeHigh: {
      const uint64_t now = guest_now();
      const uint64_t wanted = offset == kTimeLow ? with_low(now, value) : with_high(now, value);
      offset_ += wanted - now;
      break;
    }
    case kAlarmLow:
      alarm_next_ = with_low(alarm_next_, value);
      if (alarm_next_ <= guest_now()) {
        raise_alarm();
      } else {
        alarm_running_ = true;
      }
      break;
    case kAlarmHigh: alarm_next_ = with_high(alarm_next_, value); break;
    case kIrqEnabled:
      irq_enabled_ = (value & 1) != 0;
      update_irq();
      break;
    case kClearAlarm: alarm_running_ = false; break;
    case kClearInterrupt:
      irq_pending_ = false;
      update_irq();
      break;
    default: break;
  }
  return true;
}

void GoldfishRtc::poll() {
  std::lock_guard<std::mutex> lock(mu_);
  if (alarm_running_ && alarm_next_ <= guest_now()) raise_alarm();
}

uint64_t GoldfishRtc::next_deadline_ns() const {
  std::lock_guard<std::mutex> lock(mu_);
  return alarm_running_ ? alarm_next_ - offset_ : kNoDeadline;
}

void GoldfishRtc::add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const {
  fdt.begin_node(node_name("rtc", ctx.base));
  fdt.prop_string("compatible", "google,goldfish-rtc");
  fdt.prop_reg(ctx.base, ctx.size);
  fdt.prop_u32("interrupts", ctx.irq);
  fdt.prop_u32("interrupt-parent", ctx.plic_phandle);
  fdt.end_node();
}

}  // namespace vessel
