// One RISC-V hart: architectural state, CSRs, traps, address translation and the soft TLB.
// Instruction semantics live in semantics/*.hpp; the execution loop in interp.cpp.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.hpp"
#include "base/prefaulted.hpp"
#include "base/result.hpp"
#include "base/state.hpp"
#include "bus/bus.hpp"
#include "cpu/riscv/code_cache.hpp"
#include "cpu/riscv/csr.hpp"
#include "cpu/riscv/debug_control.hpp"
#include "cpu/riscv/decoded.hpp"
#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/engine.hpp"
#include "cpu/riscv/hart_state.hpp"
#include "cpu/riscv/hpm.hpp"
#include "cpu/riscv/trigger.hpp"
#include "devices/irq.hpp"

namespace vessel::rv {

namespace jit {
class Translator;
}

enum class Access : uint8_t { kRead = 0, kWrite = 1, kFetch = 2 };

// Why run() returned.
enum class StopReason : uint8_t { kRequested, kTrapLoop };

struct HartStats {
  uint64_t tlb_misses = 0;
  uint64_t jump_cache_misses = 0;
  uint64_t tlb_flushes = 0;
  uint64_t blocks_built = 0;
  uint64_t traps = 0;
  uint64_t interrupts = 0;
  uint64_t interrupts_by_cause[16] = {};
  uint64_t mmio_reads = 0, mmio_writes = 0;  // device register accesses
};

class Hart;

// Who answers ecalls from S-mode instead of a trap into M-mode firmware (the builtin SBI).
class EcallHandler {
 public:
  virtual ~EcallHandler() = default;
  // Performs the call and returns how execution continues (pc already advanced).
  virtual ExecStatus ecall(Hart& hart, const DecodedInsn& insn) = 0;
};

// Prefaulted: its 250 KiB of TLBs and jump cache are built while a restored guest waits.
class Hart : public HartState, public Prefaulted {
 public:
  static constexpr unsigned kNumPmp = 16;

  Hart(unsigned hart_id, Bus& bus, HartIrq& irq, MachineClock& clock, CodeCache& code);
  ~Hart();

  // Reset state: M-mode at `pc`, as the boot ROM expects.
  void reset(uint64_t pc);

  // Snapshots (hart_save.cpp): registers, every CSR, FP state, privilege, PMP, triggers, the
  // software pending interrupts and the HSM run state. Only while the hart does not run (a
  // paused VM, or before its thread starts). Restore refuses values no guest could have set,
  // and leaves no TLB entry, reservation or decoded block from before.
  void save(StateWriter& out);
  Result<void> restore(StateReader& in);

  // Run until `stop` is set (checked every few thousand instructions) or the guest is stuck
  // in a trap loop. `poll` is called at the same points (devices, HTIF, timeouts), or less
  // often after set_poll_period.
  StopReason run(const std::atomic<bool>& stop, const std::function<void()>& poll);
  // Execute exactly one instruction (or take one pending interrupt): for tests and debugging.
  void step();
  // One turn of run()'s loop without its polling: apply pending code invalidations, take a
  // pending interrupt (against the clock read now), then run one block with the current
  // engine (translated code does not chain on to the next block). For lockstep tests.
  void step_block();
  // For translated code: the instruction a block straddles on into (Block::straddles_on), run
  // on its own and reported as the helper_exit stub expects of a helper that leaves (kJump
  // with pc past it, kBreak, or kTrap; instret not yet counted).
  ExecStatus straddler_for_jit();

  // --- engine ---
  // Which engine run() and step_block() use; kJit needs an x86-64 host (falls back to kInterp
  // elsewhere). `jit_cache_bytes` sizes this hart's code arena.
  Result<void> set_engine(Engine engine, uint64_t jit_cache_bytes = kDefaultJitCacheBytes);
  // Readies the memory a hart of `engine` is built with (Prefaulted::warm), for a process that
  // waits to build a machine (vessel run --api-sock before its request).
  static void warm_memory(Engine engine);
  Engine engine() const { return engine_; }
  // On which run a block is translated (kJit; the interpreter runs it before): 1 translates
  // every block before its first run (--jit-threshold).
  void set_jit_threshold(unsigned runs) { jit_threshold_ = std::clamp(runs, 1U, kMaxJitThreshold); }
  const JitStats& jit_stats() const { return jit_stats_; }

  // The architectural state (x, f, pc, instret, priv, fflags, frm) and the soft TLB are in
  // HartState (public: semantics and tests use it directly).

  // --- traps ---
  // Enter the trap for exception `e` at the current pc; returns kTrap for the semantics.
  ExecStatus raise(Exception e, uint64_t tval);
  ExecStatus illegal(const DecodedInsn& d) { return raise(Exception::kIllegalInstruction, d.raw); }
  // H: an instruction HS-mode could run but VS- or VU-mode may not (cause 22).
  ExecStatus virtual_instruction(const DecodedInsn& d) {
    return raise(Exception::kVirtualInstruction, d.raw);
  }
  // A refused CSR access: a virtual-instruction exception when the check that refused it said
  // so (csr_virtual_), else an illegal instruction.
  ExecStatus csr_denied(const DecodedInsn& d) {
    const bool v = csr_virtual_;
    csr_virtual_ = false;
    return v ? virtual_instruction(d) : illegal(d);
  }
  // Take the highest-priority pending and enabled interrupt, if any.
  bool take_interrupt();
  uint64_t read_mip() const;  // mip with platform lines (MSIP, MTIP, MEIP, SEIP) folded in
  // `read` with its software-writable bits (SSIP, STIP, SEIP) replaced by the stored ones.
  uint64_t mip_software_view(uint64_t read) const {
    return (read & ~irq::kSupervisor) | (mip_sw_ & irq::kSupervisor);
  }
  // The supervisor-level interrupts this hart has: SSI, STI, SEI, and LCOFI with Sscofpmf.
  uint64_t supervisor_interrupts() const {
    return irq::kSupervisor | (has_sscofpmf() ? irq::kLCOFIP : 0);
  }
  // H: the writable bits of hideleg and hvip: the VS-level interrupts, and LCOFI with Sscofpmf.
  uint64_t vs_interrupts() const {
    return irq::kVirtualSupervisor | (has_sscofpmf() ? irq::kLCOFIP : 0);
  }

  // --- CSRs (csr.cpp); false = illegal instruction ---
  bool csr_read(uint16_t csr, uint64_t& value);
  bool csr_write(uint16_t csr, uint64_t value);
  // After a write to `csr` (mstatus was `mstatus_before`): must the running block end?
  bool csr_write_ends_block(uint16_t csr, uint64_t mstatus_before) const;
  // Also notes (csr_virtual_) when a refusal is a virtual-instruction exception.
  bool csr_accessible(uint16_t csr, bool write);

  // --- privileged instructions (trap.cpp) ---
  ExecStatus do_mret(const DecodedInsn& d);
  ExecStatus do_sret(const DecodedInsn& d);
  ExecStatus do_wfi(const DecodedInsn& d);
  ExecStatus do_sfence_vma(const DecodedInsn& d);
  ExecStatus do_sfence_inval(const DecodedInsn& d);  // Svinval's sfence.w.inval, .inval.ir
  ExecStatus do_fence_i(const DecodedInsn& d);
  // H (hypervisor.cpp): the fences of the guest's translations, and the hypervisor's loads
  // and stores as the guest (hstatus.SPVP's privilege, V=1). `hlvx` reads need execute
  // permission instead of read.
  ExecStatus do_hfence(const DecodedInsn& d, bool gvma);
  ExecStatus do_hlv(const DecodedInsn& d, unsigned size, bool sign, bool hlvx);
  ExecStatus do_hsv(const DecodedInsn& d, unsigned size);
  bool has_h() const { return (extensions_ & ext_bit(Ext::H)) != 0; }
  bool has_sscofpmf() const { return (extensions_ & ext_bit(Ext::Sscofpmf)) != 0; }

  // --- programmable counters (hpm.cpp, csr.cpp) ---
  // The instret at which the next counter overflow is due (~0: none): the run loops come
  // back at the first block boundary from there, and hpm_overflow() raises LCOFI.
  uint64_t hpm_deadline() const { return hpm_.deadline(); }
  void hpm_overflow() {
    if (hpm_.take_overflows(instret)) mip_sw_ |= irq::kLCOFIP;
  }

  // --- memory (mmu.cpp for the slow paths) ---
  template <typename T>
  bool load(uint64_t va, T& out) {
    const TlbEntry& e = read_tlb[(va >> 12) % kTlbSize];
    if (e.vpage == (va & ~0xfffULL) && (va & 0xfff) <= 0x1000 - sizeof(T)) [[likely]] {
      std::memcpy(&out, reinterpret_cast<const void*>(va + e.addend), sizeof(T));
      return true;
    }
    return load_slow(va, &out, sizeof(T));
  }
  template <typename T>
  bool store(uint64_t va, T value) {
    const TlbEntry& e = write_tlb[(va >> 12) % kTlbSize];
    if (e.vpage == (va & ~0xfffULL) && (va & 0xfff) <= 0x1000 - sizeof(T)) [[likely]] {
      std::memcpy(reinterpret_cast<void*>(va + e.addend), &value, sizeof(T));
      return true;
    }
    return store_slow(va, &value, sizeof(T));
  }
  // Zicbom, Zicboz (csr.cpp): whether the current mode may run a cache-block operation whose
  // menvcfg/senvcfg enable is `field` (CBIE, CBCFE, CBZE); M-mode always may.
  bool cbo_enabled(uint64_t field) const;
  // When it may not: a virtual-instruction exception where M-mode allows it but the
  // hypervisor or the guest's kernel does not (V=1), else an illegal instruction.
  ExecStatus cbo_denied(const DecodedInsn& d, uint64_t field) {
    return virt && (menvcfg_ & field) != 0 ? virtual_instruction(d) : illegal(d);
  }
  // (mmu.cpp) cbo.clean/flush/inval: the block holding va may be accessed (a load or a store may
  // reach it), else a store page or access fault; false = trap entered.
  bool cbo_access(uint64_t va);
  // cbo.zero: zero the block holding va, as a store would write it; false = trap entered.
  bool cbo_zero(uint64_t va);
  // Host pointer for an aligned atomic access at va; nullptr = trap entered.
  enum class Atomic : uint8_t { kLoadReserved, kStoreConditional, kReadModifyWrite };
  uint8_t* amo_ptr(uint64_t va, unsigned size, Atomic kind);
  bool mmio_load(uint64_t pa, unsigned size, uint64_t& value, uint64_t va);
  bool mmio_store(uint64_t pa, unsigned size, uint64_t value, uint64_t va);

  // Translate va for access `acc` in the effective mode; false = trap entered. `page_bits` is
  // log2 of the size of the page that maps it: 12 (4 KiB, and bare), 16 (a Svnapot 64 KiB
  // range), 21, 30 or 39 (superpages).
  // `global`: the mapping is global (PTE.G), the same in every address space.
  bool translate(uint64_t va, Access acc, uint64_t& pa, unsigned& page_bits, bool& global);
  // Fetch-side lookup used by the interpreter: host address of the instruction bytes at va
  // (through the fetch TLB); nullptr = trap entered.
  const uint8_t* fetch_host(uint64_t va);
  bool pmp_allows(uint64_t pa, uint64_t len, Access acc, Priv p) const;

  // Drop every cached translation (PMP, MXR, satp's mode, sfence.vma x0, x0; outside V=1 they
  // leave the guest's sets alone when those were never filled).
  void flush_tlb();
  // H: drop the guest's (V=1) translations only: vsatp, hgatp, hfence, sfence.vma in VS-mode.
  void flush_tlb_virtual();
  // A new address space (satp's root or ASID changed) or sfence.vma of one ASID: drop the
  // satp-translated entries except the global ones (PTE.G), which every address space shares.
  // The TLB holds one ASID's entries at a time, so a switch back finds none of them.
  void flush_tlb_non_global();
  // sfence.vma with an address: drop the translations of that page, including every 4 KiB
  // slice cached from a superpage or a NAPOT range that contains it.
  void flush_tlb_page(uint64_t va);
  // Called by CodeCache when a page gains decoded code: writes to it must take the slow path.
  void drop_write_mappings();

  // --- floating point ---
  // With V=1 both mstatus.FS and vsstatus.FS must be on, and both become Dirty.
  bool fp_enabled() const {
    return (mstatus_ & mstatus::kFS) != 0 && (!virt || (vsstatus_ & mstatus::kFS) != 0);
  }
  void set_fs_dirty() {
    mstatus_ |= mstatus::kFS | mstatus::kSD;
    if (virt) vsstatus_ |= mstatus::kFS | mstatus::kSD;
    refresh_fast_flags();
  }
  // fp_ready and cbo_zero_ok from mstatus.FS, frm, the privilege and the envcfg CSRs: after
  // every change to any of them.
  void refresh_fast_flags() {
    const bool dirty = (mstatus_ & mstatus::kFS) == mstatus::kFS &&
                       (!virt || (vsstatus_ & mstatus::kFS) == mstatus::kFS);
    fp_ready = !dirty ? 0 : (frm == 0 ? kFpDirty | kFpRne : kFpDirty);
    cbo_zero_ok = cbo_enabled(envcfg::kCBZE);
  }
  // Folds the host's FP exception flags into fflags while translated code runs (host_fflags).
  void sync_fflags();

  // --- LR/SC ---
  uint64_t reservation_pa = ~0ULL;
  uint64_t reservation_value = 0;

  // --- instruction extensions ---
  // The extensions this hart decodes: all by default; --cpu-features leaves optional ones
  // (kOptionalExtensions) out, and their instructions are then illegal. Code decoded under
  // the old set is dropped.
  void set_extensions(ExtSet extensions) {
    extensions_ = extensions;
    // Without H, misa.H is clear and mideleg's VS-level bits are not there to read as one.
    mideleg_ = (mideleg_ & supervisor_interrupts()) | (has_h() ? irq::kHypervisor : 0);
    hideleg_ &= vs_interrupts();
    hvip_ &= vs_interrupts();
    vsie_lcofie_ &= vs_interrupts();
    hpm_.set_sscofpmf(has_sscofpmf());
    code_.drop_all();
  }
  ExtSet extensions() const { return extensions_; }

  // --- supervisor timer (Sstc's stimecmp; also the builtin SBI's set_timer) ---
  // Whether the hart implements Sstc (on by default; off to measure the difference).
  void set_sstc(bool enabled) { sstc_ = enabled; }
  bool sstc() const { return sstc_; }
  // The builtin SBI programs the supervisor timer through stimecmp even without Sstc.
  void set_supervisor_timer(uint64_t deadline) {
    stimecmp_ = deadline;
    sbi_timer_ = true;
  }
  // STIP follows mtime >= stimecmp (Sstc with menvcfg.STCE, or the builtin SBI's timer).
  bool stimecmp_drives_stip() const { return sbi_timer_ || (sstc_ && (menvcfg_ & envcfg::kSTCE)); }

  // --- debug triggers (Sdtrig, trigger.cpp) ---
  // Whether the hart implements Sdtrig (on by default): without it the trigger CSRs are
  // illegal instructions.
  void set_sdtrig(bool enabled) { sdtrig_ = enabled; }
  bool sdtrig() const { return sdtrig_; }
  const TriggerModule& triggers() const { return triggers_; }

  // --- an attached debugger (debug.cpp; the GDB stub drives it) ---
  // The harts of one machine share one control; none (the default) costs one test per block.
  void set_debug_control(DebugControl* control) { debug_ = control; }
  // Only while the hart is halted for the debugger, or from its own thread between two
  // instructions (the builtin SBI's PMU). Any CSR the hart has, whatever the privilege and
  // mstatus.FS; false when there is no such CSR or it refuses the value.
  bool debug_csr_read(uint16_t csr, uint64_t& value);
  bool debug_csr_write(uint16_t csr, uint64_t value);
  void debug_set_priv(Priv p);
  // The physical address of va as the hart's fetches translate it now, without a trap, an
  // A/D update or a TLB fill; false when it does not map.
  bool debug_translate(uint64_t va, uint64_t& pa) const;

  // The longest WFI sleeps when no deadline is due and nothing kicks the hart. Tests change it
  // to tell a deadline wake-up from this fallback.
  void set_wfi_max_sleep(std::chrono::nanoseconds d) { wfi_max_sleep_ = d; }
  // run() calls its poll function at most once per `ticks` of mtime, and after every WFI
  // (0, the default: at every look, i.e. every 4096 instructions or sooner).
  void set_poll_period(uint64_t ticks) { poll_period_ = ticks; }

  // --- SMP: run state, and requests from other harts' threads (remote.cpp) ---
  // Whether the hart executes: a stopped hart (HSM) runs nothing until another starts it.
  enum class RunState : uint8_t { kRunning, kStopped, kStartPending };
  RunState run_state() const { return run_state_.load(std::memory_order_acquire); }
  // Before run(): the hart waits to be started (secondary harts under the builtin SBI).
  void set_stopped() { run_state_.store(RunState::kStopped, std::memory_order_release); }
  // On this hart's thread: stop; the run loop parks at the block boundary.
  void stop_self();
  // From any thread: start this stopped hart in S-mode at `entry` with a0 = hart id and
  // a1 = `opaque` (HSM hart_start). False when it is not stopped.
  bool request_start(uint64_t entry, uint64_t opaque);

  // Pausing a whole VM: while `hold` is set every hart that shares this control runs nothing,
  // and `held` counts the harts that have stopped for it.
  struct HoldControl {
    std::atomic<bool> hold{false};
    std::atomic<unsigned> held{0};
  };
  void set_hold_control(HoldControl* control) { hold_control_ = control; }

  // What another thread can ask of this hart, applied at its next block boundary (or at once
  // when it is parked or asleep, since the request wakes it).
  enum Request : uint32_t {
    kRequestDropWrites = 1,  // a page became code elsewhere: drop write mappings
    kRequestFlushTlb = 2,    // remote sfence.vma of everything
    kRequestFlushPages = 4,  // remote sfence.vma of a range of pages
    kRequestApplyCode = 8,   // remote fence.i: apply pending code invalidations now
    kRequestFlushAsid = 16,  // remote sfence.vma of one address space: all but global entries
  };
  // Returns a ticket; requests_done() reaches it once the hart has applied the request.
  uint64_t post_request(uint32_t request, uint64_t va = 0, uint64_t pages = 0);
  uint64_t requests_done() const { return requests_done_.load(std::memory_order_acquire); }
  // On this hart's thread: wait until `target` has applied `ticket`, applying this hart's own
  // requests meanwhile (two harts fencing each other must not deadlock). Gives up when the
  // run is being stopped.
  void wait_for(const Hart& target, uint64_t ticket);
  void handle_requests();
  // The TLB part of `request` (flush all, one address space, the pages of `ranges` as (va,
  // page count), drop write mappings), on this hart's thread: what handle_requests applies,
  // and what the SBI's remote fence applies at once when the caller is among its targets.
  void apply_tlb_request(uint32_t request, std::span<const std::pair<uint64_t, uint64_t>> ranges);
  // Sleep as WFI does: until an interrupt is pending and enabled in mie, a timer deadline
  // passes, or another thread kicks this hart.
  void sleep_until_interrupt();

  // --- paravirtual interface ---
  void set_ecall_handler(EcallHandler* handler) { ecall_handler_ = handler; }
  EcallHandler* ecall_handler() const { return ecall_handler_; }
  // Make a supervisor software interrupt pending (an IPI); safe from any thread.
  void send_ssip() { irq_.set(InterruptBit::kSSIP, true); }
  // Start in S-mode at `entry` as a hypervisor starts a guest kernel: a0 = hart id, a1 = the
  // device tree, with M-mode set up as SBI firmware would leave it (everything a kernel
  // handles delegated to S, counters and the whole address space open to S and U).
  void boot_supervisor(uint64_t entry, uint64_t fdt_addr);

  // --- misc state ---
  bool poll_soon = false;  // WFI or fence.i: the run loop should poll the platform now
  HartStats stats;
  unsigned hart_id() const { return hart_id_; }
  uint64_t mstatus() const { return mstatus_; }
  std::string describe_trap_loop() const;
  Bus& bus() { return bus_; }
  CodeCache& code_cache() { return code_; }

 private:
  friend class HartTestAccess;

  bool trigger_csr_read(uint16_t csr, uint64_t& value) const;
  bool trigger_csr_write(uint16_t csr, uint64_t value);
  // Whether breakpoint triggers stay quiet now: in a trap handler that has not yet saved xepc.
  bool breakpoint_triggers_quiet() const;
  // If an access makes a trigger fire, enter the breakpoint trap (tval = the address) and
  // return true. Callers check the module's watches_*() first, so that nothing costs while
  // no trigger is armed.
  bool trigger_trap(TriggerOp op, uint64_t va, unsigned size);
  // An execute trigger on the instruction at pc, before it executes.
  bool execute_trigger_trap() {
    return triggers_.watches_execute() && trigger_trap(TriggerOp::kExecute, pc, 1);
  }

  bool load_slow(uint64_t va, void* out, unsigned size);
  bool store_slow(uint64_t va, const void* in, unsigned size);
  bool access_page(uint64_t va, Access acc, uint64_t& pa);
  void fill_tlb(Access acc, uint8_t mode, uint64_t va, uint64_t pa, unsigned page_bits,
                bool global);
  bool pte_high_bits_valid(uint64_t e, int level, bool pbmte) const;
  // `report` is the access whose fault a failed walk raises (cache-block operations check
  // `acc` = kRead and fault as stores).
  bool walk(uint64_t va, Access acc, Access report, Priv p, uint64_t& pa, unsigned& page_bits,
            bool& global);
  // H (mmu_guest.cpp): a guest virtual address through the VS stage (vsatp) and the G stage
  // (hgatp) for privilege p with V=1; `sum` is vsstatus.SUM for p = S, `hlvx` asks execute
  // permission for a read. False = trap entered (page, guest-page or access fault).
  struct GuestAccess {
    Access acc;
    Access report;
    Priv p;
    bool hlvx;
  };
  bool translate_guest(uint64_t va, const GuestAccess& g, uint64_t& pa, unsigned& page_bits);
  // The G stage alone: gpa for an access that needs `need` (a VS-stage walk's own reads and
  // A/D writes too), faulting as `report` with tval = va.
  bool g_stage(uint64_t gpa, uint64_t va, Access need, Access report, bool hlvx, uint64_t& pa);
  // The PTE at guest physical address pte_gpa, through the G stage: its host word, or
  // nullptr with the trap entered.
  uint64_t* vs_pte(uint64_t pte_gpa, uint64_t va, Access need, Access report);
  bool guest_page_fault(Access report, uint64_t va, uint64_t gpa);
  bool vs_leaf_allows(uint64_t e, const GuestAccess& g) const;
  // The guest's modes (V=1) for the TLB's sets and address translation.
  bool data_virt() const;
  Exception page_fault(Access acc) const;
  Exception guest_page_fault_cause(Access acc) const;
  Exception access_fault(Access acc) const;
  bool pmp_page_uniform(uint64_t page_pa, Access acc, Priv p) const;
  Priv data_priv() const;
  void update_modes();  // recompute data_mode_/fetch_mode_ after priv or mstatus change
  void set_mstatus(uint64_t value);
  // `injected` is a VS-level interrupt only VS-mode takes (virtual_lcofi_pending).
  void enter_trap(uint64_t cause, uint64_t tval, bool interrupt, bool injected = false);
  // The run loop samples the clock at its polls and checks interrupts against that sample
  // between polls: reading the host clock after every CSR write would cost more than the
  // few microseconds of timer latency this allows.
  uint64_t mip_at(uint64_t mtime) const;
  bool take_interrupt_at(uint64_t mtime);
  bool write_pmpcfg(unsigned index, uint64_t value);
  void pmp_changed();
  bool write_pmpaddr(unsigned index, uint64_t value);
  uint64_t pmp_napot_or_tor(unsigned i, uint64_t& lo, uint64_t& hi) const;
  // pmp_ranges_ and pmp_active_ from pmpcfg_ and pmpaddr_: after every write of either.
  void decode_pmp();
  uint64_t counter_value(bool instret_counter) const;
  // The programmable counters (hpm.hpp). hpm_sync after every change of mode or of
  // mcountinhibit, with `at` the instret from which it holds (an xRET's own retirement
  // belongs to the mode it leaves).
  Hpm hpm_;
  void hpm_sync(uint64_t at);
  bool hpm_csr_read(uint16_t csr, uint64_t& v);
  bool hpm_csr_write(uint16_t csr, uint64_t v);
  bool counter_accessible(uint16_t csr);
  bool stimecmp_accessible() const;
  uint64_t envcfg_written(uint64_t old, uint64_t v, bool machine) const;
  // H (hypervisor.cpp): the hypervisor and virtual-supervisor CSRs, and the redirection of
  // the supervisor CSRs to the latter while V=1. nullopt: not one of them.
  std::optional<bool> h_csr_read(uint16_t csr, uint64_t& value);
  std::optional<bool> h_csr_write(uint16_t csr, uint64_t value);
  // An access a V=1 mode may not make that HS-mode (or U-mode) could: cause 22, not 2.
  bool deny_virtual() {
    csr_virtual_ = true;
    return false;
  }
  bool time_accessible(uint16_t csr);
  // The VS-level interrupts in mip (hvip, and vstimecmp's VSTIP) at mtime.
  uint64_t virtual_pending_at(uint64_t mtime) const;
  // Interrupt 13 (LCOFI) for VS-mode, as the AIA defines interrupts 13-63 (with hvien.13
  // taken as one; there is no hvien CSR here): hideleg.13 set makes the guest's sip and sie
  // bit 13 the real ones (an overflow, delegated); clear, the guest's sip.13 is hvip.13, which
  // the hypervisor sets to inject one, and its sie.13 a bit of its own (vsie_lcofie_). The
  // vsie and vsip bits a guest sees under either rule:
  uint64_t vsie_lcof() const;
  uint64_t vsip_lcof() const;
  // The injected one is pending for VS-mode: hvip.13 and that bit set, hideleg.13 clear. It
  // never shows in mip (hip.13 is read-only zero, sie.13 being writable).
  bool virtual_lcofi_pending() const { return (hvip_ & ~hideleg_ & vsie_lcofie_) != 0; }
  // Takes it when VS-mode may (it ranks below every other interrupt); false if not.
  bool take_virtual_lcofi();
  void set_vsstatus(uint64_t v);
  // Trap entry's H half: where a trap goes (V=1 guests first), and the state it saves.
  bool trap_to_vs(uint64_t cause, bool interrupt) const;
  void enter_vs_trap(uint64_t cause, uint64_t tval, bool interrupt);
  // The GPA >> 2 of a guest-page fault being raised (htval, mtval2), 0 for other traps; and
  // whether tval is a guest virtual address (the trap came from V=1, or from HLV/HSV).
  uint64_t trap_gpa_shifted_ = 0;
  bool hlv_active_ = false;
  bool csr_virtual_ = false;
  bool virt_tlb_filled_ = false;  // a guest set holds something a flush must drop

  // The jump cache (HartState::jump_cache) maps (virtual pc, privilege) to block.
  // pc with the privilege folded into bits 63:62. Flipping those bits of a canonical Sv39/Sv48
  // address (or of a physical one) gives a non-canonical one, so no two (pc, privilege) pairs
  // share a tag.
  uint64_t jump_tag() const { return pc ^ jump_xor; }
  Block* lookup_block();

  // The block at pc after `from` ended there (by falling through or a jump, so privilege and
  // translation are unchanged): through from's links when pc is in its page.
  Block* next_block(Block* from, uint64_t entry_pc);
  Block* build_block(uint64_t va, const uint8_t* host);
  // Decode and execute the instruction at pc without the block cache.
  ExecStatus exec_one();
  // Its two halves: the raw bits at pc (false = the fetch trapped), and running them.
  bool fetch_insn(uint32_t& raw);
  ExecStatus exec_decoded(const DecodedInsn& d);
  // One instruction while a debugger watches (debug.cpp): breakpoints and watchpoints are
  // matched, a step is reported; false when the guest is stuck in a trap loop.
  bool run_debugged(bool& check_interrupts, uint64_t& next_poll);
  // Halted for the debugger until it resumes this hart; false if the run is being stopped.
  bool debug_wait(const std::atomic<bool>& stop);
  bool debug_stepping() const {
    return debug_ != nullptr && debug_->action(hart_id_) == DebugControl::Action::kStep;
  }
  // The interpreter's run of the instruction a block straddles on into (Block::straddles_on):
  // false when a trap loop was found.
  bool run_straddler(bool& check_interrupts, uint64_t& next_poll);
  // An instruction asked the loop to look at interrupts (kBreak): it does so next, and after
  // WFI at the platform too.
  void after_break(bool& check_interrupts, uint64_t& next_poll);

  Engine engine_ = Engine::kInterp;
  JitStats jit_stats_;
  // The translator (engine kJit) and the run loop's side of it (jit/run.cpp).
  std::unique_ptr<jit::Translator> jit_;
  unsigned jit_threshold_ = kDefaultJitThreshold;
  uintptr_t pending_chain_ = 0;  // a chainable exit to patch once its target is translated
  uint64_t pending_chain_epoch_ = 0;
  // One block through translated code; false when the guest is stuck in a trap loop.
  bool run_translated(bool& check_interrupts, uint64_t& next_poll);
  const void* native_code(Block* b);
  // One block through the interpreter; false when the guest is stuck in a trap loop.
  bool run_interpreted(Block*& b, bool& check_interrupts, uint64_t& next_poll);
  // The same, for both engines while an execute trigger is armed: each instruction's pc is
  // matched before it executes, and translated code (which matches nothing) is not entered.
  bool run_watched(Block*& b, bool& check_interrupts, uint64_t& next_poll);
  template <bool kWatch>
  bool run_block(Block*& b, bool& check_interrupts, uint64_t& next_poll);

  unsigned hart_id_;
  Bus& bus_;
  HartIrq& irq_;
  MachineClock& clock_;
  CodeCache& code_;

  // The superpages (virtual base, size mask) whose slices were cached since the last full
  // flush, so that flush_tlb_page scans the TLB only when its address lies in one of them.
  // Past kMaxSuperpages distinct ones, every flush_tlb_page scans.
  static constexpr size_t kMaxSuperpages = 64;
  std::vector<std::pair<uint64_t, uint64_t>> superpages_;
  bool superpages_overflow_ = false;
  // Which entries of the sets satp translates for (U, S, S with SUM) hold a global mapping:
  // flush_tlb_non_global keeps them. Meaningless for an invalid entry.
  std::array<std::array<std::array<bool, kTlbSize>, kModeM>, 3> tlb_global_{};

  // CSR state (privileged manual names).
  uint64_t medeleg_ = 0, mideleg_ = 0, mie_ = 0, mip_sw_ = 0;
  uint64_t mtvec_ = 0, stvec_ = 0;
  uint64_t mscratch_ = 0, sscratch_ = 0;
  uint64_t mepc_ = 0, sepc_ = 0, mcause_ = 0, scause_ = 0, mtval_ = 0, stval_ = 0;
  uint64_t satp_ = 0;
  uint32_t mcounteren_ = 0, scounteren_ = 0, mcountinhibit_ = 0;
  uint64_t menvcfg_ = 0, senvcfg_ = 0;
  uint64_t stimecmp_ = ~0ULL;
  // H extension state (hypervisor.cpp).
  uint64_t hstatus_ = 0, hedeleg_ = 0, hideleg_ = 0, hvip_ = 0, htval_ = 0, htinst_ = 0;
  uint64_t hgatp_ = 0, henvcfg_ = 0, htimedelta_ = 0, mtval2_ = 0, mtinst_ = 0;
  uint32_t hcounteren_ = 0;
  uint64_t vsstatus_ = 0, vstvec_ = 0, vsscratch_ = 0, vsepc_ = 0, vscause_ = 0, vstval_ = 0;
  uint64_t vsatp_ = 0, vstimecmp_ = ~0ULL;
  uint64_t vsie_lcofie_ = 0;  // vsie.13 (LCOFIE) while hideleg.13 is clear (vsie_lcof)
  EcallHandler* ecall_handler_ = nullptr;

  // SMP state (remote.cpp). The run loop's stop flag is kept so that waits can give up.
  bool park(const std::atomic<bool>& stop);
  // Waits while the VM is paused; false if the run is being stopped meanwhile.
  bool hold(const std::atomic<bool>& stop);
  HoldControl* hold_control_ = nullptr;
  const std::atomic<bool>* stop_ = nullptr;
  std::atomic<RunState> run_state_{RunState::kRunning};
  std::mutex requests_mu_;
  uint32_t requests_ = 0;                                   // under requests_mu_
  std::vector<std::pair<uint64_t, uint64_t>> flush_pages_;  // (va, pages), under requests_mu_
  uint64_t start_entry_ = 0, start_opaque_ = 0;             // under requests_mu_
  std::atomic<uint64_t> requests_posted_{0};
  std::atomic<uint64_t> requests_done_{0};
  std::atomic<bool> requests_pending_{false};
  // Devices, timers, IPIs, remote requests and stop requests all kick the hart awake; the bound
  // is a safety net, long enough that idle harts cost the host next to nothing.
  std::chrono::nanoseconds wfi_max_sleep_ = std::chrono::milliseconds(1000);
  uint64_t poll_period_ = 0;       // set_poll_period
  uint64_t platform_poll_at_ = 0;  // mtime from which run() calls its poll again
  ExtSet extensions_ = kAllExtensions;
  DecodeMemo decode_memo_;  // exec_one's
  bool sstc_ = true;
  bool sdtrig_ = true;
  TriggerModule triggers_;
  DebugControl* debug_ = nullptr;
  bool sbi_timer_ = false;
  uint64_t cycle_offset_ = 0, instret_offset_ = 0;
  uint64_t cycle_frozen_ = 0, instret_frozen_ = 0;
  std::array<uint8_t, kNumPmp> pmpcfg_{};
  std::array<uint64_t, kNumPmp> pmpaddr_{};
  bool pmp_active_ = false;  // any entry has A != OFF
  // The entries that match something, decoded, in priority order: every page walk and TLB
  // fill checks PMP, and decoding NAPOT and TOR each time was a tenth of a fork's cost.
  struct PmpRange {
    uint64_t lo = 0, hi = 0;
    uint8_t cfg = 0;
  };
  std::array<PmpRange, kNumPmp> pmp_ranges_{};
  unsigned pmp_ranges_count_ = 0;

  // Trap-loop detection: consecutive traps with no instruction retired in between.
  uint64_t last_trap_instret_ = ~0ULL;
  unsigned trap_streak_ = 0;
  uint64_t last_trap_cause_ = 0, last_trap_epc_ = 0;

  // A trap loop through the firmware: the same S- or U-mode fault, sent back to the same place
  // by M-mode again and again. Instructions do retire in between, but only in M-mode, so what
  // retired below M is counted apart: M-mode's share is taken at each entry to and exit from M.
  void account_m_mode(Priv to, uint64_t retired);
  uint64_t m_instret_ = 0;             // retired in M-mode, up to the last exit from M
  uint64_t m_entry_instret_ = 0;       // instret at the last entry to M
  uint64_t last_fault_lower_ = ~0ULL;  // retired below M at the last fault taken from below M
  uint64_t last_fault_cause_ = 0, last_fault_epc_ = 0, last_fault_tval_ = 0;
  Priv last_fault_priv_ = Priv::kM;
  unsigned firmware_trap_streak_ = 0;

 public:
  // 64 traps with nothing retired at all; through the firmware, a thousand round trips (each a
  // few hundred M-mode instructions, a millisecond in all) where legitimate repeats (demand
  // paging, emulated instructions) make progress below M after one or two.
  static constexpr unsigned kTrapLoopStreak = 64;
  static constexpr unsigned kFirmwareTrapLoopStreak = 1000;
  bool trap_loop() const {
    return trap_streak_ >= kTrapLoopStreak || firmware_trap_streak_ >= kFirmwareTrapLoopStreak;
  }
};

}  // namespace vessel::rv
