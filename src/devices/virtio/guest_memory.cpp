#include "devices/virtio/guest_memory.hpp"

namespace vessel::virtio {

const uint8_t* GuestMemory::read_ptr(uint64_t addr, uint64_t len) const {
  return bus_->host_ptr(addr, len);
}

uint8_t* GuestMemory::write_ptr(uint64_t addr, uint64_t len) const {
  const MemoryRegion* r = bus_->find_memory(addr, len);
  if (r == nullptr || !r->writable) return nullptr;
  return r->host + (addr - r->base);
}

bool GuestMemory::write(uint64_t addr, const void* in, uint64_t len) const {
  uint8_t* p = write_ptr(addr, len);
  if (p == nullptr) return false;
  std::memcpy(p, in, len);
  wrote(p, len);
  return true;
}

void GuestMemory::wrote(const uint8_t* host, uint64_t len) const {
  if (len != 0) bus_->notify_written(host, len);
}

}  // namespace vessel::virtio
