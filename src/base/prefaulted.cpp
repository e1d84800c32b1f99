#include "base/prefaulted.hpp"

#include <sys/mman.h>

#include <cstring>

#include "base/sanitizer.hpp"

namespace vessel {

void* map_populated(std::size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                 -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void* KeptMappings::take(std::size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [p, n] : kept_) {
    if (p != nullptr && n == bytes) {
      bytes_ -= n;
      return std::exchange(p, nullptr);
    }
  }
  return nullptr;
}

bool KeptMappings::keep(void* block, std::size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes_ + bytes > max_bytes_) return false;
  for (auto& [p, n] : kept_) {
    if (p == nullptr) {
      p = block;
      n = bytes;
      bytes_ += bytes;
      return true;
    }
  }
  return false;
}

bool KeptMappings::has_room(std::size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes_ + bytes > max_bytes_) return false;
  for (const auto& slot : kept_) {
    if (slot.first == nullptr) return true;
  }
  return false;
}

// Under AddressSanitizer these objects stay on the heap: ASan then checks every access to them,
// and LeakSanitizer, which does not look into memory mapped by hand, still sees the pointers
// they hold.
#if VESSEL_ASAN
void* Prefaulted::operator new(std::size_t bytes) { return ::operator new(bytes); }
void* Prefaulted::operator new(std::size_t bytes, std::align_val_t align) {
  return ::operator new(bytes, align);
}
void Prefaulted::operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
void Prefaulted::operator delete(void* p, std::size_t, std::align_val_t align) noexcept {
  ::operator delete(p, align);
}
void* Prefaulted::allocate(std::size_t bytes) {
  void* p = ::operator new (bytes, std::align_val_t{4096});
  std::memset(p, 0, bytes);
  return p;
}
void Prefaulted::release(void* p, std::size_t) noexcept {
  ::operator delete (p, std::align_val_t{4096});
}
void Prefaulted::warm(std::size_t) {}
#else
namespace {

// A few machines' worth of harts (each keeps about 400 KiB), so that what a process keeps stays
// small beside its guest's RAM.
// Never destroyed: objects may be freed by static destructors at exit.
KeptMappings& g_kept = *new KeptMappings(32 << 20);

void* map_block(size_t bytes) {
  void* p = map_populated(bytes);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

// Page-aligned, so any alignment a class asks for (at most a page) holds.
void* Prefaulted::operator new(std::size_t bytes) { return allocate(bytes); }
void* Prefaulted::operator new(std::size_t bytes, std::align_val_t) { return allocate(bytes); }
void Prefaulted::operator delete(void* p, std::size_t bytes) noexcept { release(p, bytes); }
void Prefaulted::operator delete(void* p, std::size_t bytes, std::align_val_t) noexcept {
  release(p, bytes);
}

void* Prefaulted::allocate(std::size_t bytes) {
  if (void* p = g_kept.take(bytes)) {
    std::memset(p, 0, bytes);  // as a fresh mapping would be
    return p;
  }
  return map_block(bytes);
}

void Prefaulted::release(void* p, std::size_t bytes) noexcept {
  if (p != nullptr && !g_kept.keep(p, bytes)) munmap(p, bytes);
}

void Prefaulted::warm(std::size_t bytes) {
  if (!g_kept.has_room(bytes)) return;
  void* p = map_block(bytes);
  std::memset(p, 0, bytes);
  release(p, bytes);
}
#endif

}  // namespace vessel
