// The guest-visible state of a hart that both engines touch on every instruction, as one
// standard-layout struct: the interpreter's semantics reach it through Hart (which derives
// from it), and translated code through one pinned host register at the offsets below.
// Everything else a hart has (CSRs, PMP, SMP requests) stays behind Hart's methods.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "cpu/riscv/csr.hpp"

namespace vessel::rv {

struct Block;

// One soft-TLB entry: a hit is `vpage == (va & ~0xfff)`, and the host address is va + addend.
struct TlbEntry {
  uint64_t vpage = ~0ULL;  // never equal to a page-aligned address when invalid
  uint64_t addend = 0;     // host address = va + addend
};

// The per-hart cache from (virtual pc, privilege) to block. An entry is valid while the code
// cache's generation equals the one it was made with, and while the fetch TLB still maps pc's
// page to the host page the block came from: translation changes invalidate exactly the
// entries they affect.
struct JumpEntry {
  uint64_t tag = ~0ULL;
  uint64_t gen = 0;
  uint64_t host = 0;
  Block* block = nullptr;
  const void* native = nullptr;  // the block's translated code, when the translator runs
};

struct HartState {
  static constexpr unsigned kTlbSize = 256;
  static constexpr unsigned kJumpCacheSize = 4096;
  // TLB sets by effective mode: U, S, S with SUM=1, M (bare), then the H extension's guest
  // modes (V=1), whose entries map guest virtual addresses through both stages: VU, VS, VS with
  // vsstatus.SUM=1. The guest's sets are flushed apart from the others (vsatp, hgatp, hfence).
  enum DataMode : uint8_t {
    kModeU = 0,
    kModeS = 1,
    kModeSSum = 2,
    kModeM = 3,
    kModeVU = 4,
    kModeVS = 5,
    kModeVSSum = 6,
  };
  static constexpr unsigned kNumModes = 7;
  static constexpr unsigned kFirstVirtualMode = kModeVU;
  enum AccessIndex : uint8_t { kRead = 0, kWrite = 1, kFetch = 2 };

  uint64_t x[33] = {};  // x[32] is the write sink for rd == x0
  uint64_t f[32] = {};
  uint64_t pc = 0;
  uint64_t instret = 0;  // instructions retired (also the cycle count)
  Priv priv = Priv::kM;
  bool virt = false;   // H: the virtualization mode V (priv S or U with V=1 is VS or VU)
  uint8_t fflags = 0;  // fcsr = frm << 5 | fflags
  uint8_t frm = 0;
  // What translated code tests before an FP op runs on the host (kept by Hart::refresh_fast_flags
  // from mstatus.FS and frm): kFpDirty when FS is Dirty, kFpRne when also frm is RNE.
  enum : uint8_t { kFpDirty = 1, kFpRne = 2 };
  uint8_t fp_ready = 0;
  // Whether cbo.zero is enabled at the current privilege (menvcfg/senvcfg.CBZE), for translated
  // code; kept by Hart::refresh_fast_flags as fp_ready is.
  bool cbo_zero_ok = false;
  // While translated code runs, fflags also has bits in the host's MXCSR, which the FP ops it
  // runs on the host raise there (fpu/host_flags.hpp): a read or write of fflags first folds
  // them in.
  bool host_fflags = false;
  uint8_t data_mode = kModeM;   // which TLB set loads and stores use (MPRV, SUM, privilege)
  uint8_t fetch_mode = kModeM;  // which TLB set fetches use (privilege)
  // What the jump cache's tag folds into pc besides it: the privilege in bits 63:62 and V in
  // bit 61 (Hart::update_modes keeps it; translated code's lookup reads it as it is).
  uint64_t jump_xor = 3ULL << 62;
  bool stop_block = false;  // a store modified code: the running block must end
  // mstatus, written only by Hart (CSR writes, traps, xRET); here so that translated code can
  // test FS before it touches the FP registers itself.
  uint64_t mstatus_ = 0;

  // What translated code reads to know when to leave (see jit/): it returns to the run loop
  // when instret reaches *poll_limit, which another thread's kick sets to 0 (HartIrq).
  const std::atomic<uint64_t>* poll_limit = nullptr;
  const std::atomic<uint64_t>* code_generation = nullptr;
  // The TLB sets loads, stores and fetches use now: &tlb[kRead][data_mode] and so on.
  TlbEntry* read_tlb = nullptr;
  TlbEntry* write_tlb = nullptr;
  TlbEntry* fetch_tlb = nullptr;

  // Shared code at the start of the translator's arena that translated blocks jump to.
  struct JitStubs {
    const void* exit = nullptr;         // back to the run loop with rax = a jit::Exit
    const void* exit_trap = nullptr;    // ... with kExitTrap
    const void* exit_poll = nullptr;    // ... with kExitPoll
    const void* helper_exit = nullptr;  // al = a helper's ExecStatus other than kNext
    const void* lookup = nullptr;       // on to pc through the jump cache
  } jit;

  std::array<std::array<std::array<TlbEntry, kTlbSize>, kNumModes>, 3> tlb{};
  std::array<JumpEntry, kJumpCacheSize> jump_cache{};
};

static_assert(std::is_standard_layout_v<HartState>);
// 16 bytes: translated code scales the page number by a shift (jit/emit_mem.cpp).
static_assert(sizeof(TlbEntry) == 16 && sizeof(JumpEntry) == 40);
static_assert(sizeof(Priv) == 1);

}  // namespace vessel::rv
