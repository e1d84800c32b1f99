// Address translation (Sv39/Sv48), PMP and the soft TLB's slow paths.
#include <algorithm>
#include <bit>

#include "base/bits.hpp"
#include "cpu/riscv/hart.hpp"
#include "cpu/riscv/pte.hpp"

namespace vessel::rv {

namespace {

namespace pmpcfg {
constexpr uint8_t kR = 1, kW = 2, kX = 4, kL = 0x80;
constexpr unsigned kAShift = 3;
enum : uint8_t { kOff = 0, kTor = 1, kNa4 = 2, kNapot = 3 };
}  // namespace pmpcfg

constexpr uint64_t kPmpAddrMask = (1ULL << 54) - 1;
}  // namespace

Priv Hart::data_priv() const {
  if (priv == Priv::kM && (mstatus_ & mstatus::kMPRV)) {
    return static_cast<Priv>((mstatus_ & mstatus::kMPP) >> mstatus::kMPPShift);
  }
  return priv;
}

bool Hart::data_virt() const {
  if (priv == Priv::kM && (mstatus_ & mstatus::kMPRV)) {
    return (mstatus_ & mstatus::kMPV) != 0 && (mstatus_ & mstatus::kMPP) != mstatus::kMPP;
  }
  return virt;
}

void Hart::update_modes() {
  auto mode_of = [&](Priv p, bool v) -> uint8_t {
    if (p == Priv::kM) return kModeM;
    if (v) return p == Priv::kU ? kModeVU : ((vsstatus_ & mstatus::kSUM) ? kModeVSSum : kModeVS);
    if (p == Priv::kU) return kModeU;
    return (mstatus_ & mstatus::kSUM) ? kModeSSum : kModeS;
  };
  data_mode = mode_of(data_priv(), data_virt());
  if (priv == Priv::kM) {
    fetch_mode = kModeM;
  } else if (virt) {
    fetch_mode = priv == Priv::kU ? kModeVU : kModeVS;
  } else {
    fetch_mode = priv == Priv::kU ? kModeU : kModeS;
  }
  jump_xor = (static_cast<uint64_t>(priv) << 62) ^ (virt ? 1ULL << 61 : 0);
  read_tlb = tlb[kRead][data_mode].data();
  write_tlb = tlb[kWrite][data_mode].data();
  fetch_tlb = tlb[kFetch][fetch_mode].data();
  refresh_fast_flags();  // every write of mstatus and every change of privilege ends here
}

void Hart::pmp_changed() {
  decode_pmp();
  flush_tlb();
  // Block links and chained jumps lead from block to block without a fetch check; what PMP
  // allowed when they were made may be gone. PMP is written at boot, so all code goes.
  code_.drop_all();
}

void Hart::flush_tlb() {
  // The guest's sets only when something filled them: a hart that never ran a guest flushes
  // what it flushed before the H extension came.
  const unsigned modes = virt_tlb_filled_ ? kNumModes : kFirstVirtualMode;
  for (auto& per_access : tlb) {
    for (unsigned m = 0; m < modes; ++m) per_access[m].fill(TlbEntry{});
  }
  virt_tlb_filled_ = false;
  superpages_.clear();
  superpages_overflow_ = false;
  ++stats.tlb_flushes;
}

void Hart::flush_tlb_virtual() {
  if (!virt_tlb_filled_) return;
  for (auto& per_access : tlb) {
    for (unsigned m = kFirstVirtualMode; m < kNumModes; ++m) per_access[m].fill(TlbEntry{});
  }
  virt_tlb_filled_ = false;
  ++stats.tlb_flushes;
}

void Hart::flush_tlb_non_global() {
  for (unsigned acc = 0; acc < tlb.size(); ++acc) {
    for (unsigned m = 0; m < kModeM; ++m) {
      auto& set = tlb[acc][m];
      const auto& global = tlb_global_[acc][m];
      for (unsigned i = 0; i < kTlbSize; ++i) {
        if (!global[i]) set[i] = TlbEntry{};
      }
    }
  }
  ++stats.tlb_flushes;
}

void Hart::flush_tlb_page(uint64_t va) {
  const uint64_t page = va & ~0xfffULL;
  for (auto& per_access : tlb) {
    for (auto& set : per_access) {
      TlbEntry& e = set[(va >> 12) % kTlbSize];
      if (e.vpage == page) e = TlbEntry{};
    }
  }
  // A superpage is cached as 4 KiB slices, each under its own index: when the page lies in
  // one, every slice of it goes. Past kMaxSuperpages of them nothing says which, so all go.
  if (superpages_overflow_) {
    flush_tlb();
    return;
  }
  for (const auto& [base, mask] : superpages_) {
    if ((page & mask) != base) continue;
    for (auto& per_access : tlb) {
      for (auto& set : per_access) {
        for (TlbEntry& e : set) {
          if (e.vpage != ~0ULL && (e.vpage & mask) == base) e = TlbEntry{};
        }
      }
    }
  }
}

void Hart::drop_write_mappings() {
  // The guest's sets only when something filled them, as flush_tlb.
  const unsigned modes = virt_tlb_filled_ ? kNumModes : kFirstVirtualMode;
  for (unsigned m = 0; m < modes; ++m) tlb[kWrite][m].fill(TlbEntry{});
}

Exception Hart::page_fault(Access acc) const {
  switch (acc) {
    case Access::kFetch: return Exception::kInstructionPageFault;
    case Access::kRead: return Exception::kLoadPageFault;
    case Access::kWrite: break;
  }
  return Exception::kStorePageFault;
}

Exception Hart::guest_page_fault_cause(Access acc) const {
  switch (acc) {
    case Access::kFetch: return Exception::kInstructionGuestPageFault;
    case Access::kRead: return Exception::kLoadGuestPageFault;
    case Access::kWrite: break;
  }
  return Exception::kStoreGuestPageFault;
}

Exception Hart::access_fault(Access acc) const {
  switch (acc) {
    case Access::kFetch: return Exception::kInstructionAccessFault;
    case Access::kRead: return Exception::kLoadAccessFault;
    case Access::kWrite: break;
  }
  return Exception::kStoreAccessFault;
}

// ---- PMP ----

uint64_t Hart::pmp_napot_or_tor(unsigned i, uint64_t& lo, uint64_t& hi) const {
  const uint8_t a = (pmpcfg_[i] >> pmpcfg::kAShift) & 3;
  const uint64_t addr = pmpaddr_[i];
  switch (a) {
    case pmpcfg::kTor:
      lo = i == 0 ? 0 : (pmpaddr_[i - 1] << 2);
      hi = addr << 2;
      break;
    case pmpcfg::kNa4:
      lo = addr << 2;
      hi = lo + 4;
      break;
    case pmpcfg::kNapot: {
      const unsigned ones = static_cast<unsigned>(std::countr_one(addr));
      if (ones >= 54) {  // the whole physical address space
        lo = 0;
        hi = ~0ULL;
      } else {
        const uint64_t size = 1ULL << (ones + 3);
        lo = (addr << 2) & ~(size - 1);
        hi = lo + size;
      }
      break;
    }
    default: lo = hi = 0; break;
  }
  return a;
}

void Hart::decode_pmp() {
  pmp_active_ = false;
  pmp_ranges_count_ = 0;
  for (unsigned i = 0; i < kNumPmp; ++i) {
    uint64_t lo = 0, hi = 0;
    if (pmp_napot_or_tor(i, lo, hi) == pmpcfg::kOff) continue;
    pmp_active_ = true;
    if (lo < hi) pmp_ranges_[pmp_ranges_count_++] = PmpRange{lo, hi, pmpcfg_[i]};
  }
}

bool Hart::pmp_allows(uint64_t pa, uint64_t len, Access acc, Priv p) const {
  if (!pmp_active_) return p == Priv::kM;
  const uint64_t end = pa + len;
  for (unsigned i = 0; i < pmp_ranges_count_; ++i) {
    const auto [lo, hi, cfg] = pmp_ranges_[i];
    const bool any = pa < hi && end > lo;
    if (!any) continue;
    // An entry that matches only some bytes of the access makes it fail.
    if (pa < lo || end > hi) return false;
    if (p == Priv::kM && !(cfg & pmpcfg::kL)) return true;
    switch (acc) {
      case Access::kRead: return cfg & pmpcfg::kR;
      case Access::kWrite: return cfg & pmpcfg::kW;
      case Access::kFetch: return cfg & pmpcfg::kX;
    }
  }
  // No match: M-mode may, S and U may not (16 entries are implemented).
  return p == Priv::kM;
}

bool Hart::pmp_page_uniform(uint64_t page_pa, Access acc, Priv p) const {
  if (!pmp_active_) return p == Priv::kM;
  const uint64_t end = page_pa + CodeCache::kPageSize;
  for (unsigned i = 0; i < pmp_ranges_count_; ++i) {
    const auto [lo, hi, cfg] = pmp_ranges_[i];
    if (!(page_pa < hi && end > lo)) continue;
    if (page_pa < lo || end > hi) return false;  // the page straddles an entry boundary
    return pmp_allows(page_pa, CodeCache::kPageSize, acc, p);
  }
  return p == Priv::kM;
}

bool Hart::write_pmpcfg(unsigned index, uint64_t value) {
  // pmpcfg0 holds entries 0..7, pmpcfg2 entries 8..15 (RV64 uses only even numbers).
  if (index & 1) return false;
  const unsigned first = index * 4;
  for (unsigned k = 0; k < 8; ++k) {
    const unsigned e = first + k;
    if (e >= kNumPmp) break;
    if (pmpcfg_[e] & pmpcfg::kL) continue;
    uint8_t cfg = static_cast<uint8_t>(value >> (8 * k)) & 0x9f;  // bits 5 and 6 are reserved
    if ((cfg & pmpcfg::kW) && !(cfg & pmpcfg::kR)) cfg &= static_cast<uint8_t>(~pmpcfg::kW);
    pmpcfg_[e] = cfg;
  }
  pmp_changed();
  return true;
}

bool Hart::write_pmpaddr(unsigned index, uint64_t value) {
  if (index >= kNumPmp) return true;  // entries 16..63 are hardwired to zero
  if (pmpcfg_[index] & pmpcfg::kL) return true;
  if (index + 1 < kNumPmp && (pmpcfg_[index + 1] & pmpcfg::kL) &&
      ((pmpcfg_[index + 1] >> pmpcfg::kAShift) & 3) == pmpcfg::kTor) {
    return true;
  }
  pmpaddr_[index] = value & kPmpAddrMask;
  pmp_changed();
  return true;
}

// ---- translation ----

// Bits 63:54 of a PTE at `level`: N (Svnapot) only on a 4 KiB leaf with ppn[3:0] = 1000 of a
// hart that has Svnapot; PBMT (Svpbmt) only on a leaf, while menvcfg.PBMTE is set (it can be
// only with Svpbmt), and never 3; the rest reserved. Anything else is a page fault.
bool Hart::pte_high_bits_valid(uint64_t e, int level, bool pbmte) const {
  const bool leaf = (e & (pte::kR | pte::kX)) != 0;
  if (e & pte::kReservedHigh) return false;
  if (e & pte::kN) {
    const uint64_t ppn = e >> 10;
    if (!leaf || level != 0 || (extensions_ & ext_bit(Ext::Svnapot)) == 0 ||
        (ppn & pte::kNapotPpnMask) != pte::kNapot64K) {
      return false;
    }
  }
  const uint64_t pbmt = e & pte::kPbmt;
  return pbmt == 0 || (leaf && pbmte && pbmt != pte::kPbmt);
}

bool Hart::walk(uint64_t va, Access acc, Access report, Priv p, uint64_t& pa, unsigned& page_bits,
                bool& global) {
  const uint64_t mode = satp_ >> atp::kModeShift;
  const unsigned levels = mode == atp::kModeSv39 ? 3 : 4;
  const unsigned va_bits = 12 + 9 * levels;
  if (static_cast<uint64_t>(sext(va, va_bits)) != va) return raise(page_fault(report), va), false;

  for (;;) {  // restarts only when another hart changed a PTE under us
    uint64_t table = (satp_ & pte::kPpnMask) << 12;
    global = false;
    for (int level = static_cast<int>(levels) - 1; level >= 0; --level) {
      const uint64_t pte_addr = table + ((va >> (12 + 9 * level)) & 0x1ff) * 8;
      uint8_t* host = bus_.host_ptr(pte_addr, 8);
      if (host == nullptr || !pmp_allows(pte_addr, 8, Access::kRead, Priv::kS)) {
        return raise(access_fault(report), va), false;
      }
      auto* slot = reinterpret_cast<uint64_t*>(host);
      uint64_t e = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
      if (!(e & pte::kV) || (!(e & pte::kR) && (e & pte::kW)) ||
          !pte_high_bits_valid(e, level, (menvcfg_ & envcfg::kPBMTE) != 0)) {
        return raise(page_fault(report), va), false;
      }
      const uint64_t ppn = (e >> 10) & pte::kPpnMask;
      // G in a pointer makes everything below it global too (the privileged manual's rule).
      global = global || (e & pte::kG) != 0;
      if (!(e & (pte::kR | pte::kX))) {  // pointer to the next level
        if (level == 0) return raise(page_fault(report), va), false;
        table = ppn << 12;
        continue;
      }
      // Leaf: permissions.
      if (p == Priv::kU && !(e & pte::kU)) return raise(page_fault(report), va), false;
      if (p == Priv::kS && (e & pte::kU) &&
          (acc == Access::kFetch || !(mstatus_ & mstatus::kSUM))) {
        return raise(page_fault(report), va), false;
      }
      bool ok = false;
      switch (acc) {
        case Access::kFetch: ok = e & pte::kX; break;
        case Access::kRead:
          ok = (e & pte::kR) || ((mstatus_ & mstatus::kMXR) && (e & pte::kX));
          break;
        case Access::kWrite: ok = e & pte::kW; break;
      }
      if (!ok) return raise(page_fault(report), va), false;
      const unsigned shift = 9 * static_cast<unsigned>(level);
      if (shift != 0 && (ppn & ((1ULL << shift) - 1)) != 0) {  // misaligned superpage
        return raise(page_fault(report), va), false;
      }
      // The hardware keeps A and D up to date (the privileged spec allows either this or a
      // page fault; Linux handles both). The update is atomic with respect to other harts.
      const uint64_t need = pte::kA | (acc == Access::kWrite ? pte::kD : 0);
      if ((e & need) != need) {
        if (!pmp_allows(pte_addr, 8, Access::kWrite, Priv::kS)) {
          return raise(access_fault(report), va), false;
        }
        if (!__atomic_compare_exchange_n(slot, &e, e | need, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
          break;  // changed under us: walk again
        }
        bus_.mark_written(host, 8);
        // A page table sharing a page with code is odd but legal: keep fetch coherent.
        if (code_.is_code_page(reinterpret_cast<uint64_t>(host))) {
          code_.invalidate(reinterpret_cast<uint64_t>(host), 8);
          stop_block = true;
        }
      }
      // A NAPOT leaf maps its 64 KiB as a 64 KiB page: va[15:12] replaces ppn[3:0].
      const unsigned bits = (e & pte::kN) ? 16 : 12 + shift;
      const uint64_t offset_mask = (1ULL << bits) - 1;
      pa = ((ppn << 12) & ~offset_mask) | (va & offset_mask);
      page_bits = bits;
      return true;
    }
  }
}

bool Hart::debug_translate(uint64_t va, uint64_t& pa) const {
  // What the hart's fetches see (priv, not MPRV's mode); permissions are not checked, as a
  // debugger reads what the kernel maps for its user too. Nothing is written: no A/D bits.
  if (priv == Priv::kM || (satp_ >> atp::kModeShift) == atp::kModeBare) {
    pa = va;
    return true;
  }
  const unsigned levels = (satp_ >> atp::kModeShift) == atp::kModeSv39 ? 3 : 4;
  if (static_cast<uint64_t>(sext(va, 12 + 9 * levels)) != va) return false;
  uint64_t table = (satp_ & pte::kPpnMask) << 12;
  for (int level = static_cast<int>(levels) - 1; level >= 0; --level) {
    const uint64_t pte_addr = table + ((va >> (12 + 9 * level)) & 0x1ff) * 8;
    const uint8_t* host = bus_.host_ptr(pte_addr, 8);
    if (host == nullptr) return false;
    const uint64_t e = __atomic_load_n(reinterpret_cast<const uint64_t*>(host), __ATOMIC_ACQUIRE);
    if (!(e & pte::kV) || (!(e & pte::kR) && (e & pte::kW)) ||
        !pte_high_bits_valid(e, level, (menvcfg_ & envcfg::kPBMTE) != 0)) {
      return false;
    }
    const uint64_t ppn = (e >> 10) & pte::kPpnMask;
    if (!(e & (pte::kR | pte::kX))) {
      table = ppn << 12;
      continue;
    }
    const unsigned shift = 9 * static_cast<unsigned>(level);
    if (shift != 0 && (ppn & ((1ULL << shift) - 1)) != 0) return false;
    const unsigned bits = (e & pte::kN) ? 16 : 12 + shift;
    const uint64_t offset_mask = (1ULL << bits) - 1;
    pa = ((ppn << 12) & ~offset_mask) | (va & offset_mask);
    return true;
  }
  return false;  // a pointer at level 0
}

bool Hart::translate(uint64_t va, Access acc, uint64_t& pa, unsigned& page_bits, bool& global) {
  page_bits = 12;
  global = false;
  const Priv p = acc == Access::kFetch ? priv : data_priv();
  if (p != Priv::kM && (acc == Access::kFetch ? virt : data_virt())) {
    return translate_guest(va, {acc, acc, p, false}, pa, page_bits);
  }
  if (p == Priv::kM || (satp_ >> atp::kModeShift) == atp::kModeBare) {
    pa = va;
    return true;
  }
  return walk(va, acc, acc, p, pa, page_bits, global);
}

bool Hart::access_page(uint64_t va, Access acc, uint64_t& pa) {
  ++stats.tlb_misses;
  unsigned page_bits = 12;
  bool global = false;
  if (!translate(va, acc, pa, page_bits, global)) return false;
  const Priv p = acc == Access::kFetch ? priv : data_priv();
  if (!pmp_allows(pa, 1, acc, p)) return raise(access_fault(acc), va), false;
  // Every store reaches memory through here (its slow path) or through a writable TLB entry
  // made here: logging the page now covers both engines until the log is cleared, which drops
  // the harts' write mappings (VirtMachine::reset_dirty_pages).
  if (acc == Access::kWrite) bus_.mark_written_phys(pa, 1);
  fill_tlb(acc, acc == Access::kFetch ? fetch_mode : data_mode, va, pa, page_bits, global);
  return true;
}

void Hart::fill_tlb(Access acc, uint8_t mode, uint64_t va, uint64_t pa, unsigned page_bits,
                    bool global) {
  const uint64_t page_pa = pa & ~0xfffULL;
  const MemoryRegion* region = bus_.find_memory(page_pa, CodeCache::kPageSize);
  if (region == nullptr) return;
  const uint8_t* host_page = region->host + (page_pa - region->base);
  if (acc == Access::kWrite &&
      (!region->writable || code_.is_code_page(reinterpret_cast<uint64_t>(host_page)))) {
    return;
  }
  const Priv p = acc == Access::kFetch ? priv : data_priv();
  if (!pmp_page_uniform(page_pa, acc, p)) return;
  // Loads and stores on a page a data trigger watches must reach load_slow/store_slow.
  if (acc != Access::kFetch && triggers_.watches_data() && triggers_.watches_page(va & ~0xfffULL)) {
    return;
  }
  const unsigned index = (va >> 12) % kTlbSize;
  TlbEntry& e = tlb[static_cast<unsigned>(acc)][mode][index];
  if (mode >= kFirstVirtualMode) virt_tlb_filled_ = true;
  if (mode < kModeM) tlb_global_[static_cast<unsigned>(acc)][mode][index] = global;
  e.vpage = va & ~0xfffULL;
  e.addend = reinterpret_cast<uint64_t>(host_page) - e.vpage;
  // A superpage or a NAPOT range is cached one 4 KiB slice at a time, each from its own walk;
  // sfence.vma of any address in it must drop every slice, so it is remembered.
  if (page_bits > 12 && !superpages_overflow_) {
    const uint64_t mask = ~((1ULL << page_bits) - 1);
    const std::pair<uint64_t, uint64_t> sp{e.vpage & mask, mask};
    if (std::find(superpages_.begin(), superpages_.end(), sp) == superpages_.end()) {
      if (superpages_.size() < kMaxSuperpages) {
        superpages_.push_back(sp);
      } else {
        superpages_overflow_ = true;
      }
    }
  }
}

const uint8_t* Hart::fetch_host(uint64_t va) {
  const TlbEntry& e = tlb[kFetch][fetch_mode][(va >> 12) % kTlbSize];
  if (e.vpage == (va & ~0xfffULL)) return reinterpret_cast<const uint8_t*>(va + e.addend);
  uint64_t pa = 0;
  if (!access_page(va, Access::kFetch, pa)) return nullptr;
  const uint8_t* host = bus_.host_ptr(pa, 2);
  if (host == nullptr) raise(Exception::kInstructionAccessFault, va);
  return host;
}

// ---- loads and stores ----

bool Hart::mmio_load(uint64_t pa, unsigned size, uint64_t& value, uint64_t va) {
  if (pa & (size - 1)) return raise(Exception::kLoadAddressMisaligned, va), false;
  value = 0;
  if (!bus_.mmio_read(pa, size, value)) return raise(Exception::kLoadAccessFault, va), false;
  ++stats.mmio_reads;
  return true;
}

bool Hart::mmio_store(uint64_t pa, unsigned size, uint64_t value, uint64_t va) {
  if (pa & (size - 1)) return raise(Exception::kStoreAddressMisaligned, va), false;
  if (!bus_.mmio_write(pa, size, value)) return raise(Exception::kStoreAccessFault, va), false;
  ++stats.mmio_writes;
  return true;
}

bool Hart::load_slow(uint64_t va, void* out, unsigned size) {
  // A watched page never enters the TLB (fill_tlb), so its loads all come here. A load
  // address breakpoint comes before misalignment and faults.
  if (triggers_.watches_data() && trigger_trap(TriggerOp::kLoad, va, size)) return false;
  if ((va & 0xfff) + size > 0x1000) {  // misaligned across a page boundary: byte by byte
    auto* bytes = static_cast<uint8_t*>(out);
    for (unsigned k = 0; k < size; ++k) {
      if (!load_slow(va + k, bytes + k, 1)) return false;
    }
    return true;
  }
  uint64_t pa = 0;
  if (!access_page(va, Access::kRead, pa)) return false;
  if (!pmp_allows(pa, size, Access::kRead, data_priv())) {
    return raise(Exception::kLoadAccessFault, va), false;
  }
  if (const uint8_t* host = bus_.host_ptr(pa, size)) {
    std::memcpy(out, host, size);
    return true;
  }
  uint64_t value = 0;
  if (!mmio_load(pa, size, value, va)) return false;
  std::memcpy(out, &value, size);
  return true;
}

bool Hart::store_slow(uint64_t va, const void* in, unsigned size) {
  // Before anything is written: the store does not happen.
  if (triggers_.watches_data() && trigger_trap(TriggerOp::kStore, va, size)) return false;
  if ((va & 0xfff) + size > 0x1000) {
    // Check both pages before writing anything, so a fault leaves memory untouched.
    uint64_t pa = 0;
    if (!access_page(va, Access::kWrite, pa)) return false;
    if (!access_page(va + size - 1, Access::kWrite, pa)) return false;
    const auto* bytes = static_cast<const uint8_t*>(in);
    for (unsigned k = 0; k < size; ++k) {
      if (!store_slow(va + k, bytes + k, 1)) return false;
    }
    return true;
  }
  uint64_t pa = 0;
  if (!access_page(va, Access::kWrite, pa)) return false;
  if (!pmp_allows(pa, size, Access::kWrite, data_priv())) {
    return raise(Exception::kStoreAccessFault, va), false;
  }
  if (const MemoryRegion* r = bus_.find_memory(pa, size)) {
    if (!r->writable) return raise(Exception::kStoreAccessFault, va), false;
    uint8_t* host = r->host + (pa - r->base);
    // Written before the caches are told, so that another hart re-decoding the page at once
    // sees the new bytes.
    std::memcpy(host, in, size);
    if (code_.is_code_page(reinterpret_cast<uint64_t>(host))) {
      code_.invalidate(reinterpret_cast<uint64_t>(host), size);
      stop_block = true;
    }
    return true;
  }
  uint64_t value = 0;
  std::memcpy(&value, in, size);
  return mmio_store(pa, size, value, va);
}

// ---- cache-block operations (Zicbom, Zicboz) ----

// Spike and QEMU check the block's first byte and report the block's address in xtval; so does
// this. A block never straddles a page, so one translation covers it.
bool Hart::cbo_access(uint64_t va) {
  const uint64_t block = va & ~(kCacheBlockSize - 1);
  // The debug specification matches cache-block operations as stores of the whole block.
  if (triggers_.watches_data() && trigger_trap(TriggerOp::kStore, block, kCacheBlockSize)) {
    return false;
  }
  const Priv p = data_priv();
  uint64_t pa = block;
  unsigned page_bits = 12;
  // A load may reach every page a store may (W without R is reserved), so "a load or a store
  // may" is "a load may"; the fault is a store's all the same (the CMO specification's rule).
  if (p != Priv::kM && data_virt()) {
    if (!translate_guest(block, {Access::kRead, Access::kWrite, p, false}, pa, page_bits)) {
      return false;
    }
  } else if (bool global = false;
             p != Priv::kM && (satp_ >> atp::kModeShift) != atp::kModeBare &&
             !walk(block, Access::kRead, Access::kWrite, p, pa, page_bits, global)) {
    return false;
  }
  if (!pmp_allows(pa, kCacheBlockSize, Access::kRead, p)) {
    return raise(Exception::kStoreAccessFault, block), false;
  }
  return true;
}

bool Hart::cbo_zero(uint64_t va) {
  const uint64_t block = va & ~(kCacheBlockSize - 1);
  if (triggers_.watches_data() && trigger_trap(TriggerOp::kStore, block, kCacheBlockSize)) {
    return false;
  }
  uint64_t pa = 0;
  if (!access_page(block, Access::kWrite, pa)) return false;
  const MemoryRegion* r = bus_.find_memory(pa, kCacheBlockSize);
  // Device registers are not cacheable memory (their PMA rules cbo.zero out, as it does AMOs):
  // an access fault, which the specification allows.
  if (r == nullptr || !r->writable ||
      !pmp_allows(pa, kCacheBlockSize, Access::kWrite, data_priv())) {
    return raise(Exception::kStoreAccessFault, block), false;
  }
  uint8_t* host = r->host + (pa - r->base);
  // As store_slow: zeroed first, then the code caches told (a page of code drops its blocks).
  std::memset(host, 0, kCacheBlockSize);
  if (code_.is_code_page(reinterpret_cast<uint64_t>(host))) {
    code_.invalidate(reinterpret_cast<uint64_t>(host), kCacheBlockSize);
    stop_block = true;
  }
  return true;
}

uint8_t* Hart::amo_ptr(uint64_t va, unsigned size, Atomic kind) {
  const bool is_load_reserved = kind == Atomic::kLoadReserved;
  const Access acc = is_load_reserved ? Access::kRead : Access::kWrite;
  // Sdtrig: lr is a load, sc a store, an AMO both (its read, then its write).
  if (triggers_.watches_data()) [[unlikely]] {
    if (kind != Atomic::kStoreConditional && trigger_trap(TriggerOp::kLoad, va, size)) {
      return nullptr;
    }
    if (!is_load_reserved && trigger_trap(TriggerOp::kStore, va, size)) return nullptr;
  }
  if (va & (size - 1)) {
    raise(is_load_reserved ? Exception::kLoadAddressMisaligned : Exception::kStoreAddressMisaligned,
          va);
    return nullptr;
  }
  uint64_t pa = 0;
  if (!access_page(va, acc, pa)) return nullptr;
  const MemoryRegion* r = bus_.find_memory(pa, size);
  // Device registers do not support atomics (their PMA says so): access fault, as the
  // privileged spec allows.
  if (r == nullptr || !pmp_allows(pa, size, acc, data_priv()) ||
      (!is_load_reserved && !r->writable)) {
    raise(access_fault(acc), va);
    return nullptr;
  }
  uint8_t* host = r->host + (pa - r->base);
  if (!is_load_reserved && code_.is_code_page(reinterpret_cast<uint64_t>(host))) {
    code_.invalidate(reinterpret_cast<uint64_t>(host), size);
    stop_block = true;
  }
  return host;
}

}  // namespace vessel::rv
