#include "devices/virtio/queue.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <limits>

#include "base/bits.hpp"

namespace vessel::virtio {

static_assert(std::endian::native == std::endian::little,
              "the rings are little-endian and are accessed in place");

namespace {

// Split-ring layout (virtio 1.2, "Split Virtqueues"): sizes and alignments of the areas.
constexpr uint64_t kDescSize = 16;
constexpr uint64_t kDescAlign = 16, kAvailAlign = 2, kUsedAlign = 4;
constexpr uint64_t kRingHeader = 4;  // flags, idx
constexpr uint64_t kAvailElem = 2, kUsedElem = 8;
// An indirect table may not describe more buffers than the largest queue: bounds the work
// and the memory one chain can cost the host.
constexpr uint64_t kMaxIndirectEntries = Virtqueue::kMaxSize;

// The driver writes these fields concurrently from a vCPU thread; the accesses are atomic so
// that the index loads can carry acquire and the stores release semantics.
uint16_t load16(const uint8_t* p, int order) {
  return __atomic_load_n(reinterpret_cast<const uint16_t*>(p), order);
}
void store16(uint8_t* p, uint16_t v, int order) {
  __atomic_store_n(reinterpret_cast<uint16_t*>(p), v, order);
}

bool aligned(const void* p, uint64_t a) { return reinterpret_cast<uintptr_t>(p) % a == 0; }

// vring_need_event: does moving the index from old_idx to new_idx cross event (all mod 2^16)?
bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx) {
  return static_cast<uint16_t>(new_idx - event - 1) < static_cast<uint16_t>(new_idx - old_idx);
}

}  // namespace

uint64_t DescriptorChain::readable_bytes() const {
  uint64_t n = 0;
  for (const auto& s : readable) n += s.len;
  return n;
}

uint64_t DescriptorChain::writable_bytes() const {
  uint64_t n = 0;
  for (const auto& s : writable) n += s.len;
  return n;
}

uint64_t ChainReader::read(void* out, uint64_t len) {
  auto* dst = static_cast<uint8_t*>(out);
  uint64_t done = 0;
  while (done < len && seg_ < chain_.readable.size()) {
    const Segment& s = chain_.readable[seg_];
    const uint64_t n = std::min<uint64_t>(s.len - off_, len - done);
    if (n != 0) {
      const uint8_t* p = mem_.read_ptr(s.addr + off_, n);
      if (p == nullptr) break;  // a segment not from pop(); treat as the end of the data
      std::memcpy(dst + done, p, n);
      done += n;
      off_ += n;
    }
    if (off_ == s.len) {
      ++seg_;
      off_ = 0;
    }
  }
  return done;
}

uint64_t ChainReader::remaining() const {
  uint64_t n = 0;
  for (size_t i = seg_; i < chain_.readable.size(); ++i) n += chain_.readable[i].len;
  return n - off_;
}

bool ChainReader::skip(uint64_t len) {
  if (remaining() < len) return false;
  while (len != 0) {
    const Segment& s = chain_.readable[seg_];
    const uint64_t n = std::min<uint64_t>(s.len - off_, len);
    len -= n;
    off_ += n;
    if (off_ == s.len) {
      ++seg_;
      off_ = 0;
    }
  }
  return true;
}

uint64_t ChainWriter::write(const void* in, uint64_t len) {
  const auto* src = static_cast<const uint8_t*>(in);
  uint64_t done = 0;
  while (done < len && seg_ < chain_.writable.size()) {
    const Segment& s = chain_.writable[seg_];
    const uint64_t n = std::min<uint64_t>(s.len - off_, len - done);
    if (n != 0) {
      uint8_t* p = mem_.write_ptr(s.addr + off_, n);
      if (p == nullptr) break;
      std::memcpy(p, src + done, n);
      mem_.wrote(p, n);
      done += n;
      off_ += n;
    }
    if (off_ == s.len) {
      ++seg_;
      off_ = 0;
    }
  }
  written_ += done;
  return done;
}

uint64_t ChainWriter::remaining() const {
  uint64_t n = 0;
  for (size_t i = seg_; i < chain_.writable.size(); ++i) n += chain_.writable[i].len;
  return n - off_;
}

bool Virtqueue::configure(const GuestMemory& mem, const Config& config, bool event_idx,
                          bool indirect_desc) {
  reset();
  const uint64_t n = config.size;
  // config.ready is not consulted: configuring is what makes the queue ready.
  if (!is_power_of_two(n) || n > kMaxSize) return false;
  if (config.desc % kDescAlign != 0 || config.avail % kAvailAlign != 0 ||
      config.used % kUsedAlign != 0) {
    return false;
  }
  // used_event / avail_event trail the rings only with EVENT_IDX.
  const uint64_t tail = event_idx ? 2 : 0;
  const uint8_t* desc = mem.read_ptr(config.desc, n * kDescSize);
  const uint8_t* avail = mem.read_ptr(config.avail, kRingHeader + n * kAvailElem + tail);
  uint8_t* used = mem.write_ptr(config.used, kRingHeader + n * kUsedElem + tail);
  if (desc == nullptr || avail == nullptr || used == nullptr) return false;
  // Guest alignment implies host alignment only if the region itself is aligned; the atomic
  // index accesses need the latter.
  if (!aligned(avail, kAvailAlign) || !aligned(used, kUsedAlign)) return false;

  mem_ = &mem;
  desc_host_ = desc;
  avail_host_ = avail;
  used_host_ = used;
  size_ = config.size;
  desc_ = config.desc;
  avail_ = config.avail;
  used_ = config.used;
  event_idx_ = event_idx;
  indirect_ = indirect_desc;
  ready_ = true;
  return true;
}

void Virtqueue::reset() { *this = Virtqueue(); }

bool Virtqueue::fail(std::string why) {
  if (error_.empty()) error_ = why.empty() ? "malformed queue" : std::move(why);
  return false;
}

void Virtqueue::publish_avail_event() {
  uint8_t* p = used_host_ + kRingHeader + size_ * kUsedElem;
  store16(p, last_avail_, __ATOMIC_RELAXED);
  mem_->wrote(p, 2);
}

void Virtqueue::enable_notifications() {
  if (!ready_ || !event_idx_) return;
  publish_avail_event();
  // The avail_event store must be visible before the caller re-reads avail->idx, or a
  // driver that added a buffer in between may skip its notification and we would sleep.
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

std::optional<DescriptorChain> Virtqueue::pop() {
  if (!ready_ || failed()) return std::nullopt;
  uint16_t avail_idx = load16(avail_host_ + 2, __ATOMIC_ACQUIRE);
  if (avail_idx == last_avail_ && event_idx_) {
    enable_notifications();
    avail_idx = load16(avail_host_ + 2, __ATOMIC_ACQUIRE);
  }
  const uint16_t pending = static_cast<uint16_t>(avail_idx - last_avail_);
  if (pending > size_) {
    fail("avail idx moved by " + std::to_string(pending) + ", more than the queue size " +
         std::to_string(size_));
    return std::nullopt;
  }
  if (pending == 0) return std::nullopt;

  const uint16_t slot = static_cast<uint16_t>(last_avail_ & (size_ - 1));
  const uint16_t head = load16(avail_host_ + kRingHeader + slot * kAvailElem, __ATOMIC_RELAXED);
  DescriptorChain chain;
  chain.head = head;
  if (!walk(chain, head)) return std::nullopt;
  ++last_avail_;
  // Keep avail_event at the next entry we will look at: the driver notifies only when it
  // makes that entry available, i.e. when we may have gone idle.
  if (event_idx_) publish_avail_event();
  return chain;
}

void Virtqueue::undo_pop() {
  --last_avail_;
  if (event_idx_) publish_avail_event();
}

bool Virtqueue::walk(DescriptorChain& chain, uint16_t head) {
  const uint8_t* table = desc_host_;
  uint64_t entries = size_;
  uint64_t index = head;
  uint64_t visited = 0;
  bool in_indirect = false;
  uint64_t total = 0;
  for (;;) {
    if (index >= entries) {
      return fail("descriptor index " + std::to_string(index) + " out of range (" +
                  std::to_string(entries) + (in_indirect ? " in indirect table)" : " in queue)"));
    }
    // Every descriptor is visited at most once in an acyclic chain.
    if (++visited > entries) return fail("descriptor chain loops");
    // One copy, then checks on the copy: the driver may rewrite the table meanwhile.
    uint8_t raw[kDescSize];
    std::memcpy(raw, table + index * kDescSize, kDescSize);
    const uint64_t addr = load_le<uint64_t>(raw);
    const uint32_t len = load_le<uint32_t>(raw + 8);
    const uint16_t flags = load_le<uint16_t>(raw + 12);
    const uint16_t next = load_le<uint16_t>(raw + 14);

    if ((flags & kDescIndirect) != 0) {
      if (!indirect_) return fail("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
      if (in_indirect) return fail("indirect descriptor inside an indirect table");
      if ((flags & kDescNext) != 0) return fail("indirect descriptor with NEXT");
      if (len == 0 || len % kDescSize != 0 || len / kDescSize > kMaxIndirectEntries) {
        return fail("indirect table length " + std::to_string(len) + " is invalid");
      }
      table = mem_->read_ptr(addr, len);
      if (table == nullptr) return fail("indirect table outside guest memory");
      entries = len / kDescSize;
      index = 0;
      visited = 0;
      in_indirect = true;
      continue;
    }

    const bool writable = (flags & kDescWrite) != 0;
    if (!writable && !chain.writable.empty()) {
      return fail("readable descriptor after a writable one");
    }
    total += len;
    if (total > std::numeric_limits<uint32_t>::max()) return fail("chain length overflows");
    if (len != 0) {
      const bool inside =
          writable ? mem_->write_ptr(addr, len) != nullptr : mem_->read_ptr(addr, len) != nullptr;
      if (!inside) return fail("buffer outside guest memory");
      (writable ? chain.writable : chain.readable).push_back({addr, len, writable});
    }
    if ((flags & kDescNext) == 0) return true;
    index = next;
  }
}

void Virtqueue::push_used(uint16_t head, uint32_t written) {
  if (!ready_ || head >= size_) return;
  uint8_t* elem = used_host_ + kRingHeader + (used_idx_ & (size_ - 1)) * kUsedElem;
  store_le<uint32_t>(elem, head);
  store_le<uint32_t>(elem + 4, written);
  mem_->wrote(elem, kUsedElem);
  ++used_idx_;
  // Release: the element is visible before the index that publishes it.
  store16(used_host_ + 2, used_idx_, __ATOMIC_RELEASE);
  mem_->wrote(used_host_ + 2, 2);
}

bool Virtqueue::needs_interrupt() {
  if (!ready_) return false;
  // Our used->idx store must be ordered before reading the driver's suppression fields.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const uint16_t old_idx = signalled_used_;
  signalled_used_ = used_idx_;
  if (event_idx_) {
    const uint16_t used_event =
        load16(avail_host_ + kRingHeader + size_ * kAvailElem, __ATOMIC_RELAXED);
    return need_event(used_event, used_idx_, old_idx);
  }
  if (used_idx_ == old_idx) return false;
  return (load16(avail_host_, __ATOMIC_RELAXED) & kAvailNoInterrupt) == 0;
}

}  // namespace vessel::virtio
