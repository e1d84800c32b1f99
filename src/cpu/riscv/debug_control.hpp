// What an attached debugger (the GDB stub, src/gdb/) asks of the harts of one machine: halt,
// run or step each hart, and stop at software breakpoints and watchpoints. The guest never
// sees any of it: breakpoints are addresses the run loop compares pc with, not ebreaks
// written into guest memory, and watchpoints are ranges it compares loads and stores with.
//
// Threads: the debugger changes breakpoints and watchpoints only while every hart is halted
// (all-stop), so the harts read them without a lock; halting and resuming go through the
// per-hart atomics below, whose release/acquire order publishes those changes.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace vessel::rv {

class DebugControl {
 public:
  enum class Action : uint8_t { kRun, kStep, kHalt };
  enum class Why : uint8_t { kBreakpoint, kStep, kWatchWrite, kWatchRead, kWatchAccess };
  struct Event {
    unsigned hart = 0;
    Why why = Why::kStep;
    uint64_t addr = 0;  // the watched address an access touched
  };
  enum class WatchKind : uint8_t { kWrite = 2, kRead = 3, kAccess = 4 };  // GDB's Z2, Z3, Z4
  struct Watch {
    uint64_t addr = 0, len = 0;
    WatchKind kind = WatchKind::kWrite;
  };

  explicit DebugControl(unsigned num_harts)
      : actions_(std::make_unique<std::atomic<Action>[]>(num_harts)),
        halted_(std::make_unique<std::atomic<bool>[]>(num_harts)),
        num_harts_(num_harts) {
    for (unsigned i = 0; i < num_harts; ++i) actions_[i].store(Action::kRun);
  }

  // --- the debugger's side ---
  unsigned num_harts() const { return num_harts_; }
  // Wakes every hart (VirtMachine::kick_all): a hart that halts the others calls it too.
  void set_kick(std::function<void()> kick) { kick_ = std::move(kick); }
  void set_action(unsigned hart, Action a) { actions_[hart].store(a, std::memory_order_release); }
  // Every hart stops at its next instruction boundary; is_halted() says when it has.
  void halt_all() {
    for (unsigned i = 0; i < num_harts_; ++i) set_action(i, Action::kHalt);
    if (kick_) kick_();
  }
  bool is_halted(unsigned hart) const { return halted_[hart].load(std::memory_order_acquire); }
  // The first stop a hart reported since the last resume, once.
  std::optional<Event> take_event() {
    std::lock_guard<std::mutex> lock(mu_);
    std::optional<Event> e = event_;
    event_.reset();
    return e;
  }
  // While every hart is halted.
  std::vector<uint64_t>& breakpoints() { return breakpoints_; }
  std::vector<Watch>& watches() { return watches_; }
  // After changing breakpoints or watches: whether the harts must look before each
  // instruction.
  void update_watching() {
    watching_.store(!breakpoints_.empty() || !watches_.empty(), std::memory_order_release);
  }

  // --- the harts' side ---
  Action action(unsigned hart) const { return actions_[hart].load(std::memory_order_acquire); }
  // The hart runs one instruction at a time through Hart::run_debugged.
  bool one_at_a_time(unsigned hart) const {
    return watching_.load(std::memory_order_acquire) || action(hart) == Action::kStep;
  }
  bool breakpoint_at(uint64_t pc) const {
    return std::find(breakpoints_.begin(), breakpoints_.end(), pc) != breakpoints_.end();
  }
  // The watch an access of [addr, addr+len) hits, if any.
  const Watch* watch_hit(uint64_t addr, uint64_t len, bool load, bool store) const {
    for (const Watch& w : watches_) {
      const bool kind = w.kind == WatchKind::kAccess || (w.kind == WatchKind::kRead && load) ||
                        (w.kind == WatchKind::kWrite && store);
      if (kind && addr < w.addr + w.len && w.addr < addr + len) return &w;
    }
    return nullptr;
  }
  void set_halted(unsigned hart, bool halted) {
    halted_[hart].store(halted, std::memory_order_release);
  }
  // A hart stopped (breakpoint, step, watchpoint): the first report since the last resume is
  // kept for the debugger, and every hart halts.
  void report(const Event& e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!event_) event_ = e;
    }
    halt_all();
  }

 private:
  std::unique_ptr<std::atomic<Action>[]> actions_;
  std::unique_ptr<std::atomic<bool>[]> halted_;
  unsigned num_harts_;
  std::function<void()> kick_;
  std::atomic<bool> watching_{false};
  std::vector<uint64_t> breakpoints_;
  std::vector<Watch> watches_;
  std::mutex mu_;
  std::optional<Event> event_;  // under mu_
};

}  // namespace vessel::rv
