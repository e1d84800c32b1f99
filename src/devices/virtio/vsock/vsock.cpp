#include "devices/virtio/vsock/vsock.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <future>

#include "base/log.hpp"
#include "base/option_fields.hpp"

namespace vessel::virtio {

using vsock::Header;
using vsock::kHeaderSize;
using vsock::kMaxPayload;

namespace {

// Scratch for one packet either way (the loop thread's).
struct Scratch {
  std::vector<uint8_t> buf = std::vector<uint8_t>(kHeaderSize + kMaxPayload);
  std::optional<DescriptorChain> held_rx;  // an rx buffer taken when nothing came to fill it
};

// tx: each chain is one packet, header and payload, from the driver.
bool serve_tx(const GuestMemory& mem, Virtqueue& q, vsock::Muxer& mux, Scratch& s, bool& more) {
  static LogLimiter bad;
  bool used = false;
  for (unsigned n = 0; n < VirtioVsock::kChainsPerTurn; ++n) {
    const std::optional<DescriptorChain> chain = next_chain(q);
    if (!chain) return used;
    ChainReader reader(mem, *chain);
    const uint64_t got = reader.read(s.buf.data(), s.buf.size());
    std::string why;
    const std::optional<Header> h = vsock::parse_header(s.buf.data(), got, &why);
    if (!h) {
      log_limited(bad, LogLevel::kWarn, "virtio-vsock: a tx packet dropped: {}", why);
    } else if (got - kHeaderSize < h->len) {
      log_limited(bad, LogLevel::kWarn, "virtio-vsock: a tx packet shorter than its len");
    } else {
      mux.on_tx(*h, s.buf.data() + kHeaderSize);
    }
    q.push_used(chain->head, 0);
    used = true;
  }
  more = true;
  return used;
}

// rx: packets for the driver, each in one of its buffers.
bool serve_rx(const GuestMemory& mem, Virtqueue& q, vsock::Muxer& mux, Scratch& s, bool& more) {
  bool used = false;
  for (unsigned n = 0; n < VirtioVsock::kChainsPerTurn; ++n) {
    if (!mux.has_rx()) return used;
    std::optional<DescriptorChain> chain = std::move(s.held_rx);
    s.held_rx.reset();
    if (!chain) chain = next_chain(q);
    if (!chain) return used;  // the driver's notify brings us back
    const uint64_t room = std::min<uint64_t>(chain->writable_bytes(), s.buf.size());
    const size_t len = mux.next_rx(s.buf.data(), static_cast<size_t>(room));
    if (len == 0) {
      s.held_rx = std::move(chain);
      return used;
    }
    ChainWriter writer(mem, *chain);
    q.push_used(chain->head, static_cast<uint32_t>(writer.write(s.buf.data(), len)));
    used = true;
  }
  more = mux.has_rx();
  return used;
}

}  // namespace

Result<VsockConfig> parse_vsock_option(const std::string& text) {
  VsockConfig config;
  bool cid = false;
  // Split as --disk and --balloon are: ",," is a comma inside a field (a uds path may hold one).
  for (const std::string& field : split_option_fields(text)) {
    if (field.starts_with("cid=")) {
      uint64_t v = 0;
      const std::string num = field.substr(4);
      const auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
      if (ec != std::errc() || end != num.data() + num.size() || v < kMinGuestCid ||
          v > kMaxGuestCid) {
        return make_error(fmt::format("--vsock: cid '{}': a guest CID is {} to {}", num,
                                      kMinGuestCid, kMaxGuestCid));
      }
      config.guest_cid = static_cast<uint32_t>(v);
      cid = true;
    } else if (field.starts_with("uds=") && field.size() > 4) {
      config.uds_path = field.substr(4);
    } else {
      return make_error(
          fmt::format("--vsock: unknown option '{}' (expected cid=N,uds=PATH)", field));
    }
  }
  if (!cid || config.uds_path.empty()) {
    return make_error("--vsock: both cid=N and uds=PATH are needed");
  }
  return config;
}

VirtioVsock::VirtioVsock(EventLoop& loop, VsockConfig config)
    : loop_(loop),
      config_(std::move(config)),
      worker_(loop, "virtio-vsock", {"rx", "tx", "event"},
              [this, scratch = std::make_shared<Scratch>()](const GuestMemory& mem,
                                                            std::vector<Virtqueue>& queues) {
                ServiceTurn turn;
                Virtqueue& tx = queues[kTxq];
                Virtqueue& rx = queues[kRxq];
                if (tx.ready() && !tx.failed() && serve_tx(mem, tx, *muxer_, *scratch, turn.more)) {
                  turn.used |= 1U << kTxq;
                }
                if (rx.ready() && !rx.failed() && serve_rx(mem, rx, *muxer_, *scratch, turn.more)) {
                  turn.used |= 1U << kRxq;
                }
                return turn;
              }) {
  muxer_ = std::make_shared<vsock::Muxer>(loop, config_.guest_cid, config_.uds_path,
                                          [this] { worker_.kick(); });
}

Result<std::unique_ptr<VirtioVsock>> VirtioVsock::create(EventLoop& loop,
                                                         const VsockConfig& config) {
  std::unique_ptr<VirtioVsock> dev(new VirtioVsock(loop, config));
  TRY_VOID(dev->muxer_->listen());
  return dev;
}

VirtioVsock::~VirtioVsock() {
  worker_.stop();
  // The muxer's sockets are the loop thread's: closed there, before this object goes.
  auto mux = muxer_;
  if (loop_.on_loop_thread()) {
    mux->shutdown();
  } else {
    loop_.post([mux] { mux->shutdown(); });
    loop_.drain();
  }
  ::unlink(config_.uds_path.c_str());
}

void VirtioVsock::read_config(uint64_t offset, uint8_t* out, unsigned size) const {
  const uint64_t cid = config_.guest_cid;
  uint8_t bytes[8];
  std::memcpy(bytes, &cid, sizeof bytes);
  for (unsigned i = 0; i < size; ++i) out[i] = offset + i < sizeof bytes ? bytes[offset + i] : 0;
}

Result<void> VirtioVsock::activate(const DeviceContext& ctx, uint64_t /*features*/) {
  return worker_.activate(ctx);
}

void VirtioVsock::notify(unsigned index) {
  if (index == kRxq || index == kTxq) worker_.kick();
}

void VirtioVsock::reset() {
  worker_.stop();
  // The driver starts over: its connections are gone (the listener stays).
  auto mux = muxer_;
  loop_.post([mux] { mux->reset(); });
}

vsock::Muxer::Counters VirtioVsock::counters() {
  std::promise<vsock::Muxer::Counters> p;
  auto mux = muxer_;
  loop_.post([&p, mux] { p.set_value(mux->counters()); });
  return p.get_future().get();
}

size_t VirtioVsock::connection_count() {
  std::promise<size_t> p;
  auto mux = muxer_;
  loop_.post([&p, mux] { p.set_value(mux->connection_count()); });
  return p.get_future().get();
}

}  // namespace vessel::virtio
