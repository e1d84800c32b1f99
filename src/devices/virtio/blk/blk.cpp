#include "devices/virtio/blk/blk.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/bits.hpp"
#include "base/log.hpp"

namespace vessel::virtio {

namespace {

std::atomic<unsigned> g_instances{0};
// One preadv/readv takes at most IOV_MAX (1024) segments; a chain needing more is refused
// rather than split (seg_max tells the driver to stay far below).
constexpr size_t kMaxIovecs = 1024;
// Chains handled per loop task before yielding to other devices' work.
constexpr unsigned kBudget = 2 * VirtioBlk::kQueueSize;

// Appends [p, p+len) to iov, merging with the previous segment when adjacent in host memory.
void push_iov(std::vector<iovec>& iov, uint8_t* p, uint64_t len) {
  if (!iov.empty()) {
    iovec& last = iov.back();
    if (static_cast<uint8_t*>(last.iov_base) + last.iov_len == p) {
      last.iov_len += len;
      return;
    }
  }
  iov.push_back({p, len});
}

}  // namespace

struct VirtioBlk::Request {
  uint16_t head = 0;
  uint64_t generation = 0;
  uint32_t type = 0;
  uint8_t* status = nullptr;  // the status byte, in guest memory
  uint32_t used_len = 1;      // bytes written into the chain on success
  uint64_t bytes = 0;         // data bytes (IN/OUT)
  std::vector<iovec> dma;     // guest memory the backend writes (IN): reported to the bus
  bool writethrough = false;  // flush before completing (VIRTIO_BLK_F_FLUSH not negotiated)
  unsigned parts = 0;         // outstanding discard/write-zeroes segments (+1 while starting)
  int error = 0;
};

VirtioBlk::VirtioBlk(std::unique_ptr<block::BlockBackend> backend, EventLoop& loop, bool read_only)
    : backend_(std::move(backend)),
      loop_(loop),
      read_only_(read_only || backend_->read_only()),
      capacity_(backend_->size() / kSectorSize),
      serial_("vessel-" + std::to_string(g_instances.fetch_add(1))),
      config_(kConfigSize, 0) {
  if (auto r = backend_->attach(loop_); r.ok()) {
    backend_ok_ = true;
  } else {
    static LogLimiter limiter;  // a guest that reboots in a loop builds a disk each time
    log_limited(limiter, LogLevel::kError, "virtio-blk: {}: {}; every request will fail",
                backend_->describe(), r.error().message);
  }
  uint8_t* c = config_.data();
  store_le<uint64_t>(c + kCfgCapacity, capacity_);
  store_le<uint32_t>(c + kCfgSegMax, kSegMax);
  store_le<uint32_t>(c + kCfgBlkSize, static_cast<uint32_t>(kSectorSize));
  store_le<uint32_t>(c + kCfgMaxDiscardSectors, kMaxDiscardSectors);
  store_le<uint32_t>(c + kCfgMaxDiscardSeg, kMaxDiscardSeg);
  store_le<uint32_t>(
      c + kCfgDiscardSectorAlignment,
      std::max<uint32_t>(1, backend_->discard_granularity() / static_cast<uint32_t>(kSectorSize)));
  store_le<uint32_t>(c + kCfgMaxWriteZeroesSectors, kMaxDiscardSectors);
  store_le<uint32_t>(c + kCfgMaxWriteZeroesSeg, kMaxDiscardSeg);
  c[kCfgWriteZeroesMayUnmap] = 1;
}

VirtioBlk::~VirtioBlk() {
  run_on_loop([this] {
    active_ = false;
    ++generation_;
    backend_->drain();
    backend_->detach();
  });
}

uint64_t VirtioBlk::device_features() const {
  uint64_t f = kFeatureSegMax | kFeatureBlkSize | kFeatureFlush;
  // A read-only disk offers no discard or write-zeroes: the driver will not try them (and
  // gets IOERR if it does).
  f |= read_only_ ? kFeatureRo : (kFeatureDiscard | kFeatureWriteZeroes);
  return f;
}

void VirtioBlk::read_config(uint64_t offset, uint8_t* out, unsigned size) const {
  for (unsigned i = 0; i < size; ++i) {
    const bool inside = offset < kConfigSize && i < kConfigSize - offset;
    out[i] = inside ? config_[offset + i] : 0;
  }
}

void VirtioBlk::run_on_loop(const std::function<void()>& fn) {
  if (loop_.on_loop_thread()) {
    fn();
    return;
  }
  loop_.post(fn);
  loop_.drain();  // runs it inline if the loop is not running
}

Result<void> VirtioBlk::activate(const DeviceContext& ctx, uint64_t features) {
  if (ctx.memory == nullptr || ctx.queues == nullptr || ctx.queues->empty()) {
    return make_error("virtio-blk: activated without a request queue");
  }
  negotiated_.store(features);
  loop_.post([this, ctx, features] {
    ctx_ = ctx;
    features_ = features;
    active_ = true;
    broken_ = false;
    ++generation_;
  });
  return {};
}

void VirtioBlk::notify(unsigned index) {
  if (index != 0) return;
  if (notify_posted_.exchange(true)) return;  // a pass is already coming
  loop_.post([this] {
    notify_posted_.store(false);
    process_queue();
  });
}

void VirtioBlk::reset() {
  // Requests still with the backend complete into the void: the queue is going away.
  run_on_loop([this] {
    active_ = false;
    broken_ = false;
    ++generation_;
    backend_->drain();
  });
  negotiated_.store(0);
}

void VirtioBlk::quiesce() {
  run_on_loop([this] {
    backend_->drain();
    // What the guest wrote and saw completed is on the disk (an overlay's data and map), so
    // that the snapshot's reference to the files holds.
    if (!read_only_) {
      backend_->flush([](int) {});
      backend_->drain();
    }
  });
}

Result<uint64_t> VirtioBlk::commit() {
  Result<uint64_t> result = make_error("not run");
  run_on_loop([&] { result = backend_->commit(); });
  return result;
}

BlkStats VirtioBlk::stats() const {
  BlkStats s;
  s.reads = counters_.reads.load();
  s.writes = counters_.writes.load();
  s.read_bytes = counters_.read_bytes.load();
  s.write_bytes = counters_.write_bytes.load();
  s.flushes = counters_.flushes.load();
  s.discards = counters_.discards.load();
  s.write_zeroes = counters_.write_zeroes.load();
  s.errors = counters_.errors.load();
  return s;
}

void VirtioBlk::process_queue() {
  if (!active_ || broken_) return;
  Virtqueue& q = (*ctx_.queues)[0];
  for (unsigned handled = 0;;) {
    std::optional<DescriptorChain> chain = q.pop();
    if (!chain && !q.failed()) {
      // Tell the driver where we stopped (EVENT_IDX) before the last look, so that a buffer
      // added in between is either seen now or notified.
      q.enable_notifications();
      chain = q.pop();
    }
    if (!chain) break;
    handle(std::move(*chain));
    if (broken_ || !active_) return;
    if (++handled == kBudget) {
      notify(0);  // more may be waiting: continue in a later task
      return;
    }
  }
  if (q.failed()) {
    broken_ = true;
    ctx_.needs_reset("virtio-blk: " + q.error());
  }
}

void VirtioBlk::handle(DescriptorChain chain) {
  auto req = std::make_shared<Request>();
  req->head = chain.head;
  req->generation = generation_;
  // The status byte is the last byte of the device-writable part.
  const Segment* last = nullptr;
  for (const Segment& s : chain.writable) {
    if (s.len != 0) last = &s;
  }
  if (last != nullptr) req->status = ctx_.memory->write_ptr(last->addr + last->len - 1, 1);
  if (req->status == nullptr) {
    broken_ = true;
    ctx_.needs_reset("virtio-blk: request without room for the status byte");
    return;
  }
  uint8_t header[kHeaderSize];
  ChainReader reader(*ctx_.memory, chain);
  if (!reader.read_exact(header, sizeof header)) return finish(req, kSIoErr);
  req->type = load_le<uint32_t>(header);
  const uint64_t sector = load_le<uint64_t>(header + 8);

  switch (req->type) {
    case kTIn:
    case kTOut: return start_transfer(req, chain, req->type, sector);
    case kTFlush:
      counters_.flushes.fetch_add(1, std::memory_order_relaxed);
      if (!backend_ok_) return finish(req, kSIoErr);
      return backend_->flush([this, req](int err) { backend_done(req, err); });
    case kTGetId: return start_get_id(req, chain);
    case kTDiscard:
    case kTWriteZeroes: return start_discard_or_zeroes(req, chain, req->type);
    default: return finish(req, kSUnsupp);
  }
}

void VirtioBlk::start_transfer(const std::shared_ptr<Request>& req, const DescriptorChain& chain,
                               uint32_t type, uint64_t sector) {
  const bool in = type == kTIn;
  // A read-only device writes nothing, whatever else is wrong with the request.
  if (!in && read_only_) return finish(req, kSIoErr);
  const GuestMemory& mem = *ctx_.memory;
  std::vector<iovec> iov;
  uint64_t len = 0;
  if (in) {
    // Data: the writable part minus the status byte at its end.
    uint64_t want = chain.writable_bytes() - 1;
    for (const Segment& s : chain.writable) {
      const uint64_t take = std::min<uint64_t>(s.len, want);
      if (take == 0) break;
      uint8_t* p = mem.write_ptr(s.addr, take);
      if (p == nullptr) return finish(req, kSIoErr);
      push_iov(iov, p, take);
      want -= take;
      len += take;
    }
  } else {
    // Data: the readable part after the header.
    uint64_t skip = kHeaderSize;
    for (const Segment& s : chain.readable) {
      if (skip >= s.len) {
        skip -= s.len;
        continue;
      }
      const uint64_t take = s.len - skip;
      const uint8_t* p = mem.read_ptr(s.addr + skip, take);
      if (p == nullptr) return finish(req, kSIoErr);
      // The backend only reads through this pointer.
      push_iov(iov, const_cast<uint8_t*>(p), take);
      skip = 0;
      len += take;
    }
  }
  if (len % kSectorSize != 0 || sector > capacity_ || len / kSectorSize > capacity_ - sector ||
      iov.size() > kMaxIovecs || !backend_ok_) {
    return finish(req, kSIoErr);
  }
  req->bytes = len;
  if (len == 0) return finish(req, kSOk);
  auto done = [this, req](int err) { backend_done(req, err); };
  if (in) {
    req->used_len = static_cast<uint32_t>(len + 1);  // chains are < 4 GiB (queue checks)
    req->dma = iov;
    backend_->read(sector * kSectorSize, std::move(iov), std::move(done));
  } else {
    req->writethrough = (features_ & kFeatureFlush) == 0;
    backend_->write(sector * kSectorSize, std::move(iov), std::move(done));
  }
}

void VirtioBlk::start_get_id(const std::shared_ptr<Request>& req, const DescriptorChain& chain) {
  const uint64_t room = chain.writable_bytes() - 1;
  if (room == 0) return finish(req, kSIoErr);
  uint8_t id[kIdBytes] = {};
  std::memcpy(id, serial_.data(), std::min(serial_.size(), kIdBytes));
  const uint64_t n = std::min<uint64_t>(room, kIdBytes);
  ChainWriter writer(*ctx_.memory, chain);
  if (!writer.write_exact(id, n)) return finish(req, kSIoErr);
  req->used_len = static_cast<uint32_t>(n + 1);
  finish(req, kSOk);
}

void VirtioBlk::start_discard_or_zeroes(const std::shared_ptr<Request>& req,
                                        const DescriptorChain& chain, uint32_t type) {
  const bool discard = type == kTDiscard;
  if (read_only_) return finish(req, kSIoErr);
  if ((features_ & (discard ? kFeatureDiscard : kFeatureWriteZeroes)) == 0) {
    return finish(req, kSUnsupp);
  }
  ChainReader reader(*ctx_.memory, chain);
  reader.skip(kHeaderSize);
  const uint64_t payload = reader.remaining();
  if (payload == 0 || payload % kDiscardSegSize != 0 ||
      payload / kDiscardSegSize > kMaxDiscardSeg) {
    return finish(req, kSIoErr);
  }
  struct Range {
    uint64_t sector;
    uint32_t sectors;
    bool unmap;
  };
  std::vector<Range> ranges;
  for (uint64_t i = 0; i < payload / kDiscardSegSize; ++i) {
    uint8_t seg[kDiscardSegSize];
    if (!reader.read_exact(seg, sizeof seg)) return finish(req, kSIoErr);
    const Range r{load_le<uint64_t>(seg), load_le<uint32_t>(seg + 8),
                  (load_le<uint32_t>(seg + 12) & kFlagUnmap) != 0};
    const uint32_t flags = load_le<uint32_t>(seg + 12);
    // Unknown flags, and unmap on a discard, are UNSUPP (virtio 1.2, 5.2.6.2).
    if ((flags & ~kFlagUnmap) != 0 || (discard && r.unmap)) return finish(req, kSUnsupp);
    if (r.sectors > kMaxDiscardSectors || r.sector > capacity_ ||
        r.sectors > capacity_ - r.sector) {
      return finish(req, kSIoErr);
    }
    ranges.push_back(r);
  }
  if (!backend_ok_) return finish(req, kSIoErr);
  (discard ? counters_.discards : counters_.write_zeroes).fetch_add(1, std::memory_order_relaxed);
  req->writethrough = (features_ & kFeatureFlush) == 0;
  req->parts = 1;
  auto part_done = [this, req](int err) {
    if (err != 0 && req->error == 0) req->error = err;
    if (--req->parts == 0) backend_done(req, req->error);
  };
  for (const Range& r : ranges) {
    if (r.sectors == 0) continue;
    ++req->parts;
    if (discard) {
      backend_->discard(r.sector * kSectorSize, uint64_t{r.sectors} * kSectorSize, part_done);
    } else {
      backend_->write_zeroes(r.sector * kSectorSize, uint64_t{r.sectors} * kSectorSize, r.unmap,
                             part_done);
    }
  }
  part_done(0);
}

void VirtioBlk::backend_done(const std::shared_ptr<Request>& req, int err) {
  if (req->generation != generation_ || !active_) {
    // Reset meanwhile: nobody waits for this one. The guest memory was written all the same.
    if (ctx_.memory != nullptr) {
      for (const iovec& v : req->dma) {
        ctx_.memory->wrote(static_cast<uint8_t*>(v.iov_base), v.iov_len);
      }
    }
    return;
  }
  if (err == 0 && req->writethrough) {
    req->writethrough = false;
    return backend_->flush([this, req](int ferr) { backend_done(req, ferr); });
  }
  if (err != 0) {
    static LogLimiter limiter;
    log_limited(limiter, LogLevel::kDebug, "virtio-blk: {}: request type {} failed: {}",
                backend_->describe(), req->type, std::strerror(-err));
  }
  finish(req, err == 0 ? kSOk : kSIoErr);
}

void VirtioBlk::finish(const std::shared_ptr<Request>& req, uint8_t status) {
  if (req->generation != generation_ || !active_) return;
  const GuestMemory& mem = *ctx_.memory;
  // The backend may have written part of the buffers even when it failed.
  for (const iovec& v : req->dma) mem.wrote(static_cast<uint8_t*>(v.iov_base), v.iov_len);
  *req->status = status;
  mem.wrote(req->status, 1);
  if (status == kSOk) {
    if (req->type == kTIn) {
      counters_.reads.fetch_add(1, std::memory_order_relaxed);
      counters_.read_bytes.fetch_add(req->bytes, std::memory_order_relaxed);
    } else if (req->type == kTOut) {
      counters_.writes.fetch_add(1, std::memory_order_relaxed);
      counters_.write_bytes.fetch_add(req->bytes, std::memory_order_relaxed);
    }
  } else {
    counters_.errors.fetch_add(1, std::memory_order_relaxed);
  }
  Virtqueue& q = (*ctx_.queues)[0];
  q.push_used(req->head, status == kSOk ? req->used_len : 1);
  ctx_.signal_used(0);
}

}  // namespace vessel::virtio
