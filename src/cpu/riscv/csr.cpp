// CSR reads and writes with their WARL rules and privilege checks.
#include "cpu/riscv/fpu/host_flags.hpp"
#include "cpu/riscv/hart.hpp"
#include "cpu/riscv/pte.hpp"

namespace vessel::rv {

namespace {
// misa: MXL=2 (64-bit) and the extensions A, C, D, F, I, M, S, U. Read-only (WARL allows it).
constexpr uint64_t kMisaValue = (2ULL << 62) | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) |
                                (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);
// Exceptions that may be delegated: all but ecall from M (11) and the reserved 10 and 14;
// with H also ecall from VS (10), the guest-page faults and the virtual instruction (20-23).
constexpr uint64_t kDelegableExceptions = 0xb3ff;
constexpr uint64_t kDelegableExceptionsH = kDelegableExceptions | (1ULL << 10) | (0xfULL << 20);
constexpr uint64_t kMisaH = 1ULL << 7;
constexpr uint64_t kMieWritable = irq::kAll;
// In mip, software may write SSIP, STIP and SEIP; MSIP, MTIP and MEIP come from the platform.
constexpr uint64_t kMipWritableOrLcof = irq::kSupervisor | irq::kLCOFIP;
constexpr uint32_t kCountinhibitWritable = 0xfffffffd;  // bit 1 (TM) is hardwired to 0
}  // namespace

bool Hart::csr_accessible(uint16_t csr, bool write) {
  const auto lowest = static_cast<unsigned>((csr >> 8) & 3);
  if (write && ((csr >> 10) & 3) == 3) return false;  // read-only CSR
  if (virt) {
    // V=1: what HS-mode (VU: U-mode's supervisor, HS) could reach is a virtual-instruction
    // exception, the machine level stays illegal. VS-mode reaches its own supervisor CSRs
    // (redirected to the VS copies by h_csr_read/h_csr_write).
    if (lowest == 3) return false;
    if (lowest == 2 || (lowest == 1 && priv == Priv::kU)) return has_h() ? deny_virtual() : false;
    return true;
  }
  // The hypervisor's and the VS CSRs (level 2) belong to HS-mode.
  const unsigned needed = lowest == 2 && has_h() ? 1 : lowest;
  return static_cast<unsigned>(priv) >= needed;
}

uint64_t Hart::counter_value(bool instret_counter) const {
  if (instret_counter) {
    return (mcountinhibit_ & 4) ? instret_frozen_ : instret + instret_offset_;
  }
  return (mcountinhibit_ & 1) ? cycle_frozen_ : instret + cycle_offset_;
}

bool Hart::counter_accessible(uint16_t csr) {
  const unsigned n = csr & 0x1f;
  if (priv == Priv::kM) return true;
  if (!((mcounteren_ >> n) & 1)) return false;
  if (virt) {
    // mcounteren allows it: hcounteren (and in VU-mode scounteren) refuse it as cause 22.
    if (!((hcounteren_ >> n) & 1)) return deny_virtual();
    if (priv == Priv::kU && !((scounteren_ >> n) & 1)) return deny_virtual();
    return true;
  }
  if (priv == Priv::kU && !((scounteren_ >> n) & 1)) return false;
  return true;
}

void Hart::set_mstatus(uint64_t v) {
  const uint64_t writable =
      mstatus::kWritable | (has_h() ? mstatus::kMPV | mstatus::kGVA : uint64_t{0});
  uint64_t m = (mstatus_ & ~writable) | (v & writable);
  // MPP is WARL: the reserved value 2 keeps the old mode.
  if (((m & mstatus::kMPP) >> mstatus::kMPPShift) == 2) {
    m = (m & ~mstatus::kMPP) | (mstatus_ & mstatus::kMPP);
  }
  if ((m & mstatus::kFS) == mstatus::kFS) {
    m |= mstatus::kSD;
  } else {
    m &= ~mstatus::kSD;
  }
  const bool mxr_changed = (m ^ mstatus_) & mstatus::kMXR;
  mstatus_ = m;
  if (mxr_changed) flush_tlb();
  update_modes();
}

bool Hart::csr_write_ends_block(uint16_t csr, uint64_t mstatus_before) const {
  // A write that may have made an interrupt deliverable, or changed how the next instructions
  // are fetched or how addresses translate, ends the block so that the run loop looks. The
  // rest (scratch, epc, cause, tval, tvec, the FP and counter CSRs, which the engines read
  // when they use them) let it go on: Linux's system call path makes a dozen CSR accesses,
  // and each was a trip through the run loop.
  switch (csr) {
    case kSstatus:
    case kMstatus: {
      const uint64_t enabled = mstatus_ & ~mstatus_before & (mstatus::kMIE | mstatus::kSIE);
      const uint64_t modes =
          (mstatus_ ^ mstatus_before) &
          (mstatus::kMPRV | mstatus::kSUM | mstatus::kMXR | mstatus::kMPP | mstatus::kMPV);
      return enabled != 0 || modes != 0;
    }
    case kSie:
    case kSip:
    case kMie:
    case kMip:
    case kMideleg:
    case kStimecmp:
    case kMenvcfg:
    case kSatp:
    case kTselect:  // triggers: an execute breakpoint applies from the next instruction
    case kTdata1:
    case kTdata2:
    case kTdata3:
    // H: interrupts of the guest, its translation, the hypervisor's (a write in V=1 of a
    // supervisor CSR went to the VS copy: sstatus.SIE, sie, sip and satp end the block above)
    case kHie:
    case kHip:
    case kHvip:
    case kHideleg:
    case kHgatp:
    case kHtimedelta:
    case kHenvcfg:
    case kHstatus:
    case kVsstatus:
    case kVsie:
    case kVsip:
    case kVsatp:
    case kVstimecmp:
    // the programmable counters: the next overflow may now be due sooner
    case kMcountinhibit: return true;
    default:
      return (csr >= kPmpcfg0 && csr <= kPmpaddr63) ||  // pmpcfg0-15, then pmpaddr0-63
             (csr >= kMhpmcounter3 && csr <= kMhpmcounter31) ||
             (csr >= kMhpmevent3 && csr <= kMhpmevent31);
  }
}

// menvcfg (machine) or senvcfg after writing v over old: the fields of the extensions this hart
// has (STCE and PBMTE only in menvcfg). CBIE is WARL: its reserved value keeps the old one.
uint64_t Hart::envcfg_written(uint64_t old, uint64_t v, bool machine) const {
  uint64_t writable = envcfg::kFIOM;
  if (extensions_ & ext_bit(Ext::Zicbom)) writable |= envcfg::kCBIE | envcfg::kCBCFE;
  if (extensions_ & ext_bit(Ext::Zicboz)) writable |= envcfg::kCBZE;
  if (machine && sstc_) writable |= envcfg::kSTCE;
  if (machine && (extensions_ & ext_bit(Ext::Svpbmt))) writable |= envcfg::kPBMTE;
  uint64_t next = (old & ~writable) | (v & writable);
  if ((next & envcfg::kCBIE) == envcfg::kCBIEReserved) {
    next = (next & ~envcfg::kCBIE) | (old & envcfg::kCBIE);
  }
  return next;
}

bool Hart::cbo_enabled(uint64_t field) const {
  if (priv == Priv::kM) return true;
  if ((menvcfg_ & field) == 0) return false;
  if (virt && (henvcfg_ & field) == 0) return false;
  return priv != Priv::kU || (senvcfg_ & field) != 0;
}

// Sstc: S-mode reaches stimecmp only with menvcfg.STCE and mcounteren.TM set.
bool Hart::stimecmp_accessible() const {
  if (!sstc_) return false;
  if (priv == Priv::kM) return true;
  return (menvcfg_ & envcfg::kSTCE) && (mcounteren_ & 2);
}

void Hart::sync_fflags() {
  if (host_fflags) fflags |= fp::host::take_flags();
}

bool Hart::csr_read(uint16_t csr, uint64_t& v) {
  if (!csr_accessible(csr, false)) return false;
  if (has_h()) {
    if (const std::optional<bool> done = h_csr_read(csr, v)) return *done;
  }
  switch (csr) {
    case kFflags:
      if (!fp_enabled()) return false;
      sync_fflags();
      v = fflags;
      return true;
    case kFrm:
      if (!fp_enabled()) return false;
      v = frm;
      return true;
    case kFcsr:
      if (!fp_enabled()) return false;
      sync_fflags();
      v = static_cast<uint64_t>(frm) << 5 | fflags;
      return true;
    case kCycle:
    case kTime:
    case kInstret:
      if (!counter_accessible(csr)) return false;
      // A guest (V=1) sees the time the hypervisor set: mtime + htimedelta.
      v = csr == kTime ? clock_.mtime() + (virt ? htimedelta_ : 0) : counter_value(csr == kInstret);
      return true;
    case kSstatus: {
      uint64_t s = mstatus_ & mstatus::kSstatusMask;
      v = s;
      return true;
    }
    case kSie: v = mie_ & mideleg_ & supervisor_interrupts(); return true;
    case kSip: v = read_mip() & mideleg_ & supervisor_interrupts(); return true;
    case kStvec: v = stvec_; return true;
    case kScounteren: v = scounteren_; return true;
    case kSenvcfg: v = senvcfg_; return true;
    case kSscratch: v = sscratch_; return true;
    case kSepc: v = sepc_; return true;
    case kScause: v = scause_; return true;
    case kStval: v = stval_; return true;
    case kSatp:
      if (priv == Priv::kS && (mstatus_ & mstatus::kTVM)) return false;
      v = satp_;
      return true;
    case kStimecmp:
      if (!stimecmp_accessible()) return false;
      v = stimecmp_;
      return true;
    case kMvendorid:
    case kMarchid:
    case kMimpid:
    case kMconfigptr: v = 0; return true;
    case kMhartid: v = hart_id_; return true;
    case kMstatus: v = mstatus_; return true;
    case kMisa: v = kMisaValue | (has_h() ? kMisaH : 0); return true;
    case kMedeleg: v = medeleg_; return true;
    case kMideleg: v = mideleg_; return true;
    case kMie: v = mie_; return true;
    case kMip: v = read_mip(); return true;
    case kMtvec: v = mtvec_; return true;
    case kMcounteren: v = mcounteren_; return true;
    case kMenvcfg: v = menvcfg_; return true;
    case kMcountinhibit: v = mcountinhibit_; return true;
    case kMscratch: v = mscratch_; return true;
    case kMepc: v = mepc_; return true;
    case kMcause: v = mcause_; return true;
    case kMtval: v = mtval_; return true;
    case kMcycle: v = counter_value(false); return true;
    case kMinstret: v = counter_value(true); return true;
    default: break;
  }
  if (hpm_csr_read(csr, v)) return true;
  if (csr >= kPmpcfg0 && csr <= kPmpcfg15) {
    const unsigned index = csr - kPmpcfg0;
    if (index & 1) return false;  // odd pmpcfg registers do not exist on RV64
    v = 0;
    for (unsigned k = 0; k < 8; ++k) {
      const unsigned e = index * 4 + k;
      if (e < kNumPmp) v |= static_cast<uint64_t>(pmpcfg_[e]) << (8 * k);
    }
    return true;
  }
  if (csr >= kPmpaddr0 && csr <= kPmpaddr63) {
    const unsigned index = csr - kPmpaddr0;
    v = index < kNumPmp ? pmpaddr_[index] : 0;
    return true;
  }
  if (csr >= kTselect && csr <= kTinfo) return sdtrig_ && trigger_csr_read(csr, v);
  return false;
}

bool Hart::csr_write(uint16_t csr, uint64_t v) {
  if (!csr_accessible(csr, true)) return false;
  if (has_h()) {
    if (const std::optional<bool> done = h_csr_write(csr, v)) return *done;
  }
  switch (csr) {
    case kFflags:
      if (!fp_enabled()) return false;
      sync_fflags();  // the host's flags are dropped: the write replaces them all
      fflags = static_cast<uint8_t>(v & 0x1f);
      set_fs_dirty();
      return true;
    case kFrm:
      if (!fp_enabled()) return false;
      frm = static_cast<uint8_t>(v & 7);
      set_fs_dirty();
      return true;
    case kFcsr:
      if (!fp_enabled()) return false;
      sync_fflags();
      fflags = static_cast<uint8_t>(v & 0x1f);
      frm = static_cast<uint8_t>((v >> 5) & 7);
      set_fs_dirty();
      return true;
    case kSstatus: {
      const uint64_t writable = mstatus::kWritable & mstatus::kSstatusMask;
      set_mstatus((mstatus_ & ~writable) | (v & writable));
      return true;
    }
    case kSie: {
      const uint64_t mask = mideleg_ & supervisor_interrupts();
      mie_ = (mie_ & ~mask) | (v & mask);
      return true;
    }
    case kSip: {
      // Only SSIP (and LCOFIP) is writable through sip (STIP and SEIP belong to M-mode or
      // the platform).
      const uint64_t mask = mideleg_ & supervisor_interrupts() & ~(irq::kSTIP | irq::kSEIP);
      mip_sw_ = (mip_sw_ & ~mask) | (v & mask);
      // Clearing SSIP also takes back an IPI another hart (or the SBI) posted.
      if ((mideleg_ & irq::kSSIP) && !(v & irq::kSSIP)) irq_.set(InterruptBit::kSSIP, false);
      return true;
    }
    case kStvec: stvec_ = v & ~2ULL; return true;  // modes 0 and 1 only
    case kScounteren: scounteren_ = static_cast<uint32_t>(v); return true;
    case kSenvcfg:
      senvcfg_ = envcfg_written(senvcfg_, v, false);
      refresh_fast_flags();
      return true;
    case kSscratch: sscratch_ = v; return true;
    case kSepc: sepc_ = v & ~1ULL; return true;
    case kScause: scause_ = v; return true;
    case kStval: stval_ = v; return true;
    case kSatp: {
      if (priv == Priv::kS && (mstatus_ & mstatus::kTVM)) return false;
      const uint64_t mode = v >> atp::kModeShift;
      if (mode != atp::kModeBare && mode != atp::kModeSv39 && mode != atp::kModeSv48) return true;
      // ASIDLEN is 16. Under Bare the other fields have no effect and read as zero.
      const uint64_t next =
          mode == atp::kModeBare ? 0 : (v & (atp::kModeMask | atp::kAsidMask | atp::kPpnMask));
      // Another mode drops every translation. Otherwise this is a new address space (or the
      // same one again): its predecessor's translations go, but not the global ones, which
      // every address space maps alike (a kernel's). So a context switch of an OS that uses
      // ASIDs, as Linux does, keeps its kernel's mappings, as an ASID-tagged TLB would; one
      // that does not use them flushes with sfence.vma anyway.
      if ((next ^ satp_) & atp::kModeMask) {
        flush_tlb();
      } else {
        flush_tlb_non_global();
      }
      satp_ = next;
      return true;
    }
    case kMstatus: set_mstatus(v); return true;
    case kMisa: return true;  // writes ignored
    case kMedeleg:
      medeleg_ = v & (has_h() ? kDelegableExceptionsH : kDelegableExceptions);
      return true;
    // With H the VS-level interrupts and SGEI are always delegated (read-only ones).
    case kMideleg:
      mideleg_ = (v & supervisor_interrupts()) | (has_h() ? irq::kHypervisor : 0);
      return true;
    case kMie:
      mie_ = v & (kMieWritable | supervisor_interrupts() | (has_h() ? irq::kHypervisor : 0));
      return true;
    case kMip: {
      // While stimecmp drives STIP, mip.STIP is read-only: the write leaves the software bit
      // as it was, for clearing STCE hands STIP back to software with its last written value.
      const uint64_t writable = (supervisor_interrupts() & kMipWritableOrLcof) &
                                ~(stimecmp_drives_stip() ? irq::kSTIP : 0);
      mip_sw_ = (mip_sw_ & ~writable) | (v & writable);
      if (!(v & irq::kSSIP)) irq_.set(InterruptBit::kSSIP, false);
      if (has_h()) hvip_ = (hvip_ & ~irq::kVSSIP) | (v & irq::kVSSIP);  // mip.VSSIP is hvip's
      return true;
    }
    case kStimecmp:
      if (!stimecmp_accessible()) return false;
      stimecmp_ = v;
      return true;
    case kMtvec: mtvec_ = v & ~2ULL; return true;
    case kMcounteren: mcounteren_ = static_cast<uint32_t>(v); return true;
    case kMenvcfg:
      menvcfg_ = envcfg_written(menvcfg_, v, true);
      refresh_fast_flags();
      return true;
    case kMcountinhibit: {
      const uint32_t next = static_cast<uint32_t>(v) & kCountinhibitWritable;
      // Freeze or resume the two real counters without a jump in their values.
      if ((next & 1) && !(mcountinhibit_ & 1)) cycle_frozen_ = counter_value(false);
      if (!(next & 1) && (mcountinhibit_ & 1)) cycle_offset_ = cycle_frozen_ - instret;
      if ((next & 4) && !(mcountinhibit_ & 4)) instret_frozen_ = counter_value(true);
      if (!(next & 4) && (mcountinhibit_ & 4)) instret_offset_ = instret_frozen_ - instret;
      mcountinhibit_ = next;
      hpm_sync(instret);
      return true;
    }
    case kMscratch: mscratch_ = v; return true;
    case kMepc: mepc_ = v & ~1ULL; return true;
    case kMcause: mcause_ = v; return true;
    case kMtval: mtval_ = v; return true;
    case kMcycle:
      // The write happens "before" this instruction retires, so the next read sees v + 1.
      if (mcountinhibit_ & 1)
        cycle_frozen_ = v;
      else
        cycle_offset_ = v - instret - 1;
      return true;
    case kMinstret:
      if (mcountinhibit_ & 4)
        instret_frozen_ = v;
      else
        instret_offset_ = v - instret - 1;
      return true;
    default: break;
  }
  if (hpm_csr_write(csr, v)) return true;
  if (csr >= kPmpcfg0 && csr <= kPmpcfg15) return write_pmpcfg(csr - kPmpcfg0, v);
  if (csr >= kPmpaddr0 && csr <= kPmpaddr63) return write_pmpaddr(csr - kPmpaddr0, v);
  if (csr >= kTselect && csr <= kTinfo) return sdtrig_ && trigger_csr_write(csr, v);
  return false;
}

}  // namespace vessel::rv

namespace vessel::rv {

void Hart::hpm_sync(uint64_t at) {
  uint64_t inhibit = Hpm::kMINH;
  if (priv != Priv::kM) {
    if (virt) {
      inhibit = priv == Priv::kS ? Hpm::kVSINH : Hpm::kVUINH;
    } else {
      inhibit = priv == Priv::kS ? Hpm::kSINH : Hpm::kUINH;
    }
  }
  hpm_.sync(at, inhibit, mcountinhibit_);
}

// Zihpm's counters and event selectors, Sscofpmf's scountovf: true when csr is one of them and
// the read is allowed (a refusal sets csr_virtual_ when it is a virtual instruction).
bool Hart::hpm_csr_read(uint16_t csr, uint64_t& v) {
  // Overflows already due show in OF and scountovf, as if the hart had looked after every
  // instruction rather than at block boundaries.
  if (instret >= hpm_.deadline()) hpm_overflow();
  if (csr >= kHpmcounter3 && csr <= kHpmcounter31) {
    // The unprivileged views of mhpmcounter3..31.
    if ((extensions_ & ext_bit(Ext::Zihpm)) == 0 || !counter_accessible(csr)) return false;
    const unsigned n = csr - kCycle;
    v = Hpm::has(n) ? hpm_.counter(n, instret) : 0;
    return true;
  }
  if (csr >= kMhpmcounter3 && csr <= kMhpmcounter31) {
    const unsigned n = csr - kMcycle;
    v = Hpm::has(n) ? hpm_.counter(n, instret) : 0;  // the others are hardwired to zero
    return true;
  }
  if (csr >= kMhpmevent3 && csr <= kMhpmevent31) {
    const unsigned n = csr - (kMhpmevent3 - 3);
    v = Hpm::has(n) ? hpm_.event(n) : 0;
    return true;
  }
  if (csr == kScountovf && has_sscofpmf()) {
    // Below M, only the counters mcounteren (and at V=1 hcounteren) lets the mode see.
    uint64_t visible = priv == Priv::kM ? ~0ULL : mcounteren_;
    if (virt) visible &= hcounteren_;
    v = hpm_.overflow_bits() & visible;
    return true;
  }
  return false;
}

bool Hart::hpm_csr_write(uint16_t csr, uint64_t v) {
  if (csr >= kMhpmcounter3 && csr <= kMhpmcounter31) {
    const unsigned n = csr - kMcycle;
    if (Hpm::has(n)) hpm_.write_counter(n, v, instret);
    return true;
  }
  if (csr >= kMhpmevent3 && csr <= kMhpmevent31) {
    const unsigned n = csr - (kMhpmevent3 - 3);
    if (Hpm::has(n)) {
      hpm_.write_event(n, v);
      hpm_sync(instret);
    }
    return true;
  }
  return false;
}

}  // namespace vessel::rv
