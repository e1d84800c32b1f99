#include "gdb/vm_target.hpp"

#include <algorithm>
#include <cstring>

#include "gdb/registers.hpp"

namespace vessel::gdb {

namespace {
constexpr uint64_t kPage = 4096;
}  // namespace

bool VmTarget::read_register(unsigned hart, unsigned regno, uint64_t& value) {
  if (machine_ == nullptr || hart >= num_harts()) return false;
  rv::Hart& h = *machine_->harts()[hart];
  if (regno < 32) {
    value = h.x[regno];  // x[0] always holds zero
  } else if (regno == kRegPc) {
    value = h.pc;
  } else if (regno < kRegCsr0) {
    value = h.f[regno - kRegF0];
  } else if (regno < kRegPriv) {
    return h.debug_csr_read(static_cast<uint16_t>(regno - kRegCsr0), value);
  } else if (regno == kRegPriv) {
    value = static_cast<uint64_t>(h.priv);
  } else {
    return false;
  }
  return true;
}

bool VmTarget::write_register(unsigned hart, unsigned regno, uint64_t value) {
  if (machine_ == nullptr || hart >= num_harts()) return false;
  rv::Hart& h = *machine_->harts()[hart];
  if (regno < 32) {
    if (regno != 0) h.x[regno] = value;
  } else if (regno == kRegPc) {
    h.pc = value & ~1ULL;  // IALIGN is 16 with C
  } else if (regno < kRegCsr0) {
    h.f[regno - kRegF0] = value;
  } else if (regno < kRegPriv) {
    return h.debug_csr_write(static_cast<uint16_t>(regno - kRegCsr0), value);
  } else if (regno == kRegPriv) {
    if (value != 0 && value != 1 && value != 3) return false;
    h.debug_set_priv(static_cast<rv::Priv>(value));
  } else {
    return false;
  }
  return true;
}

uint8_t* VmTarget::host_bytes(unsigned hart, uint64_t va, uint64_t len, bool write) {
  if (machine_ == nullptr || hart >= num_harts()) return nullptr;
  uint64_t pa = 0;
  if (!machine_->harts()[hart]->debug_translate(va, pa)) return nullptr;
  const MemoryRegion* region = machine_->bus().find_memory(pa, len);
  if (region == nullptr || (write && !region->writable)) return nullptr;
  return region->host + (pa - region->base);
}

size_t VmTarget::read_memory(unsigned hart, uint64_t addr, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    const uint64_t va = addr + done;
    const uint64_t chunk = std::min<uint64_t>(out.size() - done, kPage - (va & (kPage - 1)));
    const uint8_t* host = host_bytes(hart, va, chunk, false);
    if (host == nullptr) break;
    std::memcpy(out.data() + done, host, chunk);
    done += chunk;
  }
  return done;
}

size_t VmTarget::write_memory(unsigned hart, uint64_t addr, std::span<const uint8_t> in) {
  size_t done = 0;
  while (done < in.size()) {
    const uint64_t va = addr + done;
    const uint64_t chunk = std::min<uint64_t>(in.size() - done, kPage - (va & (kPage - 1)));
    uint8_t* host = host_bytes(hart, va, chunk, true);
    if (host == nullptr) break;
    std::memcpy(host, in.data() + done, chunk);
    // Code decoded from these bytes is dropped before the harts run again.
    machine_->bus().notify_written(host, chunk);
    done += chunk;
  }
  return done;
}

bool VmTarget::set_breakpoint(uint64_t addr, bool insert) {
  std::vector<uint64_t>& list = control_.breakpoints();
  const auto it = std::find(list.begin(), list.end(), addr);
  if (insert && it == list.end()) {
    if (list.size() >= kMaxBreakpoints) return false;
    list.push_back(addr);
  } else if (!insert && it != list.end()) {
    list.erase(it);
  }
  control_.update_watching();
  return true;
}

bool VmTarget::set_watchpoint(rv::DebugControl::WatchKind kind, uint64_t addr, uint64_t len,
                              bool insert) {
  if (len == 0 || addr + len < addr) return false;
  std::vector<rv::DebugControl::Watch>& list = control_.watches();
  const auto it = std::find_if(list.begin(), list.end(), [&](const auto& w) {
    return w.addr == addr && w.len == len && w.kind == kind;
  });
  if (insert) {
    if (list.size() >= kMaxWatchpoints) return false;
    list.push_back({addr, len, kind});
  } else if (it != list.end()) {
    list.erase(it);
  }
  control_.update_watching();
  return true;
}

}  // namespace vessel::gdb
