// A base for large objects built while a guest waits (a hart's TLBs and jump cache, a code
// cache's index): `new` maps their memory with MAP_POPULATE, which backs every page in one
// call. Zeroing them in memory from the C library's heap met each page with a page fault,
// which costs 10-20 us on a host whose kernel is itself virtualised (docs/snapshot.md);
// populating costs about 1 us a page.
#pragma once

#include <cstddef>
#include <new>

namespace vessel {

struct Prefaulted {
  static void* operator new(std::size_t bytes);
  static void* operator new(std::size_t bytes, std::align_val_t align);
  static void operator delete(void* p, std::size_t bytes) noexcept;
  static void operator delete(void* p, std::size_t bytes, std::align_val_t align) noexcept;
};

}  // namespace vessel
