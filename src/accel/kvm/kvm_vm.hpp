// --accel kvm: Vessel's virt machine (RAM, bus, devices, builtin SBI, device tree) with its harts
// run by Linux's RISC-V KVM instead of Vessel's interpreter or translator. The guest's RAM is
// the machine's own mapping; an access to a device window leaves KVM_RUN as an MMIO exit that
// the machine's bus serves; the SBI calls KVM does not answer itself (the console's) reach the
// builtin SBI; the PLIC's S-mode output for a hart becomes that vCPU's external interrupt
// (KVM_INTERRUPT). Timer, IPIs, remote fences and HSM stay in the kernel.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "board/virt.hpp"

namespace vessel::kvm {

// Why a vCPU left KVM_RUN, for --stats.
enum class ExitKind : unsigned {
  kMmioRead,
  kMmioWrite,
  kSbi,          // an SBI call KVM handed to user space
  kSystemEvent,  // SRST: shutdown or reset
  kInterrupted,  // a signal (a stop request), or KVM_RUN came back to let user space look
  kCsr,          // a CSR access KVM handed to user space
  kOther,
  kCount,
};
inline constexpr const char* kExitKindNames[] = {
    "mmio_read", "mmio_write", "sbi", "system_event", "interrupted", "csr", "other"};
static_assert(std::size(kExitKindNames) == static_cast<size_t>(ExitKind::kCount));

struct Vcpu;

class KvmVm {
 public:
  // Opens `device` and makes a VM with `num_harts` vCPUs. A one-line error when the device is
  // missing or unusable, or its KVM does not run RISC-V guests.
  static Result<std::unique_ptr<KvmVm>> open(unsigned num_harts, const std::string& device);
  ~KvmVm();
  KvmVm(const KvmVm&) = delete;
  KvmVm& operator=(const KvmVm&) = delete;

  // Takes out of the machine's configuration what KVM's vCPUs do not give the guest (the H
  // extension, Sdtrig, the ISA extensions KVM lacks or does not know), so that the device tree
  // advertises only what the guest has. A configuration that is not --firmware builtin is
  // refused: KVM's guest starts in S-mode, with no firmware under it.
  Result<void> restrict_config(VirtConfig& config) const;

  // Gives the VM the machine's memory, each vCPU its first registers (hart 0 at the kernel
  // with a0 = hart id and a1 = the device tree; the others stopped until HSM starts them),
  // and the device tree the frequency of the time CSR the guest reads. `power` takes SRST's
  // shutdown and reset.
  Result<void> attach(VirtMachine& machine, std::function<void(PowerRequest)> power);

  // Runs vCPU `index` on the calling thread until `stop` is set (by a thread that then calls
  // kick_all()). An error is the guest's failure (KVM could not run it), said in one line.
  Result<void> run_vcpu(unsigned index, const std::atomic<bool>& stop);
  // Carries the PLIC's S-mode external interrupt for hart `index` into its vCPU, on the
  // calling thread (one per vCPU, beside run_vcpu's), until `stop` is set.
  void forward_interrupts(unsigned index, const std::atomic<bool>& stop);
  // Brings every vCPU out of KVM_RUN (and its interrupt forwarder out of its wait) so that
  // it sees `stop`.
  void kick_all();

  // Exits so far, by kind; and MMIO exits by the device window they hit ("unmapped" last).
  std::vector<std::pair<std::string, uint64_t>> exits_by_kind() const;
  std::vector<std::pair<std::string, uint64_t>> mmio_exits_by_device() const;

 private:
  KvmVm() = default;
  Result<void> map_memory(const Bus& bus);
  Result<void> set_boot_registers(const BootPlan& plan);
  Result<void> patch_timebase(VirtMachine& machine);
  bool has_isa_ext(uint64_t reg) const;
  // The MMIO window holding addr (an index into bus().mmio()), or the count for none.
  size_t mmio_slot(uint64_t addr) const;
  // Serves one exit; false (with `error` set) when the VM cannot go on.
  bool handle_exit(Vcpu& vcpu, std::string& error);
  void count(ExitKind kind) {
    exits_[static_cast<size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
  }

  int kvm_fd_ = -1;
  int vm_fd_ = -1;
  size_t run_size_ = 0;
  std::vector<std::unique_ptr<Vcpu>> vcpus_;
  VirtMachine* machine_ = nullptr;
  std::function<void(PowerRequest)> power_;
  std::atomic<uint64_t> exits_[static_cast<size_t>(ExitKind::kCount)] = {};
  std::unique_ptr<std::atomic<uint64_t>[]> mmio_exits_;  // bus().mmio().size() + 1
};

}  // namespace vessel::kvm
