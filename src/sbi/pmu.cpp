// The SBI's performance monitoring extension (PMU, SBI 2.0 chapter 11) over the hart's
// counters: mcycle (counter 0), minstret (counter 2) and the programmable mhpmcounter3..
// (counters 3 and up, rv::Hpm), which count cycles or instructions with the mode filters of
// Sscofpmf and, with it, raise the counter-overflow interrupt that `perf record` samples on.
// Linux's PMU driver (riscv_pmu_sbi) counts with them, and, as it starts on each hart, lets
// user mode read `time` (scounteren.TM). A KVM host on Vessel passes the extension on to its
// guests, whose own driver then does the same for their user mode: without it a nested
// guest's vDSO clock_gettime (rdtime) is an illegal instruction.
// No firmware counters, no snapshot memory, no event info.
#include "cpu/riscv/csr.hpp"
#include "cpu/riscv/hart.hpp"
#include "sbi/sbi.hpp"

#include <algorithm>
#include <optional>
#include <vector>

namespace vessel::sbi {

namespace {

enum PmuFunction : uint64_t {
  kNumCounters = 0,
  kCounterGetInfo = 1,
  kCounterConfigMatching = 2,
  kCounterStart = 3,
  kCounterStop = 4,
};

// counter_config_matching's flags (and its filters: VUINH, VSINH, UINH, SINH, MINH in bits
// 3-7), counter_start's and counter_stop's.
constexpr uint64_t kCfgSkipMatch = 1 << 0, kCfgClearValue = 1 << 1, kCfgAutoStart = 1 << 2;
constexpr unsigned kCfgFilterShift = 3;
constexpr uint64_t kStartSetInitValue = 1 << 0;
constexpr uint64_t kStopReset = 1 << 0;

// Counter index = the counter's CSR offset from cycle (0xc00), as the spec's examples have it;
// index 1 would be time, which is no performance counter.
constexpr unsigned kCounters = rv::Hpm::kFirst + rv::Hpm::kCount;
// (idx is the guest's: range-checked before it is narrowed)
bool programmable(uint64_t idx) {
  return idx < kCounters && rv::Hpm::has(static_cast<unsigned>(idx));
}
bool counts(uint64_t idx) { return idx == 0 || idx == 2 || programmable(idx); }

// Hardware general events (event_idx type 0): the codes are also the mhpmevent selectors.
constexpr uint64_t kEventCpuCycles = 1, kEventInstructions = 2;

uint16_t machine_counter(uint64_t idx) { return static_cast<uint16_t>(rv::kMcycle + idx); }
uint16_t event_csr(uint64_t idx) { return static_cast<uint16_t>(rv::kMhpmevent3 + idx - 3); }

uint64_t csr(rv::Hart& hart, uint16_t number) {
  uint64_t v = 0;
  hart.debug_csr_read(number, v);
  return v;
}

// The counters that (base, mask) names, or none when it names one that does not count.
std::optional<std::vector<uint64_t>> selected(uint64_t base, uint64_t mask) {
  std::vector<uint64_t> out;
  for (unsigned bit = 0; bit < 64 && (mask >> bit) != 0; ++bit) {
    if (((mask >> bit) & 1) == 0) continue;
    const uint64_t idx = base + bit;
    if (idx < base || !counts(idx)) return std::nullopt;
    out.push_back(idx);
  }
  return out;
}

bool running(rv::Hart& hart, uint64_t idx) {
  return ((csr(hart, rv::kMcountinhibit) >> idx) & 1) == 0;
}

void set_running(rv::Hart& hart, uint64_t idx, bool on) {
  uint64_t inhibit = csr(hart, rv::kMcountinhibit);
  inhibit = on ? inhibit & ~(uint64_t{1} << idx) : inhibit | (uint64_t{1} << idx);
  hart.debug_csr_write(rv::kMcountinhibit, inhibit);
}

// A programmable counter is taken while its event selector names an event.
bool free_programmable(rv::Hart& hart, uint64_t idx) {
  return (csr(hart, event_csr(idx)) & ~(rv::Hpm::kOF | rv::Hpm::kFilterBits)) == 0;
}

// Which of `candidates` counts `code`: with Sscofpmf a free programmable counter first (it can
// sample on overflow), else the fixed counter of the event; kCounters when none.
uint64_t match(rv::Hart& hart, const std::vector<uint64_t>& candidates, uint64_t code) {
  const uint64_t fixed = code == kEventCpuCycles ? 0 : 2;
  const bool has_fixed = std::find(candidates.begin(), candidates.end(), fixed) != candidates.end();
  if (has_fixed && !hart.has_sscofpmf()) return fixed;
  for (uint64_t c : candidates) {
    if (programmable(c) && free_programmable(hart, c)) return c;
  }
  return has_fixed ? fixed : kCounters;
}

SbiRet config_matching(rv::Hart& hart, const uint64_t (&a)[6]) {
  const uint64_t base = a[0], mask = a[1], flags = a[2], event = a[3];
  const auto candidates = selected(base, mask);
  if (!candidates || candidates->empty()) return {kErrInvalidParam, 0};
  const uint64_t type = event >> 16, code = event & 0xffff;
  const bool known = type == 0 && (code == kEventCpuCycles || code == kEventInstructions);
  uint64_t idx = candidates->front();
  if ((flags & kCfgSkipMatch) == 0) {
    idx = known ? match(hart, *candidates, code) : kCounters;
    if (idx == kCounters) return {kErrNotSupported, 0};
  }
  if (programmable(idx)) {
    if (!known) return {kErrNotSupported, 0};
    // The filters as asked, M-mode always inhibited (no firmware code runs here), and OF set
    // so that no overflow interrupt comes before the counter starts.
    const uint64_t filters = ((flags >> kCfgFilterShift) & 0x1f) << 58;
    const uint64_t of = (flags & kCfgAutoStart) != 0 ? 0 : rv::Hpm::kOF;
    hart.debug_csr_write(event_csr(idx), code | filters | rv::Hpm::kMINH | of);
  }
  if ((flags & kCfgClearValue) != 0) hart.debug_csr_write(machine_counter(idx), 0);
  if ((flags & kCfgAutoStart) != 0) set_running(hart, idx, true);
  return {kSuccess, idx};
}

SbiRet start(rv::Hart& hart, const uint64_t (&a)[6]) {
  const auto counters = selected(a[0], a[1]);
  if (!counters || counters->empty()) return {kErrInvalidParam, 0};
  for (uint64_t idx : *counters) {
    if (running(hart, idx)) return {kErrAlreadyStarted, 0};
  }
  for (uint64_t idx : *counters) {
    if ((a[2] & kStartSetInitValue) != 0) hart.debug_csr_write(machine_counter(idx), a[3]);
    // Clearing OF arms the overflow interrupt (Sscofpmf).
    if (programmable(idx)) {
      hart.debug_csr_write(event_csr(idx), csr(hart, event_csr(idx)) & ~rv::Hpm::kOF);
    }
    set_running(hart, idx, true);
  }
  return {kSuccess, 0};
}

// Stops every counter named, and with kStopReset frees the programmable ones, even those
// already stopped (as Linux frees a counter it stopped before); reports any of those.
SbiRet stop(rv::Hart& hart, const uint64_t (&a)[6]) {
  const auto counters = selected(a[0], a[1]);
  if (!counters || counters->empty()) return {kErrInvalidParam, 0};
  bool already = false;
  for (uint64_t idx : *counters) {
    already = already || !running(hart, idx);
    set_running(hart, idx, false);
    if ((a[2] & kStopReset) != 0 && programmable(idx)) hart.debug_csr_write(event_csr(idx), 0);
  }
  return already ? SbiRet{kErrAlreadyStopped, 0} : SbiRet{kSuccess, 0};
}

}  // namespace

SbiRet Sbi::pmu(rv::Hart& caller, uint64_t fid, const uint64_t (&a)[6]) {
  switch (fid) {
    case kNumCounters: return {kSuccess, kCounters};
    case kCounterGetInfo:
      if (!counts(a[0])) return {kErrInvalidParam, 0};
      // A hardware counter: its CSR number, and width - 1 = 63.
      return {kSuccess, (rv::kCycle + a[0]) | (uint64_t{63} << 12)};
    case kCounterConfigMatching: return config_matching(caller, a);
    case kCounterStart: return start(caller, a);
    case kCounterStop: return stop(caller, a);
    default: return {kErrNotSupported, 0};  // firmware counters, snapshots, event info
  }
}

}  // namespace vessel::sbi
