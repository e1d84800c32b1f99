// Anonymous host memory reserved up front and backed lazily by the host kernel: the resident
// size tracks what the guest touches, not what it was given.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/result.hpp"

namespace vessel {

class MappedMemory {
 public:
  MappedMemory() = default;
  static Result<MappedMemory> allocate(size_t size);
  ~MappedMemory();
  MappedMemory(MappedMemory&& other) noexcept;
  MappedMemory& operator=(MappedMemory&& other) noexcept;
  MappedMemory(const MappedMemory&) = delete;
  MappedMemory& operator=(const MappedMemory&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // Bytes of this mapping the host kernel currently backs with memory (mincore).
  size_t resident_bytes() const;

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vessel
