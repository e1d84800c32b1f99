// One KVM vCPU as KvmVm keeps it (private to src/accel/kvm).
#pragma once

#include <linux/kvm.h>
#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "base/result.hpp"

namespace vessel::kvm {

struct Vcpu {
  unsigned index = 0;
  int fd = -1;
  kvm_run* run = nullptr;  // the shared page(s) KVM_RUN reports through, mapped from fd
  size_t run_size = 0;
  // The thread in KVM_RUN, for kick_all's signal; set once that thread started.
  pthread_t thread{};
  std::atomic<bool> running{false};

  ~Vcpu();
  Result<void> set_reg(uint64_t id, uint64_t value) const;
  Result<uint64_t> get_reg(uint64_t id) const;
};

}  // namespace vessel::kvm
