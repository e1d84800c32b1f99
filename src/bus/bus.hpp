// The system bus: routes guest physical addresses to memory regions (RAM, boot ROM) and to
// MMIO devices. Devices are handed the offset inside their own window, never the address.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/dirty_pages.hpp"
#include "base/result.hpp"
#include "bus/device.hpp"

namespace vessel {

// Host-backed memory the CPU may access directly (through its soft TLB).
struct MemoryRegion {
  uint64_t base = 0;
  uint64_t size = 0;
  uint8_t* host = nullptr;
  bool writable = true;
  std::string name;
  DirtyPages* dirty = nullptr;  // the pages written are logged here (guest RAM; Bus::track_writes)
};

struct MmioMapping {
  uint64_t base = 0;
  uint64_t size = 0;
  MmioDevice* device = nullptr;
  unsigned irq = 0;  // PLIC source wired to this device (for its device-tree node), 0 if none
};

class Bus {
 public:
  // Both refuse a window that overlaps one already mapped.
  Result<void> add_memory(MemoryRegion region);
  Result<void> add_mmio(uint64_t base, uint64_t size, MmioDevice* device, unsigned irq = 0);

  // The memory region holding [addr, addr+len), or nullptr.
  const MemoryRegion* find_memory(uint64_t addr, uint64_t len = 1) const {
    for (const auto& r : memory_) {
      if (addr >= r.base && addr - r.base < r.size && len <= r.size - (addr - r.base)) return &r;
    }
    return nullptr;
  }
  // Host pointer for [addr, addr+len) if it lies wholly in one memory region.
  uint8_t* host_ptr(uint64_t addr, uint64_t len) const {
    const MemoryRegion* r = find_memory(addr, len);
    return r != nullptr ? r->host + (addr - r->base) : nullptr;
  }

  // MMIO access; false means nothing answers there (the hart raises an access fault).
  bool mmio_read(uint64_t addr, unsigned size, uint64_t& value) const;
  bool mmio_write(uint64_t addr, unsigned size, uint64_t value) const;

  // Physical-address access for loaders, HTIF and DMA-capable devices: memory regions only.
  bool read_phys(uint64_t addr, void* out, uint64_t len) const;
  bool write_phys(uint64_t addr, const void* in, uint64_t len) const;

  // Told about every write_phys (device DMA, HTIF, loaders) with the host address written, so
  // that code decoded from that memory can be dropped.
  void set_write_observer(std::function<void(uint64_t host_addr, uint64_t len)> fn) {
    write_observer_ = std::move(fn);
  }

  // For writers holding a host pointer into guest memory (device DMA): report what changed.
  void notify_written(const uint8_t* host, uint64_t len) const {
    mark_written(host, len);
    if (write_observer_) write_observer_(reinterpret_cast<uint64_t>(host), len);
  }

  // Logs the writes into the region at `base` in `dirty` from now on (Diff snapshots).
  void track_writes(uint64_t base, DirtyPages* dirty);
  // Dirty logging alone, for writers the code caches need not hear about (a hart's own stores
  // go to them another way): by guest physical address, or by host address.
  void mark_written_phys(uint64_t addr, uint64_t len) const {
    for (const auto& r : memory_) {
      if (r.dirty != nullptr && addr >= r.base && addr - r.base < r.size) {
        r.dirty->mark(addr - r.base, len);
      }
    }
  }
  void mark_written(const uint8_t* host, uint64_t len) const {
    for (const auto& r : memory_) {
      if (r.dirty != nullptr && host >= r.host && static_cast<uint64_t>(host - r.host) < r.size) {
        r.dirty->mark(static_cast<uint64_t>(host - r.host), len);
      }
    }
  }

  const std::vector<MemoryRegion>& memory() const { return memory_; }
  const std::vector<MmioMapping>& mmio() const { return mmio_; }

 private:
  const MmioMapping* find_mmio(uint64_t addr, unsigned size) const;
  bool overlaps(uint64_t base, uint64_t size) const;

  std::vector<MemoryRegion> memory_;
  std::vector<MmioMapping> mmio_;  // sorted by base
  std::function<void(uint64_t, uint64_t)> write_observer_;
};

}  // namespace vessel
