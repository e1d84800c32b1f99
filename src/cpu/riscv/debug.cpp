// The hart under a debugger (DebugControl): halting at instruction boundaries, one
// instruction at a time while breakpoints or watchpoints are set or a step is asked for, and
// the debugger's access to CSRs and the privilege level while halted.
#include <thread>

#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/hart.hpp"

namespace vessel::rv {

namespace {
// A halted hart still looks at remote requests and the stop flag this often.
constexpr auto kHaltedWake = std::chrono::milliseconds(100);
}  // namespace

bool Hart::debug_wait(const std::atomic<bool>& stop) {
  debug_->set_halted(hart_id_, true);
  while (debug_->action(hart_id_) == DebugControl::Action::kHalt &&
         !stop.load(std::memory_order_acquire)) {
    irq_.take_attention();
    handle_requests();  // a hart the debugger steps may be waiting for a remote fence here
    irq_.wait_until(std::chrono::steady_clock::now() + kHaltedWake);
  }
  debug_->set_halted(hart_id_, false);
  return !stop.load(std::memory_order_acquire);
}

bool Hart::run_debugged(bool& check_interrupts, uint64_t& next_poll) {
  const DebugControl::Action action = debug_->action(hart_id_);
  if (action == DebugControl::Action::kHalt) return true;  // the run loop's next look halts
  // A breakpoint at the pc a hart resumes at stops it at once, as a breakpoint instruction
  // would: GDB steps a thread it knows is on one over it itself. Skipping it here lost stops:
  // a hart halted by another's stop one instruction past where GDB last saw it can resume on
  // the breakpoint of GDB's software single-step, which it then ran past (e2e_gdb's stepi
  // of hart 0 hung while both harts booted).
  if (action == DebugControl::Action::kRun && debug_->breakpoint_at(pc)) {
    debug_->report({hart_id_, DebugControl::Why::kBreakpoint, 0});
    return true;
  }
  if (code_.has_pending()) code_.apply_pending();  // the debugger may have written code
  ExecStatus s = ExecStatus::kTrap;
  const DebugControl::Watch* hit = nullptr;
  uint64_t hit_addr = 0;
  uint32_t raw = 0;
  if (!execute_trigger_trap() && fetch_insn(raw)) {
    const DecodedInsn d = decode_memo_.decode(raw, extensions_);
    if (const unsigned width = mem_width(d.op); width != 0) {
      hit_addr = x[d.rs1] + static_cast<uint64_t>(d.imm);
      hit = debug_->watch_hit(hit_addr, width, is_load(d.op), is_store(d.op));
    }
    s = exec_decoded(d);
  }
  if (s == ExecStatus::kTrap) {
    if (trap_loop()) return false;
    hit = nullptr;  // the access did not happen
  } else if (s == ExecStatus::kBreak) {
    after_break(check_interrupts, next_poll);
  }
  if (hit != nullptr) {
    static constexpr DebugControl::Why kWhy[] = {DebugControl::Why::kWatchWrite,
                                                 DebugControl::Why::kWatchRead,
                                                 DebugControl::Why::kWatchAccess};
    const auto kind = static_cast<unsigned>(hit->kind) - 2;
    debug_->report({hart_id_, kWhy[kind], std::max(hit_addr, hit->addr)});
  } else if (action == DebugControl::Action::kStep) {
    debug_->report({hart_id_, DebugControl::Why::kStep, 0});
  }
  return true;
}

bool Hart::debug_csr_read(uint16_t csr, uint64_t& value) {
  switch (csr) {  // readable whatever mstatus.FS says
    case kFflags: value = fflags; return true;
    case kFrm: value = frm; return true;
    case kFcsr: value = static_cast<uint64_t>(frm) << 5 | fflags; return true;
    default: break;
  }
  const Priv saved = priv;
  const bool saved_virt = virt;
  priv = Priv::kM;  // reads have no side effects that depend on it
  virt = false;
  const bool ok = csr_read(csr, value);
  priv = saved;
  virt = saved_virt;
  csr_virtual_ = false;
  return ok;
}

bool Hart::debug_csr_write(uint16_t csr, uint64_t value) {
  switch (csr) {
    case kFflags: fflags = static_cast<uint8_t>(value & 0x1f); return true;
    case kFrm:
      frm = static_cast<uint8_t>(value & 7);
      refresh_fast_flags();
      return true;
    case kFcsr:
      fflags = static_cast<uint8_t>(value & 0x1f);
      frm = static_cast<uint8_t>((value >> 5) & 7);
      refresh_fast_flags();
      return true;
    default: break;
  }
  const Priv saved = priv;
  const bool saved_virt = virt;
  priv = Priv::kM;
  virt = false;
  const bool ok = csr_write(csr, value);
  priv = saved;
  virt = saved_virt;
  csr_virtual_ = false;
  update_modes();  // a write of mstatus recomputed them for M
  return ok;
}

void Hart::debug_set_priv(Priv p) {
  const Priv to = p == Priv::kU || p == Priv::kS ? p : Priv::kM;
  account_m_mode(to, instret);
  priv = to;
  virt = false;
  hpm_sync(instret);
  update_modes();
}

}  // namespace vessel::rv
