// The programmable performance counters (hpm.hpp).
#include "cpu/riscv/hpm.hpp"

#include <algorithm>

namespace vessel::rv {

void Hpm::reset() {
  counters_.fill(Counter{});
  deadline_ = ~0ULL;
  inhibit_bit_ = kMINH;
  countinhibit_ = 0;
}

uint64_t Hpm::counter(unsigned n, uint64_t instret) const {
  const Counter& c = counters_[n - kFirst];
  return c.running ? instret + c.offset : c.frozen;
}

bool Hpm::counts(const Counter& c, unsigned n) const {
  const uint64_t selector = c.event & ~(kOF | kFilterBits);
  if (selector != kEventCycles && selector != kEventInstructions) return false;
  if ((countinhibit_ >> n) & 1) return false;
  return (c.event & inhibit_bit_) == 0;
}

// A counter that holds `frozen` starts counting at instret `at`. It wraps when instret + offset
// reaches 2^64, i.e. at instret -offset; a counter at zero now is 2^64 events from its wrap.
void Hpm::start(Counter& c, uint64_t at) {
  c.offset = c.frozen - at;
  const uint64_t wrap = 0 - c.offset;
  c.wrap_at = wrap > at ? wrap : ~0ULL;
  c.running = true;
}

void Hpm::write_counter(unsigned n, uint64_t v, uint64_t instret) {
  Counter& c = counters_[n - kFirst];
  if (c.running) {
    // The writing instruction counts: it holds v once it retires, at instret + 1.
    c.frozen = v;
    start(c, instret + 1);
  } else {
    c.frozen = v;
  }
  recompute_deadline();
}

void Hpm::write_event(unsigned n, uint64_t v) {
  // The selector is WARL: an event this hart does not count reads back as none.
  const uint64_t selector = v & ~(kOF | kFilterBits);
  const uint64_t legal =
      selector == kEventCycles || selector == kEventInstructions ? selector : kEventNone;
  counters_[n - kFirst].event = legal | (sscofpmf_ ? v & (kOF | kFilterBits) : 0);
}

void Hpm::sync(uint64_t at, uint64_t inhibit_bit, uint32_t countinhibit) {
  inhibit_bit_ = inhibit_bit;
  countinhibit_ = countinhibit;
  for (unsigned i = 0; i < kCount; ++i) {
    Counter& c = counters_[i];
    const bool on = counts(c, kFirst + i);
    if (on && !c.running) {
      start(c, at);
    } else if (!on && c.running) {
      c.frozen = at + c.offset;
      c.running = false;
      c.wrap_at = ~0ULL;
    }
  }
  recompute_deadline();
}

bool Hpm::take_overflows(uint64_t instret) {
  bool raise = false;
  for (Counter& c : counters_) {
    if (!c.running || c.wrap_at > instret) continue;
    // The next wrap is 2^64 events away.
    c.wrap_at = ~0ULL;
    if ((c.event & kOF) == 0) {
      c.event |= kOF;
      raise = true;
    }
  }
  recompute_deadline();
  return raise;
}

uint32_t Hpm::overflow_bits() const {
  uint32_t bits = 0;
  for (unsigned i = 0; i < kCount; ++i) {
    if (counters_[i].event & kOF) bits |= 1U << (kFirst + i);
  }
  return bits;
}

void Hpm::restore_counter(unsigned n, uint64_t event, uint64_t value) {
  write_event(n, event);
  Counter& c = counters_[n - kFirst];
  c.frozen = value;
  c.running = false;
  c.wrap_at = ~0ULL;
}

void Hpm::recompute_deadline() {
  deadline_ = ~0ULL;
  if (!sscofpmf_) return;  // without Sscofpmf nothing is signalled when a counter wraps
  for (const Counter& c : counters_) {
    if (c.running) deadline_ = std::min(deadline_, c.wrap_at);
  }
}

}  // namespace vessel::rv
