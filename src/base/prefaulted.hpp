// A base for large objects built while a guest waits (a hart's TLBs and jump cache, a code
// cache's index): `new` maps their memory with MAP_POPULATE, which backs every page in one
// call. Zeroing them in memory from the C library's heap met each page with a page fault,
// which costs 10-20 us on a host whose kernel is itself virtualised (docs/snapshot.md);
// populating costs about 1 us a page.
//
// On such a host a page also costs 5-7 us the first time it is touched, populated or not. So
// a freed block is kept, touched already, for the next `new` of its size (a reboot's new
// harts), and warm() readies blocks before they are asked for: a process that waits for its
// VM (vessel run --api-sock) meets the harts' pages before the request that builds them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace vessel {

struct Prefaulted {
  static void* operator new(std::size_t bytes);
  static void* operator new(std::size_t bytes, std::align_val_t align);
  static void operator delete(void* p, std::size_t bytes) noexcept;
  static void operator delete(void* p, std::size_t bytes, std::align_val_t align) noexcept;

  // Memory for a buffer that is no object of a derived class (the translator's scratch), with
  // the same keeping. Zeroed, as a fresh mapping is; page-aligned.
  static void* allocate(std::size_t bytes);
  static void release(void* p, std::size_t bytes) noexcept;
  // Maps a block of `bytes`, touches every page and keeps it for the next allocation of that
  // size. Does nothing under AddressSanitizer, where these objects live on the heap.
  static void warm(std::size_t bytes);
};

// A buffer in Prefaulted memory, owned.
class PrefaultedBuffer {
 public:
  explicit PrefaultedBuffer(std::size_t bytes)
      : data_(static_cast<uint8_t*>(Prefaulted::allocate(bytes))), size_(bytes) {}
  ~PrefaultedBuffer() { Prefaulted::release(data_, size_); }
  PrefaultedBuffer(const PrefaultedBuffer&) = delete;
  PrefaultedBuffer& operator=(const PrefaultedBuffer&) = delete;

  uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  uint8_t* data_;
  std::size_t size_;
};

}  // namespace vessel
