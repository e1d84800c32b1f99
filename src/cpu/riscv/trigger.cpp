// Sdtrig's Trigger Module, and the hart's side of it: the trigger CSRs, the rule that keeps
// triggers quiet in trap handlers, and raising the breakpoint.
#include "cpu/riscv/trigger.hpp"

#include <algorithm>
#include <bit>

#include "cpu/riscv/hart.hpp"

namespace vessel::rv {

namespace {
// The mcontrol6 fields a trigger keeps; the rest (dmode, uncertain, vs, vu, hit1, select,
// size, action, uncertainen) are WARL 0: no Debug Mode, no hypervisor, address matches only,
// accesses of any size, and a breakpoint exception as the one action.
constexpr uint64_t kKept = tdata1::kLoad | tdata1::kStore | tdata1::kExecute | tdata1::kU |
                           tdata1::kS | tdata1::kM | tdata1::kChain;
constexpr uint64_t kModes = tdata1::kM | tdata1::kS | tdata1::kU;
// NAPOT ranges up to 2^63 bytes (mcontrol's maskmax, mcontrol6's maskmax6).
constexpr unsigned kMaskmax = 63;

bool is_address_trigger(uint64_t type) {
  return type == tdata1::kTypeMcontrol || type == tdata1::kTypeMcontrol6;
}
}  // namespace

void TriggerModule::reset() {
  triggers_.fill(Trigger{});
  select_ = 0;
  update_watches();
}

uint64_t TriggerModule::tdata1() const {
  const Trigger& t = triggers_[select_];
  uint64_t v = t.type << tdata1::kTypeShift;
  if (t.type == tdata1::kTypeMcontrol6) v |= t.control;
  if (t.type == tdata1::kTypeMcontrol) {
    // mcontrol has its hit bit lower down, and says how large a NAPOT range may be.
    v |= (t.control & ~tdata1::kMcontrol6Hit0) | static_cast<uint64_t>(kMaskmax)
                                                     << tdata1::kMcontrolMaskmaxShift;
    if (t.control & tdata1::kMcontrol6Hit0) v |= tdata1::kMcontrolHit;
  }
  return v;
}

void TriggerModule::write_tdata1(uint64_t value) {
  Trigger& t = triggers_[select_];
  const uint64_t type = value >> tdata1::kTypeShift;
  if (!is_address_trigger(type)) {
    // Writing 0, or a type this module lacks: a trigger that supports several types is
    // disabled as type 15 (the specification's advice, and Spike's choice).
    t.type = tdata1::kTypeDisabled;
    t.control = 0;
  } else {
    t.type = type;
    t.control = value & kKept;
    const uint64_t match = (value & tdata1::kMatch) >> tdata1::kMatchShift;
    if (match <= kLess) t.control |= match << tdata1::kMatchShift;  // others: equal (WARL)
    const uint64_t hit =
        type == tdata1::kTypeMcontrol ? tdata1::kMcontrolHit : tdata1::kMcontrol6Hit0;
    if (value & hit) t.control |= tdata1::kMcontrol6Hit0;
  }
  update_watches();
}

void TriggerModule::write_tdata2(uint64_t value) {
  // Any address is held exactly, as the specification asks of address matches.
  triggers_[select_].tdata2 = value;
  update_watches();
}

uint64_t TriggerModule::tinfo() const {
  return (tinfo::kVersion1 << tinfo::kVersionShift) | (1ULL << tdata1::kTypeMcontrol) |
         (1ULL << tdata1::kTypeMcontrol6) | (1ULL << tdata1::kTypeDisabled);
}

void TriggerModule::update_watches() {
  watch_execute_ = watch_data_ = false;
  for (const Trigger& t : triggers_) {
    if (!is_address_trigger(t.type) || (t.control & kModes) == 0) continue;
    watch_execute_ |= (t.control & tdata1::kExecute) != 0;
    watch_data_ |= (t.control & (tdata1::kLoad | tdata1::kStore)) != 0;
  }
}

void TriggerModule::range(const Trigger& t, uint64_t& lo, uint64_t& hi) {
  const auto match = static_cast<Match>((t.control & tdata1::kMatch) >> tdata1::kMatchShift);
  switch (match) {
    case kEqual: lo = hi = t.tdata2; return;
    case kNapot: {
      // The ones below the lowest 0 and that 0 are ignored: 2^(ones + 1) bytes. Past
      // maskmax, the top bit of the mask counts as 0 (the field is WARL).
      const unsigned ones =
          std::min(static_cast<unsigned>(std::countr_one(t.tdata2)), kMaskmax - 1);
      const uint64_t size_mask = (2ULL << ones) - 1;
      lo = t.tdata2 & ~size_mask;
      hi = lo + size_mask;
      return;
    }
    case kGreaterEqual:
      lo = t.tdata2;
      hi = ~0ULL;
      return;
    case kLess:
      if (t.tdata2 == 0) {  // nothing is below 0: an empty range
        lo = ~0ULL;
        hi = 0;
        return;
      }
      lo = 0;
      hi = t.tdata2 - 1;
      return;
  }
}

bool TriggerModule::matches(const Trigger& t, TriggerOp op, uint64_t va, unsigned size, Priv p) {
  if (!is_address_trigger(t.type)) return false;
  const uint64_t op_bit = op == TriggerOp::kExecute ? tdata1::kExecute
                          : op == TriggerOp::kLoad  ? tdata1::kLoad
                                                    : tdata1::kStore;
  const uint64_t mode_bit = p == Priv::kM ? tdata1::kM : p == Priv::kS ? tdata1::kS : tdata1::kU;
  if ((t.control & op_bit) == 0 || (t.control & mode_bit) == 0) return false;
  uint64_t lo = 0, hi = 0;
  range(t, lo, hi);
  // Every byte accessed is a compare value (the specification recommends it), so a word
  // store covering a watched byte fires as a byte store to it would.
  const uint64_t last = std::max(va, va + (size - 1));
  return lo <= hi && va <= hi && last >= lo;
}

bool TriggerModule::fires(TriggerOp op, uint64_t va, unsigned size, Priv p, uint64_t& tval) {
  bool fired = false;
  bool chain_ok = true;  // every trigger so far in the current chain matched
  unsigned start = 0;    // the current chain's first trigger
  for (unsigned i = 0; i < kCount; ++i) {
    Trigger& t = triggers_[i];
    const bool ok = chain_ok && matches(t, op, va, size, p);
    if (t.control & tdata1::kChain) {
      chain_ok = ok;
      continue;
    }
    if (ok) {
      for (unsigned k = start; k <= i; ++k) triggers_[k].control |= tdata1::kMcontrol6Hit0;
      // tval: the first accessed address the last trigger matched (as QEMU reports it).
      uint64_t lo = 0, hi = 0;
      range(t, lo, hi);
      if (!fired) tval = std::max(va, lo);
      fired = true;
    }
    chain_ok = true;
    start = i + 1;
  }
  return fired;
}

bool TriggerModule::watches_page(uint64_t vpage) const {
  const uint64_t page_last = vpage | 0xfff;
  uint64_t lo = 0, hi = ~0ULL;  // the addresses every trigger of the current chain matches
  bool data = true;             // every trigger of the current chain watches loads or stores
  for (const Trigger& t : triggers_) {
    uint64_t t_lo = 0, t_hi = 0;
    range(t, t_lo, t_hi);
    lo = std::max(lo, t_lo);
    hi = std::min(hi, t_hi);
    data &= is_address_trigger(t.type) && (t.control & (tdata1::kLoad | tdata1::kStore)) != 0;
    if (t.control & tdata1::kChain) continue;
    if (data && lo <= hi && vpage <= hi && page_last >= lo) return true;
    lo = 0;
    hi = ~0ULL;
    data = true;
  }
  return false;
}

// ---- the hart's side ----

bool Hart::trigger_csr_read(uint16_t csr, uint64_t& value) const {
  switch (csr) {
    case kTselect: value = triggers_.tselect(); return true;
    case kTdata1: value = triggers_.tdata1(); return true;
    case kTdata2: value = triggers_.tdata2(); return true;
    case kTdata3: value = 0; return true;  // textra64: no context or ASID matching
    case kTinfo: value = triggers_.tinfo(); return true;
    default: return false;
  }
}

bool Hart::trigger_csr_write(uint16_t csr, uint64_t value) {
  switch (csr) {
    case kTselect: triggers_.write_tselect(value); return true;
    case kTdata1: triggers_.write_tdata1(value); break;
    case kTdata2: triggers_.write_tdata2(value); break;
    case kTdata3:
    case kTinfo: return true;  // tdata3's fields are WARL 0; writing tinfo has no effect
    default: return false;
  }
  // Pages a load or store trigger now watches must leave the soft TLB (both engines' fast
  // paths probe it); execute triggers take effect at the run loop's next turn, since this
  // CSR write ends the block.
  flush_tlb();
  return true;
}

bool Hart::breakpoint_triggers_quiet() const {
  // The first of the specification's two answers to re-entrancy ("Native Triggers"): a trigger
  // with action 0 does not match in M-mode while mstatus.MIE = 0, nor in S-mode while
  // sstatus.SIE = 0 when breakpoints are delegated to S, i.e. not in a trap handler before it
  // has saved xepc. (tcontrol, the other answer, would need medeleg[3] hardwired to 0.)
  if (priv == Priv::kM) return (mstatus_ & mstatus::kMIE) == 0;
  const bool delegated = (medeleg_ >> static_cast<unsigned>(Exception::kBreakpoint)) & 1;
  return priv == Priv::kS && delegated && (mstatus_ & mstatus::kSIE) == 0;
}

bool Hart::trigger_trap(TriggerOp op, uint64_t va, unsigned size) {
  if (breakpoint_triggers_quiet()) return false;
  uint64_t tval = 0;
  if (!triggers_.fires(op, va, size, priv, tval)) return false;
  raise(Exception::kBreakpoint, tval);
  return true;
}

}  // namespace vessel::rv
