// libFuzzer target: virtio-net's transmit and receive paths over guest memory the input
// controls (descriptor tables, rings, buffers, headers), with frames arriving from a backend.
// Input: a flags byte (bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 VERSION_1), the log2 sizes
// of receiveq and transmitq, up to 32 KiB of initial RAM (the rings sit at fixed addresses in
// it), then steps {op, arg0, arg1}: kick transmitq/receiveq, frames from the backend,
// poke a RAM byte, advance an avail index, reset and re-activate. Bursts of frames can
// outrun the receive buffers, so the pending bound and the backend's pause are reached.
// The EventLoop is never started: drain() runs the device's posted work on this thread.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "base/event_loop.hpp"
#include "bus/bus.hpp"
#include "devices/virtio/guest_memory.hpp"
#include "devices/virtio/net/net.hpp"
#include "devices/virtio/queue.hpp"

namespace {

using vessel::virtio::VirtioNet;

constexpr uint64_t kRamBase = 0x80000000;
constexpr uint64_t kRamSize = 0x10000;
constexpr uint64_t kInitMax = 0x8000;
// Ring areas per queue: descriptor table, avail ring, used ring (room for 256 entries each).
constexpr uint64_t kRing[2][3] = {{0x0000, 0x1000, 0x1400}, {0x2000, 0x3000, 0x3400}};

class NullBackend final : public vessel::NetBackend {
 public:
  std::string_view name() const override { return "null"; }
  void start(Receiver receiver) override { receiver_ = std::move(receiver); }
  void send(std::span<const uint8_t> frame) override { sent_bytes += frame.size(); }
  void set_receive_paused(bool pause) override { paused = pause; }
  void inject(std::span<const uint8_t> frame) {
    if (receiver_) receiver_(frame);
  }
  uint64_t sent_bytes = 0;
  bool paused = false;

 private:
  Receiver receiver_;
};

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
  const bool event_idx = (flags & 1) != 0;
  const bool indirect = (flags & 2) != 0;
  uint64_t features = VirtioNet::kFeatureMac | VirtioNet::kFeatureStatus;
  if ((flags & 4) != 0) features |= vessel::virtio::kFeatureVersion1;
  if (event_idx) features |= vessel::virtio::kFeatureEventIdx;
  if (indirect) features |= vessel::virtio::kFeatureIndirectDesc;
  const uint16_t sizes[2] = {static_cast<uint16_t>(1U << (take(p, n) % 9)),
                             static_cast<uint16_t>(1U << (take(p, n) % 9))};
  const size_t init = n < kInitMax ? n : kInitMax;
  if (init != 0) std::memcpy(ram.data(), p, init);
  p += init;
  n -= init;

  std::vector<vessel::virtio::Virtqueue> queues(2);
  bool needs_reset = false;
  const auto configure = [&] {
    for (unsigned q = 0; q < 2; ++q) {
      vessel::virtio::Virtqueue::Config c;
      c.size = sizes[q];
      c.desc = kRamBase + kRing[q][0];
      c.avail = kRamBase + kRing[q][1];
      c.used = kRamBase + kRing[q][2];
      c.ready = true;
      queues[q].configure(mem, c, event_idx, indirect);
    }
  };
  vessel::virtio::DeviceContext ctx;
  ctx.memory = &mem;
  ctx.queues = &queues;
  ctx.signal_used = [](unsigned) {};
  ctx.signal_config = [] {};
  ctx.needs_reset = [&](std::string_view) { needs_reset = true; };

  vessel::EventLoop loop;
  auto backend = std::make_unique<NullBackend>();
  NullBackend* fake = backend.get();
  VirtioNet net(std::move(backend), loop, {0x52, 0x54, 0x00, 0x12, 0x34, 0x56});
  configure();
  if (!net.activate(ctx, features).ok()) return 0;
  loop.drain();

  std::vector<uint8_t> frame;
  for (int step = 0; step < 256 && n > 0; ++step) {
    const uint8_t op = take(p, n);
    const uint8_t a = take(p, n);
    const uint8_t b = take(p, n);
    switch (op % 6) {
      case 0: net.notify(VirtioNet::kTransmitq); break;
      case 1: net.notify(VirtioNet::kReceiveq); break;
      case 2: {  // 1-8 frames from the outside, sizes from a runt to a jumbo
        const size_t len = (size_t{a} << 8 | b) % 9100;
        frame.assign(len, static_cast<uint8_t>(a ^ b));
        for (int k = 0; k <= (op >> 5); ++k) fake->inject(frame);
        break;
      }
      case 3: ram[(size_t{a} << 8 | b) % kInitMax] ^= static_cast<uint8_t>(op | 1); break;
      case 4: {  // the driver publishes `a % 8` more entries on queue b & 1
        const uint64_t idx = kRing[b & 1][1] + 2;
        uint16_t v;
        std::memcpy(&v, &ram[idx], 2);
        v = static_cast<uint16_t>(v + a % 8);
        std::memcpy(&ram[idx], &v, 2);
        net.notify(b & 1);
        break;
      }
      case 5:
        net.reset();
        for (auto& q : queues) q.reset();
        needs_reset = false;
        configure();
        if (!net.activate(ctx, features).ok()) return 0;
        break;
    }
    // The device's work re-posts itself at most once per turn.
    loop.drain();
    loop.drain();
  }
  (void)needs_reset;
  return 0;
}
