// libFuzzer target: the device side of a split virtqueue over guest memory the input controls.
// Input: an 8-byte queue header {flags, desc, avail, used offsets (u16 each), spare},
// 16 op bytes, then the initial contents of a 64 KiB guest RAM. flags bit 0 = EVENT_IDX,
// bit 1 = INDIRECT_DESC, bits 4..7 = log2 of the queue size (mod 9). The ops drive pop /
// push_used / needs_interrupt / enable_notifications and let the "driver" publish more
// entries, four times over. Every segment pop() hands out must lie in guest memory.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/bits.hpp"
#include "bus/bus.hpp"
#include "devices/virtio/guest_memory.hpp"
#include "devices/virtio/queue.hpp"

namespace {
constexpr uint64_t kRamBase = 0x80000000;
constexpr uint64_t kRamSize = 0x10000;
constexpr uint64_t kRomBase = 0x1000;
constexpr size_t kHeader = 8, kOps = 16, kRounds = 4;
constexpr uint64_t kMaxCopy = 0x10000;  // bytes read or written per chain

void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vessel::virtio;
  if (size < kHeader + kOps) return 0;
  std::vector<uint8_t> ram(kRamSize), rom(0x1000, 0x5A);
  vessel::Bus bus;
  if (!bus.add_memory({kRamBase, kRamSize, ram.data(), true, "ram"}).ok()) return 0;
  if (!bus.add_memory({kRomBase, rom.size(), rom.data(), false, "rom"}).ok()) return 0;
  uint64_t observed = 0;
  bus.set_write_observer([&](uint64_t, uint64_t len) { observed += len; });
  const GuestMemory mem(bus);

  const uint8_t flags = data[0];
  Virtqueue::Config config;
  config.size = static_cast<uint16_t>(1U << ((flags >> 4) % 9));
  config.desc = kRamBase + vessel::load_le<uint16_t>(data + 1);
  config.avail = kRamBase + vessel::load_le<uint16_t>(data + 3);
  config.used = kRamBase + vessel::load_le<uint16_t>(data + 5);
  config.ready = true;
  const bool event_idx = (flags & 1) != 0, indirect = (flags & 2) != 0;
  const uint8_t* ops = data + kHeader;
  const size_t init = std::min<size_t>(size - kHeader - kOps, kRamSize);
  std::memcpy(ram.data(), data + kHeader + kOps, init);

  Virtqueue q;
  if (!q.configure(mem, config, event_idx, indirect)) return 0;
  std::vector<uint8_t> scratch(kMaxCopy);
  for (size_t step = 0; step < kOps * kRounds; ++step) {
    const uint8_t op = ops[step % kOps];
    const unsigned arg = op >> 3;
    switch (op & 7) {
      case 0:
      case 1:
      case 2: {
        auto chain = q.pop();
        if (!chain) break;
        check(chain->head < q.size());
        for (const auto& s : chain->readable) check(mem.read_ptr(s.addr, s.len) != nullptr);
        for (const auto& s : chain->writable) check(mem.write_ptr(s.addr, s.len) != nullptr);
        ChainReader reader(mem, *chain);
        const uint64_t readable = std::min(reader.remaining(), kMaxCopy);
        check(reader.read(scratch.data(), readable) == readable);
        ChainWriter writer(mem, *chain);
        const uint64_t want =
            std::min<uint64_t>(writer.remaining(), (op & 7) == 2 ? kMaxCopy : arg);
        check(writer.write(scratch.data(), want) == want);
        q.push_used(chain->head, static_cast<uint32_t>(writer.written()));
        break;
      }
      case 3: q.push_used(static_cast<uint16_t>(arg), arg); break;  // a head never popped
      case 4: (void)q.needs_interrupt(); break;
      case 5: q.enable_notifications(); break;
      case 6: {  // the driver makes `arg` more entries available
        uint8_t* idx = ram.data() + (config.avail - kRamBase) + 2;
        vessel::store_le<uint16_t>(idx,
                                   static_cast<uint16_t>(vessel::load_le<uint16_t>(idx) + arg));
        break;
      }
      case 7:  // the transport resets and re-enables the queue
        q.reset();
        if (!q.configure(mem, config, event_idx, indirect)) return 0;
        break;
    }
  }
  (void)observed;
  return 0;
}
