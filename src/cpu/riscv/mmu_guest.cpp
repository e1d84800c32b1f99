// H extension: two-stage address translation for the guest (V=1) and for the hypervisor's
// HLV/HLVX/HSV. The VS stage (vsatp: Bare, Sv39, Sv48) maps a guest virtual address to a guest
// physical one, and its page-table reads are themselves guest physical; the G stage (hgatp:
// Bare, Sv39x4, Sv48x4) maps guest physical addresses to physical ones, every leaf being a
// user page. A fault in the G stage is a guest-page fault (20, 21, 23), with the guest
// physical address >> 2 in htval or mtval2 and the guest virtual one in tval.
#include "base/bits.hpp"
#include "cpu/riscv/hart.hpp"
#include "cpu/riscv/pte.hpp"

namespace vessel::rv {

namespace {

// Whether a leaf's R/W/X allow the access; `mxr` makes executable pages readable, `hlvx`
// reads need execute permission instead.
bool leaf_permits(uint64_t e, Access need, bool mxr, bool hlvx) {
  switch (need) {
    case Access::kFetch: return (e & pte::kX) != 0;
    case Access::kRead:
      if (hlvx) return (e & pte::kX) != 0;
      return (e & pte::kR) || (mxr && (e & pte::kX));
    case Access::kWrite: break;
  }
  return (e & pte::kW) != 0;
}
}  // namespace

bool Hart::guest_page_fault(Access report, uint64_t va, uint64_t gpa) {
  trap_gpa_shifted_ = gpa >> 2;
  raise(guest_page_fault_cause(report), va);
  return false;
}

bool Hart::g_stage(uint64_t gpa, uint64_t va, Access need, Access report, bool hlvx, uint64_t& pa) {
  const uint64_t mode = hgatp_ >> atp::kModeShift;
  if (mode == atp::kModeBare) {
    pa = gpa;
    return true;
  }
  const unsigned levels = mode == atp::kModeSv39 ? 3 : 4;
  // x4: two more bits of guest physical address, indexing a 16 KiB root table.
  const unsigned gpa_bits = 12 + 9 * levels + 2;
  if ((gpa >> gpa_bits) != 0) return guest_page_fault(report, va, gpa);
  const bool pbmte = (menvcfg_ & envcfg::kPBMTE) != 0;
  for (;;) {  // restarts only when another hart changed a PTE under us
    uint64_t table = (hgatp_ & pte::kPpnMask) << 12;
    for (int level = static_cast<int>(levels) - 1; level >= 0; --level) {
      const unsigned index_bits = level == static_cast<int>(levels) - 1 ? 11 : 9;
      const uint64_t index = (gpa >> (12 + 9 * level)) & ((1ULL << index_bits) - 1);
      const uint64_t pte_addr = table + index * 8;
      uint8_t* host = bus_.host_ptr(pte_addr, 8);
      if (host == nullptr || !pmp_allows(pte_addr, 8, Access::kRead, Priv::kS)) {
        return raise(access_fault(report), va), false;
      }
      auto* slot = reinterpret_cast<uint64_t*>(host);
      uint64_t e = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
      if (pte::invalid(e) || !pte_high_bits_valid(e, level, pbmte)) {
        return guest_page_fault(report, va, gpa);
      }
      const uint64_t ppn = (e >> 10) & pte::kPpnMask;
      if (!pte::leaf(e)) {
        if (level == 0) return guest_page_fault(report, va, gpa);
        table = ppn << 12;
        continue;
      }
      // Every G-stage access is a user access: a leaf without U faults.
      if (!(e & pte::kU) || !leaf_permits(e, need, (mstatus_ & mstatus::kMXR) != 0, hlvx)) {
        return guest_page_fault(report, va, gpa);
      }
      const unsigned shift = 9 * static_cast<unsigned>(level);
      if (shift != 0 && (ppn & ((1ULL << shift) - 1)) != 0) {
        return guest_page_fault(report, va, gpa);
      }
      const uint64_t want = pte::kA | (need == Access::kWrite ? pte::kD : 0);
      if ((e & want) != want) {
        if (!pmp_allows(pte_addr, 8, Access::kWrite, Priv::kS)) {
          return raise(access_fault(report), va), false;
        }
        if (!__atomic_compare_exchange_n(slot, &e, e | want, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
          break;
        }
        bus_.mark_written(host, 8);
        if (code_.is_code_page(reinterpret_cast<uint64_t>(host))) {
          code_.invalidate(reinterpret_cast<uint64_t>(host), 8);
          stop_block = true;
        }
      }
      const unsigned bits = (e & pte::kN) ? 16 : 12 + shift;
      const uint64_t offset_mask = (1ULL << bits) - 1;
      pa = ((ppn << 12) & ~offset_mask) | (gpa & offset_mask);
      return true;
    }
  }
}

uint64_t* Hart::vs_pte(uint64_t pte_gpa, uint64_t va, Access need, Access report) {
  uint64_t pte_pa = 0;
  // The walk's own accesses are implicit: G-stage faults report the original access.
  if (!g_stage(pte_gpa, va, need, report, false, pte_pa)) return nullptr;
  uint8_t* host = bus_.host_ptr(pte_pa, 8);
  if (host == nullptr || !pmp_allows(pte_pa, 8, need, Priv::kS)) {
    raise(access_fault(report), va);
    return nullptr;
  }
  return reinterpret_cast<uint64_t*>(host);
}

bool Hart::vs_leaf_allows(uint64_t e, const GuestAccess& g) const {
  if (g.p == Priv::kU && !(e & pte::kU)) return false;
  if (g.p == Priv::kS && (e & pte::kU) &&
      (g.acc == Access::kFetch || !(vsstatus_ & mstatus::kSUM))) {
    return false;
  }
  // Either MXR makes executable guest pages readable at this stage.
  const bool mxr = ((mstatus_ | vsstatus_) & mstatus::kMXR) != 0;
  return leaf_permits(e, g.acc, mxr, g.hlvx);
}

bool Hart::translate_guest(uint64_t va, const GuestAccess& g, uint64_t& pa, unsigned& page_bits) {
  page_bits = 12;
  const uint64_t mode = vsatp_ >> atp::kModeShift;
  if (mode == atp::kModeBare) return g_stage(va, va, g.acc, g.report, g.hlvx, pa);
  const unsigned levels = mode == atp::kModeSv39 ? 3 : 4;
  if (static_cast<uint64_t>(sext(va, 12 + 9 * levels)) != va) {
    return raise(page_fault(g.report), va), false;
  }
  const bool pbmte = (henvcfg_ & envcfg::kPBMTE) != 0;
  for (;;) {  // restarts only when another hart changed a PTE under us
    uint64_t table = (vsatp_ & pte::kPpnMask) << 12;
    for (int level = static_cast<int>(levels) - 1; level >= 0; --level) {
      const uint64_t pte_gpa = table + ((va >> (12 + 9 * level)) & 0x1ff) * 8;
      uint64_t* slot = vs_pte(pte_gpa, va, Access::kRead, g.report);
      if (slot == nullptr) return false;
      uint64_t e = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
      if (pte::invalid(e) || !pte_high_bits_valid(e, level, pbmte)) {
        return raise(page_fault(g.report), va), false;
      }
      const uint64_t ppn = (e >> 10) & pte::kPpnMask;
      if (!pte::leaf(e)) {
        if (level == 0) return raise(page_fault(g.report), va), false;
        table = ppn << 12;
        continue;
      }
      const unsigned shift = 9 * static_cast<unsigned>(level);
      if (!vs_leaf_allows(e, g) || (shift != 0 && (ppn & ((1ULL << shift) - 1)) != 0)) {
        return raise(page_fault(g.report), va), false;
      }
      const uint64_t want = pte::kA | (g.acc == Access::kWrite ? pte::kD : 0);
      if ((e & want) != want) {
        // Setting A or D writes the guest's page table: the G stage must allow a store there.
        uint64_t* writable = vs_pte(pte_gpa, va, Access::kWrite, g.report);
        if (writable == nullptr) return false;
        if (!__atomic_compare_exchange_n(writable, &e, e | want, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
          break;
        }
        bus_.mark_written(reinterpret_cast<uint8_t*>(writable), 8);
        if (code_.is_code_page(reinterpret_cast<uint64_t>(writable))) {
          code_.invalidate(reinterpret_cast<uint64_t>(writable), 8);
          stop_block = true;
        }
      }
      const unsigned bits = (e & pte::kN) ? 16 : 12 + shift;
      const uint64_t offset_mask = (1ULL << bits) - 1;
      const uint64_t gpa = ((ppn << 12) & ~offset_mask) | (va & offset_mask);
      page_bits = bits;
      return g_stage(gpa, va, g.acc, g.report, g.hlvx, pa);
    }
  }
}

}  // namespace vessel::rv
