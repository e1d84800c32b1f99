// A user network's own state in a snapshot (docs/snapshot.md): what libslirp's
// slirp_state_save writes (its state version 4, libslirp 4.0 to 4.7 at least), framed with that
// version, and checked here before libslirp's loader sees a byte of it.
//
// libslirp's stream is QEMU's vmstate, big-endian: for each callback guest forward with a
// connection (here only mmds=on's metadata service at 10.0.2.254:80), a marker byte 42 and the
// connection's socket (addresses, its two socket buffers whole, its TCP control block); a 0;
// then the IP id counter and the 16 DHCP leases (in use or not, and the client's MAC).
// libslirp's loader trusts that stream: a short read gives zeros and no error, a buffer length
// is allocated as it comes (up to 4 GiB), and TCP's timers index tables by the state's values.
// A snapshot file is untrusted, so the stream is walked here first, every length bounded by
// what is left and every value that libslirp uses as an index, a shift or a divisor held to
// what libslirp's own TCP keeps. Pure: snapshot::parse (and its fuzz target) checks a snapshot's
// user networks with it, with or without libslirp in the build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "host/net/net_option.hpp"

namespace vessel::net {

// The libslirp state version whose layout check_slirp_stream knows.
inline constexpr uint32_t kSlirpStateVersion = 4;
// A saved state's bytes at most: a guest forward's connection holds its two socket buffers
// (libslirp's are 128 KiB each; 1 MiB each is allowed).
inline constexpr size_t kMaxSlirpBuffer = 1 << 20;
inline constexpr size_t kMaxNetState = 4 << 20;

// The framed state: "slirp/1", libslirp's state version, its stream.
std::vector<uint8_t> frame_slirp_state(uint32_t version, std::span<const uint8_t> stream);

struct SlirpState {
  uint32_t version = 0;
  std::vector<uint8_t> stream;  // checked by check_slirp_stream
  unsigned connections = 0;     // guest forward connections it carries
};

// The framed state taken apart and its stream checked, for a user network with (`mmds`) or
// without the metadata service's guest forward. One line without a prefix on error.
Result<SlirpState> parse_slirp_state(std::span<const uint8_t> state, bool mmds);

// libslirp's stream (version kSlirpStateVersion) walked to its end: its connections are to the
// metadata service's guest forward only, and only with `mmds`. The number of connections.
Result<unsigned> check_slirp_stream(std::span<const uint8_t> stream, bool mmds);

// A network's saved state against its settings: a tap saves nothing, a user network its
// checked libslirp state. One line without a prefix on error.
Result<void> check_net_state(const NetSpec& spec, std::span<const uint8_t> state);

}  // namespace vessel::net
