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

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <utility>

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

// Anonymous memory of `bytes`, backed now in one call (MAP_POPULATE) instead of a fault per
// page later; nullptr if it cannot be mapped.
void* map_populated(std::size_t bytes);

// Mappings given back, their pages touched already, kept for the next request of the same
// size: at most kSlots of them and `max_bytes` together. Safe from any thread.
class KeptMappings {
 public:
  explicit KeptMappings(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  // A kept mapping of exactly `bytes`, or nullptr.
  void* take(std::size_t bytes);
  // Keeps `p`; false when there is no room (the caller unmaps it).
  bool keep(void* p, std::size_t bytes);
  // Whether keep(bytes) would find room now: warming what could not be kept is wasted.
  bool has_room(std::size_t bytes);

 private:
  static constexpr std::size_t kSlots = 16;
  std::mutex mu_;
  std::array<std::pair<void*, std::size_t>, kSlots> kept_{};
  std::size_t bytes_ = 0;
  const std::size_t max_bytes_;
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
