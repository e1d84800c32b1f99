#include "cpu/riscv/code_cache.hpp"

namespace vessel::rv {

Block* CodeCache::insert(uint64_t host, std::vector<DecodedInsn> insns) {
  auto block = std::make_unique<Block>();
  block->host = host;
  block->insns = std::move(insns);
  Block* raw = block.get();
  const uint64_t page = host / kPageSize;
  auto [it, fresh] = pages_.try_emplace(page);
  it->second.push_back(host);
  auto old = blocks_.find(host);
  if (old != blocks_.end()) retired_.push_back(std::move(old->second));
  blocks_[host] = std::move(block);
  if (fresh && on_new_page_) on_new_page_(page);
  return raw;
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
  }
  pages_.erase(it);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

void CodeCache::invalidate(uint64_t host, uint64_t len) {
  if (len == 0) return;
  const uint64_t first = host / kPageSize;
  const uint64_t last = (host + len - 1) / kPageSize;
  for (uint64_t page = first; page <= last; ++page) drop_page(page);
}

void CodeCache::invalidate_later(uint64_t host, uint64_t len) {
  if (len == 0) return;
  std::lock_guard<std::mutex> lock(pending_mu_);
  // Consecutive DMA completions often extend the previous range: merge them.
  if (!pending_.empty() && pending_.back().first + pending_.back().second == host) {
    pending_.back().second += len;
  } else {
    pending_.emplace_back(host, len);
  }
  pending_flag_.store(true, std::memory_order_release);
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

}  // namespace vessel::rv
