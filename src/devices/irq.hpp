// Interrupt wiring between devices and harts.
//
// Devices never see a Hart. A level-triggered source (UART, RTC, virtio) drives an IrqLine into
// the PLIC; the PLIC and CLINT drive the per-hart HartIrq, which the hart samples at block
// boundaries. MTIP is not stored anywhere: the hart derives it from mtime >= mtimecmp.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace vessel {

// mip bit numbers (privileged spec, "Machine Interrupt Registers").
enum class InterruptBit : unsigned {
  kSSIP = 1,
  kMSIP = 3,
  kSTIP = 5,
  kMTIP = 7,
  kSEIP = 9,
  kMEIP = 11,
};

// What the platform (CLINT, PLIC) asserts for one hart. Written by device code on any thread.
class HartIrq {
 public:
  static constexpr uint64_t kNoDeadline = ~0ULL;

  void set(InterruptBit b, bool level) {
    const uint64_t m = 1ULL << static_cast<unsigned>(b);
    if (level) {
      pending_.fetch_or(m, std::memory_order_acq_rel);
    } else {
      pending_.fetch_and(~m, std::memory_order_acq_rel);
    }
    kick();
  }
  uint64_t pending() const { return pending_.load(std::memory_order_acquire); }

  // mtimecmp lives here so that the hart can derive MTIP without calling into the CLINT.
  void set_mtimecmp(uint64_t v) {
    mtimecmp_.store(v, std::memory_order_release);
    kick();
  }
  uint64_t mtimecmp() const { return mtimecmp_.load(std::memory_order_acquire); }

  // Wake a hart that sleeps in WFI (or ask a running one to look at its interrupts soon).
  void kick() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      kicked_ = true;
    }
    attention_.store(true, std::memory_order_seq_cst);
    poll_limit_.store(0, std::memory_order_seq_cst);
    cv_.notify_all();
  }
  // Set by kick(); the hart polls it cheaply on its fast path and clears it when it looks.
  bool has_attention() const { return attention_.load(std::memory_order_relaxed); }
  bool take_attention() { return attention_.exchange(false, std::memory_order_acq_rel); }

  // The instret at which translated code must come back to the run loop: what the hart armed,
  // or 0 once it is kicked, so that one compare at each block entry sees both. A kick racing
  // with arm_poll() is never lost: either arm_poll() sees the attention flag, or the kick's
  // store of 0 lands after arm_poll()'s (both sides are sequentially consistent).
  void arm_poll(uint64_t at) {
    poll_limit_.store(at, std::memory_order_seq_cst);
    if (attention_.load(std::memory_order_seq_cst)) poll_limit_.store(0, std::memory_order_relaxed);
  }
  const std::atomic<uint64_t>* poll_limit() const { return &poll_limit_; }

  // Sleep until kicked or until `deadline`; returns early if a kick is already outstanding.
  void wait_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return kicked_; });
    kicked_ = false;
  }

 private:
  std::atomic<uint64_t> pending_{0};
  std::atomic<uint64_t> mtimecmp_{kNoDeadline};
  std::atomic<bool> attention_{false};
  std::atomic<uint64_t> poll_limit_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool kicked_ = false;
};

// Anything that accepts numbered level-triggered interrupt sources (the PLIC).
class InterruptController {
 public:
  virtual ~InterruptController() = default;
  virtual void set_irq(unsigned source, bool level) = 0;
};

// One wire from a device to a controller input. A default-constructed line goes nowhere,
// which keeps device unit tests free of a PLIC.
class IrqLine {
 public:
  IrqLine() = default;
  IrqLine(InterruptController* controller, unsigned source)
      : controller_(controller), source_(source) {}
  void set(bool level) const {
    if (controller_ != nullptr) controller_->set_irq(source_, level);
  }
  unsigned source() const { return source_; }

 private:
  InterruptController* controller_ = nullptr;
  unsigned source_ = 0;
};

}  // namespace vessel
