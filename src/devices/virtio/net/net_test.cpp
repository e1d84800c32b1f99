// virtio-net against hand-built virtqueues in fake guest RAM: the transmit and receive paths
// with a fake backend, hostile chains, the pending-frame bound, reset, save/restore, and the
// device with real slirp behind it answering the guest's ARP.
#include "devices/virtio/net/net.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "devices/test_support.hpp"
#include "devices/virtio/device_test_support.hpp"
#include "devices/virtio/mmio.hpp"
#include "host/net/slirp_backend.hpp"

namespace vessel::virtio {
namespace {

using testing::add_chain;
using testing::buffer;
using testing::DriverQueue;
using testing::FakeTransport;
using testing::GuestRam;
using testing::settle;
using Frame = std::vector<uint8_t>;
using Segments = std::vector<std::pair<uint64_t, uint32_t>>;

// The driver's view of a queue's used ring, consumed in order.
class UsedReader {
 public:
  explicit UsedReader(DriverQueue& q) : q_(q) {}
  struct Used {
    uint32_t id, len;
  };
  std::vector<Used> take() {
    std::vector<Used> out;
    for (const auto& [id, len] : testing::take_used(q_, from_)) out.push_back({id, len});
    return out;
  }

 private:
  DriverQueue& q_;
  uint16_t from_ = 0;
};

constexpr uint64_t kFeatures =
    kFeatureVersion1 | VirtioNet::kFeatureMac | VirtioNet::kFeatureStatus;
constexpr uint32_t kHdr = VirtioNet::kHeaderSize;
constexpr uint32_t kRxBufferSize = kHdr + 1518;  // what Linux posts without MRG_RXBUF

// Records what the device sends; injects frames as a backend would (on the loop thread).
class FakeBackend final : public NetBackend {
 public:
  struct Shared {
    std::mutex mu;
    std::vector<Frame> sent;
    std::vector<bool> pauses;
    Receiver receiver;
    bool started = false;
  };
  explicit FakeBackend(std::shared_ptr<Shared> s) : s_(std::move(s)) {}
  std::string_view name() const override { return "fake"; }
  void start(Receiver receiver) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->receiver = std::move(receiver);
    s_->started = true;
  }
  void send(std::span<const uint8_t> frame) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->sent.emplace_back(frame.begin(), frame.end());
  }
  void set_receive_paused(bool paused) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->pauses.push_back(paused);
  }

 private:
  std::shared_ptr<Shared> s_;
};

Frame make_frame(size_t len, uint8_t seed) {
  Frame f(len);
  for (size_t i = 0; i < len; ++i) f[i] = static_cast<uint8_t>(seed + i * 7);
  return f;
}

class NetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop.start("net-test").ok());
    net = std::make_unique<VirtioNet>(std::make_unique<FakeBackend>(shared), loop, default_mac(0));
    transport.attach(VirtioNet::kReceiveq, rxq);
    transport.attach(VirtioNet::kTransmitq, txq);
  }
  void TearDown() override {
    net.reset();
    loop.stop();
  }
  void activate(uint64_t features = kFeatures) {
    ASSERT_TRUE(net->activate(transport.context(), features).ok());
    loop.drain();
  }

  // The driver's side of one transmit: header + frame, laid out over `split` buffers.
  uint16_t post_tx(const Frame& frame, std::vector<uint32_t> split = {},
                   const uint8_t* header = nullptr, uint32_t header_size = kHdr) {
    Frame bytes(header_size, 0);
    if (header != nullptr) std::copy(header, header + header_size, bytes.begin());
    bytes.insert(bytes.end(), frame.begin(), frame.end());
    if (split.empty()) split = {static_cast<uint32_t>(bytes.size())};
    Segments segs;
    size_t at = 0;
    for (uint32_t len : split) {
      segs.emplace_back(txq.alloc(len, bytes.data() + at), len);
      at += len;
    }
    EXPECT_EQ(at, bytes.size());
    return add_chain(txq, segs, {});
  }
  // A receive chain of writable buffers of the given sizes (filled with 0xee).
  std::pair<uint16_t, std::vector<uint64_t>> post_rx(std::vector<uint32_t> sizes = {
                                                         kRxBufferSize}) {
    Segments segs;
    std::vector<uint64_t> addrs;
    for (uint32_t len : sizes) {
      addrs.push_back(buffer(rxq, len, 0xee));
      segs.emplace_back(addrs.back(), len);
    }
    return {add_chain(rxq, {}, segs), addrs};
  }
  void inject(const Frame& f) {
    loop.post([this, f] {
      NetBackend::Receiver rx;
      {
        std::lock_guard<std::mutex> lock(shared->mu);
        rx = shared->receiver;
      }
      rx(f);
    });
  }
  std::vector<Frame> sent() {
    std::lock_guard<std::mutex> lock(shared->mu);
    return shared->sent;
  }
  std::vector<bool> pauses() {
    std::lock_guard<std::mutex> lock(shared->mu);
    return shared->pauses;
  }
  std::string get(uint64_t addr, size_t len) {
    const auto b = ram.bytes(addr, len);
    return std::string(b.begin(), b.end());
  }
  std::string read_guest(const std::vector<uint64_t>& addrs, const std::vector<uint32_t>& sizes,
                         size_t len) {
    std::string out;
    for (size_t i = 0; i < addrs.size() && out.size() < len; ++i) {
      out += get(addrs[i], std::min<size_t>(sizes[i], len - out.size()));
    }
    return out;
  }
  static std::string str(const Frame& f) { return std::string(f.begin(), f.end()); }

  EventLoop loop;
  GuestRam ram{4 << 20};
  DriverQueue rxq{ram, 256, GuestRam::kBase + 0x10000};
  DriverQueue txq{ram, 256, GuestRam::kBase + 0x200000};
  UsedReader rx_used{rxq}, tx_used{txq};
  FakeTransport transport{ram, 2};
  std::shared_ptr<FakeBackend::Shared> shared = std::make_shared<FakeBackend::Shared>();
  std::unique_ptr<VirtioNet> net;
};

TEST_F(NetTest, Identity) {
  EXPECT_EQ(net->device_id(), DeviceId::kNet);
  EXPECT_EQ(net->num_queues(), 2U);
  EXPECT_EQ(net->queue_max_size(0), 256);
  // CSUM (0), GUEST_CSUM (1), MAC (5) and STATUS (16): no segmentation offloads (6..14), no
  // MRG_RXBUF (15), no control queue (17).
  EXPECT_EQ(net->device_features(), (1ULL << 0) | (1ULL << 1) | (1ULL << 5) | (1ULL << 16));
  EXPECT_EQ(net->name(), "virtio-net");
  std::lock_guard<std::mutex> lock(shared->mu);
  EXPECT_TRUE(shared->started);
}

TEST_F(NetTest, ConfigSpace) {
  uint8_t cfg[12];
  std::memset(cfg, 0xaa, sizeof cfg);
  net->read_config(0, cfg, sizeof cfg);
  const uint8_t want[12] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 1, 0, 0, 0, 0, 0};
  EXPECT_EQ(std::memcmp(cfg, want, sizeof want), 0);
  uint8_t two[2];
  net->read_config(5, two, 2);  // straddles mac and status
  EXPECT_EQ(two[0], 0x56);
  EXPECT_EQ(two[1], 1);
  uint32_t word = 0xffffffff;
  net->read_config(~0ULL - 1, reinterpret_cast<uint8_t*>(&word), 4);
  EXPECT_EQ(word, 0U);
  const uint8_t junk[6] = {1, 2, 3, 4, 5, 6};
  net->write_config(0, junk, 6);  // read-only
  net->read_config(0, cfg, 6);
  EXPECT_EQ(std::memcmp(cfg, want, 6), 0);
  VirtioNet other(std::make_unique<FakeBackend>(shared), loop, default_mac(2));
  other.read_config(5, cfg, 1);
  EXPECT_EQ(cfg[0], 0x58);
}

TEST_F(NetTest, TransmitOneBuffer) {
  activate();
  const Frame f = make_frame(60, 1);
  const uint16_t head = post_tx(f);
  net->notify(VirtioNet::kTransmitq);
  ASSERT_TRUE(settle(loop, [&] { return sent().size() == 1; }));
  EXPECT_EQ(sent()[0], f);
  const auto used = tx_used.take();
  ASSERT_EQ(used.size(), 1U);
  EXPECT_EQ(used[0].id, head);
  EXPECT_EQ(used[0].len, 0U);
  EXPECT_EQ(transport.signals(VirtioNet::kTransmitq), 1U);
  EXPECT_EQ(net->stats().tx_frames, 1U);
}

TEST_F(NetTest, TransmitGathersSegments) {
  activate();
  // The header split 5 + 7, the frame spread over odd-sized pieces.
  const Frame f = make_frame(1514, 9);
  post_tx(f, {5, 7 + 3, 1000, 1, 510});
  const Frame g = make_frame(100, 3);
  post_tx(g, {kHdr, 100});
  net->notify(VirtioNet::kTransmitq);
  ASSERT_TRUE(settle(loop, [&] { return sent().size() == 2; }));
  EXPECT_EQ(sent()[0], f);
  EXPECT_EQ(sent()[1], g);
  EXPECT_EQ(tx_used.take().size(), 2U);
}

TEST_F(NetTest, TransmitDropsBadFramesButCompletesThem) {
  activate();
  uint8_t gso[kHdr] = {0, 1};    // GSO_TCPV4 without it negotiated
  uint8_t csum[kHdr] = {1, 0};   // NEEDS_CSUM without CSUM
  post_tx({}, {5}, nullptr, 5);  // shorter than the header
  post_tx(make_frame(13, 0));    // runt: less than an Ethernet header
  post_tx(make_frame(60, 0), {}, gso);
  post_tx(make_frame(60, 0), {}, csum);
  post_tx(make_frame(NetBackend::kMaxFrameSize + 1, 0));      // giant
  add_chain(txq, {}, {{buffer(txq, 64), 64}});                // nothing readable at all
  const Frame ok = make_frame(NetBackend::kMaxFrameSize, 4);  // the largest that goes
  post_tx(ok);
  net->notify(VirtioNet::kTransmitq);
  ASSERT_TRUE(settle(loop, [&] { return txq.used_idx() == 7; }));
  ASSERT_EQ(sent().size(), 1U);
  EXPECT_EQ(sent()[0], ok);
  EXPECT_EQ(net->stats().tx_dropped, 6U);
  for (const auto& u : tx_used.take()) EXPECT_EQ(u.len, 0U);
  EXPECT_TRUE(transport.resets().empty());
}

// The Internet checksum of bytes (RFC 1071), for checking what the device filled in.
uint16_t internet_checksum(const Frame& f, size_t start) {
  uint64_t sum = 0;
  for (size_t i = start; i < f.size(); i += 2) {
    sum += static_cast<uint32_t>(f[i]) << 8 | (i + 1 < f.size() ? f[i + 1] : 0);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

TEST_F(NetTest, TransmitChecksumOffloadFillsTheChecksum) {
  activate(kFeatures | VirtioNet::kFeatureCsum);
  // A frame whose checksum field (at 34 + 16, a TCP checksum's place) holds a partial sum, as
  // Linux leaves it with CHECKSUM_PARTIAL; odd length to cover the trailing byte.
  Frame f = make_frame(101, 9);
  f[50] = 0x12;
  f[51] = 0x34;
  uint8_t hdr[kHdr] = {VirtioNet::kHdrFNeedsCsum, 0, 0, 0, 0, 0, 34, 0, 16, 0, 0, 0};
  post_tx(f, {}, hdr);
  // Offsets that point past the frame: dropped, never written out of bounds.
  uint8_t bad[kHdr] = {VirtioNet::kHdrFNeedsCsum, 0, 0, 0, 0, 0, 100, 0, 16, 0, 0, 0};
  post_tx(make_frame(60, 0), {}, bad);
  net->notify(VirtioNet::kTransmitq);
  ASSERT_TRUE(settle(loop, [&] { return txq.used_idx() == 2; }));
  ASSERT_EQ(sent().size(), 1U);
  const Frame out = sent()[0];
  ASSERT_EQ(out.size(), f.size());
  // With the pseudo-header sum (the partial value the guest left) added back, the covered bytes
  // and the filled-in checksum sum to 0xffff, as a receiver verifies; nothing else changed.
  uint32_t total = internet_checksum(out, 34) + 0x1234u;
  while (total >> 16) total = (total & 0xffff) + (total >> 16);
  EXPECT_EQ(total, 0xffffu);
  Frame rest = out;
  rest[50] = f[50];
  rest[51] = f[51];
  EXPECT_EQ(rest, f);
  EXPECT_EQ(net->stats().tx_dropped, 1U);
}

TEST_F(NetTest, ReceivedFramesAreMarkedDataValidWithGuestCsum) {
  activate(kFeatures | VirtioNet::kFeatureGuestCsum);
  const Frame f = make_frame(98, 5);
  inject(f);
  const auto [head, addrs] = post_rx();
  net->notify(VirtioNet::kReceiveq);
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 1; }));
  const auto used = rx_used.take();
  const std::string got = get(addrs[0], used[0].len);
  EXPECT_EQ(got[0], static_cast<char>(VirtioNet::kHdrFDataValid));
  EXPECT_EQ(got.substr(kHdr), str(f));
}

TEST_F(NetTest, MalformedChainNeedsReset) {
  activate();
  txq.set_desc(0, buffer(txq, 64), 64, kDescNext, 0);  // loops onto itself
  txq.publish(0);
  net->notify(VirtioNet::kTransmitq);
  ASSERT_TRUE(settle(loop, [&] { return !transport.resets().empty(); }));
  EXPECT_NE(transport.resets()[0].find("loop"), std::string::npos);
  EXPECT_TRUE(sent().empty());
  // The queue stays stopped: more kicks do nothing and report nothing new.
  net->notify(VirtioNet::kTransmitq);
  loop.drain();
  EXPECT_EQ(transport.resets().size(), 1U);

  // Receive side: a buffer outside guest memory.
  rxq.set_desc(0, 0x1000, 1600, kDescWrite, 0);
  rxq.publish(0);
  inject(make_frame(60, 0));
  ASSERT_TRUE(settle(loop, [&] { return transport.resets().size() == 2; }));
  EXPECT_EQ(rxq.used_idx(), 0);
}

TEST_F(NetTest, ReceiveWaitsForBuffers) {
  activate();
  const Frame f = make_frame(98, 5);
  inject(f);
  loop.drain();
  EXPECT_EQ(rxq.used_idx(), 0);
  const auto [head, addrs] = post_rx();
  net->notify(VirtioNet::kReceiveq);
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 1; }));
  const auto used = rx_used.take();
  EXPECT_EQ(used[0].id, head);
  ASSERT_EQ(used[0].len, kHdr + f.size());
  const std::string got = get(addrs[0], used[0].len);
  // flags, gso_type, hdr_len, gso_size, csum_start, csum_offset all 0; num_buffers 1.
  EXPECT_EQ(got.substr(0, kHdr), std::string("\0\0\0\0\0\0\0\0\0\0\1\0", 12));
  EXPECT_EQ(got.substr(kHdr), str(f));
  EXPECT_EQ(get(addrs[0] + used[0].len, 1), "\xee");  // nothing past the frame
  EXPECT_EQ(transport.signals(VirtioNet::kReceiveq), 1U);
  EXPECT_EQ(net->stats().rx_frames, 1U);
}

TEST_F(NetTest, ReceiveIntoPostedBuffersAndAcrossSegments) {
  activate();
  const std::vector<uint32_t> sizes = {4, 10, 100, 2000};
  const auto [head, addrs] = post_rx(sizes);
  net->notify(VirtioNet::kReceiveq);
  loop.drain();
  const Frame f = make_frame(1514, 77);
  inject(f);
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 1; }));
  const auto used = rx_used.take();
  ASSERT_EQ(used[0].len, kHdr + f.size());
  const std::string got = read_guest(addrs, sizes, used[0].len);
  EXPECT_EQ(got.substr(kHdr), str(f));
  EXPECT_EQ(static_cast<uint8_t>(got[10]), 1);
}

TEST_F(NetTest, FrameTooBigForTheBufferIsDroppedAndTheBufferReturnedEmpty) {
  activate();
  post_rx({kHdr + 100});
  const auto [head2, addrs2] = post_rx();
  net->notify(VirtioNet::kReceiveq);
  inject(make_frame(101, 0));  // one byte too many
  const Frame small = make_frame(100, 1);
  inject(small);
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 2; }));
  const auto used = rx_used.take();
  EXPECT_EQ(used[0].len, 0U);
  EXPECT_EQ(used[1].id, head2);
  EXPECT_EQ(used[1].len, kHdr + small.size());
  EXPECT_EQ(get(addrs2[0] + kHdr, small.size()), str(small));
  EXPECT_EQ(net->stats().rx_dropped, 1U);
  // A chain with no writable part at all (hostile) is returned empty too.
  add_chain(rxq, {{buffer(rxq, 64), 64}}, {});
  inject(make_frame(60, 0));
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 3; }));
  EXPECT_EQ(rx_used.take()[0].len, 0U);
  EXPECT_TRUE(transport.resets().empty());
}

TEST_F(NetTest, PendingFramesAreBoundedAndPauseTheBackend) {
  activate();
  for (int i = 0; i < 300; ++i) inject(make_frame(60, static_cast<uint8_t>(i)));
  loop.drain();
  ASSERT_TRUE(settle(loop, [&] { return net->stats().rx_dropped == 300 - 256; }));
  EXPECT_EQ(pauses(), std::vector<bool>{true});
  for (int i = 0; i < 200; ++i) post_rx({kHdr + 64});
  net->notify(VirtioNet::kReceiveq);
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 200; }));
  EXPECT_EQ(pauses(), (std::vector<bool>{true, false}));  // 56 left: room again
  // The first 256 arrived, in order.
  const auto used = rx_used.take();
  EXPECT_EQ(used.front().len, kHdr + 60);
  for (int i = 0; i < 56; ++i) post_rx({kHdr + 64});
  net->notify(VirtioNet::kReceiveq);
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 256; }));
  EXPECT_EQ(net->stats().rx_frames, 256U);
}

TEST_F(NetTest, NothingBeforeActivationNorAfterReset) {
  inject(make_frame(60, 0));  // no driver yet: dropped
  loop.drain();
  EXPECT_EQ(net->stats().rx_dropped, 1U);
  post_tx(make_frame(60, 0));
  net->notify(VirtioNet::kTransmitq);
  loop.drain();
  EXPECT_TRUE(sent().empty());

  activate();  // the waiting transmit goes now
  ASSERT_TRUE(settle(loop, [&] { return sent().size() == 1; }));
  inject(make_frame(60, 0));
  loop.drain();
  net->reset();
  post_rx();
  net->notify(VirtioNet::kReceiveq);
  loop.drain();
  inject(make_frame(60, 0));
  loop.drain();
  EXPECT_EQ(rxq.used_idx(), 0);
  EXPECT_EQ(net->stats().rx_frames, 0U);
}

TEST_F(NetTest, LegacyHeaderWithoutVersion1) {
  activate(VirtioNet::kFeatureMac);
  const Frame f = make_frame(60, 2);
  post_tx(f, {}, nullptr, VirtioNet::kLegacyHeaderSize);
  net->notify(VirtioNet::kTransmitq);
  ASSERT_TRUE(settle(loop, [&] { return sent().size() == 1; }));
  EXPECT_EQ(sent()[0], f);
  const auto [head, addrs] = post_rx();
  inject(f);
  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 1; }));
  EXPECT_EQ(rx_used.take()[0].len, VirtioNet::kLegacyHeaderSize + f.size());
  EXPECT_EQ(get(addrs[0] + VirtioNet::kLegacyHeaderSize, f.size()), str(f));
}

TEST_F(NetTest, ActivateNeedsBothQueues) {
  DeviceContext ctx = transport.context();
  std::vector<Virtqueue> one(1);
  ctx.queues = &one;
  auto r = net->activate(ctx, kFeatures);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "virtio-net: activated without its receive and transmit queues");
}

TEST_F(NetTest, SaveRestore) {
  activate();
  StateWriter w;
  net->save(w);
  VirtioNet other(std::make_unique<FakeBackend>(shared), loop, default_mac(7));
  StateReader r(w.bytes());
  ASSERT_TRUE(other.restore(r).ok());
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(other.mac(), default_mac(0));

  // Truncated, another device's, a multicast MAC, unknown features: refused.
  for (size_t cut = 0; cut < w.bytes().size(); ++cut) {
    StateReader t(w.bytes().data(), cut);
    EXPECT_FALSE(other.restore(t).ok()) << cut;
  }
  StateWriter bad;
  bad.begin("virtio-net/1");
  const uint8_t multicast[6] = {1, 0, 0x5e, 0, 0, 1};
  bad.put_bytes(multicast, 6);
  bad.put<uint64_t>(0);
  StateReader b(bad.bytes());
  EXPECT_EQ(other.restore(b).error().message, "virtio-net state: bad MAC address");
  StateWriter feat;
  feat.begin("virtio-net/1");
  feat.put_bytes(default_mac(0).data(), 6);
  feat.put<uint64_t>(1ULL << 15);
  StateReader fr(feat.bytes());
  EXPECT_EQ(other.restore(fr).error().message, "virtio-net state: unknown features");
  StateWriter tag;
  tag.begin("virtio-blk/1");
  StateReader tr(tag.bytes());
  EXPECT_FALSE(other.restore(tr).ok());
  EXPECT_EQ(other.mac(), default_mac(0));
}

// The whole path, as Linux drives it: the real transport, and libslirp behind the device.
// The guest's ARP request for the gateway leaves through transmitq, slirp's answer comes back
// through receiveq with a used-buffer interrupt.
TEST(NetSlirp, GuestArpsTheGatewayThroughTheTransport) {
  EventLoop loop;
  ASSERT_TRUE(loop.start("net-slirp").ok());
  GuestRam ram{1 << 20};
  DriverQueue rxq{ram, 16, GuestRam::kBase + 0x10000};
  DriverQueue txq{ram, 16, GuestRam::kBase + 0x40000};
  UsedReader rx_used{rxq};
  vessel::testing::FakeController pic;
  constexpr unsigned kIrq = 3;
  auto backend = SlirpBackend::create(loop, {});
  ASSERT_TRUE(backend.ok()) << backend.error().message;
  auto mmio = std::make_unique<VirtioMmio>(
      std::make_unique<VirtioNet>(std::move(*backend), loop, default_mac(0)), ram.bus,
      IrqLine(&pic, kIrq));
  EXPECT_EQ(vessel::testing::rd(*mmio, VirtioMmio::kDeviceID), 1U);
  // The MAC through the transport's configuration window.
  EXPECT_EQ(vessel::testing::rd(*mmio, VirtioMmio::kConfig, 4), 0x12005452U);
  EXPECT_EQ(vessel::testing::rd(*mmio, VirtioMmio::kConfig + 4, 4), 0x00015634U);
  testing::bring_up(*mmio, kFeatures | kFeatureEventIdx, {&rxq, &txq});

  const uint64_t rx = buffer(rxq, kRxBufferSize);
  add_chain(rxq, {}, {{rx, kRxBufferSize}});
  vessel::testing::wr(*mmio, VirtioMmio::kQueueNotify, VirtioNet::kReceiveq);

  // 52:54:00:12:34:56 (10.0.2.15) asks who has 10.0.2.2.
  const uint8_t arp[kHdr + 42] = {
      0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,     // virtio_net_hdr
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,  // dst, src
      0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x01,              // ARP request
      0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10,   0,    2,    15,                // sha, spa
      0,    0,    0,    0,    0,    0,    10,   0,    2,    2};                // tha, tpa
  add_chain(txq, {{txq.alloc(sizeof arp, arp), sizeof arp}}, {});
  vessel::testing::wr(*mmio, VirtioMmio::kQueueNotify, VirtioNet::kTransmitq);

  ASSERT_TRUE(settle(loop, [&] { return rxq.used_idx() == 1 && pic.level(kIrq); }));
  const auto used = rx_used.take();
  ASSERT_GE(used[0].len, kHdr + 42);
  const auto bytes = ram.bytes(rx, used[0].len);
  const std::string reply(bytes.begin() + kHdr, bytes.end());
  EXPECT_EQ(reply.substr(0, 6), std::string("\x52\x54\x00\x12\x34\x56", 6));  // to us
  EXPECT_EQ(reply.substr(12, 2), std::string("\x08\x06", 2));                 // ARP
  EXPECT_EQ(reply.substr(20, 2), std::string("\x00\x02", 2));                 // reply
  EXPECT_EQ(reply.substr(28, 4), std::string("\x0a\x00\x02\x02", 4));         // 10.0.2.2
  EXPECT_EQ(reply.substr(38, 4), std::string("\x0a\x00\x02\x0f", 4));         // 10.0.2.15
  EXPECT_EQ(txq.used_idx(), 1);

  vessel::testing::wr(*mmio, VirtioMmio::kStatus, 0);  // the driver resets the card
  EXPECT_EQ(mmio->status(), 0U);
  mmio.reset();
  loop.stop();
}

}  // namespace
}  // namespace vessel::virtio
