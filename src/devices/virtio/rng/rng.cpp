#include "devices/virtio/rng/rng.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "base/random.hpp"

namespace vessel::virtio {

namespace {

// What the service keeps between turns (loop thread): scratch space and the rate limiter.
struct RngService {
  explicit RngService(const RateLimiterConfig& config) : limiter(config) {}
  std::vector<uint8_t> buf;
  RateLimiter limiter;
};

// One turn over requestq (loop thread).
ServiceTurn serve_requests(const GuestMemory& mem, Virtqueue& q, RngService& s,
                           std::atomic<uint64_t>& bytes) {
  ServiceTurn turn;
  if (!q.ready() || q.failed()) return turn;
  for (unsigned n = 0;; ++n) {
    if (n == VirtioRng::kChainsPerTurn) {
      turn.more = true;
      return turn;
    }
    const std::optional<DescriptorChain> chain = next_chain(q);
    if (!chain) return turn;
    // The driver should post only device-writable buffers; readable ones are skipped.
    uint64_t want = std::min<uint64_t>(chain->writable_bytes(), VirtioRng::kMaxRequestBytes);
    if (want > 0) {
      const auto now = RateLimiter::Clock::now();
      const uint64_t granted = s.limiter.grant(want, now);
      if (granted == 0) {
        // Not yet: the chain goes back to the ring until the buckets hold enough for it.
        q.undo_pop();
        turn.retry_after = s.limiter.wait(want, now);
        return turn;
      }
      want = granted;
    }
    std::vector<uint8_t>& buf = s.buf;
    buf.resize(static_cast<size_t>(want));
    const size_t got = fill_random(buf.data(), buf.size());
    ChainWriter writer(mem, *chain);
    const uint64_t written = writer.write(buf.data(), got);
    q.push_used(chain->head, static_cast<uint32_t>(written));
    bytes.fetch_add(written, std::memory_order_relaxed);
    turn.used |= 1U << VirtioRng::kRequestq;
  }
}

}  // namespace

VirtioRng::VirtioRng(EventLoop& loop, const RateLimiterConfig& limiter)
    : bytes_(std::make_shared<std::atomic<uint64_t>>(0)),
      worker_(loop, "virtio-rng", {"requestq"},
              [bytes = bytes_, service = std::make_shared<RngService>(limiter)](
                  const GuestMemory& mem, std::vector<Virtqueue>& queues) {
                return serve_requests(mem, queues[kRequestq], *service, *bytes);
              }) {}

void VirtioRng::read_config(uint64_t /*offset*/, uint8_t* out, unsigned size) const {
  std::memset(out, 0, size);
}

Result<void> VirtioRng::activate(const DeviceContext& ctx, uint64_t /*features*/) {
  return worker_.activate(ctx);
}

void VirtioRng::notify(unsigned index) {
  if (index == kRequestq) worker_.kick();
}

}  // namespace vessel::virtio
