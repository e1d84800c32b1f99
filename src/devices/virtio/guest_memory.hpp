// Guest RAM as a device doing DMA sees it: every range the guest names is checked to lie
// wholly inside one memory region before a host pointer is handed out, and writes are
// reported so that code decoded from the written memory is dropped.
#pragma once

#include <cstdint>
#include <cstring>

#include "bus/bus.hpp"

namespace vessel::virtio {

class GuestMemory {
 public:
  explicit GuestMemory(const Bus& bus) : bus_(&bus) {}

  // Host pointer for [addr, addr+len) or nullptr when any byte is outside guest memory
  // (or, for writing, inside read-only memory). len may be 0 (then addr must still be valid).
  const uint8_t* read_ptr(uint64_t addr, uint64_t len) const;
  uint8_t* write_ptr(uint64_t addr, uint64_t len) const;

  bool read(uint64_t addr, void* out, uint64_t len) const {
    const uint8_t* p = read_ptr(addr, len);
    if (p == nullptr) return false;
    std::memcpy(out, p, len);
    return true;
  }
  bool write(uint64_t addr, const void* in, uint64_t len) const;

  // Tell the code cache that [host, host+len) changed behind the CPU's back; call after
  // writing through a pointer from write_ptr().
  void wrote(const uint8_t* host, uint64_t len) const;

 private:
  const Bus* bus_;
};

}  // namespace vessel::virtio
