#include "base/prefaulted.hpp"

#include <sys/mman.h>

namespace vessel {

// Page-aligned, so any alignment a class asks for (at most a page) holds.
void* Prefaulted::operator new(std::size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                 -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

void Prefaulted::operator delete(void* p, std::size_t bytes) noexcept {
  if (p != nullptr) munmap(p, bytes);
}

}  // namespace vessel
