#include "devices/virtio/net/net.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace vessel::virtio {

// Loop-thread state, apart from the posting flags and the counters.
struct VirtioNet::Core : std::enable_shared_from_this<Core> {
  Core(EventLoop& l, std::unique_ptr<NetBackend> b) : loop(l), backend(std::move(b)) {}

  EventLoop& loop;
  std::unique_ptr<NetBackend> backend;
  DeviceContext ctx;
  bool active = false;
  bool closed = false;
  uint32_t header_size = kHeaderSize;
  bool tx_csum = false;     // VIRTIO_NET_F_CSUM negotiated: NEEDS_CSUM frames are allowed
  bool rx_csum_ok = false;  // VIRTIO_NET_F_GUEST_CSUM negotiated: mark frames DATA_VALID
  bool rx_paused = false;   // the backend was asked to hold frames back
  std::deque<std::vector<uint8_t>> pending;
  std::vector<uint8_t> tx_frame;
  // Set by whoever posts the corresponding work (vCPU or loop thread): one task in flight.
  std::atomic<bool> tx_posted{false}, rx_posted{false};

  std::atomic<uint64_t> tx_frames{0}, tx_dropped{0}, rx_frames{0}, rx_dropped{0};
  std::atomic<uint64_t> tx_bytes{0}, rx_bytes{0};

  void schedule_tx() {
    if (tx_posted.exchange(true)) return;
    loop.post([self = shared_from_this()] {
      self->tx_posted = false;
      self->transmit_all();
    });
  }

  void schedule_rx() {
    if (rx_posted.exchange(true)) return;
    loop.post([self = shared_from_this()] {
      self->rx_posted = false;
      self->deliver_all();
    });
  }

  // The next chain of queue `index`, reporting a malformed one (the queue then stays stopped
  // until the driver resets the device).
  std::optional<DescriptorChain> next_chain(unsigned index) {
    Virtqueue& q = (*ctx.queues)[index];
    if (q.failed()) return std::nullopt;  // already reported
    auto chain = q.pop();
    if (!chain && q.failed()) {
      if (ctx.needs_reset) ctx.needs_reset(q.error());
    }
    return chain;
  }

  bool usable() const { return active && !closed && ctx.queues != nullptr; }

  void transmit_all() {
    if (!usable()) return;
    unsigned done = 0;
    for (; done < kChainsPerTurn; ++done) {
      auto chain = next_chain(kTransmitq);
      if (!chain) break;
      transmit(*chain);
      (*ctx.queues)[kTransmitq].push_used(chain->head, 0);
    }
    if (done != 0 && ctx.signal_used) ctx.signal_used(kTransmitq);
    if (done == kChainsPerTurn) schedule_tx();  // more may wait; let other work run first
  }

  // One transmit chain: virtio_net_hdr, then the frame, both in the readable part. Anything
  // wrong with the contents drops the frame (the chain is still completed).
  void transmit(const DescriptorChain& chain) {
    ChainReader reader(*ctx.memory, chain);
    uint8_t hdr[kHeaderSize] = {};
    if (!reader.read_exact(hdr, header_size)) {
      ++tx_dropped;
      return;
    }
    // Segmentation offload was not offered, and checksum offload only counts when the driver
    // accepted it: a frame asking for either otherwise would leave here wrong.
    const uint8_t flags = hdr[0];
    const uint8_t gso_type = hdr[1];
    const uint64_t len = reader.remaining();
    const bool needs_csum = (flags & kHdrFNeedsCsum) != 0;
    if ((needs_csum && !tx_csum) || gso_type != kHdrGsoNone || len < NetBackend::kMinFrameSize ||
        len > NetBackend::kMaxFrameSize) {
      ++tx_dropped;
      return;
    }
    tx_frame.resize(len);
    if (!reader.read_exact(tx_frame.data(), len)) {
      ++tx_dropped;
      return;
    }
    if (needs_csum && !fill_checksum(hdr, tx_frame)) {
      ++tx_dropped;
      return;
    }
    ++tx_frames;
    tx_bytes += tx_frame.size();
    backend->send(tx_frame);
  }

  // VIRTIO_NET_HDR_F_NEEDS_CSUM: the 16-bit ones'-complement sum of frame[csum_start..end),
  // whose checksum field already holds the pseudo-header sum, is stored (complemented) at
  // csum_start + csum_offset, as a NIC would. False if the offsets do not fit the frame.
  static bool fill_checksum(const uint8_t (&hdr)[kHeaderSize], std::vector<uint8_t>& frame) {
    const uint32_t start = static_cast<uint32_t>(hdr[6]) | static_cast<uint32_t>(hdr[7]) << 8;
    const uint32_t offset = static_cast<uint32_t>(hdr[8]) | static_cast<uint32_t>(hdr[9]) << 8;
    if (start >= frame.size() || offset + 2 > frame.size() - start) return false;
    uint64_t sum = 0;
    size_t i = start;
    for (; i + 1 < frame.size(); i += 2) sum += static_cast<uint32_t>(frame[i]) << 8 | frame[i + 1];
    if (i < frame.size()) sum += static_cast<uint32_t>(frame[i]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    const auto checksum = static_cast<uint16_t>(~sum);
    frame[start + offset] = static_cast<uint8_t>(checksum >> 8);
    frame[start + offset + 1] = static_cast<uint8_t>(checksum);
    return true;
  }

  // Frame from the backend (loop thread).
  void receive(std::span<const uint8_t> frame) {
    if (!usable() || pending.size() >= kMaxPendingFrames) {
      ++rx_dropped;
      return;
    }
    pending.emplace_back(frame.begin(), frame.end());
    if (pending.size() >= kMaxPendingFrames && !rx_paused) {
      rx_paused = true;
      backend->set_receive_paused(true);
    }
    // Delivered from a task of its own rather than here: the backend may be calling from
    // inside send() (slirp answers ARP synchronously), and a burst gets one interrupt.
    schedule_rx();
  }

  void deliver_all() {
    if (!usable()) return;
    bool used = false;
    while (!pending.empty()) {
      auto chain = next_chain(kReceiveq);
      if (!chain) break;
      const std::vector<uint8_t>& frame = pending.front();
      uint32_t written = 0;
      if (chain->writable_bytes() >= header_size + frame.size()) {
        // No GSO; num_buffers (VERSION_1's last field) is 1; DATA_VALID when negotiated.
        uint8_t hdr[kHeaderSize] = {};
        if (rx_csum_ok) hdr[0] = kHdrFDataValid;
        if (header_size == kHeaderSize) hdr[10] = 1;
        ChainWriter writer(*ctx.memory, *chain);
        writer.write(hdr, header_size);
        writer.write(frame.data(), frame.size());
        written = static_cast<uint32_t>(writer.written());
        ++rx_frames;
        rx_bytes += frame.size();
      } else {
        // A frame larger than the buffer: dropped, and the buffer comes back empty (Linux
        // counts a length error and posts a new one).
        ++rx_dropped;
      }
      (*ctx.queues)[kReceiveq].push_used(chain->head, written);
      pending.pop_front();
      used = true;
    }
    if (used && ctx.signal_used) ctx.signal_used(kReceiveq);
    resume_if_room();
  }

  void resume_if_room() {
    if (rx_paused && pending.size() <= kMaxPendingFrames / 2) {
      rx_paused = false;
      if (backend) backend->set_receive_paused(false);
    }
  }

  void deactivate() {
    active = false;
    ctx = DeviceContext{};
    pending.clear();
    resume_if_room();
  }
};

VirtioNet::VirtioNet(std::unique_ptr<NetBackend> backend, EventLoop& loop, MacAddress mac)
    : loop_(loop), core_(std::make_shared<Core>(loop, std::move(backend))), mac_(mac) {
  core_->backend->start([weak = std::weak_ptr<Core>(core_)](std::span<const uint8_t> frame) {
    if (auto core = weak.lock()) core->receive(frame);
  });
}

VirtioNet::~VirtioNet() {
  // The backend goes on the loop thread, after the work already queued there.
  auto close = [core = core_] {
    core->deactivate();
    core->closed = true;
    core->backend.reset();
  };
  if (loop_.on_loop_thread()) {
    close();
  } else {
    loop_.post(std::move(close));
    loop_.drain();
  }
}

void VirtioNet::read_config(uint64_t offset, uint8_t* out, unsigned size) const {
  uint8_t space[kConfigSize] = {};
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < 6; ++i) space[kConfigMac + i] = mac_[i];
  }
  space[kConfigStatus] = kStatusLinkUp;  // le16
  for (unsigned i = 0; i < size; ++i) {
    out[i] = offset < kConfigSize && i < kConfigSize - offset ? space[offset + i] : 0;
  }
}

Result<void> VirtioNet::activate(const DeviceContext& ctx, uint64_t features) {
  if (ctx.memory == nullptr || ctx.queues == nullptr || ctx.queues->size() < num_queues()) {
    return make_error("virtio-net: activated without its receive and transmit queues");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    features_ = features;
  }
  loop_.post([core = core_, ctx, features] {
    if (core->closed) return;
    core->ctx = ctx;
    core->header_size = (features & kFeatureVersion1) != 0 ? kHeaderSize : kLegacyHeaderSize;
    core->tx_csum = (features & kFeatureCsum) != 0;
    core->rx_csum_ok = (features & kFeatureGuestCsum) != 0;
    core->active = true;
    core->transmit_all();
    core->deliver_all();
  });
  return {};
}

void VirtioNet::notify(unsigned index) {
  if (index == kTransmitq) {
    core_->schedule_tx();
  } else if (index == kReceiveq) {
    core_->schedule_rx();
  }
}

void VirtioNet::reset() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    features_ = 0;
  }
  auto stop = [core = core_] { core->deactivate(); };
  if (loop_.on_loop_thread()) {
    stop();
  } else {
    loop_.post(std::move(stop));
    loop_.drain();
  }
}

MacAddress VirtioNet::mac() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mac_;
}

VirtioNet::Stats VirtioNet::stats() const {
  Stats s;
  s.tx_frames = core_->tx_frames.load();
  s.tx_dropped = core_->tx_dropped.load();
  s.rx_frames = core_->rx_frames.load();
  s.rx_dropped = core_->rx_dropped.load();
  s.tx_bytes = core_->tx_bytes.load();
  s.rx_bytes = core_->rx_bytes.load();
  return s;
}

// The backend lives as long as the card (it is reset only in the destructor).
std::vector<uint8_t> VirtioNet::save_backend_state() { return core_->backend->save_state(); }

Result<void> VirtioNet::load_backend_state(std::span<const uint8_t> state) {
  return core_->backend->load_state(state);
}

}  // namespace vessel::virtio
