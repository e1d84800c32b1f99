#include "devices/virtio/console/console.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace vessel::virtio {

namespace {
// Guest output reaches the sink, and host input the guest, in pieces of at most this size.
constexpr size_t kCopyChunk = 4096;
}  // namespace

struct VirtioConsole::Host {
  explicit Host(Sink s) : sink(std::move(s)) {}

  // One turn over both queues (loop thread, inside the worker's lock).
  ServiceTurn serve(const GuestMemory& mem, std::vector<Virtqueue>& queues) {
    ServiceTurn turn;
    Virtqueue& rx = queues[kReceiveq0];
    Virtqueue& tx = queues[kTransmitq0];
    if (rx.ready() && !rx.failed()) receive(mem, rx, turn);
    if (tx.ready() && !tx.failed()) transmit(mem, tx, turn);
    return turn;
  }
  void receive(const GuestMemory& mem, Virtqueue& q, ServiceTurn& turn);
  void transmit(const GuestMemory& mem, Virtqueue& q, ServiceTurn& turn);

  // Used only inside a turn.
  Sink sink;
  std::vector<uint8_t> buf;

  // input_mu is taken inside the worker's lock, never around it, so push_input() never waits
  // for a turn (or the sink) to finish.
  mutable std::mutex input_mu;
  std::deque<uint8_t> input;
  uint64_t dropped = 0;
  std::atomic<size_t> queued{0};  // input.size(), readable without input_mu
};

void VirtioConsole::Host::receive(const GuestMemory& mem, Virtqueue& q, ServiceTurn& turn) {
  std::lock_guard<std::mutex> lock(input_mu);
  // A buffer is taken from the ring only when there is something to put in it.
  for (unsigned n = 0; !input.empty(); ++n) {
    if (n == kChainsPerTurn) {
      turn.more = true;
      return;
    }
    const std::optional<DescriptorChain> chain = next_chain(q);
    if (!chain) return;
    // Receive buffers are device-writable; readable segments in one are ignored.
    ChainWriter writer(mem, *chain);
    while (!input.empty() && writer.remaining() > 0) {
      const size_t want =
          static_cast<size_t>(std::min<uint64_t>({input.size(), writer.remaining(), kCopyChunk}));
      buf.assign(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(want));
      const uint64_t put = writer.write(buf.data(), want);
      input.erase(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(put));
      if (put < want) break;
    }
    queued.store(input.size());
    q.push_used(chain->head, static_cast<uint32_t>(writer.written()));
    turn.used |= 1U << kReceiveq0;
  }
}

void VirtioConsole::Host::transmit(const GuestMemory& mem, Virtqueue& q, ServiceTurn& turn) {
  buf.resize(kCopyChunk);
  for (unsigned n = 0;; ++n) {
    if (n == kChainsPerTurn) {
      turn.more = true;
      return;
    }
    const std::optional<DescriptorChain> chain = next_chain(q);
    if (!chain) return;
    // Transmit buffers are device-readable; the device writes nothing back.
    ChainReader reader(mem, *chain);
    for (;;) {
      const uint64_t got = reader.read(buf.data(), buf.size());
      if (got == 0) break;
      if (sink) sink(buf.data(), static_cast<size_t>(got));
    }
    q.push_used(chain->head, 0);
    turn.used |= 1U << kTransmitq0;
  }
}

VirtioConsole::VirtioConsole(EventLoop& loop, Sink sink)
    : host_(std::make_shared<Host>(std::move(sink))),
      worker_(loop, "virtio-console", {"receiveq0", "transmitq0"},
              [host = host_](const GuestMemory& mem, std::vector<Virtqueue>& queues) {
                return host->serve(mem, queues);
              }) {}

void VirtioConsole::read_config(uint64_t /*offset*/, uint8_t* out, unsigned size) const {
  std::memset(out, 0, size);
}

Result<void> VirtioConsole::activate(const DeviceContext& ctx, uint64_t /*features*/) {
  // Host input may be waiting, and output may have been queued before DRIVER_OK.
  return worker_.activate(ctx);
}

void VirtioConsole::notify(unsigned index) {
  if (index < kNumQueues) worker_.kick();
}

// Host input not yet delivered survives a device reset: it is the next driver's.
void VirtioConsole::push_input(const uint8_t* data, size_t len) {
  if (data == nullptr || len == 0) return;
  {
    std::lock_guard<std::mutex> lock(host_->input_mu);
    const size_t room = kHostQueueHardLimit - std::min(host_->input.size(), kHostQueueHardLimit);
    const size_t take = std::min(len, room);
    host_->input.insert(host_->input.end(), data, data + take);
    host_->dropped += len - take;
    host_->queued.store(host_->input.size());
  }
  worker_.kick();
}

bool VirtioConsole::wants_input() const { return host_->queued.load() < kHostQueueSoftLimit; }

uint64_t VirtioConsole::dropped_input() const {
  std::lock_guard<std::mutex> lock(host_->input_mu);
  return host_->dropped;
}

std::vector<uint8_t> VirtioConsole::queued_input() const {
  std::lock_guard<std::mutex> lock(host_->input_mu);
  return {host_->input.begin(), host_->input.end()};
}

void VirtioConsole::set_queued_input(const std::vector<uint8_t>& bytes) {
  {
    std::lock_guard<std::mutex> lock(host_->input_mu);
    host_->input.assign(bytes.begin(), bytes.end());
    host_->queued.store(host_->input.size());
  }
  worker_.kick();
}

}  // namespace vessel::virtio
