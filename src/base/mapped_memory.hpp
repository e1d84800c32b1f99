// Anonymous host memory reserved up front and backed lazily by the host kernel: the resident
// size tracks what the guest touches, not what it was given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/result.hpp"

namespace vessel {

class MappedMemory {
 public:
  MappedMemory() = default;
  static Result<MappedMemory> allocate(size_t size);
  // `size` bytes of the file at `path` (which must be exactly that long), mapped privately:
  // pages are read from the page cache when first touched, and a write copies the page, so the
  // file never changes and every mapping of it shares the pages nobody wrote. A restored
  // guest's RAM (vmm/snapshot), so that a restore does not read the whole memory file.
  static Result<MappedMemory> map_file(const std::string& path, size_t size);
  // The same from a descriptor opened earlier (before a jail changed the process's uid, say);
  // `path` names it in errors. The descriptor stays the caller's.
  static Result<MappedMemory> map_fd(int fd, const std::string& path, size_t size);
  ~MappedMemory();
  MappedMemory(MappedMemory&& other) noexcept;
  MappedMemory& operator=(MappedMemory&& other) noexcept;
  MappedMemory(const MappedMemory&) = delete;
  MappedMemory& operator=(const MappedMemory&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // Bytes of this mapping the host kernel currently backs with memory (mincore).
  size_t resident_bytes() const;
  // Whether map_file made it: pages never touched may then hold the file's bytes, not zeros.
  bool file_backed() const { return file_backed_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool file_backed_ = false;
};

}  // namespace vessel
