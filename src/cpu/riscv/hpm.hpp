// The programmable performance counters mhpmcounter3.. and their event selectors mhpmevent3..
// (Zihpm, with Sscofpmf's overflow and mode-filter bits). The events are the two this hart
// counts exactly in both engines: cycles and instructions retired (one cycle per instruction,
// as mcycle). Every counter is kept as instret plus an offset while it counts and as a frozen
// value while it does not, so reading one costs nothing on the instruction path: the hart
// only tells this unit when counting may start or stop (a privilege change, a write of
// mcountinhibit or an event selector) and asks it when the next overflow is due.
#pragma once

#include <array>
#include <cstdint>

namespace vessel::rv {

class Hpm {
 public:
  static constexpr unsigned kFirst = 3;  // mhpmcounter3
  static constexpr unsigned kCount = 8;  // mhpmcounter3..10; 11..31 are hardwired to zero
  // Event selectors: the SBI PMU's event_idx for the hardware general events, which is what
  // OpenSBI writes to mhpmevent when the device tree names no other encoding.
  static constexpr uint64_t kEventNone = 0, kEventCycles = 1, kEventInstructions = 2;
  // Sscofpmf's bits of mhpmevent: OF (overflowed; no new interrupt while set) and the inhibits
  // for M, S (HS), U, VS and VU.
  static constexpr uint64_t kOF = 1ULL << 63, kMINH = 1ULL << 62, kSINH = 1ULL << 61,
                            kUINH = 1ULL << 60, kVSINH = 1ULL << 59, kVUINH = 1ULL << 58;
  static constexpr uint64_t kFilterBits = kMINH | kSINH | kUINH | kVSINH | kVUINH;

  static bool has(unsigned n) { return n >= kFirst && n < kFirst + kCount; }

  // With Sscofpmf off, mhpmevent has no OF or inhibit bits and no overflow interrupts.
  void set_sscofpmf(bool on) { sscofpmf_ = on; }
  void reset();

  // Counter n's value with `instret` instructions retired.
  uint64_t counter(unsigned n, uint64_t instret) const;
  // A CSR write of counter n by the instruction at `instret`, which then retires: the next
  // read sees v + 1 if the counter counts it (as mcycle and minstret do here).
  void write_counter(unsigned n, uint64_t v, uint64_t instret);
  uint64_t event(unsigned n) const { return counters_[n - kFirst].event; }
  void write_event(unsigned n, uint64_t v);

  // Counting starts and stops at instruction boundaries: `at` is the instret from which the
  // new state holds; `inhibit_bit` is the mhpmevent bit that inhibits counting in the mode
  // the hart is in from then on, and `countinhibit` mcountinhibit.
  void sync(uint64_t at, uint64_t inhibit_bit, uint32_t countinhibit);

  // The instret at which the earliest running counter wraps to zero (~0: none).
  uint64_t deadline() const { return deadline_; }
  // Marks the counters that wrapped by `instret` as overflowed (OF); true when one of them
  // had OF clear, i.e. a local counter-overflow interrupt is to be raised.
  bool take_overflows(uint64_t instret);
  // OF of counter n at bit n, for scountovf.
  uint32_t overflow_bits() const;

  // Snapshots: counter n as saved (its event selector and value), stopped until the next sync.
  void restore_counter(unsigned n, uint64_t event, uint64_t value);

 private:
  struct Counter {
    uint64_t event = kEventNone;
    uint64_t offset = 0;  // while running: value = instret + offset
    uint64_t frozen = 0;  // while not running: the value
    uint64_t wrap_at = ~0ULL;
    bool running = false;
  };
  bool counts(const Counter& c, unsigned n) const;
  void start(Counter& c, uint64_t at);
  void recompute_deadline();

  std::array<Counter, kCount> counters_{};
  uint64_t deadline_ = ~0ULL;
  uint64_t inhibit_bit_ = kMINH;
  uint32_t countinhibit_ = 0;
  bool sscofpmf_ = true;
};

}  // namespace vessel::rv
