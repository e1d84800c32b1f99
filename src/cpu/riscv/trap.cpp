// Trap entry, interrupts and the privileged instructions (privileged manual, "Machine-Level
// ISA" and "Supervisor-Level ISA").
#include <fmt/format.h>

#include "cpu/riscv/hart.hpp"
#include "cpu/riscv/jit/translator.hpp"

namespace vessel::rv {

namespace {

// Highest priority first: MEI, MSI, MTI, SEI, SSI, STI, then the H extension's SGEI, VSEI,
// VSSI, VSTI.
// Sscofpmf's LCOFI (13) comes after all the standard ones.
constexpr unsigned kPriorityOrder[] = {11, 3, 7, 9, 1, 5, 12, 10, 2, 6, 13};

// Causes whose tval is an address the access named: with V=1 (or for HLV/HSV) a guest
// virtual address, which mstatus.GVA or hstatus.GVA tells the handler.
bool carries_address(uint64_t cause) {
  switch (static_cast<Exception>(cause)) {
    case Exception::kInstructionAddressMisaligned:
    case Exception::kInstructionAccessFault:
    case Exception::kLoadAddressMisaligned:
    case Exception::kLoadAccessFault:
    case Exception::kStoreAddressMisaligned:
    case Exception::kStoreAccessFault:
    case Exception::kInstructionPageFault:
    case Exception::kLoadPageFault:
    case Exception::kStorePageFault:
    case Exception::kInstructionGuestPageFault:
    case Exception::kLoadGuestPageFault:
    case Exception::kStoreGuestPageFault: return true;
    default: return false;
  }
}

// The privileged manual's names for the exception causes, for messages.
const char* exception_name(uint64_t cause) {
  switch (static_cast<Exception>(cause)) {
    case Exception::kInstructionAddressMisaligned: return "instruction address misaligned";
    case Exception::kInstructionAccessFault: return "instruction access fault";
    case Exception::kIllegalInstruction: return "illegal instruction";
    case Exception::kBreakpoint: return "breakpoint";
    case Exception::kLoadAddressMisaligned: return "load address misaligned";
    case Exception::kLoadAccessFault: return "load access fault";
    case Exception::kStoreAddressMisaligned: return "store/AMO address misaligned";
    case Exception::kStoreAccessFault: return "store/AMO access fault";
    case Exception::kEcallFromU: return "environment call from U-mode";
    case Exception::kEcallFromS: return "environment call from S-mode";
    case Exception::kEcallFromM: return "environment call from M-mode";
    case Exception::kInstructionPageFault: return "instruction page fault";
    case Exception::kLoadPageFault: return "load page fault";
    case Exception::kStorePageFault: return "store/AMO page fault";
    case Exception::kEcallFromVS: return "environment call from VS-mode";
    case Exception::kInstructionGuestPageFault: return "instruction guest-page fault";
    case Exception::kLoadGuestPageFault: return "load guest-page fault";
    case Exception::kVirtualInstruction: return "virtual instruction";
    case Exception::kStoreGuestPageFault: return "store/AMO guest-page fault";
  }
  return "reserved";
}

const char* priv_name(Priv p) {
  switch (p) {
    case Priv::kU: return "U";
    case Priv::kS: return "S";
    case Priv::kM: return "M";
  }
  return "?";
}
}  // namespace

void Hart::warm_memory(Engine engine) {
  Prefaulted::warm(sizeof(Hart));
  Prefaulted::warm(sizeof(CodeCache));
  BlockArena::warm();
  if (jit_supported() && engine == Engine::kJit) Prefaulted::warm(jit::Translator::kScratchBytes);
}

Hart::Hart(unsigned hart_id, Bus& bus, HartIrq& irq, MachineClock& clock, CodeCache& code)
    : hart_id_(hart_id), bus_(bus), irq_(irq), clock_(clock), code_(code) {
  poll_limit = irq.poll_limit();
  code_generation = code.generation_counter();
  reset(0);
}

Hart::~Hart() = default;

void Hart::reset(uint64_t reset_pc) {
  std::fill(std::begin(x), std::end(x), 0);
  std::fill(std::begin(f), std::end(f), 0);
  pc = reset_pc;
  priv = Priv::kM;
  virt = false;
  hstatus_ = hedeleg_ = hideleg_ = hvip_ = htval_ = htinst_ = 0;
  hgatp_ = henvcfg_ = htimedelta_ = mtval2_ = mtinst_ = 0;
  hcounteren_ = 0;
  vsstatus_ = 2ULL << 32;  // UXL = 2
  vstvec_ = vsscratch_ = vsepc_ = vscause_ = vstval_ = vsatp_ = 0;
  vstimecmp_ = ~0ULL;
  vsie_lcofie_ = 0;
  trap_gpa_shifted_ = 0;
  hlv_active_ = csr_virtual_ = false;
  // UXL = SXL = 2 (64-bit), fixed.
  mstatus_ = (2ULL << 32) | (2ULL << 34);
  medeleg_ = mie_ = mip_sw_ = 0;
  mideleg_ = has_h() ? irq::kHypervisor : 0;  // read-only ones with H
  mtvec_ = stvec_ = mscratch_ = sscratch_ = mepc_ = sepc_ = 0;
  mcause_ = scause_ = mtval_ = stval_ = satp_ = 0;
  mcounteren_ = scounteren_ = mcountinhibit_ = 0;
  hpm_.reset();
  menvcfg_ = senvcfg_ = 0;
  stimecmp_ = ~0ULL;
  sbi_timer_ = false;
  pmpcfg_.fill(0);
  pmpaddr_.fill(0);
  decode_pmp();
  triggers_.reset();
  fflags = frm = 0;
  reservation_pa = ~0ULL;
  trap_streak_ = 0;
  m_instret_ = 0;
  m_entry_instret_ = instret;
  last_fault_lower_ = ~0ULL;
  firmware_trap_streak_ = 0;
  update_modes();
  flush_tlb();
}

void Hart::boot_supervisor(uint64_t entry, uint64_t fdt_addr) {
  // What OpenSBI leaves behind before it enters the kernel: every exception a kernel handles
  // delegated (all but the ecalls from S and M), the supervisor interrupts delegated, counters
  // readable from S and U, Sstc enabled, and one PMP entry opening all of memory.
  medeleg_ = 0xb1ff;
  mideleg_ = irq::kSupervisor;
  if (has_h()) {
    // As OpenSBI does with H: a guest's ecalls, guest-page faults and virtual instructions
    // go to the hypervisor in HS-mode.
    medeleg_ |= (1ULL << 10) | (0xfULL << 20);
    mideleg_ |= irq::kHypervisor;
  }
  mcounteren_ = 0xffffffff;
  // time readable from U-mode (the vDSO's rdtime), as Linux's SBI PMU driver sets it (a
  // kernel without that driver would leave it clear).
  scounteren_ = 0x2;
  // OpenSBI also lets S and U use the cache-block operations the hart has (cbo.inval as an
  // invalidation), and turns Svpbmt's PBMT bits on.
  menvcfg_ = envcfg_written(0,
                            envcfg::kFIOM | envcfg::kSTCE | envcfg::kCBIEInvalidate |
                                envcfg::kCBCFE | envcfg::kCBZE | envcfg::kPBMTE,
                            true);
  pmpaddr_[0] = (1ULL << 54) - 1;
  pmpcfg_[0] = 0x1f;  // NAPOT, R W X
  decode_pmp();
  account_m_mode(Priv::kS, instret);
  priv = Priv::kS;
  hpm_sync(instret);
  pc = entry;
  x[10] = hart_id_;
  x[11] = fdt_addr;
  update_modes();
  flush_tlb();
}

void Hart::enter_trap(uint64_t cause, uint64_t tval, bool interrupt, bool injected) {
  ++stats.traps;
  // A trap loop: traps back to back with no instruction retired between them, always at the
  // same place for the same reason (e.g. mtvec points at unmapped memory).
  if (instret == last_trap_instret_ && cause == last_trap_cause_ && pc == last_trap_epc_) {
    ++trap_streak_;
  } else {
    trap_streak_ = 0;
  }
  last_trap_instret_ = instret;
  last_trap_cause_ = cause;
  last_trap_epc_ = pc;
  // Through the firmware: faults from below M, the same each time, with nothing retired below
  // M since the last. Interrupts neither count nor break a streak: one handled in M on the way
  // changes nothing below it, and one handled in S retires S-mode instructions.
  if (!interrupt && priv != Priv::kM) {
    const uint64_t lower = instret - m_instret_;
    if (lower == last_fault_lower_ && cause == last_fault_cause_ && pc == last_fault_epc_ &&
        tval == last_fault_tval_ && priv == last_fault_priv_) {
      ++firmware_trap_streak_;
    } else {
      firmware_trap_streak_ = 0;
    }
    last_fault_lower_ = lower;
    last_fault_cause_ = cause;
    last_fault_epc_ = pc;
    last_fault_tval_ = tval;
    last_fault_priv_ = priv;
  }

  const uint64_t deleg = interrupt ? mideleg_ : medeleg_;
  const bool to_s = priv != Priv::kM && ((deleg >> cause) & 1);
  const uint64_t xcause = cause | (interrupt ? kCauseInterrupt : 0);
  const bool gva = !interrupt && (virt || hlv_active_) && carries_address(cause);
  const uint64_t gpa_shifted = trap_gpa_shifted_;
  trap_gpa_shifted_ = 0;
  if (injected || (to_s && virt && trap_to_vs(cause, interrupt))) {
    enter_vs_trap(cause, tval, interrupt);
    hpm_sync(instret);
    update_modes();
    return;
  }
  if (to_s) {
    if (has_h()) {
      uint64_t hs = hstatus_ & ~(hstatus::kSPV | hstatus::kGVA);
      if (virt) hs = (hs | hstatus::kSPV) & ~hstatus::kSPVP;
      if (virt && priv == Priv::kS) hs |= hstatus::kSPVP;
      if (gva) hs |= hstatus::kGVA;
      hstatus_ = hs;
      htval_ = gpa_shifted;
      htinst_ = 0;
    }
    scause_ = xcause;
    sepc_ = pc;
    stval_ = tval;
    uint64_t s = mstatus_ & ~(mstatus::kSPP | mstatus::kSPIE | mstatus::kSIE);
    if (mstatus_ & mstatus::kSIE) s |= mstatus::kSPIE;
    if (priv == Priv::kS) s |= mstatus::kSPP;
    mstatus_ = s;
    priv = Priv::kS;
    virt = false;
    const uint64_t base = stvec_ & ~3ULL;
    pc = ((stvec_ & 3) == 1 && interrupt) ? base + 4 * cause : base;
  } else {
    mcause_ = xcause;
    mepc_ = pc;
    mtval_ = tval;
    uint64_t m = mstatus_ & ~(mstatus::kMPP | mstatus::kMPIE | mstatus::kMIE);
    if (mstatus_ & mstatus::kMIE) m |= mstatus::kMPIE;
    m |= static_cast<uint64_t>(priv) << mstatus::kMPPShift;
    if (has_h()) {
      m &= ~(mstatus::kMPV | mstatus::kGVA);
      if (virt) m |= mstatus::kMPV;
      if (gva) m |= mstatus::kGVA;
      mtval2_ = gpa_shifted;
      mtinst_ = 0;
    }
    mstatus_ = m;
    virt = false;
    account_m_mode(Priv::kM, instret);
    priv = Priv::kM;
    const uint64_t base = mtvec_ & ~3ULL;
    pc = ((mtvec_ & 3) == 1 && interrupt) ? base + 4 * cause : base;
  }
  hpm_sync(instret);  // the trapping instruction did not retire
  update_modes();
}

ExecStatus Hart::raise(Exception e, uint64_t tval) {
  enter_trap(static_cast<uint64_t>(e), tval, false);
  return ExecStatus::kTrap;
}

uint64_t Hart::read_mip() const { return mip_at(clock_.mtime()); }

uint64_t Hart::mip_at(uint64_t mtime) const {
  uint64_t v = mip_sw_ | irq_.pending();
  if (has_h()) v |= virtual_pending_at(mtime);
  if (mtime >= irq_.mtimecmp()) v |= irq::kMTIP;
  if (stimecmp_drives_stip()) {
    v &= ~irq::kSTIP;
    if (mtime >= stimecmp_) v |= irq::kSTIP;
  }
  return v;
}

bool Hart::take_interrupt() { return take_interrupt_at(clock_.mtime()); }

bool Hart::take_interrupt_at(uint64_t mtime) {
  const uint64_t pending = mip_at(mtime) & mie_;
  if (pending == 0) return take_virtual_lcofi();
  // Machine-level interrupts are enabled below M always, in M when MIE is set; supervisor-level
  // (delegated) ones in U always, in S when SIE is set, never in M.
  // With H, HS-level ones are enabled always while V=1, and those hideleg hands to VS-mode
  // only while V=1: in VU always, in VS when vsstatus.SIE is set.
  const bool m_on = priv != Priv::kM || (mstatus_ & mstatus::kMIE);
  const bool s_on = virt || priv == Priv::kU || (priv == Priv::kS && (mstatus_ & mstatus::kSIE));
  const bool vs_on = virt && (priv == Priv::kU || (vsstatus_ & mstatus::kSIE));
  const uint64_t to_vs = mideleg_ & hideleg_;
  uint64_t enabled = 0;
  if (m_on) enabled |= pending & ~mideleg_;
  if (s_on) enabled |= pending & mideleg_ & ~to_vs;
  if (vs_on) enabled |= pending & to_vs;
  if (enabled == 0) return take_virtual_lcofi();
  // Interrupts destined for M come before any destined for HS, and those before any for VS,
  // whatever their causes; the fixed order applies within one destination.
  if (enabled & ~mideleg_) {
    enabled &= ~mideleg_;
  } else if (enabled & ~to_vs) {
    enabled &= ~to_vs;
  }
  for (unsigned cause : kPriorityOrder) {
    if (enabled & (1ULL << cause)) {
      ++stats.interrupts;
      ++stats.interrupts_by_cause[cause];
      enter_trap(cause, 0, true);
      return true;
    }
  }
  return false;
}

bool Hart::take_virtual_lcofi() {
  if (!virtual_lcofi_pending() || !virt || (priv == Priv::kS && !(vsstatus_ & mstatus::kSIE))) {
    return false;
  }
  ++stats.interrupts;
  ++stats.interrupts_by_cause[13];
  enter_trap(13, 0, true, true);
  return true;
}

ExecStatus Hart::do_mret(const DecodedInsn& d) {
  if (priv != Priv::kM) return illegal(d);
  const auto mpp = static_cast<Priv>((mstatus_ & mstatus::kMPP) >> mstatus::kMPPShift);
  uint64_t m = mstatus_ & ~(mstatus::kMIE | mstatus::kMPP);
  if (mstatus_ & mstatus::kMPIE) m |= mstatus::kMIE;
  m |= mstatus::kMPIE;  // MPP becomes U (least privileged); MPIE becomes 1
  if (mpp != Priv::kM) m &= ~mstatus::kMPRV;
  const bool mpv = mpp != Priv::kM && (mstatus_ & mstatus::kMPV) != 0;
  m &= ~mstatus::kMPV;
  mstatus_ = m;
  account_m_mode(mpp, instret + 1);  // mret itself retires in M, counted once it returns
  priv = mpp;
  virt = mpv;
  hpm_sync(instret + 1);
  pc = mepc_;
  update_modes();
  return ExecStatus::kBreak;
}

ExecStatus Hart::do_sret(const DecodedInsn& d) {
  if (virt) {
    // The guest's own: VU-mode has none to run, and the hypervisor may claim it (VTSR).
    if (priv == Priv::kU || (hstatus_ & hstatus::kVTSR)) return virtual_instruction(d);
    const Priv spp = (vsstatus_ & mstatus::kSPP) ? Priv::kS : Priv::kU;
    uint64_t s = vsstatus_ & ~(mstatus::kSIE | mstatus::kSPP);
    if (vsstatus_ & mstatus::kSPIE) s |= mstatus::kSIE;
    vsstatus_ = s | mstatus::kSPIE;
    priv = spp;
    hpm_sync(instret + 1);
    pc = vsepc_;
    update_modes();
    return ExecStatus::kBreak;
  }
  if (priv == Priv::kU || (priv == Priv::kS && (mstatus_ & mstatus::kTSR))) return illegal(d);
  const Priv spp = (mstatus_ & mstatus::kSPP) ? Priv::kS : Priv::kU;
  uint64_t s = mstatus_ & ~(mstatus::kSIE | mstatus::kSPP);
  if (mstatus_ & mstatus::kSPIE) s |= mstatus::kSIE;
  s |= mstatus::kSPIE;
  s &= ~mstatus::kMPRV;  // the new mode is never M
  mstatus_ = s;
  priv = spp;
  if (has_h()) {  // back into the guest when the trap came from it
    virt = (hstatus_ & hstatus::kSPV) != 0;
    hstatus_ &= ~hstatus::kSPV;
  }
  hpm_sync(instret + 1);
  pc = sepc_;
  update_modes();
  return ExecStatus::kBreak;
}

ExecStatus Hart::do_wfi(const DecodedInsn& d) {
  // In U-mode WFI is illegal (S-mode exists); TW makes it illegal below M. A guest's WFI
  // that HS-mode could run is a virtual instruction in VU-mode, and in VS-mode with VTW.
  if (virt && !(mstatus_ & mstatus::kTW) && (priv == Priv::kU || (hstatus_ & hstatus::kVTW))) {
    return virtual_instruction(d);
  }
  if (priv == Priv::kU || (priv == Priv::kS && (mstatus_ & mstatus::kTW))) return illegal(d);
  pc += d.len;
  sleep_until_interrupt();
  poll_soon = true;
  return ExecStatus::kBreak;
}

void Hart::sleep_until_interrupt() {
  // Sleep until an interrupt is pending in mip & mie (globally enabled or not), or until the
  // timer can fire; the platform, other harts and stop requests kick HartIrq when anything
  // changes. Attention already raised (a request, a device) means there is something to look
  // at first; the run loop takes it.
  if ((read_mip() & mie_) != 0 || virtual_lcofi_pending() || irq_.has_attention()) return;
  const uint64_t cmp = irq_.mtimecmp();
  // Bounded as a safety net; a spurious wake-up is allowed (WFI is a hint) and the guest's
  // idle loop simply executes WFI again.
  auto deadline = std::chrono::steady_clock::now() + wfi_max_sleep_;
  if ((mie_ & irq::kMTIP) && cmp != HartIrq::kNoDeadline) {
    deadline = std::min(deadline, clock_.when(cmp));
  }
  if ((mie_ & irq::kSTIP) && stimecmp_drives_stip() && stimecmp_ != ~0ULL) {
    deadline = std::min(deadline, clock_.when(stimecmp_));
  }
  if ((mie_ & irq::kVSTIP) && (henvcfg_ & envcfg::kSTCE) && vstimecmp_ != ~0ULL) {
    deadline = std::min(deadline, clock_.when(vstimecmp_ - htimedelta_));
  }
  irq_.wait_until(deadline);
}

ExecStatus Hart::do_sfence_vma(const DecodedInsn& d) {
  if (virt) {
    // The guest's: its own translations (VS stage, through the G stage) go.
    if (priv == Priv::kU || (hstatus_ & hstatus::kVTVM)) return virtual_instruction(d);
    flush_tlb_virtual();
    pc += d.len;
    return ExecStatus::kBreak;
  }
  if (priv == Priv::kU || (priv == Priv::kS && (mstatus_ & mstatus::kTVM))) return illegal(d);
  // rs1 names one page (whose global mapping goes too, more than rs2 != x0 asks: never less);
  // rs2 != x0 names one address space, whose translations the TLB holds only if it is the
  // current one, and never its global ones.
  if (d.rs1 != 0) {
    flush_tlb_page(x[d.rs1]);
  } else if (d.rs2 != 0) {
    flush_tlb_non_global();
  } else {
    flush_tlb();
  }
  pc += d.len;
  return ExecStatus::kBreak;
}

ExecStatus Hart::do_sfence_inval(const DecodedInsn& d) {
  // S-mode and up; unlike sinval.vma, TVM does not trap them (the Svinval chapter). Loads,
  // stores and page walks of this hart are already in program order, so they have nothing to
  // wait for.
  if (priv == Priv::kU) return illegal(d);
  pc += d.len;
  return ExecStatus::kBreak;
}

ExecStatus Hart::do_fence_i(const DecodedInsn& d) {
  // Nothing to drop: every write into a code page (stores, AMOs, page-table A/D updates, and
  // device or loader writes through the Bus) already invalidated the blocks decoded from it,
  // so instruction fetch is always coherent with memory, which is stronger than fence.i asks.
  // Flushing here would throw away the whole cache each time Linux maps an executable page.
  pc += d.len;
  return ExecStatus::kBreak;
}

void Hart::account_m_mode(Priv to, uint64_t retired) {
  if (priv != Priv::kM && to == Priv::kM) m_entry_instret_ = retired;
  if (priv == Priv::kM && to != Priv::kM) m_instret_ += retired - m_entry_instret_;
}

std::string Hart::describe_trap_loop() const {
  if (trap_streak_ < kTrapLoopStreak && firmware_trap_streak_ >= kFirmwareTrapLoopStreak) {
    return fmt::format(
        "hart {}: stuck in a trap loop through the firmware: exception {} ({}) at {}-mode pc "
        "{:#x} (tval {:#x}) came back {} times, M-mode sending it back each time with no "
        "instruction retiring below M (mtvec={:#x}, stvec={:#x})",
        hart_id_, last_fault_cause_, exception_name(last_fault_cause_), priv_name(last_fault_priv_),
        last_fault_epc_, last_fault_tval_, firmware_trap_streak_, mtvec_, stvec_);
  }
  const bool intr = last_trap_cause_ & kCauseInterrupt;
  return fmt::format(
      "hart {}: stuck in a trap loop: {} {} at pc {:#x} repeats with no handler "
      "making progress (mtvec={:#x}, stvec={:#x})",
      hart_id_, intr ? "interrupt" : "exception", last_trap_cause_ & ~kCauseInterrupt,
      last_trap_epc_, mtvec_, stvec_);
}

}  // namespace vessel::rv
