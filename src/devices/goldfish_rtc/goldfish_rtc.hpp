// Google Goldfish RTC, as Linux's rtc-goldfish driver uses it: time in nanoseconds since the
// Unix epoch (the host's realtime clock plus whatever offset the guest sets), and one alarm.
//
// The alarm needs someone to watch the clock: the VMM calls poll() periodically (at least by
// next_deadline_ns()), which raises the interrupt once the alarm time has passed.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

#include "bus/device.hpp"
#include "devices/irq.hpp"

namespace vessel {

class GoldfishRtc final : public MmioDevice {
 public:
  // Host time source: nanoseconds since the Unix epoch. Tests substitute their own.
  using HostClock = std::function<uint64_t()>;
  static constexpr uint64_t kNoDeadline = ~0ULL;

  enum Reg : uint64_t {
    kTimeLow = 0x00,  // reading latches TIME_HIGH
    kTimeHigh = 0x04,
    kAlarmLow = 0x08,  // writing arms the alarm
    kAlarmHigh = 0x0c,
    kIrqEnabled = 0x10,
    kClearAlarm = 0x14,
    kAlarmStatus = 0x18,
    kClearInterrupt = 0x1c,
    kWindowSize = 0x1000,
  };

  explicit GoldfishRtc(IrqLine irq, HostClock host_now = {});

  std::string_view name() const override { return "goldfish_rtc"; }
  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;
  void add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const override;
  void save(StateWriter& out) const override;
  Result<void> restore(StateReader& in) override;

  // Fire the alarm if its time has come. Thread-safe.
  void poll();
  // Host-clock time (ns since the epoch) at which the armed alarm fires, or kNoDeadline.
  uint64_t next_deadline_ns() const;

  static uint64_t host_realtime_ns();

 private:
  uint64_t guest_now() const { return host_now_() + offset_; }
  void raise_alarm();
  void update_irq();

  IrqLine irq_;
  HostClock host_now_;
  mutable std::mutex mu_;
  uint64_t offset_ = 0;  // guest time minus host time, modulo 2^64
  uint64_t alarm_next_ = 0;
  uint32_t time_high_ = 0;
  bool alarm_running_ = false;
  bool irq_enabled_ = false;
  bool irq_pending_ = false;
};

}  // namespace vessel
