#include "sbi/sbi.hpp"

#include <algorithm>
#include <span>
#include <utility>

namespace vessel::sbi {

namespace {
// Function IDs (SBI spec v2.0).
enum BaseFid : uint64_t {
  kGetSpecVersion = 0,
  kGetImplId = 1,
  kGetImplVersion = 2,
  kProbeExtension = 3,
  kGetMvendorid = 4,
  kGetMarchid = 5,
  kGetMimpid = 6,
};
enum RfenceFid : uint64_t {
  kRemoteFenceI = 0,
  kRemoteSfenceVma = 1,
  kRemoteSfenceVmaAsid = 2,
  kRemoteHfenceGvmaVmid = 3,
  kRemoteHfenceGvma = 4,
  kRemoteHfenceVvmaAsid = 5,
  kRemoteHfenceVvma = 6,
};
enum HsmFid : uint64_t { kHartStart = 0, kHartStop = 1, kHartGetStatus = 2, kHartSuspend = 3 };
enum SrstType : uint64_t { kShutdown = 0, kColdReboot = 1, kWarmReboot = 2 };
enum DbcnFid : uint64_t { kConsoleWrite = 0, kConsoleRead = 1, kConsoleWriteByte = 2 };
enum SuspendType : uint64_t { kRetentiveDefault = 0, kNonRetentiveDefault = 0x80000000 };

constexpr unsigned kA0 = 10, kA1 = 11, kA6 = 16, kA7 = 17;
// EIDs 0x00-0x0F are the legacy range (0x09-0x0F reserved): their calls return only a0.
constexpr uint64_t kLegacyLast = 0x0F;
// SRST reset reasons; the SBI-implementation and vendor ranges are unused by Vessel.
constexpr uint64_t kReasonNone = 0, kReasonSystemFailure = 1;
constexpr uint64_t kPageSize = 4096;
// sfence.vma over more than this many pages flushes the whole TLB instead.
constexpr uint64_t kMaxPagesToFlushOneByOne = 64;
// DBCN moves at most this much per call; the spec lets the SBI do less than asked.
constexpr uint64_t kMaxConsoleChunk = 4096;
}  // namespace

Sbi::Sbi(Platform platform) : platform_(std::move(platform)) {}

namespace {
constexpr std::string_view kStateTag = "sbi/1";
}

void Sbi::save(StateWriter& out) const {
  out.begin(kStateTag);
  out.put<uint32_t>(started_.load(std::memory_order_acquire));
}

Result<void> Sbi::restore(StateReader& in) {
  TRY_VOID(in.expect(kStateTag));
  const auto started = TRY(in.get<uint32_t>());
  unsigned running = 0;
  for (const rv::Hart* h : platform_.harts)
    running += h->run_state() != rv::Hart::RunState::kStopped;
  // HSM changes the count and the run state in one call, which a pause never splits.
  if (started != running || started == 0) {
    return make_error("sbi state: started harts do not match the harts' states");
  }
  started_.store(started, std::memory_order_release);
  return {};
}

rv::ExecStatus Sbi::ecall(rv::Hart& hart, const rv::DecodedInsn& insn) {
  const uint64_t a[6] = {hart.x[kA0],     hart.x[kA0 + 1], hart.x[kA0 + 2],
                         hart.x[kA0 + 3], hart.x[kA0 + 4], hart.x[kA0 + 5]};
  const uint64_t eid = hart.x[kA7];
  const uint64_t fid = hart.x[kA6];
  const SbiRet r = call(hart, eid, fid, a);
  if (r.redirected) return rv::ExecStatus::kBreak;
  // Legacy calls return only a0; the v0.2+ calling convention returns error in a0, value in a1.
  if (eid <= kLegacyLast) {
    hart.x[kA0] =
        static_cast<uint64_t>(r.error == kSuccess ? static_cast<int64_t>(r.value) : r.error);
  } else {
    hart.x[kA0] = static_cast<uint64_t>(r.error);
    hart.x[kA1] = r.value;
  }
  hart.pc += insn.len;
  // Timers, IPIs and fences change what is pending or cached: leave the block.
  return rv::ExecStatus::kBreak;
}

bool Sbi::probe(uint64_t eid) const {
  switch (eid) {
    case kLegacySetTimer:
    case kLegacyConsolePutchar:
    case kLegacyConsoleGetchar:
    case kLegacyShutdown:
    case kBase:
    case kTime:
    case kIpi:
    case kRfence:
    case kHsm:
    case kSrst:
    case kDbcn:
    case kPmu: return true;
    default: return false;
  }
}

SbiRet Sbi::call(rv::Hart& caller, uint64_t eid, uint64_t fid, const uint64_t (&a)[6]) {
  calls_.fetch_add(1, std::memory_order_relaxed);
  switch (eid) {
    case kLegacySetTimer: caller.set_supervisor_timer(a[0]); return {};
    case kLegacyConsolePutchar: {
      const auto byte = static_cast<uint8_t>(a[0]);
      if (platform_.console_write) platform_.console_write(&byte, 1);
      return {};
    }
    case kLegacyConsoleGetchar: {
      uint8_t byte = 0;
      if (platform_.console_read && platform_.console_read(&byte, 1) == 1) return {kSuccess, byte};
      return {kErrFailed, 0};  // the legacy call returns -1 when nothing is waiting
    }
    case kLegacyShutdown:
      if (platform_.system_reset) platform_.system_reset(false);
      return {};
    case kBase: return base(fid, a);
    case kTime:
      if (fid != 0) return {kErrNotSupported, 0};
      caller.set_supervisor_timer(a[0]);
      return {};
    case kIpi:
      if (fid != 0) return {kErrNotSupported, 0};
      return ipi(caller, a[0], a[1]);
    case kRfence: return rfence(caller, fid, a);
    case kHsm: return hsm(caller, fid, a);
    case kSrst:
      if (fid != 0) return {kErrNotSupported, 0};
      return srst(a);
    case kDbcn: return dbcn(fid, a);
    case kPmu: return pmu(caller, fid, a);
    default: return {kErrNotSupported, 0};
  }
}

SbiRet Sbi::base(uint64_t fid, const uint64_t (&a)[6]) {
  switch (fid) {
    case kGetSpecVersion: return {kSuccess, kSpecVersion};
    case kGetImplId: return {kSuccess, kImplId};
    case kGetImplVersion: return {kSuccess, kImplVersion};
    case kProbeExtension: return {kSuccess, probe(a[0]) ? 1ULL : 0ULL};
    case kGetMvendorid:
    case kGetMarchid:
    case kGetMimpid: return {kSuccess, 0};
    default: return {kErrNotSupported, 0};
  }
}

bool Sbi::select_harts(uint64_t mask, uint64_t base, std::vector<rv::Hart*>& out) const {
  out.clear();
  const auto n = static_cast<uint64_t>(platform_.harts.size());
  if (base == ~0ULL) {  // hart_mask_base = -1: every hart, mask ignored
    out = platform_.harts;
    return true;
  }
  for (unsigned bit = 0; bit < 64; ++bit) {
    if (!((mask >> bit) & 1)) continue;
    const uint64_t id = base + bit;
    if (id < base || id >= n) return false;  // names a hart that does not exist
    out.push_back(platform_.harts[id]);
  }
  return true;
}

SbiRet Sbi::ipi(rv::Hart& caller, uint64_t hart_mask, uint64_t hart_mask_base) {
  (void)caller;
  std::vector<rv::Hart*> targets;
  if (!select_harts(hart_mask, hart_mask_base, targets)) return {kErrInvalidParam, 0};
  for (rv::Hart* h : targets) h->send_ssip();
  return {};
}

SbiRet Sbi::rfence(rv::Hart& caller, uint64_t fid, const uint64_t (&a)[6]) {
  std::vector<rv::Hart*> targets;
  // The hypervisor's remote fences (KVM's, on harts with H): the guest's translations are
  // not tagged by VMID or ASID here, so each drops every cached translation of the targets.
  const bool hfence = fid >= kRemoteHfenceGvmaVmid && fid <= kRemoteHfenceVvma;
  if (hfence && !caller.has_h()) return {kErrNotSupported, 0};
  if (fid > kRemoteHfenceVvma) return {kErrNotSupported, 0};
  if (!select_harts(a[0], a[1], targets)) return {kErrInvalidParam, 0};
  // Every store into code already reaches all harts' caches; a remote fence.i makes the other
  // harts apply those invalidations now rather than at their next block boundary.
  uint32_t request = rv::Hart::kRequestApplyCode;
  uint64_t first = 0, pages = 0;
  if (hfence) {
    request = rv::Hart::kRequestFlushTlb;
  } else if (fid != kRemoteFenceI) {
    const uint64_t start = a[2];
    const uint64_t size = a[3];
    const bool everything = (start == 0 && size == 0) || size == ~0ULL ||
                            size / kPageSize > kMaxPagesToFlushOneByOne || start + size < start;
    // Counted in pages rather than by address: a range ending in the top page of the address
    // space must not wrap the loop variable.
    pages = size == 0 ? 0 : ((start + size - 1) / kPageSize) - (start / kPageSize) + 1;
    first = start & ~(kPageSize - 1);
    // The ASID form of everything keeps the global translations (the harts hold one address
    // space's others at a time); of a range, it drops the range's global ones too, which is
    // more than asked and never less.
    if (everything) {
      request =
          fid == kRemoteSfenceVmaAsid ? rv::Hart::kRequestFlushAsid : rv::Hart::kRequestFlushTlb;
    } else {
      request = rv::Hart::kRequestFlushPages;
    }
    if (!everything && pages == 0) return {};
  }
  // Post to every other target first and wait afterwards, so that they fence in parallel; the
  // call returns when every named hart has done it, as Linux expects.
  std::vector<std::pair<rv::Hart*, uint64_t>> tickets;
  bool self = false;
  for (rv::Hart* h : targets) {
    if (h == &caller) {
      self = true;
      continue;
    }
    tickets.emplace_back(h, h->post_request(request, first, pages));
  }
  if (self) {
    const std::pair<uint64_t, uint64_t> range{first, pages};
    caller.apply_tlb_request(request, std::span(&range, 1));
  }
  for (const auto& [h, ticket] : tickets) caller.wait_for(*h, ticket);
  return {};
}

SbiRet Sbi::hsm(rv::Hart& caller, uint64_t fid, const uint64_t (&a)[6]) {
  switch (fid) {
    case kHartStart: {
      if (a[0] >= platform_.harts.size()) return {kErrInvalidParam, 0};
      // start_addr is a physical address the hart will execute from: it must be memory.
      if (platform_.bus == nullptr || platform_.bus->find_memory(a[1], 2) == nullptr) {
        return {kErrInvalidAddress, 0};
      }
      rv::Hart& target = *platform_.harts[a[0]];
      // Counted before the start, so that the target cannot stop "the last hart" early.
      started_.fetch_add(1, std::memory_order_acq_rel);
      if (!target.request_start(a[1], a[2])) {
        started_.fetch_sub(1, std::memory_order_acq_rel);
        return {kErrAlreadyAvailable, 0};
      }
      return {};
    }
    case kHartStop: {
      // Stopping the last started hart would leave the VM with nothing to run.
      unsigned n = started_.load(std::memory_order_acquire);
      do {
        if (n <= 1) return {kErrFailed, 0};
      } while (!started_.compare_exchange_weak(n, n - 1, std::memory_order_acq_rel));
      caller.stop_self();
      return {};
    }
    case kHartGetStatus: {
      if (a[0] >= platform_.harts.size()) return {kErrInvalidParam, 0};
      switch (platform_.harts[a[0]]->run_state()) {
        case rv::Hart::RunState::kRunning: return {kSuccess, kStarted};
        case rv::Hart::RunState::kStopped: return {kSuccess, kStopped};
        case rv::Hart::RunState::kStartPending: return {kSuccess, kStartPending};
      }
      return {kErrFailed, 0};
    }
    case kHartSuspend: {
      const uint64_t type = a[0] & 0xffffffff;
      if (type == kRetentiveDefault) {
        // Resumes, registers intact, when an interrupt is pending (or spuriously, as WFI may).
        caller.sleep_until_interrupt();
        return {};
      }
      if (type == kNonRetentiveDefault) {
        if (platform_.bus == nullptr || platform_.bus->find_memory(a[1], 2) == nullptr) {
          return {kErrInvalidAddress, 0};
        }
        caller.sleep_until_interrupt();
        // Resumes as from a start: S-mode at resume_addr, a0 = hart id, a1 = opaque, satp = 0,
        // sstatus.SIE = 0.
        const uint64_t retired = caller.instret;
        caller.reset(0);
        caller.instret = retired;
        caller.boot_supervisor(a[1], a[2]);
        return {kSuccess, 0, true};
      }
      // Reserved types, and platform-specific ones (Vessel defines none), are invalid.
      return {kErrInvalidParam, 0};
    }
    default: return {kErrNotSupported, 0};
  }
}

SbiRet Sbi::srst(const uint64_t (&a)[6]) {
  const uint64_t type = a[0] & 0xffffffff;
  const uint64_t reason = a[1] & 0xffffffff;
  // Only "no reason" and "system failure" are implemented: the rest is reserved, or specific
  // to an SBI implementation or platform, and Vessel defines none of those.
  if (reason != kReasonNone && reason != kReasonSystemFailure) return {kErrInvalidParam, 0};
  switch (type) {
    case kShutdown:
      if (platform_.system_reset) platform_.system_reset(false);
      return {};
    case kColdReboot:
    case kWarmReboot:
      if (platform_.system_reset) platform_.system_reset(true);
      return {};
    default: return {kErrInvalidParam, 0};
  }
}

SbiRet Sbi::dbcn(uint64_t fid, const uint64_t (&a)[6]) {
  switch (fid) {
    case kConsoleWrite:
    case kConsoleRead: {
      // num_bytes, base_addr_lo, base_addr_hi: a physical buffer in guest memory. On RV64
      // base_addr_hi holds bits 64 and up, so any bit set there names no memory.
      if (a[2] != 0) return {kErrInvalidParam, 0};
      const uint64_t addr = a[1];
      if (platform_.bus == nullptr) return {kErrFailed, 0};
      if (a[0] == 0) return {kSuccess, 0};
      // The whole buffer must be memory, even though one call moves at most a chunk of it.
      const MemoryRegion* r = platform_.bus->find_memory(addr, a[0]);
      if (r == nullptr) return {kErrInvalidParam, 0};
      const uint64_t len = std::min(a[0], kMaxConsoleChunk);
      uint8_t* p = r->host + (addr - r->base);
      if (fid == kConsoleWrite) {
        if (platform_.console_write) platform_.console_write(p, len);
        return {kSuccess, len};
      }
      if (!r->writable) return {kErrInvalidParam, 0};
      const size_t got = platform_.console_read ? platform_.console_read(p, len) : 0;
      if (got > 0) platform_.bus->notify_written(p, got);
      return {kSuccess, got};
    }
    case kConsoleWriteByte: {
      const auto byte = static_cast<uint8_t>(a[0]);
      if (platform_.console_write) platform_.console_write(&byte, 1);
      return {};
    }
    default: return {kErrNotSupported, 0};
  }
}

}  // namespace vessel::sbi
