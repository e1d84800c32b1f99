// The machine's time base: mtime ticks at 10 MHz (QEMU virt's timebase-frequency), derived
// from the host's monotonic clock so guest time keeps pace with wall time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace vessel {

class MachineClock {
 public:
  static constexpr uint64_t kFrequencyHz = 10'000'000;

  MachineClock() : start_(std::chrono::steady_clock::now()) {}

  uint64_t mtime() const {
    if (frozen_.load(std::memory_order_acquire)) [[unlikely]] {
      return frozen_value_.load(std::memory_order_relaxed);
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start_)
                        .count();
    return static_cast<uint64_t>(ns) / 100 + offset_.load(std::memory_order_relaxed);
  }
  // mtime is writable on the CLINT; a write moves the offset. Atomic because a hart may write
  // mtime while others read it.
  void set_mtime(uint64_t value) { offset_.fetch_add(value - mtime(), std::memory_order_relaxed); }

  // A paused VM's time stands still: mtime keeps the value it had at freeze() until thaw(),
  // and then goes on from there.
  void freeze() { freeze_at(mtime()); }
  // Stand still at `value` (tests that need the same time on two machines, run after run).
  void freeze_at(uint64_t value) {
    frozen_value_.store(value, std::memory_order_relaxed);
    frozen_.store(true, std::memory_order_release);
  }
  void thaw() {
    const uint64_t value = frozen_value_.load(std::memory_order_relaxed);
    frozen_.store(false, std::memory_order_release);
    set_mtime(value);
  }

  // Host time point at which mtime reaches `ticks` (for sleeping in WFI).
  std::chrono::steady_clock::time_point when(uint64_t ticks) const {
    const uint64_t now = mtime();
    const uint64_t delta = ticks > now ? ticks - now : 0;
    // Cap the sleep so that a far-future compare value cannot overflow the time point.
    const uint64_t capped = delta > 10'000'000'000ULL ? 10'000'000'000ULL : delta;
    return std::chrono::steady_clock::now() + std::chrono::nanoseconds(capped * 100);
  }

 private:
  std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> offset_{0};
  std::atomic<bool> frozen_{false};
  std::atomic<uint64_t> frozen_value_{0};
};

}  // namespace vessel
