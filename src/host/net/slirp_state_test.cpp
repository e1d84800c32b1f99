// A user network's own state (slirp_state.hpp, SlirpBackend::save_state/load_state) against
// the real libslirp: a DHCP lease and a connection to the metadata service saved, loaded into
// a new backend and saved again to the same bytes, the lease kept; and damaged states refused,
// each with one line, before libslirp reads them.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "host/net/mmds.hpp"
#include "host/net/net_option.hpp"
#include "host/net/net_test_frames.hpp"
#include "host/net/slirp_backend.hpp"
#include "host/net/slirp_state.hpp"

namespace vessel {
namespace {

using namespace net_test;  // NOLINT(google-build-using-namespace): the tests' own helpers

constexpr MacAddress kOtherMac{0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
// Where the framed state's libslirp stream starts: the tag "slirp/1" (8 + 7 bytes), the
// version (4), the stream's length (8).
constexpr size_t kStreamAt = 27;

class SlirpStateTest : public ::testing::Test {
 public:
  void SetUp() override { ASSERT_TRUE(loop.start("slirp-state-test").ok()); }
  void TearDown() override {
    backends.clear();
    loop.stop();
  }

  SlirpBackend& make(const std::string& option) {
    auto spec = parse_net_option(option);
    EXPECT_TRUE(spec.ok());
    auto created = SlirpBackend::create(loop, *spec, std::make_shared<net::MmdsStore>());
    EXPECT_TRUE(created.ok()) << created.error().message;
    backends.push_back(std::move(*created));
    return *backends.back();
  }
  SlirpBackend& start(const std::string& option) {
    SlirpBackend& b = make(option);
    b.start(frames.receiver());
    return b;
  }
  void send(SlirpBackend& b, const Frame& f) {
    loop.post([&b, f] { b.send(f); });
  }
  // The state saved on the loop thread, where the started backend's slirp runs.
  std::vector<uint8_t> save(SlirpBackend& b) {
    std::promise<std::vector<uint8_t>> saved;
    loop.post([&] { saved.set_value(b.save_state()); });
    return saved.get_future().get();
  }
  // The guest opens a connection to the metadata service: its SYN, slirp's SYN-ACK.
  bool connect_to_metadata(SlirpBackend& b) {
    send(b, arp_request(kGuestMac, kGuestIp, kGatewayIp));
    send(b, tcp_syn(net::kMmdsAddress, 80));
    return frames
        .wait_for([](const Frame& f) {
          return f.size() >= 54 && get16(f, 12) == 0x0800 && f[23] == 6 &&
                 get32(f, 26) == net::kMmdsAddress && (f[47] & 0x12) == 0x12;
        })
        .has_value();
  }
  // The address slirp's DHCP server offers the client with `mac`.
  std::optional<uint32_t> offer(SlirpBackend& b, const MacAddress& mac) {
    send(b, dhcp_discover(mac));
    const auto reply = frames.wait_for([&](const Frame& f) { return is_dhcp_reply(f, mac); });
    if (!reply) return std::nullopt;
    return get32(*reply, 14 + 20 + 8 + 16);  // yiaddr
  }

  EventLoop loop;
  Collector frames;
  std::vector<std::unique_ptr<SlirpBackend>> backends;
};

std::vector<uint8_t> stream_of(const std::vector<uint8_t>& state) {
  return {state.begin() + kStreamAt, state.end()};
}

uint32_t be32(const std::vector<uint8_t>& s, size_t at) {
  return uint32_t{s[at]} << 24 | uint32_t{s[at + 1]} << 16 | uint32_t{s[at + 2]} << 8 | s[at + 3];
}

// Where a saved connection's TCP control block starts in the stream: after the marker,
// so_urgc, the two addresses (family, address, port), iptos, emu, type and so_state, then the
// receive and send buffers (16 bytes each and their data).
constexpr size_t kReceiveBufferAt = 1 + 4 + 2 * 8 + 3 + 4;
size_t send_buffer_offset(const std::vector<uint8_t>& stream) {
  return kReceiveBufferAt + 16 + be32(stream, kReceiveBufferAt + 4);
}
size_t tcp_offset(const std::vector<uint8_t>& stream) {
  const size_t snd = send_buffer_offset(stream);
  return snd + 16 + be32(stream, snd + 4);
}

std::string load_error(SlirpBackend& b, const std::vector<uint8_t>& state) {
  const auto loaded = b.load_state(state);
  return loaded.ok() ? "loaded" : loaded.error().message;
}

// The DHCP lease goes with the state: a new backend given it offers another client the next
// address, as the one that made the lease does.
TEST_F(SlirpStateTest, RoundTripKeepsTheDhcpLease) {
  SlirpBackend& first = start("user");
  ASSERT_EQ(offer(first, kGuestMac), kGuestIp);
  const std::vector<uint8_t> state = save(first);
  const auto parsed = net::parse_slirp_state(state, false);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->version, net::kSlirpStateVersion);
  EXPECT_EQ(parsed->connections, 0U);

  SlirpBackend& second = make("user");
  const auto loaded = second.load_state(state);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(second.save_state(), state);
  second.start(frames.receiver());
  EXPECT_EQ(offer(second, kOtherMac), kGuestIp + 1);  // 10.0.2.15 is the first guest's

  // Loaded once the backend runs: posted to the loop thread and waited for.
  SlirpBackend& third = start("user");
  ASSERT_TRUE(third.load_state(state).ok());
  EXPECT_EQ(save(third), state);
}

// mmds=on: the guest's connection to the metadata service (a callback guest forward) is saved
// whole, and comes back only where the network has that guest forward.
TEST_F(SlirpStateTest, RoundTripKeepsTheMetadataConnection) {
  SlirpBackend& first = start("user,mmds=on");
  ASSERT_TRUE(connect_to_metadata(first));
  const std::vector<uint8_t> state = save(first);
  const auto parsed = net::parse_slirp_state(state, true);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->connections, 1U);

  SlirpBackend& second = make("user,mmds=on");
  const auto loaded = second.load_state(state);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(second.save_state(), state);  // not started: its TCP timers have not run

  const auto refused = make("user").load_state(state);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "user network state: a connection to a guest forward this network does not have");
}

TEST_F(SlirpStateTest, RefusesTruncatedWrongVersionAndGarbage) {
  SlirpBackend& first = start("user");
  ASSERT_EQ(offer(first, kGuestMac), kGuestIp);
  const std::vector<uint8_t> state = save(first);
  SlirpBackend& b = make("user");
  for (size_t n = 0; n < state.size(); ++n) {
    EXPECT_NE(load_error(b, {state.begin(), state.begin() + static_cast<ptrdiff_t>(n)}), "loaded")
        << n;
  }
  const std::vector<uint8_t> stream = stream_of(state);
  EXPECT_EQ(load_error(b, net::frame_slirp_state(3, stream)),
            "user network state: libslirp state version 3, Vessel reads 4");
  std::vector<uint8_t> longer = stream;
  longer.push_back(0);
  EXPECT_EQ(load_error(b, net::frame_slirp_state(4, longer)), "user network state: trailing bytes");

  std::vector<uint8_t> flipped = stream;
  flipped[0] = 7;  // a socket marker that is not libslirp's
  EXPECT_EQ(load_error(b, net::frame_slirp_state(4, flipped)),
            "user network state: a socket marker of 7");
  flipped[0] = 42;  // a connection, on a network without the metadata service
  EXPECT_EQ(load_error(b, net::frame_slirp_state(4, flipped)),
            "user network state: a connection to a guest forward this network does not have");
  flipped = stream;
  flipped[1 + 2] = 2;  // the first lease's "in use", high byte first
  EXPECT_EQ(load_error(b, net::frame_slirp_state(4, flipped)),
            "user network state: DHCP lease 0 is neither in use nor free");

  std::mt19937 random(7);
  for (int i = 0; i < 200; ++i) {
    std::vector<uint8_t> garbage(random() % 300);
    for (uint8_t& byte : garbage) byte = static_cast<uint8_t>(random());
    EXPECT_NE(load_error(b, garbage), "loaded");
    EXPECT_NE(load_error(b, net::frame_slirp_state(4, garbage)), "loaded") << i;
  }
  // The state it was given first still loads (nothing was half-loaded by the refusals).
  EXPECT_EQ(load_error(b, state), "loaded");
}

// A connection's values that libslirp's TCP would use as an index, a divisor, a shift or an
// allocation's size are held to what its own TCP makes of them before libslirp sees them.
TEST_F(SlirpStateTest, RefusesConnectionsLibslirpCouldNotRun) {
  SlirpBackend& first = start("user,mmds=on");
  ASSERT_TRUE(connect_to_metadata(first));
  const std::vector<uint8_t> stream = stream_of(save(first));
  const size_t rcv = kReceiveBufferAt;
  const size_t snd = send_buffer_offset(stream);
  const size_t tcp = tcp_offset(stream);
  ASSERT_LT(tcp + 107, stream.size());
  SlirpBackend& b = make("user,mmds=on");
  auto with = [&](size_t at, std::vector<uint8_t> bytes) {
    std::vector<uint8_t> s = stream;
    std::copy(bytes.begin(), bytes.end(), s.begin() + static_cast<ptrdiff_t>(at));
    return load_error(b, net::frame_slirp_state(4, s));
  };
  const std::string prefix = "user network state: ";
  EXPECT_EQ(with(5, {0, 10}), prefix + "a connection's address is not IPv4");
  EXPECT_EQ(with(11, {0, 0x51}), prefix +
                                     "a connection to 10.0.2.254:20736, which is not this "
                                     "network's guest forward");
  EXPECT_EQ(with(22, {1}), prefix + "a connection with a protocol emulation");
  EXPECT_EQ(with(23, {17}), prefix + "a connection that is not TCP");
  EXPECT_EQ(with(rcv + 4, {0xff, 0xff, 0xff, 0xff}),
            prefix + "a socket buffer of 4294967295 bytes at offsets 0 and 0");
  EXPECT_EQ(with(snd + 8, {0, 0x10, 0, 0}),
            prefix + fmt::format("a socket buffer of {} bytes at offsets {} and 1048576",
                                 be32(stream, snd + 4), be32(stream, snd + 12)));
  EXPECT_EQ(with(tcp, {0, 1}), prefix + "a connection in TCP state 1");
  EXPECT_EQ(with(tcp, {0, 11}), prefix + "a connection in TCP state 11");
  EXPECT_EQ(with(tcp + 10, {0xff, 0xff}), prefix + "a connection's retransmit shift is -1");
  EXPECT_EQ(with(tcp + 16, {0, 0}), prefix + "a connection's segment size is 0");
  EXPECT_EQ(with(tcp + 103, {15}), prefix + "a connection's window scale is 15");
  EXPECT_EQ(load_error(b, net::frame_slirp_state(4, stream)), "loaded");
}

TEST(NetState, TapSavesNothingAndUserNeedsItsState) {
  NetSpec tap;
  tap.kind = NetSpec::Kind::kTap;
  tap.ifname = "tap0";
  EXPECT_TRUE(net::check_net_state(tap, {}).ok());
  const std::vector<uint8_t> some{1, 2, 3};
  EXPECT_EQ(net::check_net_state(tap, some).error().message, "a tap network with saved state");
  EXPECT_EQ(net::check_net_state(NetSpec{}, {}).error().message,
            "user network state: not libslirp's state");
}

}  // namespace
}  // namespace vessel
