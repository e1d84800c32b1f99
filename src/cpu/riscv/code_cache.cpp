#include "cpu/riscv/code_cache.hpp"

#include <algorithm>
#include <memory>
#include <new>

namespace vessel::rv {

Block::Owner Block::make(BlockArena& arena, uint64_t host, std::span<const DecodedInsn> insns) {
  void* memory = arena.allocate(sizeof(Block) + insns.size() * sizeof(DecodedInsn));
  Owner block(new (memory) Block(), Free{&arena});
  block->host = host;
  block->count = static_cast<uint32_t>(insns.size());
  std::uninitialized_copy(insns.begin(), insns.end(),
                          reinterpret_cast<DecodedInsn*>(block.get() + 1));
  return block;
}

void Block::Free::operator()(Block* b) const {
  const size_t bytes = b->bytes();
  b->~Block();  // the instructions after it are trivially destructible
  arena->deallocate(b, bytes);
}

Block* CodeCache::insert(uint64_t host, std::span<const DecodedInsn> insns) {
  Block::Owner block = Block::make(arena_, host, insns);
  Block* raw = block.get();
  const uint64_t page = host / kPageSize;
  auto [it, fresh] = pages_.try_emplace(page);
  it->second.push_back(host);
  // One lookup: in a cache of many blocks each is a cache miss.
  auto [slot, fresh_start] = blocks_.try_emplace(host);
  if (!fresh_start) retired_.push_back(std::move(slot->second));
  slot->second = std::move(block);
  front_of(host) = Front{host, raw};
  if (fresh) {
    const bool first_anywhere = sharing_ == nullptr || sharing_->mark(index_, page);
    if (first_anywhere && on_new_page_) on_new_page_(page);
  }
  return raw;
}

bool CodeCache::is_code_page(uint64_t host) const {
  // In RAM the shared masks know this cache's pages too: no hash lookup.
  if (sharing_ != nullptr && sharing_->covers(host)) return sharing_->is_code(host);
  return pages_.count(host / kPageSize) != 0;
}

void CodeCache::drop_page(uint64_t page) {
  auto it = pages_.find(page);
  if (it == pages_.end()) return;
  for (uint64_t start : it->second) {
    auto b = blocks_.find(start);
    if (b != blocks_.end()) {
      retired_.push_back(std::move(b->second));
      blocks_.erase(b);
    }
    Front& f = front_of(start);
    if (f.host == start) f = Front{};
  }
  pages_.erase(it);
  if (sharing_ != nullptr) sharing_->unmark(index_, page);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

void CodeCache::drop_all() {
  std::vector<uint64_t> pages;
  pages.reserve(pages_.size());
  for (const auto& [page, starts] : pages_) pages.push_back(page);
  for (uint64_t page : pages) drop_page(page);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

void CodeCache::invalidate(uint64_t host, uint64_t len) {
  if (len == 0) return;
  const uint64_t first = host / kPageSize;
  const uint64_t last = (host + len - 1) / kPageSize;
  for (uint64_t page = first; page <= last; ++page) drop_page(page);
  if (sharing_ != nullptr) sharing_->invalidate_later(host, len, index_);
}

void CodeCache::invalidate_later(uint64_t host, uint64_t len) {
  if (len == 0) return;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    // Consecutive DMA completions often extend the previous range: merge them.
    if (!pending_.empty() && pending_.back().first + pending_.back().second == host) {
      pending_.back().second += len;
    } else {
      pending_.emplace_back(host, len);
    }
    pending_flag_.store(true, std::memory_order_release);
  }
  if (on_pending_) on_pending_();
}

void CodeCache::apply_pending() {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    ranges.swap(pending_);
    pending_flag_.store(false, std::memory_order_release);
  }
  for (const auto& [host, len] : ranges) {
    // Only pages that hold blocks matter; walking the range page by page is cheap next to
    // the DMA that produced it.
    const uint64_t first = host / kPageSize;
    const uint64_t last = (host + len - 1) / kPageSize;
    for (uint64_t page = first; page <= last; ++page) {
      if (pages_.count(page) != 0) drop_page(page);
    }
  }
}

Result<std::unique_ptr<CodeSharing>> CodeSharing::create(const uint8_t* host_base, uint64_t size) {
  std::unique_ptr<CodeSharing> s(new CodeSharing());
  s->base_ = reinterpret_cast<uint64_t>(host_base);
  s->pages_ = size / CodeCache::kPageSize;
  s->table_ = TRY(MappedMemory::allocate(s->pages_ * sizeof(uint32_t)));
  s->masks_ = reinterpret_cast<uint32_t*>(s->table_.data());
  return s;
}

void CodeSharing::add(CodeCache& cache) {
  cache.share(this, static_cast<unsigned>(caches_.size()));
  caches_.push_back(&cache);
}

bool CodeSharing::mark(unsigned index, uint64_t page) {
  const uint64_t i = page - base_ / CodeCache::kPageSize;
  if (i >= pages_) return true;  // not RAM (the boot ROM): nobody writes it
  const uint32_t before =
      std::atomic_ref<uint32_t>(masks_[i]).fetch_or(1U << index, std::memory_order_acq_rel);
  return before == 0;
}

void CodeSharing::unmark(unsigned index, uint64_t page) {
  const uint64_t i = page - base_ / CodeCache::kPageSize;
  if (i >= pages_) return;
  std::atomic_ref<uint32_t>(masks_[i]).fetch_and(~(1U << index), std::memory_order_acq_rel);
}

void CodeSharing::invalidate_later(uint64_t host, uint64_t len, unsigned except) {
  if (len == 0 || host < base_) return;
  const uint64_t first = page_index(host);
  const uint64_t last = std::min(page_index(host + len - 1), pages_ - 1);
  uint32_t holders = 0;
  for (uint64_t i = first; i <= last && i < pages_; ++i) holders |= load(i);
  if (except < kMaxCaches) holders &= ~(1U << except);
  for (unsigned c = 0; c < caches_.size(); ++c) {
    if ((holders >> c) & 1) caches_[c]->invalidate_later(host, len);
  }
}

}  // namespace vessel::rv
