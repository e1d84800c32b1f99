// The vCPU threads of --accel kvm: KVM_RUN, the exits Vessel serves, and the PLIC's external
// interrupt carried into the vCPU.
#include <fmt/format.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "accel/kvm/kvm_riscv.hpp"
#include "accel/kvm/kvm_vcpu.hpp"
#include "accel/kvm/kvm_vm.hpp"
#include "sbi/sbi.hpp"

namespace vessel::kvm {

namespace {

// How long an interrupt forwarder sleeps without a kick before it looks at `stop` again.
constexpr auto kForwarderTick = std::chrono::milliseconds(200);

}  // namespace

Result<void> KvmVm::run_vcpu(unsigned index, const std::atomic<bool>& stop) {
  Vcpu& v = *vcpus_.at(index);
  v.thread = pthread_self();
  v.running.store(true, std::memory_order_release);
  std::string error;
  while (!stop.load(std::memory_order_acquire)) {
    if (ioctl(v.fd, KVM_RUN, 0) != 0) {
      if (errno == EINTR || errno == EAGAIN) {
        count(ExitKind::kInterrupted);
        continue;
      }
      error = fmt::format("KVM_RUN on vCPU {}: {}", index, std::strerror(errno));
      break;
    }
    if (!handle_exit(v, error)) break;
  }
  v.running.store(false, std::memory_order_release);
  if (!error.empty()) return make_error(error);
  return {};
}

bool KvmVm::handle_exit(Vcpu& v, std::string& error) {
  kvm_run& run = *v.run;
  switch (run.exit_reason) {
    case KVM_EXIT_MMIO: {
      auto& m = run.mmio;
      const unsigned len = m.len;
      if (len == 0 || len > sizeof(m.data)) {
        error = fmt::format("vCPU {}: MMIO of {} bytes at {:#x}", v.index, len, m.phys_addr);
        return false;
      }
      mmio_exits_[mmio_slot(m.phys_addr)].fetch_add(1, std::memory_order_relaxed);
      uint64_t value = 0;  // little-endian, as the guest and every host this runs on
      if (m.is_write != 0) {
        count(ExitKind::kMmioWrite);
        std::memcpy(&value, m.data, len);
        (void)machine_->bus().mmio_write(m.phys_addr, len, value);  // nothing there: dropped
      } else {
        count(ExitKind::kMmioRead);
        if (!machine_->bus().mmio_read(m.phys_addr, len, value)) value = 0;
        std::memcpy(m.data, &value, len);
      }
      return true;
    }
    case KVM_EXIT_RISCV_SBI: {
      count(ExitKind::kSbi);
      auto& s = run.riscv_sbi;
      const uint64_t args[6] = {s.args[0], s.args[1], s.args[2], s.args[3], s.args[4], s.args[5]};
      // The builtin SBI answers for the hart with the vCPU's number; what KVM hands over
      // (console, DBCN) touches no hart state.
      const sbi::SbiRet r = machine_->sbi()->call(*machine_->harts().at(v.index), s.extension_id,
                                                  s.function_id, args);
      s.ret[0] = static_cast<unsigned long>(r.error);
      s.ret[1] = r.value;
      return true;
    }
    case KVM_EXIT_SYSTEM_EVENT:
      count(ExitKind::kSystemEvent);
      if (run.system_event.type == KVM_SYSTEM_EVENT_RESET) {
        power_(PowerRequest{PowerRequest::kReset, 0});
      } else if (run.system_event.type == KVM_SYSTEM_EVENT_CRASH) {
        power_(PowerRequest{PowerRequest::kFail, 1});
      } else {
        power_(PowerRequest{PowerRequest::kPoweroff, 0});
      }
      return true;
    case KVM_EXIT_RISCV_CSR:
      // A CSR KVM does not emulate and hands over (none of Vessel's devices has one): reads
      // as zero, writes ignored.
      count(ExitKind::kCsr);
      run.riscv_csr.ret_value = 0;
      return true;
    case KVM_EXIT_INTR: count(ExitKind::kInterrupted); return true;
    default:
      count(ExitKind::kOther);
      error = fmt::format("vCPU {}: KVM exit reason {} (hardware reason {:#x})", v.index,
                          run.exit_reason, run.hw.hardware_exit_reason);
      return false;
  }
}

// The PLIC drives each hart's HartIrq as it would for an emulated hart; this thread carries
// the S-mode external interrupt line (SEIP) into the vCPU, a level: KVM_INTERRUPT sets or
// clears VSEIP, and KVM kicks the vCPU. RISC-V KVM takes it without the vCPU's lock, so it
// does not wait for KVM_RUN to return.
void KvmVm::forward_interrupts(unsigned index, const std::atomic<bool>& stop) {
  HartIrq& irq = machine_->hart_irq(index);
  const Vcpu& v = *vcpus_[index];
  constexpr uint64_t kSeip = 1ULL << static_cast<unsigned>(InterruptBit::kSEIP);
  bool raised = false;
  while (!stop.load(std::memory_order_acquire)) {
    const bool level = (irq.pending() & kSeip) != 0;
    if (level != raised) {
      kvm_interrupt request{level ? kInterruptSet : kInterruptUnset};
      if (ioctl(v.fd, KVM_INTERRUPT, &request) == 0) raised = level;
    }
    irq.wait_until(std::chrono::steady_clock::now() + kForwarderTick);
  }
}

}  // namespace vessel::kvm
