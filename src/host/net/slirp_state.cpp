#include "host/net/slirp_state.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <string_view>

#include "base/state.hpp"
#include "host/net/mmds.hpp"

namespace vessel::net {

namespace {

constexpr std::string_view kSlirpTag = "slirp/1";

// libslirp's values (slirp's socket.h, tcp.h, tcp_fsm.h, bootp.h; unchanged since 4.0).
constexpr uint8_t kSocketMarker = 42;      // slirp_state_save's "a socket follows"
constexpr uint16_t kFamilyIpv4 = 2;        // SS_FAMILY_MIG_IPV4
constexpr uint8_t kProtocolTcp = 6;        // so_type of a TCP socket
constexpr int16_t kTcpSynReceived = 3;     // TCPS_SYN_RECEIVED
constexpr int16_t kTcpStates = 11;         // TCP_NSTATES: tcp_outflags[] has as many
constexpr int16_t kTcpMaxRxtShift = 12;    // TCP_MAXRXTSHIFT: tcp_backoff[] has one more
constexpr uint8_t kTcpMaxWinShift = 14;    // TCP_MAX_WINSHIFT
constexpr unsigned kTcpTimers = 4;         // TCPT_NTIMERS
constexpr unsigned kBootpClients = 16;     // NB_BOOTP_CLIENTS
constexpr uint32_t kNetwork = 0x0a000200;  // 10.0.2.0/24, slirp_backend.cpp's network
constexpr uint32_t kNetmask = 0xffffff00;

// Reads libslirp's big-endian stream; every read bounded by what is left.
class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> bytes) : rest_(bytes) {}

  Result<uint64_t> be(size_t n) {
    if (rest_.size() < n) return make_error("it ends early");
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = v << 8 | rest_[i];
    rest_ = rest_.subspan(n);
    return v;
  }
  Result<uint8_t> u8() { return static_cast<uint8_t>(TRY(be(1))); }
  Result<uint16_t> u16() { return static_cast<uint16_t>(TRY(be(2))); }
  Result<uint32_t> u32() { return static_cast<uint32_t>(TRY(be(4))); }
  Result<int16_t> i16() { return static_cast<int16_t>(TRY(u16())); }
  Result<void> skip(size_t n) {
    if (rest_.size() < n) return make_error("it ends early");
    rest_ = rest_.subspan(n);
    return {};
  }
  bool at_end() const { return rest_.empty(); }

 private:
  std::span<const uint8_t> rest_;
};

struct SocketAddress {
  uint32_t addr = 0;  // host order
  uint16_t port = 0;
};

// slirp-socket-addr: an IPv4 one (a guest forward's are: libslirp saves no IPv6 address).
// The address is the socket's s_addr as this host holds it in memory, written big-endian: the
// same-host stream a snapshot is.
Result<SocketAddress> read_address(Cursor& in) {
  if (TRY(in.u16()) != kFamilyIpv4) return make_error("a connection's address is not IPv4");
  SocketAddress a;
  a.addr = ntohl(TRY(in.u32()));
  a.port = ntohs(TRY(in.u16()));
  return a;
}

// slirp-sbuf: its data is allocated at the saved length and read whole, and the read and
// write offsets become pointers into it.
Result<void> check_buffer(Cursor& in) {
  const uint32_t used = TRY(in.u32());
  const uint32_t length = TRY(in.u32());
  const uint32_t write_offset = TRY(in.u32());
  const uint32_t read_offset = TRY(in.u32());
  if (length == 0 || length > kMaxSlirpBuffer || used > length || write_offset >= length ||
      read_offset >= length) {
    return make_error(fmt::format("a socket buffer of {} bytes at offsets {} and {}", length,
                                  read_offset, write_offset));
  }
  return in.skip(length);
}

// slirp-tcp: the fields libslirp's TCP uses as an index (t_state into tcp_outflags,
// t_rxtshift into tcp_backoff), a divisor (t_maxseg) or a shift (the window scales) must be
// what its own TCP keeps them to.
Result<void> check_tcp(Cursor& in) {
  const int16_t state = TRY(in.i16());
  TRY_VOID(in.skip(2 * kTcpTimers));
  const int16_t rxtshift = TRY(in.i16());
  TRY_VOID(in.skip(2 + 2));  // t_rxtcur, t_dupacks
  const uint16_t maxseg = TRY(in.u16());
  TRY_VOID(in.skip(1 + 2 + 15 * 4 + 2 + 2 + 4 + 2 + 2 + 2 + 4 + 1 + 1 + 2));  // to snd_scale
  uint8_t scales[4];
  for (uint8_t& s : scales) s = TRY(in.u8());
  TRY_VOID(in.skip(3 * 4));  // ts_recent, ts_recent_age, last_ack_sent
  // A guest forward's connection is opened by the guest: never closed, listening or SYN_SENT.
  if (state < kTcpSynReceived || state >= kTcpStates) {
    return make_error(fmt::format("a connection in TCP state {}", state));
  }
  if (rxtshift < 0 || rxtshift > kTcpMaxRxtShift) {
    return make_error(fmt::format("a connection's retransmit shift is {}", rxtshift));
  }
  if (maxseg == 0) return make_error("a connection's segment size is 0");
  for (uint8_t s : scales) {
    if (s > kTcpMaxWinShift) return make_error(fmt::format("a connection's window scale is {}", s));
  }
  return {};
}

// slirp-socket, version 4: one connection to the metadata service's guest forward.
Result<void> check_socket(Cursor& in) {
  TRY_VOID(in.skip(4));  // so_urgc
  const SocketAddress foreign = TRY(read_address(in));
  const SocketAddress guest = TRY(read_address(in));
  if (foreign.addr != kMmdsSlirpAlias || foreign.port != 80) {
    return make_error(
        fmt::format("a connection to {}:{}, which is not this network's guest forward",
                    format_ipv4(foreign.addr), foreign.port));
  }
  if ((guest.addr & kNetmask) != kNetwork) {
    return make_error(
        fmt::format("a connection from {}, outside the guest's network", format_ipv4(guest.addr)));
  }
  TRY_VOID(in.skip(1));  // so_iptos
  const uint8_t emulation = TRY(in.u8());
  const uint8_t type = TRY(in.u8());
  TRY_VOID(in.skip(4));  // so_state
  // Vessel's slirp has its protocol emulations off (enable_emu): no socket may have one.
  if (emulation != 0) return make_error("a connection with a protocol emulation");
  if (type != kProtocolTcp) return make_error("a connection that is not TCP");
  TRY_VOID(check_buffer(in));  // so_rcv
  TRY_VOID(check_buffer(in));  // so_snd
  return check_tcp(in);
}

}  // namespace

std::vector<uint8_t> frame_slirp_state(uint32_t version, std::span<const uint8_t> stream) {
  StateWriter out;
  out.begin(kSlirpTag);
  out.put(version);
  out.put_bytes(stream.data(), stream.size());
  return out.bytes();
}

Result<unsigned> check_slirp_stream(std::span<const uint8_t> stream, bool mmds) {
  Cursor in(stream);
  unsigned connections = 0;
  for (;;) {
    const uint8_t marker = TRY(in.u8());
    if (marker == 0) break;
    if (marker != kSocketMarker) return make_error(fmt::format("a socket marker of {}", marker));
    // slirp_state_save writes one connection per callback guest forward; Vessel has one, mmds.
    if (!mmds || ++connections > 1) {
      return make_error("a connection to a guest forward this network does not have");
    }
    TRY_VOID(check_socket(in));
  }
  TRY_VOID(in.skip(2));  // ip_id
  for (unsigned i = 0; i < kBootpClients; ++i) {
    const uint16_t allocated = TRY(in.u16());
    if (allocated > 1)
      return make_error(fmt::format("DHCP lease {} is neither in use nor free", i));
    TRY_VOID(in.skip(6));  // the client's MAC
  }
  if (!in.at_end()) return make_error("trailing bytes");
  return connections;
}

Result<SlirpState> parse_slirp_state(std::span<const uint8_t> state, bool mmds) {
  StateReader in(state.data(), state.size());
  SlirpState out;
  auto framed = [&]() -> Result<void> {
    TRY_VOID(in.expect(kSlirpTag));
    out.version = TRY(in.get<uint32_t>());
    out.stream = TRY(in.get_bytes(kMaxNetState));
    return {};
  }();
  if (!framed || !in.at_end()) return make_error("user network state: not libslirp's state");
  if (out.version != kSlirpStateVersion) {
    return make_error(fmt::format("user network state: libslirp state version {}, Vessel reads {}",
                                  out.version, kSlirpStateVersion));
  }
  auto connections = check_slirp_stream(out.stream, mmds);
  if (!connections) {
    return make_error(fmt::format("user network state: {}", connections.error().message));
  }
  out.connections = *connections;
  return out;
}

Result<void> check_net_state(const NetSpec& spec, std::span<const uint8_t> state) {
  if (spec.kind == NetSpec::Kind::kTap) {
    if (!state.empty()) return make_error("a tap network with saved state");
    return {};
  }
  TRY(parse_slirp_state(state, spec.mmds));
  return {};
}

}  // namespace vessel::net
