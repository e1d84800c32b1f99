// --net parsing, and the backends against the real thing: slirp answering ARP and DHCP and
// forwarding a host port (loopback only), a tap interface in a private network namespace.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "host/net/net_option.hpp"
#include "host/net/net_test_frames.hpp"
#include "host/net/slirp_backend.hpp"
#include "host/net/tap_backend.hpp"

namespace vessel {
namespace {

using namespace net_test;  // NOLINT(google-build-using-namespace): the tests' own helpers

// ---------------------------------------------------------------- option parsing

NetSpec parse_ok(const std::string& text) {
  auto spec = parse_net_option(text);
  EXPECT_TRUE(spec.ok()) << text << ": " << (spec.ok() ? "" : spec.error().message);
  return spec.ok() ? *spec : NetSpec{};
}

std::string parse_error(const std::string& text) {
  auto spec = parse_net_option(text);
  EXPECT_FALSE(spec.ok()) << text << " parsed";
  if (spec.ok()) return {};
  EXPECT_EQ(spec.error().message.find('\n'), std::string::npos);
  return spec.error().message;
}

TEST(NetOption, User) {
  const NetSpec s = parse_ok("user");
  EXPECT_EQ(s.kind, NetSpec::Kind::kUser);
  EXPECT_TRUE(s.hostfwd.empty());
  EXPECT_FALSE(s.mac.has_value());
}

TEST(NetOption, HostForwardDefaultsToLoopbackAndDhcpGuest) {
  const NetSpec s = parse_ok("user,hostfwd=tcp::8080-:80");
  ASSERT_EQ(s.hostfwd.size(), 1U);
  const HostForward& f = s.hostfwd[0];
  EXPECT_EQ(f.protocol, HostForward::Protocol::kTcp);
  EXPECT_EQ(f.host_addr, 0x7f000001U);
  EXPECT_EQ(f.host_port, 8080);
  EXPECT_EQ(f.guest_addr, 0U);
  EXPECT_EQ(f.guest_port, 80);
  EXPECT_EQ(f.name(), "tcp:127.0.0.1:8080");
}

TEST(NetOption, SeveralHostForwards) {
  const NetSpec s = parse_ok(
      "user,hostfwd=udp:0.0.0.0:5353-10.0.2.15:53,hostfwd=tcp:127.0.0.1:2222-:22,"
      "hostfwd=::65535-10.0.2.100:1");
  ASSERT_EQ(s.hostfwd.size(), 3U);
  EXPECT_EQ(s.hostfwd[0].protocol, HostForward::Protocol::kUdp);
  EXPECT_EQ(s.hostfwd[0].host_addr, 0U);
  EXPECT_EQ(s.hostfwd[0].guest_addr, 0x0a00020fU);
  EXPECT_EQ(s.hostfwd[0].name(), "udp:0.0.0.0:5353");
  EXPECT_EQ(s.hostfwd[1].host_port, 2222);
  EXPECT_EQ(s.hostfwd[1].guest_port, 22);
  EXPECT_EQ(s.hostfwd[2].protocol, HostForward::Protocol::kTcp);  // empty protocol: tcp
  EXPECT_EQ(s.hostfwd[2].host_port, 65535);
  EXPECT_EQ(s.hostfwd[2].guest_addr, 0x0a000264U);
  EXPECT_EQ(s.hostfwd[2].guest_port, 1);
}

TEST(NetOption, Tap) {
  NetSpec s = parse_ok("tap=tap0");
  EXPECT_EQ(s.kind, NetSpec::Kind::kTap);
  EXPECT_EQ(s.ifname, "tap0");
  s = parse_ok("tap,ifname=vm-tap.1");
  EXPECT_EQ(s.ifname, "vm-tap.1");
  s = parse_ok("tap=tap0,mac=52:54:00:AA:bb:0c");
  ASSERT_TRUE(s.mac.has_value());
  EXPECT_EQ(*s.mac, (MacAddress{0x52, 0x54, 0x00, 0xaa, 0xbb, 0x0c}));
  s = parse_ok("tap=123456789012345");  // IFNAMSIZ - 1 characters
  EXPECT_EQ(s.ifname.size(), 15U);
}

TEST(NetOption, Mac) {
  const NetSpec s = parse_ok("user,mac=02:00:00:00:00:01");
  ASSERT_TRUE(s.mac.has_value());
  EXPECT_EQ(format_mac(*s.mac), "02:00:00:00:00:01");
  EXPECT_EQ(format_mac(default_mac(0)), "52:54:00:12:34:56");
  EXPECT_EQ(format_mac(default_mac(3)), "52:54:00:12:34:59");
}

TEST(NetOption, UnknownBackendOrKey) {
  EXPECT_EQ(parse_error(""), "--net: unknown backend '' (expected user or tap=IFNAME)");
  EXPECT_EQ(parse_error("bridge=br0"),
            "--net: unknown backend 'bridge=br0' (expected user or tap=IFNAME)");
  EXPECT_EQ(parse_error("user=1"), "--net: unknown backend 'user=1' (expected user or tap=IFNAME)");
  EXPECT_EQ(
      parse_error("user,foo=1"),
      "--net: unknown key 'foo' for user (expected hostfwd, restrict, loopback, mmds or mac)");
  EXPECT_EQ(
      parse_error("user,foo"),
      "--net: unknown key 'foo' for user (expected hostfwd, restrict, loopback, mmds or mac)");
  EXPECT_EQ(
      parse_error("user,ifname=tap0"),
      "--net: unknown key 'ifname' for user (expected hostfwd, restrict, loopback, mmds or mac)");
  EXPECT_EQ(parse_error("tap=tap0,hostfwd=tcp::1-:2"),
            "--net: unknown key 'hostfwd' for tap (expected ifname or mac)");
  EXPECT_EQ(parse_error("user,hostfwd"), "--net: 'hostfwd' needs a value (hostfwd=...)");
  EXPECT_EQ(parse_error("user,"),
            "--net: unknown key '' for user (expected hostfwd, restrict, loopback, mmds or mac)");
}

TEST(NetOption, RestrictAndLoopback) {
  const NetSpec plain = parse_ok("user");
  EXPECT_FALSE(plain.restricted);  // QEMU's defaults
  EXPECT_TRUE(plain.host_loopback);
  const NetSpec s = parse_ok("user,restrict=on,loopback=off,hostfwd=tcp::2222-:22");
  EXPECT_TRUE(s.restricted);
  EXPECT_FALSE(s.host_loopback);
  EXPECT_EQ(s.hostfwd.size(), 1U);
  EXPECT_FALSE(parse_ok("user,restrict=off,loopback=on").restricted);
  EXPECT_TRUE(parse_ok("user,restrict=yes").restricted);  // QEMU's other spellings
  EXPECT_FALSE(parse_ok("user,loopback=n").host_loopback);
  EXPECT_EQ(parse_error("user,restrict=maybe"), "--net: restrict 'maybe': expected on or off");
  EXPECT_EQ(parse_error("user,loopback="), "--net: loopback '': expected on or off");
  EXPECT_EQ(parse_error("user,restrict"), "--net: 'restrict' needs a value (restrict=...)");
  EXPECT_EQ(parse_error("user,loopback=on,loopback=off"), "--net: loopback given twice");
  EXPECT_EQ(parse_error("tap=tap0,restrict=on"),
            "--net: unknown key 'restrict' for tap (expected ifname or mac)");
}

TEST(NetOption, MalformedHostForward) {
  for (const char* rule :
       {"tcp:8080-:80", "tcp::8080:80", "tcp::8080-80", "tcp::8080-:80:1", "tcp::abc-:80",
        "tcp::-:80", "tcp::8080-:", "tcp::8080-:80-", "tcp::+80-:80", "tcp:: 80-:80", ""}) {
    EXPECT_EQ(parse_error(std::string("user,hostfwd=") + rule),
              std::string("--net: malformed hostfwd '") + rule +
                  "' (expected [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)");
  }
  EXPECT_EQ(parse_error("user,hostfwd=sctp::1-:2"),
            "--net: hostfwd 'sctp::1-:2': unknown protocol 'sctp' (tcp or udp)");
  EXPECT_EQ(parse_error("user,hostfwd=tcp:1.2.3:8080-:80"),
            "--net: hostfwd 'tcp:1.2.3:8080-:80': bad host address '1.2.3'");
  EXPECT_EQ(parse_error("user,hostfwd=tcp:localhost:8080-:80"),
            "--net: hostfwd 'tcp:localhost:8080-:80': bad host address 'localhost'");
  for (const char* guest :
       {"192.168.1.5", "10.0.2.2", "10.0.2.3", "10.0.2.255", "10.0.2.0", "10.0.3.15", "x"}) {
    EXPECT_EQ(parse_error(std::string("user,hostfwd=tcp::8080-") + guest + ":80"),
              std::string("--net: hostfwd 'tcp::8080-") + guest + ":80': guest address '" + guest +
                  "' is not a guest address in 10.0.2.0/24");
  }
}

TEST(NetOption, PortOutOfRange) {
  EXPECT_EQ(parse_error("user,hostfwd=tcp::0-:80"),
            "--net: hostfwd 'tcp::0-:80': host port 0 out of range (1-65535)");
  EXPECT_EQ(parse_error("user,hostfwd=tcp::65536-:80"),
            "--net: hostfwd 'tcp::65536-:80': host port 65536 out of range (1-65535)");
  EXPECT_EQ(parse_error("user,hostfwd=udp::53-:99999999"),
            "--net: hostfwd 'udp::53-:99999999': guest port 99999999 out of range (1-65535)");
  EXPECT_EQ(parse_error("user,hostfwd=tcp::8080-:0"),
            "--net: hostfwd 'tcp::8080-:0': guest port 0 out of range (1-65535)");
  // Too many digits to be any port: malformed rather than a number that overflows.
  EXPECT_NE(parse_error("user,hostfwd=tcp::99999999999999999999-:80").find("malformed"),
            std::string::npos);
}

TEST(NetOption, DuplicateHostForward) {
  EXPECT_EQ(parse_error("user,hostfwd=tcp::8080-:80,hostfwd=tcp:127.0.0.1:8080-:81"),
            "--net: hostfwd tcp:127.0.0.1:8080 given twice");
  // The same port for tcp and udp, or on two addresses, are different sockets.
  EXPECT_EQ(parse_ok("user,hostfwd=tcp::8080-:80,hostfwd=udp::8080-:80").hostfwd.size(), 2U);
  EXPECT_EQ(parse_ok("user,hostfwd=tcp::8080-:80,hostfwd=tcp:127.0.0.2:8080-:80").hostfwd.size(),
            2U);
}

TEST(NetOption, BadMac) {
  const std::string form = "expected six hex bytes like 52:54:00:12:34:56";
  EXPECT_EQ(parse_error("user,mac=52:54:00:12:34"), "--net: mac '52:54:00:12:34': " + form);
  EXPECT_EQ(parse_error("user,mac=52:54:00:12:34:5"), "--net: mac '52:54:00:12:34:5': " + form);
  EXPECT_EQ(parse_error("user,mac=52:54:00:12:34:zz"), "--net: mac '52:54:00:12:34:zz': " + form);
  EXPECT_EQ(parse_error("user,mac=52:54:00:12:34:567"), "--net: mac '52:54:00:12:34:567': " + form);
  EXPECT_EQ(parse_error("user,mac=01:00:5e:00:00:01"),
            "--net: mac '01:00:5e:00:00:01': a multicast address cannot name one card");
  EXPECT_EQ(parse_error("user,mac=00:00:00:00:00:00"),
            "--net: mac '00:00:00:00:00:00': the all-zero address cannot name a card");
  EXPECT_EQ(parse_error("user,mac=02:00:00:00:00:01,mac=02:00:00:00:00:02"),
            "--net: mac given twice");
}

TEST(NetOption, BadTap) {
  EXPECT_EQ(parse_error("tap"), "--net: tap needs an interface name (tap=IFNAME)");
  EXPECT_EQ(parse_error("tap="), "--net: tap needs an interface name (tap=IFNAME)");
  EXPECT_EQ(parse_error("tap=1234567890123456"),
            "--net: tap interface name '1234567890123456' is not valid (1-15 characters, no "
            "'/', ':', ',', '=' or spaces)");
  EXPECT_NE(parse_error("tap=a/b").find("is not valid"), std::string::npos);
  EXPECT_NE(parse_error("tap=eth0:1").find("is not valid"), std::string::npos);
  EXPECT_EQ(parse_error("tap=t0,ifname=t1"), "--net: tap interface named twice");
}

// ---------------------------------------------------------------- slirp

class SlirpTest : public ::testing::Test {
 public:
  void SetUp() override { ASSERT_TRUE(loop.start("net-test").ok()); }
  void TearDown() override {
    backend.reset();
    loop.stop();
  }

  void open(const std::vector<HostForward>& fwd = {}, const std::string& option = "user") {
    auto spec = parse_net_option(option);
    ASSERT_TRUE(spec.ok()) << spec.error().message;
    spec->hostfwd = fwd;
    auto created = SlirpBackend::create(loop, *spec);
    ASSERT_TRUE(created.ok()) << created.error().message;
    backend = std::move(*created);
    backend->start(frames.receiver());
  }
  // send() belongs to the loop thread.
  void send(const Frame& f) {
    loop.post([this, f] { backend->send(f); });
  }

  EventLoop loop;
  Collector frames;
  std::unique_ptr<SlirpBackend> backend;
};

TEST_F(SlirpTest, AnswersArpForTheGateway) {
  open();
  send(arp_request(kGuestMac, kGuestIp, kGatewayIp));
  const auto reply =
      frames.wait_for([](const Frame& f) { return is_arp_reply(f, kGatewayIp, kGuestIp); });
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(std::equal(kGuestMac.begin(), kGuestMac.end(), reply->begin()));       // to the guest
  EXPECT_TRUE(std::equal(kGuestMac.begin(), kGuestMac.end(), reply->begin() + 32));  // tha
}

TEST_F(SlirpTest, OffersTheFirstDhcpAddress) {
  open();
  send(dhcp_discover());
  const auto offer = frames.wait_for([](const Frame& f) { return is_dhcp_reply(f); });
  ASSERT_TRUE(offer.has_value());
  const size_t b = 14 + 4 * (offer->at(14) & 0xf) + 8;
  EXPECT_EQ(offer->at(b), 2);                                  // BOOTREPLY
  EXPECT_EQ(get32(*offer, b + 4), 0x12345678U);                // xid echoed
  EXPECT_EQ(get32(*offer, b + 16), kGuestIp);                  // yiaddr
  EXPECT_EQ(dhcp_option(*offer, b, 53), Frame{2});             // DHCPOFFER
  EXPECT_EQ(dhcp_option(*offer, b, 3), (Frame{10, 0, 2, 2}));  // router
  EXPECT_EQ(dhcp_option(*offer, b, 6), (Frame{10, 0, 2, 3}));  // DNS
}

uint16_t free_port(int type) {
  const int s = socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  EXPECT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(getsockname(s, reinterpret_cast<sockaddr*>(&a), &len), 0);
  close(s);
  return ntohs(a.sin_port);
}

// A TCP socket listening on 127.0.0.1, on the port the kernel picked (`port`).
int loopback_listener(uint16_t& port, int flags = 0) {
  const int s = socket(AF_INET, SOCK_STREAM | flags, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  EXPECT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(listen(s, 4), 0);
  EXPECT_EQ(getsockname(s, reinterpret_cast<sockaddr*>(&a), &len), 0);
  port = ntohs(a.sin_port);
  return s;
}

HostForward forward(HostForward::Protocol protocol, uint16_t host_port, uint16_t guest_port) {
  HostForward f;
  f.protocol = protocol;
  f.host_addr = 0x7f000001;
  f.host_port = host_port;
  f.guest_port = guest_port;
  return f;
}

// Connects to the forwarded host port: slirp opens the connection to the guest (a SYN to
// 10.0.2.15:80, from the gateway).
void expect_forward_reaches_the_guest(SlirpTest& t, const std::string& option) {
  const uint16_t port = free_port(SOCK_STREAM);
  t.open({forward(HostForward::Protocol::kTcp, port, 80)}, option);
  // slirp learns the guest's MAC from its ARP request, as from a real guest's first packets.
  t.send(arp_request(kGuestMac, kGuestIp, kGatewayIp));
  ASSERT_TRUE(
      t.frames.wait_for([](const Frame& f) { return is_arp_reply(f, kGatewayIp, kGuestIp); })
          .has_value());

  const int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ASSERT_GE(s, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const int rc = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  EXPECT_TRUE(rc == 0 || errno == EINPROGRESS) << std::strerror(errno);

  const auto syn = t.frames.wait_for([](const Frame& f) {
    if (f.size() < 54 || get16(f, 12) != 0x0800 || f[23] != 6) return false;
    const size_t tcp = 14 + 4 * (f[14] & 0xf);
    return f.size() >= tcp + 14 && get32(f, 30) == kGuestIp && get16(f, tcp + 2) == 80 &&
           (f[tcp + 13] & 0x12) == 0x02;  // SYN without ACK
  });
  close(s);
  ASSERT_TRUE(syn.has_value()) << option;
  EXPECT_EQ(get32(*syn, 26), kGatewayIp);  // from the host, seen as the gateway
  EXPECT_TRUE(std::equal(kGuestMac.begin(), kGuestMac.end(), syn->begin()));
}

TEST_F(SlirpTest, HostForwardReachesTheGuest) { expect_forward_reaches_the_guest(*this, "user"); }

// Forwarded ports are what restrict=on keeps.
TEST_F(SlirpTest, HostForwardReachesARestrictedGuest) {
  expect_forward_reaches_the_guest(*this, "user,restrict=on,loopback=off");
}

// A host service on 127.0.0.1 that the guest tries through the gateway, 10.0.2.2.
class GuestToHostLoopback : public SlirpTest {
 protected:
  void SetUp() override {
    SlirpTest::SetUp();
    listener = loopback_listener(port, SOCK_NONBLOCK);
  }
  void TearDown() override {
    close(listener);
    SlirpTest::TearDown();
  }

  // Opens the stack with `option` and sends the guest's SYN to 10.0.2.2:port.
  void guest_connects(const std::string& option) {
    open({}, option);
    send(arp_request(kGuestMac, kGuestIp, kGatewayIp));
    ASSERT_TRUE(
        frames.wait_for([](const Frame& f) { return is_arp_reply(f, kGatewayIp, kGuestIp); })
            .has_value());
    send(tcp_syn(kGatewayIp, port));
  }
  // Whether the host service got a connection within `wait`.
  bool host_reached(std::chrono::milliseconds wait) {
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait.count())) != 1) return false;
    const int c = accept(listener, nullptr, nullptr);
    if (c >= 0) close(c);
    return c >= 0;
  }
  // Whether the guest was told no: a RST from 10.0.2.2:port, or ICMP destination unreachable.
  bool guest_refused() {
    const uint16_t p = port;
    return frames
        .wait_for([p](const Frame& f) {
          if (f.size() < 34 || get16(f, 12) != 0x0800 || get32(f, 30) != kGuestIp) return false;
          const size_t l4 = 14 + 4 * (f[14] & 0xf);
          if (f[23] == 1) return f.size() > l4 && f[l4] == 3;  // ICMP unreachable
          return f[23] == 6 && f.size() >= l4 + 14 && get16(f, l4) == p &&
                 (f[l4 + 13] & 0x04) != 0;  // RST
        })
        .has_value();
  }

  int listener = -1;
  uint16_t port = 0;
};

// QEMU's default, and `vessel run --net user`'s: the gateway is the host's loopback.
TEST_F(GuestToHostLoopback, ReachesTheHostByDefault) {
  guest_connects("user");
  EXPECT_TRUE(host_reached(std::chrono::seconds(5)));
}

TEST_F(GuestToHostLoopback, LoopbackOffRefusesTheGuest) {
  guest_connects("user,loopback=off");
  EXPECT_TRUE(guest_refused());
  EXPECT_FALSE(host_reached(std::chrono::milliseconds(300)));
}

TEST_F(GuestToHostLoopback, RestrictOnRefusesTheGuest) {
  guest_connects("user,restrict=on");
  EXPECT_TRUE(guest_refused());
  EXPECT_FALSE(host_reached(std::chrono::milliseconds(300)));
}

TEST_F(SlirpTest, PortInUseIsAnErrorAtStartup) {
  uint16_t port = 0;
  const int s = loopback_listener(port);
  NetSpec spec;
  spec.hostfwd = {forward(HostForward::Protocol::kTcp, port, 80)};
  auto created = SlirpBackend::create(loop, spec);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().message,
            "hostfwd tcp:127.0.0.1:" + std::to_string(port) + ": port in use");
  close(s);

  const int u = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(getsockname(u, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const uint16_t uport = ntohs(a.sin_port);
  // The first rule binds, the second fails: the error names the second.
  const uint16_t other = free_port(SOCK_STREAM);
  spec.hostfwd = {forward(HostForward::Protocol::kTcp, other, 22),
                  forward(HostForward::Protocol::kUdp, uport, 53)};
  created = SlirpBackend::create(loop, spec);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().message,
            "hostfwd udp:127.0.0.1:" + std::to_string(uport) + ": port in use");
  close(u);
}

TEST_F(SlirpTest, OpenFromSpec) {
  auto spec = parse_net_option("user");
  ASSERT_TRUE(spec.ok());
  auto opened = open_net_backend(*spec, loop);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ((*opened)->name(), "user");
  // Destroyed without ever being started, and started then destroyed from this thread.
  opened->reset();
  open();
  backend.reset();
}

TEST_F(SlirpTest, DropsRuntsAndGiants) {
  open();
  loop.post([this] {
    backend->send(Frame(13, 0xff));
    backend->send(Frame(NetBackend::kMaxFrameSize + 1, 0xff));
  });
  send(arp_request(kGuestMac, kGuestIp, kGatewayIp));
  EXPECT_TRUE(frames.wait_for([](const Frame& f) { return is_arp_reply(f, kGatewayIp, kGuestIp); })
                  .has_value());
}

// ---------------------------------------------------------------- tap

TEST(TapBackend, BadNameAndNoDevice) {
  EventLoop loop;
  auto opened = TapBackend::open("1234567890123456", loop);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().message, "tap 1234567890123456: interface name must be 1-15 characters");
}

// A tap in a network namespace of its own (made by a helper thread, so that this process's
// other threads keep the host's), addressed 10.9.9.1/24: the kernel answers an ARP request
// the "guest" sends through the backend.
TEST(TapBackend, KernelAnswersArpThroughTheTap) {
  std::unique_ptr<TapBackend> tap;
  std::string error;
  int ctl = -1;  // keeps the namespace's configuration socket (and so the namespace)
  EventLoop loop;
  std::thread setup([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      error = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    auto opened = TapBackend::open("vtest0", loop);
    if (!opened.ok()) {
      error = opened.error().message;
      return;
    }
    tap = std::move(*opened);
    ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "vtest0");
    auto* sin = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(0x0a090901);
    if (ioctl(ctl, SIOCSIFADDR, &ifr) != 0) error = std::string("SIOCSIFADDR: ") + strerror(errno);
    sin->sin_addr.s_addr = htonl(0xffffff00);
    if (ioctl(ctl, SIOCSIFNETMASK, &ifr) != 0) error = "SIOCSIFNETMASK";
    ifr.ifr_flags = IFF_UP;
    if (ioctl(ctl, SIOCSIFFLAGS, &ifr) != 0) error = "SIOCSIFFLAGS";
  });
  setup.join();
  if (tap == nullptr) GTEST_SKIP() << "no tap here: " << error;
  ASSERT_EQ(error, "");
  EXPECT_EQ(tap->ifname(), "vtest0");

  ASSERT_TRUE(loop.start("tap-test").ok());
  Collector frames;
  tap->start(frames.receiver());
  const Frame request = arp_request(kGuestMac, 0x0a090902, 0x0a090901);
  const auto reply = [&] {
    for (int attempt = 0; attempt < 50; ++attempt) {
      loop.post([&] { tap->send(request); });
      auto got =
          frames.wait_for([](const Frame& f) { return is_arp_reply(f, 0x0a090901, 0x0a090902); },
                          std::chrono::milliseconds(100));
      if (got) return got;
    }
    return std::optional<Frame>{};
  }();
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(std::equal(kGuestMac.begin(), kGuestMac.end(), reply->begin()));

  // Paused, the kernel's answer waits in the tap's queue; resumed, it arrives.
  const auto replies = [&] {
    size_t n = 0;
    frames.wait_for(
        [&](const Frame& f) {
          n += is_arp_reply(f, 0x0a090901, 0x0a090902) ? 1 : 0;
          return false;
        },
        std::chrono::milliseconds(0));
    return n;
  };
  const size_t before = replies();
  loop.post([&] {
    tap->set_receive_paused(true);
    tap->send(request);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(replies(), before);
  loop.post([&] { tap->set_receive_paused(false); });
  for (int i = 0; i < 50 && replies() == before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(replies(), before);

  tap.reset();
  loop.stop();
  close(ctl);
}

}  // namespace
}  // namespace vessel
