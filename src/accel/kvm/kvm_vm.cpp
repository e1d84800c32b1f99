#include "accel/kvm/kvm_vm.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <libfdt.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "accel/kvm/kvm_riscv.hpp"
#include "accel/kvm/kvm_vcpu.hpp"

namespace vessel::kvm {

namespace {

// Which of Vessel's optional ISA extensions KVM gives a guest only when its ISA_EXT register
// says so. The others (Zicbop, Zihintntl, Zkt) are hints or promises with no state to
// virtualize, which a guest may use whatever KVM says.
struct ExtReg {
  rv::Ext ext;
  IsaExt reg;
};
constexpr ExtReg kExtRegs[] = {
    {rv::Ext::Zba, IsaExt::kZba},         {rv::Ext::Zbb, IsaExt::kZbb},
    {rv::Ext::Zbs, IsaExt::kZbs},         {rv::Ext::Zicond, IsaExt::kZicond},
    {rv::Ext::Zicbom, IsaExt::kZicbom},   {rv::Ext::Zicboz, IsaExt::kZicboz},
    {rv::Ext::Svinval, IsaExt::kSvinval}, {rv::Ext::Svnapot, IsaExt::kSvnapot},
    {rv::Ext::Svpbmt, IsaExt::kSvpbmt},   {rv::Ext::Zcb, IsaExt::kZcb},
    {rv::Ext::Zacas, IsaExt::kZacas},     {rv::Ext::Zfhmin, IsaExt::kZfhmin},
    {rv::Ext::Zihpm, IsaExt::kZihpm},     {rv::Ext::H, IsaExt::kH},
};

// kick_all's signal: its handler does nothing, but delivering it makes KVM_RUN return EINTR.
constexpr int kKickSignal = SIGUSR2;
void on_kick(int) {}

}  // namespace

Vcpu::~Vcpu() {
  if (run != nullptr) munmap(run, run_size);
  if (fd >= 0) close(fd);
}

Result<void> Vcpu::set_reg(uint64_t id, uint64_t value) const {
  kvm_one_reg reg{id, reinterpret_cast<uint64_t>(&value)};
  if (ioctl(fd, KVM_SET_ONE_REG, &reg) != 0) {
    return make_error(
        fmt::format("KVM_SET_ONE_REG {:#x} on vCPU {}: {}", id, index, std::strerror(errno)));
  }
  return {};
}

Result<uint64_t> Vcpu::get_reg(uint64_t id) const {
  uint64_t value = 0;
  kvm_one_reg reg{id, reinterpret_cast<uint64_t>(&value)};
  if (ioctl(fd, KVM_GET_ONE_REG, &reg) != 0) {
    return make_error(
        fmt::format("KVM_GET_ONE_REG {:#x} on vCPU {}: {}", id, index, std::strerror(errno)));
  }
  return value;
}

Result<std::unique_ptr<KvmVm>> KvmVm::open(unsigned num_harts, const std::string& device) {
  std::unique_ptr<KvmVm> vm(new KvmVm());
  vm->kvm_fd_ = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (vm->kvm_fd_ < 0) {
    return make_error(fmt::format("--accel kvm: cannot open {}: {}", device, std::strerror(errno)));
  }
  const int api = ioctl(vm->kvm_fd_, KVM_GET_API_VERSION, 0);
  if (api < 0) {
    return make_error(fmt::format("--accel kvm: {} is not KVM (KVM_GET_API_VERSION: {})", device,
                                  std::strerror(errno)));
  }
  if (api != kApiVersion) {
    return make_error(
        fmt::format("--accel kvm: {} speaks KVM API {}, not {}", device, api, kApiVersion));
  }
  if (ioctl(vm->kvm_fd_, KVM_CHECK_EXTENSION, KVM_CAP_ONE_REG) <= 0 ||
      ioctl(vm->kvm_fd_, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0) {
    return make_error(fmt::format("--accel kvm: {} lacks ONE_REG or user memory", device));
  }
  vm->vm_fd_ = ioctl(vm->kvm_fd_, KVM_CREATE_VM, 0);
  if (vm->vm_fd_ < 0) {
    return make_error(fmt::format("--accel kvm: KVM_CREATE_VM: {}", std::strerror(errno)));
  }
  const int run_size = ioctl(vm->kvm_fd_, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size <= 0) return make_error("--accel kvm: KVM_GET_VCPU_MMAP_SIZE failed");
  vm->run_size_ = static_cast<size_t>(run_size);
  for (unsigned i = 0; i < num_harts; ++i) {
    auto v = std::make_unique<Vcpu>();
    v->index = i;
    v->fd = ioctl(vm->vm_fd_, KVM_CREATE_VCPU, static_cast<unsigned long>(i));
    if (v->fd < 0) {
      return make_error(
          fmt::format("--accel kvm: KVM_CREATE_VCPU {}: {}", i, std::strerror(errno)));
    }
    void* run = mmap(nullptr, vm->run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (run == MAP_FAILED) return make_error("--accel kvm: cannot map a vCPU's kvm_run");
    v->run = static_cast<kvm_run*>(run);
    v->run_size = vm->run_size_;
    vm->vcpus_.push_back(std::move(v));
  }
  // The RISC-V ISA register exists only on a RISC-V KVM: elsewhere (an x86-64 host's) it is
  // an unknown register.
  if (!vm->vcpus_.front()->get_reg(kConfigIsa)) {
    utsname host{};
    uname(&host);
    return make_error(
        fmt::format("--accel kvm: {} does not run RISC-V guests (it is the KVM of "
                    "this {} host)",
                    device, host.machine));
  }
  struct sigaction sa {};
  sa.sa_handler = on_kick;
  sigemptyset(&sa.sa_mask);
  sigaction(kKickSignal, &sa, nullptr);  // no SA_RESTART: KVM_RUN must come back
  return vm;
}

KvmVm::~KvmVm() {
  vcpus_.clear();
  if (vm_fd_ >= 0) close(vm_fd_);
  if (kvm_fd_ >= 0) close(kvm_fd_);
}

bool KvmVm::has_isa_ext(uint64_t reg) const {
  auto on = vcpus_.front()->get_reg(reg);
  return on && *on != 0;  // an unknown register: a kernel that does not know the extension
}

Result<void> KvmVm::restrict_config(VirtConfig& config) const {
  if (!config.builtin_sbi || config.firmware) {
    return make_error("--accel kvm: only with --firmware builtin (KVM's guest has no M-mode)");
  }
  for (const ExtReg& e : kExtRegs) {
    if ((config.extensions & rv::ext_bit(e.ext)) != 0 && !has_isa_ext(isa_ext_reg(e.reg))) {
      config.extensions &= ~rv::ext_bit(e.ext);
    }
  }
  // KVM runs no guest hypervisor, and gives a guest no debug triggers; nor, here, counter
  // overflow interrupts (Sscofpmf), which this backend does not ask KVM for.
  config.extensions &= ~(rv::ext_bit(rv::Ext::H) | rv::ext_bit(rv::Ext::Sscofpmf));
  config.sdtrig = false;
  config.sstc = config.sstc && has_isa_ext(isa_ext_reg(IsaExt::kSstc));
  return {};
}

Result<void> KvmVm::attach(VirtMachine& machine, std::function<void(PowerRequest)> power) {
  machine_ = &machine;
  power_ = std::move(power);
  TRY_VOID(map_memory(machine.bus()));
  TRY_VOID(set_boot_registers(machine.boot_plan()));
  TRY_VOID(patch_timebase(machine));
  mmio_exits_ = std::make_unique<std::atomic<uint64_t>[]>(machine.bus().mmio().size() + 1);
  // The console's SBI calls (DBCN) come to the builtin SBI; KVM without DBCN leaves the
  // guest the legacy console calls, which it hands over the same way.
  for (const auto& v : vcpus_) (void)v->set_reg(kSbiExtDbcn, 1);
  return {};
}

Result<void> KvmVm::map_memory(const Bus& bus) {
  uint32_t slot = 0;
  const bool readonly_slots = ioctl(kvm_fd_, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
  for (const MemoryRegion& r : bus.memory()) {
    // The boot ROM is read-only, and nothing a KVM guest runs reads it (no firmware, the kernel
    // starts at its entry): without read-only slots it is left out.
    if (!r.writable && !readonly_slots) continue;
    kvm_userspace_memory_region region{};
    region.slot = slot++;
    region.flags = r.writable ? 0 : KVM_MEM_READONLY;
    region.guest_phys_addr = r.base;
    region.memory_size = r.size;
    region.userspace_addr = reinterpret_cast<uint64_t>(r.host);
    if (ioctl(vm_fd_, KVM_SET_USER_MEMORY_REGION, &region) != 0) {
      return make_error(fmt::format("--accel kvm: cannot map {} ({:#x} bytes at {:#x}): {}", r.name,
                                    r.size, r.base, std::strerror(errno)));
    }
  }
  return {};
}

Result<void> KvmVm::set_boot_registers(const BootPlan& plan) {
  for (const auto& v : vcpus_) {
    TRY_VOID(v->set_reg(kCoreA0, v->index));
    TRY_VOID(v->set_reg(kCoreA1, plan.fdt_addr));
    TRY_VOID(v->set_reg(kCorePc, plan.start_addr));
    if (v->index != 0) {  // started by the kernel's HSM when the guest asks for it
      kvm_mp_state stopped{KVM_MP_STATE_STOPPED};
      if (ioctl(v->fd, KVM_SET_MP_STATE, &stopped) != 0) {
        return make_error(
            fmt::format("--accel kvm: cannot stop vCPU {}: {}", v->index, std::strerror(errno)));
      }
    }
  }
  return {};
}

// The guest's time CSR counts at the host's timebase, not at Vessel's 10 MHz: the device tree
// the kernel reads must say so.
Result<void> KvmVm::patch_timebase(VirtMachine& machine) {
  const uint64_t hz = TRY(vcpus_.front()->get_reg(kTimerFrequency));
  std::vector<uint8_t> dtb = machine.dtb();
  const int cpus = fdt_path_offset(dtb.data(), "/cpus");
  if (cpus < 0 || hz == 0 || hz > UINT32_MAX ||
      fdt_setprop_inplace_u32(dtb.data(), cpus, "timebase-frequency", static_cast<uint32_t>(hz)) !=
          0) {
    return make_error(
        fmt::format("--accel kvm: cannot set the timebase ({} Hz) in the device tree", hz));
  }
  if (!machine.bus().write_phys(machine.boot_plan().fdt_addr, dtb.data(), dtb.size())) {
    return make_error("--accel kvm: the device tree no longer fits in RAM");
  }
  return {};
}

void KvmVm::kick_all() {
  for (const auto& v : vcpus_) {
    // Seen by a KVM_RUN about to start; the signal interrupts one under way.
    std::atomic_ref<uint8_t>(v->run->immediate_exit).store(1, std::memory_order_seq_cst);
    if (v->running.load(std::memory_order_acquire)) pthread_kill(v->thread, kKickSignal);
  }
  if (machine_ != nullptr) machine_->kick_all();  // the interrupt forwarders' waits
}

size_t KvmVm::mmio_slot(uint64_t addr) const {
  const auto& windows = machine_->bus().mmio();
  auto it = std::upper_bound(windows.begin(), windows.end(), addr,
                             [](uint64_t a, const MmioMapping& m) { return a < m.base; });
  if (it == windows.begin()) return windows.size();
  --it;
  return addr - it->base < it->size ? static_cast<size_t>(it - windows.begin()) : windows.size();
}

std::vector<std::pair<std::string, uint64_t>> KvmVm::exits_by_kind() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (size_t k = 0; k < std::size(kExitKindNames); ++k) {
    out.emplace_back(kExitKindNames[k], exits_[k].load(std::memory_order_relaxed));
  }
  return out;
}

std::vector<std::pair<std::string, uint64_t>> KvmVm::mmio_exits_by_device() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  if (machine_ == nullptr) return out;
  const auto& windows = machine_->bus().mmio();
  for (size_t i = 0; i <= windows.size(); ++i) {
    const uint64_t n = mmio_exits_[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    out.emplace_back(i < windows.size()
                         ? fmt::format("{}@{:x}", windows[i].device->name(), windows[i].base)
                         : std::string("unmapped"),
                     n);
  }
  return out;
}

}  // namespace vessel::kvm
