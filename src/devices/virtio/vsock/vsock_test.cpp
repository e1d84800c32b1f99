// virtio-vsock against a driver written with plain stores, and real Unix sockets on the host
// side: both directions of connection, data and credit, resets, and the bounds a hostile guest
// meets.
#include "devices/virtio/vsock/vsock.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "devices/virtio/device_test_support.hpp"

namespace vessel::virtio {
namespace {

using testing::add_chain;
using testing::buffer;
using testing::DriverQueue;
using testing::FakeTransport;
using testing::GuestRam;
using testing::settle;
using vsock::Header;
using vsock::kHeaderSize;
using vsock::Op;

constexpr uint32_t kCid = 7;
constexpr uint32_t kRxBuf = 4096 + kHeaderSize;

int connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

int listen_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::listen(fd, 4), 0);
  return fd;
}

std::string read_some(int fd) {
  char buf[256];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

class VsockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop.start("vsock-test").ok());
    char dir[] = "/tmp/vessel-vsock-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    uds = dir_ + "/v.sock";
    auto dev = VirtioVsock::create(loop, VsockConfig{kCid, uds});
    ASSERT_TRUE(dev.ok()) << dev.error().message;
    vsock = std::move(*dev);
    transport.attach(VirtioVsock::kRxq, rxq);
    transport.attach(VirtioVsock::kTxq, txq);
    transport.attach(VirtioVsock::kEventq, evq);
    ASSERT_TRUE(vsock->activate(transport.context(), kFeatureVersion1).ok());
  }
  void TearDown() override {
    vsock.reset();
    std::string cmd = "rm -rf " + dir_;
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }

  Header guest_header(Op op, uint32_t guest_port, uint32_t host_port) {
    Header h;
    h.src_cid = kCid;
    h.dst_cid = vsock::kHostCid;
    h.src_port = guest_port;
    h.dst_port = host_port;
    h.op = op;
    h.buf_alloc = 256 * 1024;
    h.fwd_cnt = guest_fwd;
    return h;
  }
  // The driver sends one packet on tx.
  void send(const Header& h, const std::string& payload = "") {
    std::vector<uint8_t> bytes(kHeaderSize + payload.size());
    Header copy = h;
    copy.len = static_cast<uint32_t>(payload.size());
    vsock::write_header(copy, bytes.data());
    std::memcpy(bytes.data() + kHeaderSize, payload.data(), payload.size());
    const uint64_t a = txq.alloc(static_cast<uint32_t>(bytes.size()), bytes.data());
    add_chain(txq, {{a, static_cast<uint32_t>(bytes.size())}}, {});
    vsock->notify(VirtioVsock::kTxq);
    const uint16_t want = ++tx_sent;
    ASSERT_TRUE(settle(loop, [&] { return txq.used_idx() == want; }));
  }
  // The driver posts rx buffers.
  void post_rx(int n) {
    for (int i = 0; i < n; ++i) {
      const uint64_t a = buffer(rxq, kRxBuf);
      rx_addrs.push_back(a);
      add_chain(rxq, {}, {{a, kRxBuf}});
    }
    vsock->notify(VirtioVsock::kRxq);
  }
  // The next packet the device put on rx (waiting for it).
  std::pair<Header, std::string> receive() {
    EXPECT_TRUE(settle(loop, [&] { return rxq.used_idx() != rx_seen; }));
    if (rxq.used_idx() == rx_seen) return {};
    const auto [id, len] = rxq.used(rx_seen++);
    (void)id;
    const uint64_t a = rx_addrs.at(rx_taken++);
    const std::vector<uint8_t> bytes = ram.bytes(a, len);
    auto h = vsock::parse_header(bytes.data(), bytes.size());
    EXPECT_TRUE(h.has_value());
    if (!h) return {};
    guest_fwd += h->len;
    return {*h, std::string(bytes.begin() + kHeaderSize, bytes.end())};
  }

  EventLoop loop;
  GuestRam ram{4 << 20};
  DriverQueue rxq{ram, 256, GuestRam::kBase + 0x10000};
  DriverQueue txq{ram, 256, GuestRam::kBase + 0x100000};
  DriverQueue evq{ram, 8, GuestRam::kBase + 0x200000};
  FakeTransport transport{ram, 3};
  std::unique_ptr<VirtioVsock> vsock;
  std::string dir_, uds;
  std::vector<uint64_t> rx_addrs;
  size_t rx_taken = 0;
  uint16_t rx_seen = 0, tx_sent = 0;
  uint32_t guest_fwd = 0;
};

TEST_F(VsockTest, IdentityAndGuestCid) {
  EXPECT_EQ(vsock->device_id(), DeviceId::kVsock);
  EXPECT_EQ(vsock->num_queues(), 3U);
  uint8_t cfg[8];
  vsock->read_config(0, cfg, 8);
  uint64_t cid = 0;
  std::memcpy(&cid, cfg, 8);
  EXPECT_EQ(cid, kCid);
}

TEST_F(VsockTest, GuestConnectsToAHostPortsSocket) {
  const int listener = listen_unix(uds + "_1234");
  post_rx(8);
  send(guest_header(Op::kRequest, 5000, 1234));
  auto [resp, none] = receive();
  EXPECT_EQ(resp.op, Op::kResponse);
  EXPECT_EQ(resp.src_port, 1234U);
  EXPECT_EQ(resp.dst_port, 5000U);
  EXPECT_EQ(resp.dst_cid, kCid);
  EXPECT_EQ(resp.buf_alloc, vsock::kBufAlloc);
  const int host = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(host, 0);

  send(guest_header(Op::kRw, 5000, 1234), "hello host");
  EXPECT_EQ(read_some(host), "hello host");
  ASSERT_EQ(::send(host, "hello guest", 11, 0), 11);
  std::pair<Header, std::string> data;
  do data = receive();
  while (data.first.op == Op::kCreditUpdate);
  EXPECT_EQ(data.first.op, Op::kRw);
  EXPECT_EQ(data.second, "hello guest");
  EXPECT_EQ(data.first.fwd_cnt, 10U);  // the 10 bytes the host program read

  // The guest closes: a reset answers, and the host program reads the end.
  send(guest_header(Op::kShutdown, 5000, 1234));
  Header sd = guest_header(Op::kShutdown, 5000, 1234);
  sd.flags = vsock::kShutdownRecv | vsock::kShutdownSend;
  send(sd);
  EXPECT_EQ(receive().first.op, Op::kRst);
  EXPECT_EQ(read_some(host), "");
  EXPECT_EQ(vsock->connection_count(), 0U);
  ::close(host);
  ::close(listener);
}

TEST_F(VsockTest, HostConnectsWithConnectLine) {
  post_rx(8);
  const int host = connect_unix(uds);
  ASSERT_GE(host, 0);
  ASSERT_EQ(::send(host, "CONNECT 52\n", 11, 0), 11);
  auto [req, none] = receive();
  EXPECT_EQ(req.op, Op::kRequest);
  EXPECT_EQ(req.dst_port, 52U);
  EXPECT_GE(req.src_port, vsock::kFirstHostPort);
  Header resp = guest_header(Op::kResponse, 52, req.src_port);
  send(resp);
  EXPECT_EQ(read_some(host), "OK " + std::to_string(req.src_port) + "\n");
  ASSERT_EQ(::send(host, "ping", 4, 0), 4);
  auto [rw, text] = receive();
  EXPECT_EQ(rw.op, Op::kRw);
  EXPECT_EQ(text, "ping");
  send(guest_header(Op::kRw, 52, req.src_port), "pong");
  EXPECT_EQ(read_some(host), "pong");
  // The host program closes: the guest is told it will get no more.
  ::close(host);
  std::pair<Header, std::string> next;
  do next = receive();
  while (next.first.op == Op::kCreditUpdate);
  const Header& sd = next.first;
  EXPECT_EQ(sd.op, Op::kShutdown);
  EXPECT_EQ(sd.flags, vsock::kShutdownSend);
}

TEST_F(VsockTest, RefusalsAreResets) {
  post_rx(8);
  send(guest_header(Op::kRequest, 6000, 999));  // nobody listens on uds_999
  EXPECT_EQ(receive().first.op, Op::kRst);
  send(guest_header(Op::kRw, 6000, 999), "data");  // no such connection
  EXPECT_EQ(receive().first.op, Op::kRst);
  Header other = guest_header(Op::kRequest, 6001, 999);
  other.type = 2;  // seqpacket: not offered
  send(other);
  EXPECT_EQ(receive().first.op, Op::kRst);
  // Another CID's packets are dropped without an answer.
  Header spoof = guest_header(Op::kRequest, 6002, 999);
  spoof.src_cid = 99;
  send(spoof);
  EXPECT_EQ(vsock->counters().dropped_packets, 1U);
}

TEST_F(VsockTest, SendingBeyondTheCreditResets) {
  const int listener = listen_unix(uds + "_77");
  post_rx(64);
  send(guest_header(Op::kRequest, 5000, 77));
  EXPECT_EQ(receive().first.op, Op::kResponse);
  const int host = ::accept(listener, nullptr, nullptr);
  // The host program reads nothing: 64 KiB is all the guest may have in flight.
  const std::string chunk(16 * 1024, 'x');
  for (int i = 0; i < 64; ++i) send(guest_header(Op::kRw, 5000, 77), chunk);
  bool reset = false;
  for (int i = 0; i < 64 && !reset; ++i) reset = receive().first.op == Op::kRst;
  EXPECT_TRUE(reset);
  EXPECT_EQ(vsock->connection_count(), 0U);
  ::close(host);
  ::close(listener);
}

TEST_F(VsockTest, ConnectionsAreBounded) {
  std::vector<int> fds;
  for (size_t i = 0; i < vsock::kMaxConnections; ++i) fds.push_back(connect_unix(uds));
  ASSERT_TRUE(settle(loop, [&] { return vsock->connection_count() == vsock::kMaxConnections; }));
  const int extra = connect_unix(uds);
  ASSERT_GE(extra, 0);
  EXPECT_EQ(read_some(extra), "");  // closed at once
  EXPECT_EQ(vsock->connection_count(), vsock::kMaxConnections);
  // A line that is not CONNECT closes its connection.
  ASSERT_EQ(::send(fds[0], "HELLO\n", 6, 0), 6);
  EXPECT_EQ(read_some(fds[0]), "");
  for (int fd : fds) ::close(fd);
  ::close(extra);
}

// A guest flooding requests while it posts no rx buffers: the resets waiting for it stop at
// kMaxControl (the rest are dropped and counted), so the host's memory does not grow with it.
TEST_F(VsockTest, ControlPacketsForTheGuestAreBounded) {
  const size_t extra = 40;
  for (size_t i = 0; i < vsock::kMaxControl + extra; ++i) {
    send(guest_header(Op::kRequest, static_cast<uint32_t>(7000 + i), 999));  // nobody listens
  }
  const auto c = vsock->counters();
  EXPECT_EQ(c.resets_sent, vsock::kMaxControl);
  EXPECT_EQ(c.dropped_packets, extra);
  EXPECT_EQ(vsock->connection_count(), 0U);
  post_rx(4);
  EXPECT_EQ(receive().first.op, Op::kRst) << "the queued resets still reach the guest";
}

TEST_F(VsockTest, MalformedPacketsAreDropped) {
  post_rx(2);
  const uint8_t shortpkt[10] = {};
  const uint64_t a = txq.alloc(sizeof shortpkt, shortpkt);
  add_chain(txq, {{a, sizeof shortpkt}}, {});
  vsock->notify(VirtioVsock::kTxq);
  ASSERT_TRUE(settle(loop, [&] { return txq.used_idx() == 1; }));
  tx_sent = 1;
  EXPECT_TRUE(transport.resets().empty());
  EXPECT_EQ(vsock->connection_count(), 0U);
}

TEST(VsockOption, Parse) {
  auto ok = parse_vsock_option("cid=3,uds=/tmp/v.sock");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->guest_cid, 3U);
  EXPECT_EQ(ok->uds_path, "/tmp/v.sock");
  EXPECT_FALSE(parse_vsock_option("cid=2,uds=/tmp/v").ok());
  EXPECT_FALSE(parse_vsock_option("cid=3").ok());
  EXPECT_FALSE(parse_vsock_option("uds=/x,port=1,cid=4").ok());
  // ",," is a comma inside the path, as --disk and --balloon split their fields.
  auto comma = parse_vsock_option("uds=/tmp/a,,b.sock,cid=5");
  ASSERT_TRUE(comma.ok()) << comma.error().message;
  EXPECT_EQ(comma->uds_path, "/tmp/a,b.sock");
  EXPECT_EQ(comma->guest_cid, 5u);
  EXPECT_FALSE(parse_vsock_option("cid=3,uds=/tmp/v,").ok()) << "an empty field";
}

TEST(VsockHeader, RoundTripAndChecks) {
  Header h;
  h.src_cid = 3;
  h.dst_cid = 2;
  h.src_port = 1;
  h.dst_port = 2;
  h.op = Op::kRw;
  h.len = 5;
  h.buf_alloc = 7;
  h.fwd_cnt = 9;
  uint8_t raw[kHeaderSize];
  vsock::write_header(h, raw);
  auto back = vsock::parse_header(raw, sizeof raw);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->len, 5U);
  EXPECT_EQ(back->fwd_cnt, 9U);
  EXPECT_FALSE(vsock::parse_header(raw, kHeaderSize - 1));
  h.len = vsock::kMaxPayload + 1;
  vsock::write_header(h, raw);
  EXPECT_FALSE(vsock::parse_header(raw, sizeof raw));
  h.len = 1;
  h.op = Op::kRequest;
  vsock::write_header(h, raw);
  EXPECT_FALSE(vsock::parse_header(raw, sizeof raw));
  raw[30] = 9;  // op 9
  raw[24] = 0;
  EXPECT_FALSE(vsock::parse_header(raw, sizeof raw));
}

}  // namespace
}  // namespace vessel::virtio
