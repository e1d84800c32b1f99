#include "base/prefaulted.hpp"

#include <sys/mman.h>

#include "base/sanitizer.hpp"

namespace vessel {

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
#else
// Page-aligned, so any alignment a class asks for (at most a page) holds.
void* Prefaulted::operator new(std::size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                 -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

void* Prefaulted::operator new(std::size_t bytes, std::align_val_t) { return operator new(bytes); }

void Prefaulted::operator delete(void* p, std::size_t bytes) noexcept {
  if (p != nullptr) munmap(p, bytes);
}
void Prefaulted::operator delete(void* p, std::size_t bytes, std::align_val_t) noexcept {
  operator delete(p, bytes);
}
#endif

}  // namespace vessel
