#include "base/mapped_memory.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace vessel {

Result<MappedMemory> MappedMemory::allocate(size_t size) {
  MappedMemory m;
  if (size == 0) return m;
  // MAP_NORESERVE: a 16 GiB guest on a small host is fine as long as it does not touch it all.
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) {
    return make_error(
        fmt::format("cannot reserve {} bytes of guest memory: {}", size, std::strerror(errno)));
  }
  m.data_ = static_cast<uint8_t*>(p);
  m.size_ = size;
  return m;
}

Result<MappedMemory> MappedMemory::map_file(const std::string& path, size_t size) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  auto m = map_fd(fd, path, size);
  // The mapping keeps the file open; the descriptor is not needed past mmap.
  close(fd);
  return m;
}

Result<MappedMemory> MappedMemory::map_fd(int fd, const std::string& path, size_t size) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != size) {
    return make_error(fmt::format("{}: not a regular file of {} bytes", path, size));
  }
  MappedMemory m;
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
  if (p == MAP_FAILED) {
    return make_error(fmt::format("{}: cannot map: {}", path, std::strerror(errno)));
  }
  m.data_ = static_cast<uint8_t*>(p);
  m.size_ = size;
  m.file_backed_ = true;
  return m;
}

size_t MappedMemory::resident_bytes() const {
  if (data_ == nullptr) return 0;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec((size_ + page - 1) / page);
  if (mincore(data_, size_, vec.data()) != 0) return 0;
  size_t pages = 0;
  for (unsigned char v : vec) pages += v & 1;
  return pages * page;
}

MappedMemory::~MappedMemory() {
  if (data_ != nullptr) munmap(data_, size_);
}

MappedMemory::MappedMemory(MappedMemory&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      file_backed_(std::exchange(other.file_backed_, false)) {}

MappedMemory& MappedMemory::operator=(MappedMemory&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    file_backed_ = std::exchange(other.file_backed_, false);
  }
  return *this;
}

}  // namespace vessel
