// The hypervisor extension (H, version 1.0 of the privileged manual): its CSRs and the
// virtual-supervisor copies that stand in for the supervisor CSRs while V=1, the VS-level
// interrupts, trap entry into VS-mode, and the hypervisor's fences, loads and stores.
// Two-stage address translation is in mmu_guest.cpp.
#include "base/bits.hpp"
#include "cpu/riscv/hart.hpp"
#include "cpu/riscv/pte.hpp"

namespace vessel::rv {

namespace {
// hedeleg: what HS-mode may hand on to VS-mode. Ecalls from HS, VS and M and the guest-page
// faults and virtual instructions (a guest's own exceptions concern its hypervisor) are
// read-only zero.
constexpr uint64_t kHedelegWritable = 0xb1ff;
constexpr uint64_t kVsstatusWritable =
    mstatus::kSIE | mstatus::kSPIE | mstatus::kSPP | mstatus::kFS | mstatus::kSUM | mstatus::kMXR;
constexpr uint64_t kVsstatusFixed = 2ULL << 32;            // UXL: VU-mode is 64-bit
constexpr uint64_t kHstatusFixed = 2ULL << 32;             // VSXL: VS-mode is 64-bit
constexpr uint64_t kHgatpVmid = ((1ULL << 14) - 1) << 44;  // VMIDLEN = 14 (stored, not used)

// V=1: the supervisor CSR a guest names is its VS copy (the same number plus 0x100). sstatus,
// sie, stvec, sscratch, sepc, scause, stval, sip, stimecmp and satp have one; scounteren and
// senvcfg do not (a guest reaches those as they are).
uint16_t vs_copy(uint16_t csr) {
  switch (csr) {
    case kSstatus:
    case kSie:
    case kStvec:
    case kSscratch:
    case kSepc:
    case kScause:
    case kStval:
    case kSip:
    case kStimecmp:
    case kSatp: return static_cast<uint16_t>(csr + 0x100);
    default: return csr;
  }
}

// reg's bits under mask from v.
void set_bits(uint64_t& reg, uint64_t v, uint64_t mask) { reg = (reg & ~mask) | (v & mask); }

// The status field SD from FS (XS and VS are always 0 here).
uint64_t with_sd(uint64_t status) {
  return (status & mstatus::kFS) == mstatus::kFS ? status | mstatus::kSD : status & ~mstatus::kSD;
}
}  // namespace

uint64_t Hart::virtual_pending_at(uint64_t mtime) const {
  uint64_t v = hvip_ & irq::kVirtualSupervisor;  // hvip.13 is not mip's (vsip_lcof)
  // Sstc for the guest: vstimecmp against the guest's time, while both envcfgs enable it.
  if (sstc_ && (menvcfg_ & envcfg::kSTCE) && (henvcfg_ & envcfg::kSTCE) &&
      mtime + htimedelta_ >= vstimecmp_) {
    v |= irq::kVSTIP;
  }
  return v;
}

uint64_t Hart::vsie_lcof() const {
  return (hideleg_ & irq::kLCOFIP) ? mie_ & mideleg_ & irq::kLCOFIP : vsie_lcofie_;
}

uint64_t Hart::vsip_lcof() const {
  return (hideleg_ & irq::kLCOFIP) ? read_mip() & mideleg_ & irq::kLCOFIP : hvip_ & irq::kLCOFIP;
}

void Hart::set_vsstatus(uint64_t v) {
  const uint64_t next = with_sd((vsstatus_ & ~kVsstatusWritable) | (v & kVsstatusWritable));
  const bool mxr_changed = ((next ^ vsstatus_) & mstatus::kMXR) != 0;
  vsstatus_ = next | kVsstatusFixed;
  if (mxr_changed) flush_tlb_virtual();
  update_modes();  // SUM picks the guest's TLB set; FS the translated code's fast flags
}

// Sstc's stimecmp as a guest reaches it: M-mode's enables make it exist (else illegal), the
// hypervisor's let the guest have it (else a virtual instruction).
bool Hart::time_accessible(uint16_t csr) {
  if (csr == kVstimecmp && !virt) return stimecmp_accessible();
  if (!sstc_ || !(menvcfg_ & envcfg::kSTCE) || !(mcounteren_ & 2)) return false;
  if (!(henvcfg_ & envcfg::kSTCE) || !(hcounteren_ & 2)) return deny_virtual();
  return true;
}

std::optional<bool> Hart::h_csr_read(uint16_t csr, uint64_t& v) {
  if (virt) {
    if (csr == kSatp && (hstatus_ & hstatus::kVTVM)) return deny_virtual();
    if (csr == kStimecmp && !time_accessible(kVstimecmp)) return false;
    csr = vs_copy(csr);
  }
  switch (csr) {
    case kHstatus: v = hstatus_ | kHstatusFixed; return true;
    case kHedeleg: v = hedeleg_; return true;
    case kHideleg: v = hideleg_; return true;
    case kHie: v = mie_ & irq::kHypervisor; return true;
    case kHip: v = read_mip() & irq::kHypervisor; return true;
    case kHvip: v = hvip_; return true;
    case kHtimedelta: v = htimedelta_; return true;
    case kHcounteren: v = hcounteren_; return true;
    case kHgeie:
    case kHgeip: v = 0; return true;  // GEILEN = 0: no guest external interrupt files
    case kHenvcfg: v = henvcfg_; return true;
    case kHtval: v = htval_; return true;
    case kHtinst: v = htinst_; return true;
    case kHgatp:
      if (priv == Priv::kS && (mstatus_ & mstatus::kTVM)) return false;
      v = hgatp_;
      return true;
    case kVsstatus: v = vsstatus_; return true;
    case kVsie: v = ((mie_ & hideleg_ & irq::kVirtualSupervisor) >> 1) | vsie_lcof(); return true;
    case kVsip:
      v = ((read_mip() & hideleg_ & irq::kVirtualSupervisor) >> 1) | vsip_lcof();
      return true;
    case kVstvec: v = vstvec_; return true;
    case kVsscratch: v = vsscratch_; return true;
    case kVsepc: v = vsepc_; return true;
    case kVscause: v = vscause_; return true;
    case kVstval: v = vstval_; return true;
    case kVsatp: v = vsatp_; return true;
    case kVstimecmp:
      if (!virt && !time_accessible(csr)) return false;
      v = vstimecmp_;
      return true;
    case kMtval2: v = mtval2_; return true;
    case kMtinst: v = mtinst_; return true;
    default: return std::nullopt;
  }
}

std::optional<bool> Hart::h_csr_write(uint16_t csr, uint64_t v) {
  if (virt) {
    if (csr == kSatp && (hstatus_ & hstatus::kVTVM)) return deny_virtual();
    if (csr == kStimecmp && !time_accessible(kVstimecmp)) return false;
    csr = vs_copy(csr);
  }
  switch (csr) {
    case kHstatus: hstatus_ = v & hstatus::kWritable; return true;
    case kHedeleg: hedeleg_ = v & kHedelegWritable; return true;
    case kHideleg: hideleg_ = v & vs_interrupts(); return true;
    case kHie: mie_ = (mie_ & ~irq::kHypervisor) | (v & irq::kHypervisor); return true;
    case kHip: hvip_ = (hvip_ & ~irq::kVSSIP) | (v & irq::kVSSIP); return true;
    case kHvip: hvip_ = v & vs_interrupts(); return true;
    case kHtimedelta: htimedelta_ = v; return true;
    case kHcounteren: hcounteren_ = static_cast<uint32_t>(v); return true;
    case kHgeie: return true;  // GEILEN = 0
    case kHenvcfg: {
      // STCE and PBMTE exist for the guest only where M-mode gave them to HS-mode.
      const uint64_t allowed = ~(envcfg::kSTCE | envcfg::kPBMTE) | menvcfg_;
      henvcfg_ = envcfg_written(henvcfg_, v, true) & allowed;
      refresh_fast_flags();
      return true;
    }
    case kHtval: htval_ = v; return true;
    case kHtinst: htinst_ = v; return true;
    case kHgatp: {
      if (priv == Priv::kS && (mstatus_ & mstatus::kTVM)) return false;
      // WARL field by field (unlike satp, a bad mode does not void the write): a mode other
      // than Sv39x4 and Sv48x4 reads as Bare; the root is 16 KiB aligned.
      uint64_t mode = v >> atp::kModeShift;
      if (mode != atp::kModeSv39 && mode != atp::kModeSv48) mode = atp::kModeBare;
      const uint64_t next =
          (mode << atp::kModeShift) | (v & kHgatpVmid) | (v & atp::kPpnMask & ~3ULL);
      if (next != hgatp_) flush_tlb_virtual();
      hgatp_ = next;
      return true;
    }
    case kVsstatus: set_vsstatus(v); return true;
    case kVsie: {
      const uint64_t mask = hideleg_ & irq::kVirtualSupervisor;
      mie_ = (mie_ & ~mask) | ((v << 1) & mask);
      if (hideleg_ & irq::kLCOFIP) {
        set_bits(mie_, v, mideleg_ & irq::kLCOFIP);  // sie.13's
      } else {
        set_bits(vsie_lcofie_, v, vs_interrupts() & irq::kLCOFIP);
      }
      return true;
    }
    case kVsip: {
      const uint64_t mask = hideleg_ & irq::kVSSIP;
      hvip_ = (hvip_ & ~mask) | ((v << 1) & mask);
      if (hideleg_ & irq::kLCOFIP) {
        set_bits(mip_sw_, v, mideleg_ & irq::kLCOFIP);  // sip.13's: the overflow's
      } else {
        set_bits(hvip_, v, vs_interrupts() & irq::kLCOFIP);  // the injected one's
      }
      return true;
    }
    case kVstvec: vstvec_ = v & ~2ULL; return true;
    case kVsscratch: vsscratch_ = v; return true;
    case kVsepc: vsepc_ = v & ~1ULL; return true;
    case kVscause: vscause_ = v; return true;
    case kVstval: vstval_ = v; return true;
    case kVsatp: {
      const uint64_t mode = v >> atp::kModeShift;
      if (mode != atp::kModeBare && mode != atp::kModeSv39 && mode != atp::kModeSv48) return true;
      vsatp_ = mode == atp::kModeBare ? 0 : (v & (atp::kModeMask | atp::kPpnMask));
      flush_tlb_virtual();
      return true;
    }
    case kVstimecmp:
      if (!virt && !time_accessible(csr)) return false;
      vstimecmp_ = v;
      return true;
    case kMtval2: mtval2_ = v; return true;
    case kMtinst: mtinst_ = v; return true;
    default: return std::nullopt;
  }
}

bool Hart::trap_to_vs(uint64_t cause, bool interrupt) const {
  return ((interrupt ? hideleg_ : hedeleg_) >> cause) & 1;
}

void Hart::enter_vs_trap(uint64_t cause, uint64_t tval, bool interrupt) {
  // VS-mode sees its interrupts under the supervisor's numbers (VSSI 2 as SSI 1, and so on).
  uint64_t vcause = cause;
  if (interrupt && (cause == 2 || cause == 6 || cause == 10)) vcause = cause - 1;
  vscause_ = vcause | (interrupt ? kCauseInterrupt : 0);
  vsepc_ = pc;
  vstval_ = tval;
  uint64_t s = vsstatus_ & ~(mstatus::kSPP | mstatus::kSPIE | mstatus::kSIE);
  if (vsstatus_ & mstatus::kSIE) s |= mstatus::kSPIE;
  if (priv == Priv::kS) s |= mstatus::kSPP;
  vsstatus_ = s;
  priv = Priv::kS;
  const uint64_t base = vstvec_ & ~3ULL;
  pc = ((vstvec_ & 3) == 1 && interrupt) ? base + 4 * vcause : base;
}

ExecStatus Hart::do_hfence(const DecodedInsn& d, bool gvma) {
  if (virt) return virtual_instruction(d);
  if (priv == Priv::kU) return illegal(d);
  if (gvma && priv == Priv::kS && (mstatus_ & mstatus::kTVM)) return illegal(d);
  // Neither VMIDs nor ASIDs tag the guest's TLB sets, and an address narrows little when the
  // sets are flushed wholesale: every guest translation goes.
  flush_tlb_virtual();
  pc += d.len;
  return ExecStatus::kBreak;
}

ExecStatus Hart::do_hlv(const DecodedInsn& d, unsigned size, bool sign, bool hlvx) {
  if (virt) return virtual_instruction(d);
  if (priv == Priv::kU && !(hstatus_ & hstatus::kHU)) return illegal(d);
  const uint64_t va = x[d.rs1];
  const Priv p = (hstatus_ & hstatus::kSPVP) ? Priv::kS : Priv::kU;
  hlv_active_ = true;  // a fault's tval is a guest virtual address (GVA)
  uint64_t value = 0;
  bool ok = false;
  uint64_t pa = 0;
  unsigned page_bits = 12;
  if (va & (size - 1)) {
    raise(Exception::kLoadAddressMisaligned, va);
  } else if (translate_guest(va, {Access::kRead, Access::kRead, p, hlvx}, pa, page_bits)) {
    if (!pmp_allows(pa, size, Access::kRead, p)) {
      raise(Exception::kLoadAccessFault, va);
    } else if (const uint8_t* host = bus_.host_ptr(pa, size)) {
      std::memcpy(&value, host, size);
      ok = true;
    } else {
      ok = mmio_load(pa, size, value, va);
    }
  }
  hlv_active_ = false;
  if (!ok) return ExecStatus::kTrap;
  if (sign && size < 8) value = static_cast<uint64_t>(sext(value, size * 8));
  x[d.rd] = value;
  return ExecStatus::kNext;
}

ExecStatus Hart::do_hsv(const DecodedInsn& d, unsigned size) {
  if (virt) return virtual_instruction(d);
  if (priv == Priv::kU && !(hstatus_ & hstatus::kHU)) return illegal(d);
  const uint64_t va = x[d.rs1];
  const uint64_t value = x[d.rs2];
  const Priv p = (hstatus_ & hstatus::kSPVP) ? Priv::kS : Priv::kU;
  hlv_active_ = true;
  bool ok = false;
  uint64_t pa = 0;
  unsigned page_bits = 12;
  if (va & (size - 1)) {
    raise(Exception::kStoreAddressMisaligned, va);
  } else if (translate_guest(va, {Access::kWrite, Access::kWrite, p, false}, pa, page_bits)) {
    const MemoryRegion* r = bus_.find_memory(pa, size);
    if (!pmp_allows(pa, size, Access::kWrite, p) || (r != nullptr && !r->writable)) {
      raise(Exception::kStoreAccessFault, va);
    } else if (r != nullptr) {
      uint8_t* host = r->host + (pa - r->base);
      std::memcpy(host, &value, size);
      bus_.mark_written(host, size);
      if (code_.is_code_page(reinterpret_cast<uint64_t>(host))) {
        code_.invalidate(reinterpret_cast<uint64_t>(host), size);
        stop_block = true;
      }
      ok = true;
    } else {
      ok = mmio_store(pa, size, value, va);
    }
  }
  hlv_active_ = false;
  if (!ok) return ExecStatus::kTrap;
  if (stop_block) {  // it wrote code the running block may hold: leave the block
    stop_block = false;
    pc += d.len;
    return ExecStatus::kBreak;
  }
  return ExecStatus::kNext;
}

}  // namespace vessel::rv
