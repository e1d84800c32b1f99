// Decoded blocks, indexed by where their bytes live: the host address of the guest memory
// backing them. That names a guest physical location uniquely, so a remapping of virtual
// addresses does not throw blocks away.
//
// A block is a run of decoded instructions inside one 4 KiB page, ending at the
// first jump or system instruction (conditional branches leave it only where taken; see
// interp.cpp's build_block). Pages holding blocks are "code pages": the
// harts keep no write mapping for them in their soft TLBs, so every store to one reaches
// invalidate() and self-modifying code is seen, which leaves fence.i nothing to do. Blocks are
// never freed while a hart may run them: they are retired and freed at the next safe point.
//
// Each hart has a cache of its own, used only on its thread, so the hot path takes no lock.
// With several harts, CodeSharing keeps the one fact they must agree on: which pages of guest
// RAM hold code in any cache. A store into such a page, by any hart, drops the page in the
// writer's cache at once and in every other holder's at that hart's next block boundary.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "base/mapped_memory.hpp"
#include "base/prefaulted.hpp"
#include "base/result.hpp"
#include "cpu/riscv/block_arena.hpp"
#include "cpu/riscv/decoded.hpp"

namespace vessel::rv {

// One allocation: this 64-byte header, cache-line aligned, with the decoded instructions right
// after it. An idle guest's short wake-ups find almost nothing in the host's caches; with the
// instructions next to the header, entering a block costs one miss (and the prefetcher's next
// lines) instead of two dependent ones through a separate vector.
struct alignas(64) Block {
  // A successor seen before, for a target in the same virtual page as the block's entry (so
  // its translation is the one the block was entered with): the target's page offset is in
  // link_offset. Valid while the code cache's generation is unchanged.
  struct Link {
    uint64_t gen = 0;
    Block* block = nullptr;
  };
  struct Free {
    BlockArena* arena = nullptr;
    void operator()(Block* b) const;
  };
  using Owner = std::unique_ptr<Block, Free>;

  // A block of `insns` (at least one) decoded from the bytes at host address `host`, in
  // `arena`'s memory.
  static Owner make(BlockArena& arena, uint64_t host, std::span<const DecodedInsn> insns);
  size_t bytes() const { return sizeof(Block) + count * sizeof(DecodedInsn); }

  const DecodedInsn* begin() const { return reinterpret_cast<const DecodedInsn*>(this + 1); }
  const DecodedInsn* end() const { return begin() + count; }

  uint64_t host = 0;             // host address of the first instruction's bytes
  const void* native = nullptr;  // its translated code (jit/), while the arena holds it
  Link links[2];
  uint16_t link_offset[2] = {0xffff, 0xffff};
  uint8_t next_link = 0;  // which link to replace next
  uint8_t heat = 0;       // how often the translating engine reached it untranslated (to 255)
  // It falls through into an instruction that straddles its page's end, which no block can
  // hold: both engines run that one on its own right after the block, without going back to
  // the run loop (a loop across a page end would otherwise do so on every trip).
  bool straddles_on = false;
  uint32_t count = 0;  // decoded instructions after the header

 private:
  Block() = default;
};
static_assert(sizeof(Block) == 64 && sizeof(Block) % alignof(DecodedInsn) == 0);
static_assert(std::is_trivially_destructible_v<DecodedInsn>);

class CodeSharing;

// Prefaulted: built with its hart, and its front cache alone is 128 KiB.
class CodeCache : public Prefaulted {
 public:
  static constexpr uint64_t kPageSize = 4096;

  // Joins the caches of the other harts of one machine; `index` is this cache's hart.
  void share(CodeSharing* sharing, unsigned index) {
    sharing_ = sharing;
    index_ = index;
  }

  Block* find(uint64_t host) const {
    Front& f = front_of(host);
    if (f.host == host) return f.block;
    auto it = blocks_.find(host);
    if (it == blocks_.end()) return nullptr;
    f = Front{host, it->second.get()};
    return f.block;
  }
  Block* insert(uint64_t host, std::span<const DecodedInsn> insns);

  // Whether a page holds code in this cache or, with sharing, in any hart's.
  bool is_code_page(uint64_t host) const;
  // A store hit [host, host+len): drop the blocks of the pages it touches, here and (later) in
  // the other harts' caches.
  void invalidate(uint64_t host, uint64_t len);
  // From any thread (device DMA on the I/O thread, HTIF): memory in [host, host+len) changed.
  // The blocks are dropped by the hart at its next block boundary (apply_pending), because
  // the cache itself belongs to the hart's thread.
  void invalidate_later(uint64_t host, uint64_t len);
  bool has_pending() const { return pending_flag_.load(std::memory_order_acquire); }
  // Told (on the writer's thread) after invalidate_later queued a range: the board kicks the
  // hart, so that translated code, which looks at the pending list only between runs, leaves
  // at its next block entry instead of at its next poll.
  void set_pending_listener(std::function<void()> fn) { on_pending_ = std::move(fn); }
  void apply_pending();
  // Drop every block (their pages stop being code pages here).
  void drop_all();
  // Forget every block's translation (the translator's arena was refilled).
  void drop_native() {
    for (auto& [host, block] : blocks_) block->native = nullptr;
  }
  // Free retired blocks; call only where no hart is inside a block.
  void collect_garbage() { retired_.clear(); }

  // Changes whenever a block is dropped: jump caches compare against it.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  const std::atomic<uint64_t>* generation_counter() const { return &generation_; }
  size_t block_count() const { return blocks_.size(); }

  // Told when a page first becomes a code page anywhere (harts drop their write mappings).
  void set_new_code_page_listener(std::function<void(uint64_t page)> fn) {
    on_new_page_ = std::move(fn);
  }

 private:
  void drop_page(uint64_t page);

  BlockArena arena_;  // first, so that it outlives every block below
  std::unordered_map<uint64_t, Block::Owner> blocks_;
  // A direct-mapped cache in front of blocks_ (whose lookups divide by a prime and chase list
  // nodes): every jump-cache miss comes here, and after each address-space switch flushes the
  // TLB every page's first block lookup misses. Its entries are blocks_'s (kept by insert and
  // drop_page); host 1 is none (block starts are even).
  static constexpr size_t kFrontSize = 8192;
  struct Front {
    uint64_t host = 1;
    Block* block = nullptr;
  };
  mutable std::array<Front, kFrontSize> front_{};
  Front& front_of(uint64_t host) const { return front_[(host >> 1) % kFrontSize]; }
  std::unordered_map<uint64_t, std::vector<uint64_t>> pages_;  // page -> block start addresses
  std::vector<Block::Owner> retired_;
  std::atomic<uint64_t> generation_{1};
  std::function<void(uint64_t)> on_new_page_;
  std::function<void()> on_pending_;
  CodeSharing* sharing_ = nullptr;
  unsigned index_ = 0;
  std::mutex pending_mu_;
  std::vector<std::pair<uint64_t, uint64_t>> pending_;  // (host, len), under pending_mu_
  std::atomic<bool> pending_flag_{false};
};

// Which pages of guest RAM hold code in which hart's cache: a 32-bit mask of harts per page,
// updated with atomics, so any hart can ask whether a store must take the coherent path and
// whose caches it must reach. The mask table is reserved for all of RAM but backed lazily.
class CodeSharing {
 public:
  static constexpr unsigned kMaxCaches = 32;

  // `host_base`/`size`: the host mapping of guest RAM (other memory is never written).
  static Result<std::unique_ptr<CodeSharing>> create(const uint8_t* host_base, uint64_t size);

  // Adds a cache (a hart's); at most kMaxCaches.
  void add(CodeCache& cache);
  // Whether host lies in the RAM the masks cover.
  bool covers(uint64_t host) const { return host >= base_ && page_index(host) < pages_; }
  bool is_code(uint64_t host) const {
    const uint64_t i = page_index(host);
    return i < pages_ && load(i) != 0;
  }
  // Marks or clears cache `index` as holding `page` (a host page number); returns whether the
  // page was code nowhere before (so stale write mappings must go).
  bool mark(unsigned index, uint64_t page);
  void unmark(unsigned index, uint64_t page);
  // Memory in [host, host+len) changed: every cache but `except` drops the pages it holds there
  // at its next block boundary (kMaxCaches: all of them, e.g. for device DMA).
  void invalidate_later(uint64_t host, uint64_t len, unsigned except = kMaxCaches);

 private:
  CodeSharing() = default;
  uint64_t page_index(uint64_t host) const { return (host - base_) / CodeCache::kPageSize; }
  uint32_t load(uint64_t i) const {
    return std::atomic_ref<uint32_t>(masks_[i]).load(std::memory_order_acquire);
  }

  uint64_t base_ = 0;
  uint64_t pages_ = 0;
  MappedMemory table_;
  uint32_t* masks_ = nullptr;
  std::vector<CodeCache*> caches_;
};

}  // namespace vessel::rv
