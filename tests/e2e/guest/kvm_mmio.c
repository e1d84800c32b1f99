/* A tiny KVM client for the guest (riscv64 Linux with /dev/kvm): one VM, one page of guest
 * code at guest physical 0x80000000 that stores 0x2a to guest physical 0x10000000 (no memory
 * slot there, so an MMIO exit), and one vCPU run until that exit. Prints what it saw;
 * tests/e2e/kvm_test.py checks the "kvm_mmio: ok" line. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stddef.h> /* offsetof, which KVM_REG_RISCV_CORE_REG uses */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_RAM 0x80000000UL
#define MMIO_ADDR 0x10000000UL

static int fail(const char* what) {
  printf("kvm_mmio: %s failed: %s\n", what, strerror(errno));
  return 1;
}

int main(void) {
  /* lui t0, 0x10000; li t1, 0x2a; sw t1, 0(t0); j . */
  static const uint32_t code[] = {0x100002b7, 0x02a00313, 0x0062a023, 0x0000006f};
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) return fail("open /dev/kvm");
  printf("kvm_mmio: KVM_GET_API_VERSION %d\n", ioctl(kvm, KVM_GET_API_VERSION, 0));
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) return fail("KVM_CREATE_VM");
  void* mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return fail("mmap");
  memcpy(mem, code, sizeof code);
  struct kvm_userspace_memory_region region = {.slot = 0,
                                               .guest_phys_addr = GUEST_RAM,
                                               .memory_size = 0x10000,
                                               .userspace_addr = (uint64_t)(uintptr_t)mem};
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) return fail("KVM_SET_USER_MEMORY_REGION");
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) return fail("KVM_CREATE_VCPU");
  int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run* run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) return fail("mmap kvm_run");
  uint64_t pc = GUEST_RAM;
  struct kvm_one_reg reg = {
      .id = KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE | KVM_REG_RISCV_CORE_REG(regs.pc),
      .addr = (uint64_t)(uintptr_t)&pc};
  if (ioctl(vcpu, KVM_SET_ONE_REG, &reg) < 0) return fail("KVM_SET_ONE_REG pc");
  for (int i = 0; i < 16; ++i) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) return fail("KVM_RUN");
    printf("kvm_mmio: exit reason %u\n", run->exit_reason);
    if (run->exit_reason != KVM_EXIT_MMIO) continue;
    uint32_t value = 0;
    memcpy(&value, run->mmio.data, sizeof value);
    printf("kvm_mmio: mmio %s at %#llx, %u bytes, value %#x\n",
           run->mmio.is_write ? "write" : "read", (unsigned long long)run->mmio.phys_addr,
           run->mmio.len, value);
    if (run->mmio.is_write && run->mmio.phys_addr == MMIO_ADDR && run->mmio.len == 4 &&
        value == 0x2a) {
      printf("kvm_mmio: ok\n");
      return 0;
    }
    return 1;
  }
  printf("kvm_mmio: no MMIO exit\n");
  return 1;
}
