#include "cpu/riscv/jit/arena.hpp"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace vessel::rv::jit {

Result<Arena> Arena::create(uint64_t bytes) {
  const int fd = memfd_create("vessel-jit", MFD_CLOEXEC);
  if (fd < 0) return make_error(fmt::format("jit arena: memfd_create: {}", std::strerror(errno)));
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    const int e = errno;
    close(fd);
    return make_error(fmt::format("jit arena: {} bytes: {}", bytes, std::strerror(e)));
  }
  void* rw = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  void* rx = rw == MAP_FAILED ? MAP_FAILED
                              : mmap(nullptr, bytes, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
  const int e = errno;
  close(fd);  // the mappings keep the memory
  if (rw == MAP_FAILED || rx == MAP_FAILED) {
    if (rw != MAP_FAILED) munmap(rw, bytes);
    return make_error(fmt::format("jit arena: mmap of {} bytes: {}", bytes, std::strerror(e)));
  }
  Arena a;
  a.rw_ = static_cast<uint8_t*>(rw);
  a.rx_ = static_cast<const uint8_t*>(rx);
  a.size_ = bytes;
  return a;
}

Arena::Arena(Arena&& other) noexcept { *this = std::move(other); }

Arena& Arena::operator=(Arena&& other) noexcept {
  if (this != &other) {
    release();
    rw_ = std::exchange(other.rw_, nullptr);
    rx_ = std::exchange(other.rx_, nullptr);
    size_ = std::exchange(other.size_, 0);
    used_ = std::exchange(other.used_, 0);
    populated_ = std::exchange(other.populated_, 0);
    epoch_ = other.epoch_;
  }
  return *this;
}

Arena::~Arena() { release(); }

void Arena::release() {
  if (rw_ != nullptr) munmap(rw_, size_);
  if (rx_ != nullptr) munmap(const_cast<uint8_t*>(rx_), size_);
  rw_ = nullptr;
  rx_ = nullptr;
}

void Arena::prepare(uint64_t bytes) {
  // 256 KiB: some 250 blocks of a Debian boot's code, two system calls instead of 128 faults.
  constexpr uint64_t kChunk = 256 << 10;
  const uint64_t end = std::min(used_ + bytes, size_);
  if (end <= populated_) return;
  const uint64_t from = populated_ & ~4095ULL;
  const uint64_t to = std::min((end + kChunk - 1) & ~(kChunk - 1), size_);
  // Only a hint: on a kernel before 5.14 (EINVAL) the pages fault in as they are touched.
  madvise(rw_ + from, to - from, MADV_POPULATE_WRITE);
  madvise(const_cast<uint8_t*>(rx_) + from, to - from, MADV_POPULATE_READ);
  populated_ = to;
}

void Arena::commit(uint64_t bytes) {
  used_ += (bytes + 15) & ~15ULL;
  if (used_ > size_) used_ = size_;
}

void Arena::reset(uint64_t keep) {
  // Give the pages back: an arena refilled after a burst of translation should not keep
  // holding host memory the guest no longer needs.
  const uint64_t first = (keep + 4095) & ~4095ULL;
  if (first < used_) madvise(rw_ + first, used_ - first, MADV_REMOVE);
  used_ = keep;
  populated_ = std::min(populated_, first);
  ++epoch_;
}

}  // namespace vessel::rv::jit
