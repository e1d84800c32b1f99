// Test helpers for virtio code: guest RAM on a Bus, and the driver's side of a split queue
// (ring layout, chains, publishing, reading the used ring), written with plain stores as a
// driver on another CPU would.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "base/bits.hpp"
#include "bus/bus.hpp"
#include "devices/virtio/guest_memory.hpp"
#include "devices/virtio/queue.hpp"

namespace vessel::virtio::testing {

class GuestRam {
 public:
  static constexpr uint64_t kBase = 0x80000000;

  explicit GuestRam(uint64_t size = 1 << 20) : ram_(size) {
    EXPECT_TRUE(bus.add_memory({kBase, size, ram_.data(), true, "ram"}).ok());
  }
  GuestRam(const GuestRam&) = delete;
  GuestRam& operator=(const GuestRam&) = delete;

  uint64_t size() const { return ram_.size(); }
  uint8_t* host(uint64_t addr) { return ram_.data() + (addr - kBase); }
  template <typename T>
  T get(uint64_t addr) {
    return load_le<T>(host(addr));
  }
  template <typename T>
  void set(uint64_t addr, T v) {
    store_le<T>(host(addr), v);
  }
  void fill(uint64_t addr, const void* data, size_t len) { std::memcpy(host(addr), data, len); }
  std::vector<uint8_t> bytes(uint64_t addr, size_t len) {
    return std::vector<uint8_t>(host(addr), host(addr) + len);
  }

  Bus bus;
  GuestMemory mem{bus};

 private:
  std::vector<uint8_t> ram_;
};

// The driver side of one queue: descriptor table at `base`, avail ring after it, used ring at
// the next 4 KiB boundary (as legacy drivers lay them out), buffers allocated after that.
class DriverQueue {
 public:
  DriverQueue(GuestRam& ram, uint16_t size, uint64_t base = GuestRam::kBase + 0x10000)
      : ram_(ram), size_(size) {
    desc_ = base;
    avail_ = desc_ + 16ULL * size;
    used_ = align_up(avail_ + 6 + 2ULL * size, 4096);
    next_buf_ = align_up(used_ + 6 + 8ULL * size, 4096);
    std::memset(ram.host(desc_), 0, next_buf_ - desc_);
  }

  Virtqueue::Config config() const { return {size_, desc_, avail_, used_, true}; }
  uint64_t desc_addr() const { return desc_; }
  uint64_t avail_addr() const { return avail_; }
  uint64_t used_addr() const { return used_; }

  // Buffer space (16-byte aligned); optionally filled.
  uint64_t alloc(uint32_t len, const void* data = nullptr) {
    const uint64_t a = next_buf_;
    next_buf_ = align_up(next_buf_ + len, 16);
    if (data != nullptr) ram_.fill(a, data, len);
    return a;
  }

  // Writes descriptor i of the table at `table` (the queue's own by default).
  void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next,
                uint64_t table = 0) {
    const uint64_t d = (table != 0 ? table : desc_) + 16ULL * i;
    ram_.set<uint64_t>(d, addr);
    ram_.set<uint32_t>(d + 8, len);
    ram_.set<uint16_t>(d + 12, flags);
    ram_.set<uint16_t>(d + 14, next);
  }

  // Links fresh descriptors for the buffers (readable ones first) and returns the head;
  // does not publish it.
  uint16_t chain(const std::vector<std::pair<uint64_t, uint32_t>>& readable,
                 const std::vector<std::pair<uint64_t, uint32_t>>& writable) {
    const uint16_t head = next_desc_;
    const size_t n = readable.size() + writable.size();
    for (size_t k = 0; k < n; ++k) {
      const bool w = k >= readable.size();
      const auto& b = w ? writable[k - readable.size()] : readable[k];
      const uint16_t i = static_cast<uint16_t>((head + k) % size_);
      const uint16_t flags =
          static_cast<uint16_t>((w ? kDescWrite : 0) | (k + 1 < n ? kDescNext : 0));
      set_desc(i, b.first, b.second, flags, static_cast<uint16_t>((i + 1) % size_));
    }
    next_desc_ = static_cast<uint16_t>((head + n) % size_);
    return head;
  }

  // Makes `head` available and bumps avail->idx.
  void publish(uint16_t head) {
    ram_.set<uint16_t>(avail_ + 4 + 2ULL * (avail_idx_ % size_), head);
    ++avail_idx_;
    ram_.set<uint16_t>(avail_ + 2, avail_idx_);
  }
  // Overwrites avail->idx directly (malformed drivers, wrap-around tests).
  void set_avail_idx(uint16_t idx) {
    avail_idx_ = idx;
    ram_.set<uint16_t>(avail_ + 2, idx);
  }
  void set_avail_flags(uint16_t flags) { ram_.set<uint16_t>(avail_, flags); }
  void set_used_event(uint16_t v) { ram_.set<uint16_t>(avail_ + 4 + 2ULL * size_, v); }
  uint16_t avail_event() { return ram_.get<uint16_t>(used_ + 4 + 8ULL * size_); }

  uint16_t used_idx() { return ram_.get<uint16_t>(used_ + 2); }
  uint16_t used_flags() { return ram_.get<uint16_t>(used_); }
  // Used ring entry for used index `i` (mod size): {id, len}.
  std::pair<uint32_t, uint32_t> used(uint16_t i) {
    const uint64_t e = used_ + 4 + 8ULL * (i % size_);
    return {ram_.get<uint32_t>(e), ram_.get<uint32_t>(e + 4)};
  }

 private:
  GuestRam& ram_;
  uint16_t size_;
  uint64_t desc_, avail_, used_, next_buf_;
  uint16_t next_desc_ = 0;
  uint16_t avail_idx_ = 0;
};

}  // namespace vessel::virtio::testing
