// Sdtrig (RISC-V Debug Specification 1.0, "Sdtrig"): the Trigger Module behind tselect,
// tdata1-3 and tinfo. Four address triggers, each an mcontrol6 (type 6) or, for older
// debuggers, an mcontrol (type 2), matching the pc of an instruction about to execute or
// the virtual address of a load or store. Their only action is 0, a breakpoint exception:
// there is no Debug Mode to enter (no Sdext), so dmode and action 1 are WARL 0.
#pragma once

#include <array>
#include <cstdint>

#include "base/result.hpp"
#include "base/state.hpp"
#include "cpu/riscv/csr.hpp"

namespace vessel::rv {

namespace tdata1 {
inline constexpr unsigned kTypeShift = 60;
inline constexpr uint64_t kTypeNone = 0, kTypeMcontrol = 2, kTypeMcontrol6 = 6, kTypeDisabled = 15;
// Fields at the same place in mcontrol and mcontrol6.
inline constexpr uint64_t kLoad = 1ULL << 0;
inline constexpr uint64_t kStore = 1ULL << 1;
inline constexpr uint64_t kExecute = 1ULL << 2;
inline constexpr uint64_t kU = 1ULL << 3;
inline constexpr uint64_t kS = 1ULL << 4;
inline constexpr uint64_t kM = 1ULL << 6;
inline constexpr unsigned kMatchShift = 7;
inline constexpr uint64_t kMatch = 0xfULL << kMatchShift;
inline constexpr uint64_t kChain = 1ULL << 11;
inline constexpr uint64_t kAction = 0xfULL << 12;
inline constexpr uint64_t kMcontrolHit = 1ULL << 20;
inline constexpr unsigned kMcontrolMaskmaxShift = 53;
inline constexpr uint64_t kMcontrol6Hit0 = 1ULL << 22;
}  // namespace tdata1

namespace tinfo {
inline constexpr unsigned kVersionShift = 24;
inline constexpr uint64_t kVersion1 = 1;  // the ratified Sdtrig 1.0
}  // namespace tinfo

// What an access does, for matching.
enum class TriggerOp : uint8_t { kExecute, kLoad, kStore };

class TriggerModule {
 public:
  static constexpr unsigned kCount = 4;
  // match values (mcontrol6.match); the others (masks, negations) are WARL to equal.
  enum Match : uint8_t { kEqual = 0, kNapot = 1, kGreaterEqual = 2, kLess = 3 };

  TriggerModule() { reset(); }
  void reset();

  // The CSRs, from M-mode (the hart checks privilege and whether Sdtrig is on).
  uint64_t tselect() const { return select_; }
  // WARL: an index past the last trigger keeps the old one, so a debugger's read-back stops
  // its enumeration there.
  void write_tselect(uint64_t value) {
    if (value < kCount) select_ = static_cast<unsigned>(value);
  }
  uint64_t tdata1() const;
  void write_tdata1(uint64_t value);
  uint64_t tdata2() const { return triggers_[select_].tdata2; }
  void write_tdata2(uint64_t value);
  uint64_t tinfo() const;

  // Whether some trigger can fire on instruction execution at all.
  bool watches_execute() const { return watch_execute_; }
  // Whether some trigger can fire on loads or stores at all.
  bool watches_data() const { return watch_data_; }
  // Whether an access of some bytes of the page at `vpage` could make a load or store
  // trigger (or chain) fire: such pages stay out of the soft TLB, so that every access to
  // them reaches the hart's slow path, where the triggers are matched.
  bool watches_page(uint64_t vpage) const;

  // Whether an access `op` of `size` bytes at `va` in privilege `p` makes a trigger (the
  // last of a chain whose triggers all match) fire; sets the chain's hit bits when it does,
  // and `tval` to the first accessed address that matched. The caller has already applied
  // the rule that keeps triggers quiet in trap handlers.
  bool fires(TriggerOp op, uint64_t va, unsigned size, Priv p, uint64_t& tval);

  // Snapshots (hart_save.cpp): restore passes every trigger through the tdata writes' WARL
  // rules and refuses one that comes out different.
  void save(StateWriter& out) const;
  Result<void> restore(StateReader& in);

 private:
  struct Trigger {
    uint64_t type = tdata1::kTypeDisabled;
    // The fields of mcontrol/mcontrol6 this module implements, at their mcontrol6 places
    // (load, store, execute, u, s, m, match, chain, hit0).
    uint64_t control = 0;
    uint64_t tdata2 = 0;
  };
  // The addresses [lo, hi] (inclusive) whose access makes trigger t match; empty when lo > hi.
  static void range(const Trigger& t, uint64_t& lo, uint64_t& hi);
  static bool matches(const Trigger& t, TriggerOp op, uint64_t va, unsigned size, Priv p);
  void update_watches();

  std::array<Trigger, kCount> triggers_{};
  unsigned select_ = 0;
  bool watch_execute_ = false;
  bool watch_data_ = false;
};

}  // namespace vessel::rv
