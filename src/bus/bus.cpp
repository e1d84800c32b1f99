#include "bus/bus.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace vessel {

namespace {
bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
  return a < b + blen && b < a + alen;
}
}  // namespace

bool Bus::overlaps(uint64_t base, uint64_t size) const {
  for (const auto& r : memory_) {
    if (ranges_overlap(base, size, r.base, r.size)) return true;
  }
  for (const auto& m : mmio_) {
    if (ranges_overlap(base, size, m.base, m.size)) return true;
  }
  return false;
}

Result<void> Bus::add_memory(MemoryRegion region) {
  if (region.size == 0 || region.base + region.size < region.base ||
      overlaps(region.base, region.size)) {
    return make_error(
        fmt::format("memory region '{}' at {:#x} overlaps another", region.name, region.base));
  }
  memory_.push_back(std::move(region));
  return {};
}

Result<void> Bus::add_mmio(uint64_t base, uint64_t size, MmioDevice* device, unsigned irq) {
  if (size == 0 || base + size < base || overlaps(base, size)) {
    return make_error(fmt::format("device '{}' at {:#x} overlaps another", device->name(), base));
  }
  mmio_.push_back({base, size, device, irq});
  std::sort(mmio_.begin(), mmio_.end(),
            [](const auto& a, const auto& b) { return a.base < b.base; });
  return {};
}

const MmioMapping* Bus::find_mmio(uint64_t addr, unsigned size) const {
  auto it = std::upper_bound(mmio_.begin(), mmio_.end(), addr,
                             [](uint64_t a, const MmioMapping& m) { return a < m.base; });
  if (it == mmio_.begin()) return nullptr;
  --it;
  const uint64_t off = addr - it->base;
  if (off >= it->size || size > it->size - off) return nullptr;
  return &*it;
}

bool Bus::mmio_read(uint64_t addr, unsigned size, uint64_t& value) const {
  const MmioMapping* m = find_mmio(addr, size);
  if (m == nullptr) return false;
  return m->device->read(addr - m->base, size, value);
}

bool Bus::mmio_write(uint64_t addr, unsigned size, uint64_t value) const {
  const MmioMapping* m = find_mmio(addr, size);
  if (m == nullptr) return false;
  return m->device->write(addr - m->base, size, value);
}

bool Bus::read_phys(uint64_t addr, void* out, uint64_t len) const {
  const uint8_t* p = host_ptr(addr, len);
  if (p == nullptr) return false;
  std::memcpy(out, p, len);
  return true;
}

bool Bus::write_phys(uint64_t addr, const void* in, uint64_t len) const {
  const MemoryRegion* r = find_memory(addr, len);
  if (r == nullptr || !r->writable) return false;
  uint8_t* host = r->host + (addr - r->base);
  std::memcpy(host, in, len);
  notify_written(host, len);
  return true;
}

void Bus::track_writes(uint64_t base, DirtyPages* dirty) {
  for (auto& r : memory_) {
    if (r.base == base) r.dirty = dirty;
  }
}

}  // namespace vessel
