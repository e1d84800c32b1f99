// The SBI's performance monitoring extension (PMU, SBI 2.0 chapter 11) over the hart's two
// counters that count: mcycle (counter 0) and minstret (counter 2). Linux's PMU driver
// (riscv_pmu_sbi) counts cycles and instructions with them for perf stat, and, as it starts
// on each hart, lets user mode read `time` (scounteren.TM). A KVM host on Vessel passes the
// extension on to its guests, whose own driver then does the same for their user mode: without
// it a nested guest's vDSO clock_gettime (rdtime) is an illegal instruction.
// No firmware counters, no overflow interrupts (Sscofpmf), no snapshot memory.
#include "cpu/riscv/csr.hpp"
#include "cpu/riscv/hart.hpp"
#include "sbi/sbi.hpp"

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

// counter_config_matching's flags, and counter_start's.
constexpr uint64_t kCfgSkipMatch = 1 << 0, kCfgClearValue = 1 << 1, kCfgAutoStart = 1 << 2;
constexpr uint64_t kStartSetInitValue = 1 << 0;

// Counter index = the counter's CSR offset from cycle (0xc00), as the spec's examples have it;
// index 1 would be time, which is no performance counter.
constexpr unsigned kCounters = 3;
bool counts(uint64_t idx) { return idx == 0 || idx == 2; }

// Hardware general events (event_idx type 0).
constexpr uint64_t kEventCpuCycles = 1, kEventInstructions = 2;

uint16_t machine_counter(uint64_t idx) {
  return idx == 0 ? rv::kMcycle : rv::kMinstret;
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
  uint64_t inhibit = 0;
  hart.debug_csr_read(rv::kMcountinhibit, inhibit);
  return ((inhibit >> idx) & 1) == 0;
}

void set_running(rv::Hart& hart, uint64_t idx, bool on) {
  uint64_t inhibit = 0;
  hart.debug_csr_read(rv::kMcountinhibit, inhibit);
  inhibit = on ? inhibit & ~(uint64_t{1} << idx) : inhibit | (uint64_t{1} << idx);
  hart.debug_csr_write(rv::kMcountinhibit, inhibit);
}

SbiRet config_matching(rv::Hart& hart, const uint64_t (&a)[6]) {
  const uint64_t base = a[0], mask = a[1], flags = a[2], event = a[3];
  const auto candidates = selected(base, mask);
  if (!candidates || candidates->empty()) return {kErrInvalidParam, 0};
  uint64_t idx = candidates->front();
  if ((flags & kCfgSkipMatch) == 0) {
    const uint64_t type = event >> 16, code = event & 0xffff;
    const uint64_t want = type != 0                      ? kCounters
                          : code == kEventCpuCycles    ? 0
                          : code == kEventInstructions ? 2
                                                       : kCounters;
    bool found = false;
    for (uint64_t c : *candidates) found = found || c == want;
    if (!found) return {kErrNotSupported, 0};
    idx = want;
  }
  if ((flags & kCfgClearValue) != 0) hart.debug_csr_write(machine_counter(idx), 0);
  if ((flags & kCfgAutoStart) != 0) set_running(hart, idx, true);
  return {kSuccess, idx};
}

SbiRet start_or_stop(rv::Hart& hart, bool start, const uint64_t (&a)[6]) {
  const auto counters = selected(a[0], a[1]);
  if (!counters || counters->empty()) return {kErrInvalidParam, 0};
  for (uint64_t idx : *counters) {
    if (running(hart, idx) == start) return {start ? kErrAlreadyStarted : kErrAlreadyStopped, 0};
  }
  for (uint64_t idx : *counters) {
    if (start && (a[2] & kStartSetInitValue) != 0) {
      hart.debug_csr_write(machine_counter(idx), a[3]);
    }
    set_running(hart, idx, start);
  }
  return {kSuccess, 0};
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
    case kCounterStart: return start_or_stop(caller, true, a);
    case kCounterStop: return start_or_stop(caller, false, a);
    default: return {kErrNotSupported, 0};  // firmware counters, snapshots, event info
  }
}

}  // namespace vessel::sbi
