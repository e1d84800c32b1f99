// The Supervisor Binary Interface answered by Vessel itself (`--firmware builtin`): the
// paravirtual path. A kernel in S-mode makes hypercalls with ecall; instead of trapping into
// firmware running in emulated M-mode, the hart hands them here, as KVM does for RISC-V guests.
// Extensions: BASE, TIME, IPI, RFENCE, HSM, SRST, DBCN and the legacy console calls (SBI v2.0).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "base/state.hpp"
#include "cpu/riscv/hart.hpp"

namespace vessel::sbi {

// SBI error codes (SBI spec, "Standard SBI Errors").
enum Error : int64_t {
  kSuccess = 0,
  kErrFailed = -1,
  kErrNotSupported = -2,
  kErrInvalidParam = -3,
  kErrDenied = -4,
  kErrInvalidAddress = -5,
  kErrAlreadyAvailable = -6,
  kErrAlreadyStarted = -7,
  kErrAlreadyStopped = -8,
};

// Extension IDs.
enum Extension : uint64_t {
  kLegacySetTimer = 0x00,
  kLegacyConsolePutchar = 0x01,
  kLegacyConsoleGetchar = 0x02,
  kLegacyShutdown = 0x08,
  kBase = 0x10,
  kTime = 0x54494D45,    // "TIME"
  kIpi = 0x735049,       // "sPI"
  kRfence = 0x52464E43,  // "RFNC"
  kHsm = 0x48534D,       // "HSM"
  kSrst = 0x53525354,    // "SRST"
  kDbcn = 0x4442434E,    // "DBCN"
  kPmu = 0x504D55,       // "PMU"
};

// HSM hart states.
enum HartState : uint64_t { kStarted = 0, kStopped = 1, kStartPending = 2, kStopPending = 3 };

struct SbiRet {
  int64_t error = kSuccess;
  uint64_t value = 0;
  // The call left the hart elsewhere with its own a0/a1 (HSM non-retentive resume): the
  // caller's registers and pc are not to be touched.
  bool redirected = false;
};

// What the SBI needs from the machine around it.
struct Platform {
  std::vector<rv::Hart*> harts;
  std::function<void(const uint8_t* data, size_t len)> console_write;
  // Returns the number of bytes read (0 when nothing is waiting).
  std::function<size_t(uint8_t* data, size_t len)> console_read;
  std::function<void(bool reboot)> system_reset;  // false: shutdown
  const Bus* bus = nullptr;                       // for DBCN's physical buffers
};

class Sbi final : public rv::EcallHandler {
 public:
  // 2.0 in the spec's encoding (major << 24 | minor).
  static constexpr uint64_t kSpecVersion = 2ULL << 24;
  // Not an ID from the SBI spec's list: Vessel is not registered there.
  static constexpr uint64_t kImplId = 0x5653;  // "VS"
  static constexpr uint64_t kImplVersion = 1;

  explicit Sbi(Platform platform);

  // rv::EcallHandler: an ecall from S-mode. Reads a7 (EID), a6 (FID), a0..a5; writes a0/a1.
  rv::ExecStatus ecall(rv::Hart& hart, const rv::DecodedInsn& insn) override;

  SbiRet call(rv::Hart& caller, uint64_t eid, uint64_t fid, const uint64_t (&a)[6]);
  bool probe(uint64_t eid) const;

  uint64_t calls() const { return calls_.load(std::memory_order_relaxed); }
  // How many harts are started (or start-pending): hart 0 at boot, then HSM's count.
  void set_started_harts(unsigned n) { started_.store(n, std::memory_order_release); }

  // Snapshots: what the SBI keeps beyond the harts' own state (which holds their HSM states
  // and the supervisor timer). Restore checks it against the harts' run states.
  void save(StateWriter& out) const;
  Result<void> restore(StateReader& in);

 private:
  SbiRet base(uint64_t fid, const uint64_t (&a)[6]);
  SbiRet ipi(rv::Hart& caller, uint64_t hart_mask, uint64_t hart_mask_base);
  SbiRet rfence(rv::Hart& caller, uint64_t fid, const uint64_t (&a)[6]);
  SbiRet hsm(rv::Hart& caller, uint64_t fid, const uint64_t (&a)[6]);
  SbiRet srst(const uint64_t (&a)[6]);
  SbiRet dbcn(uint64_t fid, const uint64_t (&a)[6]);
  SbiRet pmu(rv::Hart& caller, uint64_t fid, const uint64_t (&a)[6]);  // pmu.cpp
  // The harts named by (mask, base), or an error for a bad mask (SBI "hart mask" rules).
  bool select_harts(uint64_t mask, uint64_t base, std::vector<rv::Hart*>& out) const;

  Platform platform_;
  std::atomic<uint64_t> calls_{0};
  std::atomic<unsigned> started_{1};
};

}  // namespace vessel::sbi
