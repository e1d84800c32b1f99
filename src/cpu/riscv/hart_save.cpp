// A hart's state for snapshots (vmm/snapshot): what the guest can observe, and nothing a fresh
// machine rebuilds by itself (soft TLB, code caches, translated code, statistics).
//
// The CSRs are saved by number and restored through the debugger's write path, so that every
// value passes the same WARL rules a guest's write does: a snapshot cannot give a hart a state
// that no guest could have put it in. What has no CSR (the counters' offsets, the software
// pending bits, the HSM run state, the SBI timer) is saved raw and checked here.
#include <fmt/format.h>

#include "cpu/riscv/hart.hpp"

namespace vessel::rv {

namespace {

constexpr std::string_view kHartTag = "hart/3";

// In restore order: mstatus first (its FS gates nothing for the debugger, but MPRV and SUM
// decide the modes), the counter enables before the counters' raw state, menvcfg before
// henvcfg (which it limits), and each pmpaddr before the pmpcfg that may lock it. The H
// extension's CSRs are read and written as HS-mode's (the debugger's accesses run with V=0),
// so the supervisor CSRs above are HS-mode's own and the vs* ones the guest's; a hart without
// H has none of them (saved as absent). mie holds hie's bits, mip's VSSIP is hvip's; vsie,
// after hideleg, is saved for its bit 13 of its own (Hart::vsie_lcof), its other bits being mie's.
constexpr uint16_t kSavedCsrs[] = {
    kMstatus,  kMedeleg,    kMideleg,    kMie,           kMtvec,      kStvec,      kMscratch,
    kSscratch, kMepc,       kSepc,       kMcause,        kScause,     kMtval,      kStval,
    kSatp,     kMcounteren, kScounteren, kMcountinhibit, kMenvcfg,    kSenvcfg,    kFcsr,
    kHstatus,  kHedeleg,    kHideleg,    kHvip,          kHtimedelta, kHcounteren, kHenvcfg,
    kHtval,    kHtinst,     kHgatp,      kVsstatus,      kVsie,       kVstvec,     kVsscratch,
    kVsepc,    kVscause,    kVstval,     kVsatp,         kVstimecmp,  kMtval2,     kMtinst,
};

bool run_state_valid(uint8_t v) { return v <= static_cast<uint8_t>(Hart::RunState::kStartPending); }

}  // namespace

void TriggerModule::save(StateWriter& out) const {
  out.put<uint32_t>(select_);
  for (const Trigger& t : triggers_) {
    out.put(t.type);
    out.put(t.control);
    out.put(t.tdata2);
  }
}

Result<void> TriggerModule::restore(StateReader& in) {
  const auto select = TRY(in.get<uint32_t>());
  if (select >= kCount) return make_error("hart state: tselect out of range");
  TriggerModule restored;
  for (unsigned i = 0; i < kCount; ++i) {
    Trigger t;
    t.type = TRY(in.get<uint64_t>());
    t.control = TRY(in.get<uint64_t>());
    t.tdata2 = TRY(in.get<uint64_t>());
    // Through the CSRs' WARL rules: tdata1 is the type at its place and the control bits.
    restored.select_ = i;
    restored.write_tdata1(tdata1::kTypeDisabled << tdata1::kTypeShift);
    restored.write_tdata2(t.tdata2);
    restored.write_tdata1((t.type << tdata1::kTypeShift) | (t.control & ~(0xfULL << 60)));
    if (restored.triggers_[i].type != t.type || restored.triggers_[i].control != t.control) {
      return make_error(fmt::format("hart state: trigger {} has a value no write gives", i));
    }
  }
  restored.select_ = select;
  *this = restored;
  return {};
}

void Hart::save(StateWriter& out) {
  out.begin(kHartTag);
  for (unsigned i = 0; i < 32; ++i) out.put(x[i]);
  for (uint64_t v : f) out.put(v);
  out.put(pc);
  out.put(instret);
  out.put(static_cast<uint8_t>(priv));
  out.put<uint8_t>(virt ? 1 : 0);
  out.put<uint32_t>(static_cast<uint32_t>(std::size(kSavedCsrs)));
  for (uint16_t csr : kSavedCsrs) {
    uint64_t value = 0;
    const bool present = debug_csr_read(csr, value);
    out.put(csr);
    out.put<uint8_t>(present ? 1 : 0);
    out.put(value);
  }
  out.put(stimecmp_);
  for (uint64_t a : pmpaddr_) out.put(a);
  for (uint8_t c : pmpcfg_) out.put(c);
  triggers_.save(out);
  out.put(mip_sw_);
  out.put<uint8_t>((irq_.pending() & irq::kSSIP) != 0 ? 1 : 0);
  out.put<uint8_t>(sbi_timer_ ? 1 : 0);
  out.put(cycle_offset_);
  out.put(instret_offset_);
  out.put(cycle_frozen_);
  out.put(instret_frozen_);
  // The programmable counters: each one's event selector and value.
  for (unsigned n = Hpm::kFirst; n < Hpm::kFirst + Hpm::kCount; ++n) {
    out.put(hpm_.event(n));
    out.put(hpm_.counter(n, instret));
  }
  std::lock_guard<std::mutex> lock(requests_mu_);
  out.put(static_cast<uint8_t>(run_state()));
  out.put(start_entry_);
  out.put(start_opaque_);
}

Result<void> Hart::restore(StateReader& in) {
  TRY_VOID(in.expect(kHartTag));
  const std::string who = fmt::format("hart {} state", hart_id_);
  for (unsigned i = 0; i < 32; ++i) x[i] = TRY(in.get<uint64_t>());
  x[0] = 0;
  for (uint64_t& v : f) v = TRY(in.get<uint64_t>());
  pc = TRY(in.get<uint64_t>());
  instret = TRY(in.get<uint64_t>());
  const auto p = TRY(in.get<uint8_t>());
  if (p != 0 && p != 1 && p != 3) return make_error(who + ": privilege out of range");
  const auto saved_virt = TRY(in.get<uint8_t>());
  // V=1 is a guest's mode: S or U, on a hart with H.
  if (saved_virt > 1 || (saved_virt == 1 && (p == 3 || !has_h()))) {
    return make_error(who + ": virtualization mode out of range");
  }
  const auto count = TRY(in.get<uint32_t>());
  if (count != std::size(kSavedCsrs)) return make_error(who + ": saved another set of CSRs");
  for (uint16_t expected : kSavedCsrs) {
    const auto csr = TRY(in.get<uint16_t>());
    const auto present = TRY(in.get<uint8_t>());
    const auto value = TRY(in.get<uint64_t>());
    if (csr != expected || present > 1) return make_error(who + ": CSRs out of order");
    if (present != 0 && !debug_csr_write(csr, value)) {
      return make_error(fmt::format("{}: CSR {:#x} refused its saved value", who, csr));
    }
  }
  const auto stimecmp = TRY(in.get<uint64_t>());
  for (unsigned i = 0; i < kNumPmp; ++i) {
    if (!debug_csr_write(static_cast<uint16_t>(kPmpaddr0 + i), TRY(in.get<uint64_t>()))) {
      return make_error(fmt::format("{}: pmpaddr{} refused", who, i));
    }
  }
  std::array<uint8_t, kNumPmp> cfg{};
  for (uint8_t& c : cfg) c = TRY(in.get<uint8_t>());
  for (unsigned i = 0; i < kNumPmp; i += 8) {
    uint64_t v = 0;
    for (unsigned k = 0; k < 8; ++k) v |= static_cast<uint64_t>(cfg[i + k]) << (8 * k);
    if (!debug_csr_write(static_cast<uint16_t>(kPmpcfg0 + i / 4), v)) {
      return make_error(fmt::format("{}: pmpcfg{} refused", who, i / 4));
    }
  }
  TRY_VOID(triggers_.restore(in));
  const auto mip_sw = TRY(in.get<uint64_t>());
  const auto ssip = TRY(in.get<uint8_t>());
  const auto sbi_timer = TRY(in.get<uint8_t>());
  cycle_offset_ = TRY(in.get<uint64_t>());
  instret_offset_ = TRY(in.get<uint64_t>());
  cycle_frozen_ = TRY(in.get<uint64_t>());
  instret_frozen_ = TRY(in.get<uint64_t>());
  for (unsigned n = Hpm::kFirst; n < Hpm::kFirst + Hpm::kCount; ++n) {
    const auto event = TRY(in.get<uint64_t>());
    const auto value = TRY(in.get<uint64_t>());
    hpm_.restore_counter(n, event, value);
    if (hpm_.event(n) != event) {
      return make_error(fmt::format("{}: mhpmevent{} has a value no write gives", who, n));
    }
  }
  const auto run_state = TRY(in.get<uint8_t>());
  const auto start_entry = TRY(in.get<uint64_t>());
  const auto start_opaque = TRY(in.get<uint64_t>());
  if ((mip_sw & ~supervisor_interrupts()) != 0 || ssip > 1 || sbi_timer > 1 ||
      !run_state_valid(run_state)) {
    return make_error(who + ": interrupt or run state out of range");
  }
  mip_sw_ = mip_sw;
  irq_.set(InterruptBit::kSSIP, ssip != 0);
  sbi_timer_ = sbi_timer != 0;
  stimecmp_ = stimecmp;
  {
    std::lock_guard<std::mutex> lock(requests_mu_);
    start_entry_ = start_entry;
    start_opaque_ = start_opaque;
  }
  run_state_.store(static_cast<RunState>(run_state), std::memory_order_release);
  debug_set_priv(static_cast<Priv>(p));
  virt = saved_virt != 0;
  hpm_sync(instret);
  update_modes();
  // Nothing cached from before survives: no reservation, no translation, no decoded code.
  reservation_pa = ~0ULL;
  trap_streak_ = 0;
  firmware_trap_streak_ = 0;
  m_entry_instret_ = instret;
  last_fault_lower_ = ~0ULL;
  refresh_fast_flags();
  flush_tlb();
  code_.drop_all();
  return {};
}

}  // namespace vessel::rv
