// libFuzzer target: virtio-blk's request parser and completion path over guest memory the
// input controls (descriptor tables, rings, headers, discard segments), with an in-memory disk.
// Input: a flags byte (bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 read-only disk, bit 3
// FLUSH, bit 4 DISCARD, bit 5 WRITE_ZEROES, bit 6 the disk completes from posted tasks), the
// log2 queue size, a u16 length L and L bytes of initial RAM (descriptor table at 0x0, avail
// ring at 0x400, used ring at 0x800), then steps {op, a, b}: kick, publish more entries, poke
// a RAM byte, reset and re-activate, make the disk fail, save and restore.
// The EventLoop is never started: drain() runs the device's posted work on this thread.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "base/bits.hpp"
#include "base/event_loop.hpp"
#include "bus/bus.hpp"
#include "devices/virtio/blk/blk.hpp"
#include "devices/virtio/guest_memory.hpp"
#include "devices/virtio/queue.hpp"
#include "host/block/memory_backend.hpp"

namespace {

using vessel::virtio::VirtioBlk;

constexpr uint64_t kRamBase = 0x80000000;
constexpr uint64_t kRamSize = 0x10000;
constexpr uint64_t kDesc = 0x0, kAvail = 0x400, kUsed = 0x800;
constexpr uint64_t kDiskSize = 64 * 512;

uint8_t take(const uint8_t*& p, size_t& n) {
  if (n == 0) return 0;
  --n;
  return *p++;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> ram(kRamSize);
  vessel::Bus bus;
  if (!bus.add_memory({kRamBase, kRamSize, ram.data(), true, "ram"}).ok()) return 0;
  const vessel::virtio::GuestMemory mem(bus);

  const uint8_t* p = data;
  size_t n = size;
  const uint8_t flags = take(p, n);
  const bool event_idx = (flags & 1) != 0, indirect = (flags & 2) != 0;
  const bool read_only = (flags & 4) != 0, async = (flags & 64) != 0;
  uint64_t features =
      vessel::virtio::kFeatureVersion1 | VirtioBlk::kFeatureSegMax | VirtioBlk::kFeatureBlkSize;
  if (event_idx) features |= vessel::virtio::kFeatureEventIdx;
  if (indirect) features |= vessel::virtio::kFeatureIndirectDesc;
  if ((flags & 8) != 0) features |= VirtioBlk::kFeatureFlush;
  if ((flags & 16) != 0) features |= VirtioBlk::kFeatureDiscard;
  if ((flags & 32) != 0) features |= VirtioBlk::kFeatureWriteZeroes;
  if (read_only) features |= VirtioBlk::kFeatureRo;
  const auto queue_size = static_cast<uint16_t>(1U << (take(p, n) % 9));
  uint8_t len_le[2] = {take(p, n), take(p, n)};
  size_t init = vessel::load_le<uint16_t>(len_le);
  if (init > n) init = n;
  if (init != 0) std::memcpy(ram.data(), p, init);
  p += init;
  n -= init;

  std::vector<vessel::virtio::Virtqueue> queues(1);
  bool needs_reset = false;
  const auto configure = [&] {
    vessel::virtio::Virtqueue::Config c;
    c.size = queue_size;
    c.desc = kRamBase + kDesc;
    c.avail = kRamBase + kAvail;
    c.used = kRamBase + kUsed;
    c.ready = true;
    queues[0].configure(mem, c, event_idx, indirect);
  };
  vessel::virtio::DeviceContext ctx;
  ctx.memory = &mem;
  ctx.queues = &queues;
  ctx.signal_used = [](unsigned) {};
  ctx.signal_config = [] {};
  ctx.needs_reset = [&](std::string_view) { needs_reset = true; };

  vessel::EventLoop loop;
  auto backend = std::make_unique<vessel::block::MemoryBackend>(kDiskSize, false, async);
  vessel::block::MemoryBackend* disk = backend.get();
  VirtioBlk blk(std::move(backend), loop, read_only);
  // As the transport does: the driver can only accept what was offered.
  features &= blk.device_features() | vessel::virtio::kFeatureVersion1 |
              vessel::virtio::kFeatureEventIdx | vessel::virtio::kFeatureIndirectDesc;
  configure();
  if (!blk.activate(ctx, features).ok()) return 0;
  blk.notify(0);
  loop.drain();
  loop.drain();

  for (int step = 0; step < 256 && n > 0; ++step) {
    const uint8_t op = take(p, n);
    const uint8_t a = take(p, n);
    const uint8_t b = take(p, n);
    switch (op % 6) {
      case 0: blk.notify(0); break;
      case 1: {  // the driver publishes a % 8 more entries
        uint8_t* idx = ram.data() + kAvail + 2;
        vessel::store_le<uint16_t>(idx,
                                   static_cast<uint16_t>(vessel::load_le<uint16_t>(idx) + a % 8));
        blk.notify(0);
        break;
      }
      case 2: ram[(size_t{a} << 8 | b) % kRamSize] ^= static_cast<uint8_t>(op | 1); break;
      case 3:
        blk.reset();
        queues[0].reset();
        needs_reset = false;
        configure();
        if (!blk.activate(ctx, features).ok()) return 0;
        break;
      case 4: disk->fail_next(a & 1 ? -ENOSPC : -EIO, b % 4); break;
      case 5: {
        vessel::StateWriter w;
        blk.save(w);
        vessel::StateReader r(w.bytes());
        if (!blk.restore(r).ok()) __builtin_trap();
        break;
      }
    }
    // The device's work re-posts itself at most once per turn.
    loop.drain();
    loop.drain();
  }
  (void)needs_reset;
  return 0;
}
