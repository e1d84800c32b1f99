// Linux's RISC-V KVM interface (arch/riscv/include/uapi/asm/kvm.h): the register ids of
// KVM_GET/SET_ONE_REG. They are written out here because <asm/kvm.h> is the build host's
// architecture's, and this backend is compiled (and refuses to start) on x86-64 hosts too.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

namespace vessel::kvm {

inline constexpr uint64_t kRegRiscv = 0x8000'0000'0000'0000ULL;
inline constexpr uint64_t kRegU64 = KVM_REG_SIZE_U64;
inline constexpr unsigned kTypeShift = 24;
inline constexpr uint64_t kRegConfig = 0x01ULL << kTypeShift;
inline constexpr uint64_t kRegCore = 0x02ULL << kTypeShift;
inline constexpr uint64_t kRegTimer = 0x04ULL << kTypeShift;
inline constexpr uint64_t kRegIsaExt = 0x07ULL << kTypeShift;
inline constexpr uint64_t kRegSbiExt = 0x08ULL << kTypeShift;

// A 64-bit register of a class by its index (struct offset / 8).
constexpr uint64_t reg_id(uint64_t type, uint64_t index) {
  return kRegRiscv | kRegU64 | type | index;
}

// struct kvm_riscv_config.
inline constexpr uint64_t kConfigIsa = reg_id(kRegConfig, 0);
// struct kvm_riscv_core: user_regs_struct (pc, ra, sp, gp, tp, t0-t2, s0, s1, a0-a7, ...),
// then the privilege mode.
inline constexpr uint64_t kCorePc = reg_id(kRegCore, 0);
inline constexpr uint64_t kCoreA0 = reg_id(kRegCore, 10);
inline constexpr uint64_t kCoreA1 = reg_id(kRegCore, 11);
// struct kvm_riscv_timer: the frequency of the time CSR the guest reads.
inline constexpr uint64_t kTimerFrequency = reg_id(kRegTimer, 0);

// KVM_RISCV_ISA_EXT_*: one register each (0/1), the "single" subtype.
enum class IsaExt : uint64_t {
  kH = 4,
  kSvpbmt = 7,
  kSstc = 8,
  kSvinval = 9,
  kZicbom = 11,
  kZicboz = 12,
  kZbb = 13,
  kSvnapot = 16,
  kZba = 17,
  kZbs = 18,
  kZihpm = 22,
  kZicond = 24,
  kZfhmin = 47,
  kZacas = 53,
  kZcb = 57,
};
constexpr uint64_t isa_ext_reg(IsaExt e) { return reg_id(kRegIsaExt, static_cast<uint64_t>(e)); }

// KVM_RISCV_SBI_EXT_*: whether KVM answers an SBI extension, or (DBCN, off by default) hands
// its calls to user space.
inline constexpr uint64_t kSbiExtDbcn = reg_id(kRegSbiExt, 9);

// KVM_INTERRUPT's values on RISC-V: raise or lower the vCPU's external interrupt (VSEIP).
inline constexpr uint32_t kInterruptSet = ~0U;
inline constexpr uint32_t kInterruptUnset = ~1U;

// KVM_GET_API_VERSION's one value since Linux 2.6.22.
inline constexpr int kApiVersion = 12;

#if defined(__riscv)
// Built for riscv64, the kernel's own header is there to check these against.
static_assert(kRegRiscv == KVM_REG_RISCV && kRegCore == KVM_REG_RISCV_CORE);
static_assert(kConfigIsa == (KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CONFIG |
                             KVM_REG_RISCV_CONFIG_REG(isa)));
static_assert(kCoreA1 == (KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE |
                          KVM_REG_RISCV_CORE_REG(regs.a1)));
static_assert(kTimerFrequency == (KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_TIMER |
                                  KVM_REG_RISCV_TIMER_REG(frequency)));
static_assert(isa_ext_reg(IsaExt::kZcb) ==
              (KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_ISA_EXT | KVM_RISCV_ISA_EXT_ZCB));
static_assert(static_cast<uint64_t>(IsaExt::kH) == KVM_RISCV_ISA_EXT_H &&
              static_cast<uint64_t>(IsaExt::kSstc) == KVM_RISCV_ISA_EXT_SSTC &&
              static_cast<uint64_t>(IsaExt::kZicboz) == KVM_RISCV_ISA_EXT_ZICBOZ &&
              static_cast<uint64_t>(IsaExt::kZihpm) == KVM_RISCV_ISA_EXT_ZIHPM &&
              static_cast<uint64_t>(IsaExt::kZicond) == KVM_RISCV_ISA_EXT_ZICOND &&
              static_cast<uint64_t>(IsaExt::kZfhmin) == KVM_RISCV_ISA_EXT_ZFHMIN &&
              static_cast<uint64_t>(IsaExt::kZacas) == KVM_RISCV_ISA_EXT_ZACAS);
static_assert(kSbiExtDbcn == (KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_SBI_EXT |
                              KVM_REG_RISCV_SBI_SINGLE | KVM_RISCV_SBI_EXT_DBCN));
static_assert(kInterruptSet == KVM_INTERRUPT_SET && kInterruptUnset == KVM_INTERRUPT_UNSET);
#endif

}  // namespace vessel::kvm
