// The translator's code arena: one region of host memory seen through two mappings, one
// writable and one executable, so that no page is ever writable and executable at once (W^X)
// and writing code or patching a chained jump costs no system call. It fills from the bottom
// up and is refilled whole when full.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/result.hpp"

namespace vessel::rv::jit {

class Arena {
 public:
  static Result<Arena> create(uint64_t bytes);
  Arena() = default;
  Arena(Arena&& other) noexcept;
  Arena& operator=(Arena&& other) noexcept;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena();

  uint64_t size() const { return size_; }
  uint64_t used() const { return used_; }
  uint64_t free_bytes() const { return size_ - used_; }
  // Where the next code goes, in the writable view, and the same place as it will execute.
  uint8_t* write_cursor() const { return rw_ + used_; }
  const uint8_t* exec_cursor() const { return rx_ + used_; }
  // Before `bytes` are written at the cursor: maps the pages they fall in, a chunk at a time,
  // in both views. Touched one by one, each new page cost a write fault in the writable view
  // and an instruction-fetch fault in the executable one, a fifth of the translation time of a
  // Debian boot on a host whose page faults are dear (a VM's).
  void prepare(uint64_t bytes);
  // Claims `bytes` just written at the cursor (rounded up to 16 for alignment).
  void commit(uint64_t bytes);
  // The writable alias of an executable address inside the arena.
  uint8_t* writable(const void* exec) const {
    return rw_ + (static_cast<const uint8_t*>(exec) - rx_);
  }
  bool contains(const void* exec) const {
    const auto* p = static_cast<const uint8_t*>(exec);
    return p >= rx_ && p < rx_ + used_;
  }
  // Empties the arena back to `keep` bytes (the shared stubs at its start); every translation
  // above them is gone, and the epoch changes so that stale patch requests are refused.
  void reset(uint64_t keep);
  uint64_t epoch() const { return epoch_; }

 private:
  void release();

  uint8_t* rw_ = nullptr;
  const uint8_t* rx_ = nullptr;
  uint64_t size_ = 0;
  uint64_t used_ = 0;
  uint64_t populated_ = 0;  // bytes from the start that prepare() mapped
  uint64_t epoch_ = 0;
};

}  // namespace vessel::rv::jit
