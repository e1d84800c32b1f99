// Which 4 KiB pages of a memory region were written since the log was last cleared: the
// software dirty tracking of Diff snapshots (docs/snapshot.md), for hosts without soft-dirty
// page tables. Writers on any thread mark pages (harts when a page enters their writable soft
// TLB or is stored to past it, devices when their DMA reports a write); the snapshot reads
// and clears the log while nothing writes.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace vessel {

class DirtyPages {
 public:
  static constexpr unsigned kPageBits = 12;
  static constexpr uint64_t kPageSize = 1ULL << kPageBits;

  explicit DirtyPages(uint64_t bytes)
      : pages_((bytes + kPageSize - 1) >> kPageBits),
        words_(std::make_unique<std::atomic<uint64_t>[]>((pages_ + 63) / 64)) {}

  uint64_t pages() const { return pages_; }

  // Marks the pages [offset, offset+len) touches; what lies past the region is ignored.
  void mark(uint64_t offset, uint64_t len) {
    if (len == 0 || offset >= pages_ << kPageBits) return;
    const uint64_t first = offset >> kPageBits;
    const uint64_t last = std::min(pages_ - 1, (offset + (len - 1)) >> kPageBits);
    for (uint64_t p = first; p <= last; ++p) {
      std::atomic<uint64_t>& w = words_[p / 64];
      const uint64_t bit = 1ULL << (p % 64);
      // Read first: a page marked already (the common case) costs no locked instruction.
      if ((w.load(std::memory_order_relaxed) & bit) == 0)
        w.fetch_or(bit, std::memory_order_relaxed);
    }
  }
  bool dirty(uint64_t page) const {
    return page < pages_ && (words_[page / 64].load(std::memory_order_relaxed) >> (page % 64)) & 1;
  }
  uint64_t count() const {
    uint64_t n = 0;
    for (uint64_t i = 0; i < (pages_ + 63) / 64; ++i) {
      n += static_cast<uint64_t>(__builtin_popcountll(words_[i].load(std::memory_order_relaxed)));
    }
    return n;
  }
  // Each run of consecutive dirty pages, in order: fn(first page, number of pages).
  template <typename Fn>
  void for_each_run(Fn&& fn) const {
    uint64_t start = 0, len = 0;
    for (uint64_t p = 0; p <= pages_; ++p) {
      if (p < pages_ && dirty(p)) {
        if (len++ == 0) start = p;
      } else if (len != 0) {
        fn(start, len);
        len = 0;
      }
    }
  }
  // Clears the log and returns what it held, 64 pages a word (page p is bit p % 64 of word
  // p / 64). Each word is exchanged, so that a page marked meanwhile, from any thread, is in
  // what is returned or still in the log: a live migration's rounds take the log this way.
  std::vector<uint64_t> take() {
    std::vector<uint64_t> out((pages_ + 63) / 64);
    for (size_t i = 0; i < out.size(); ++i) {
      if (words_[i].load(std::memory_order_relaxed) != 0)
        out[i] = words_[i].exchange(0, std::memory_order_relaxed);
    }
    return out;
  }
  void clear() {
    for (uint64_t i = 0; i < (pages_ + 63) / 64; ++i) words_[i].store(0, std::memory_order_relaxed);
  }

 private:
  uint64_t pages_;
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
};

}  // namespace vessel
