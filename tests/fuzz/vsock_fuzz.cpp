// libFuzzer target: virtio-vsock packets from a guest, through the header parser and into the
// host side (Muxer) as the tx queue hands them over, with the rx side drained between packets.
// Input: a stream of steps {room (2 bytes), header (44 bytes), payload (the header's len, as
// much as is left)}. No listener and no host programs: requests to ports are refused (nobody
// listens on <uds>_<port>), so the connection table, the control queue and the resets are
// what is exercised. Checked: the bounds hold (connections, queued control packets) and every
// packet the host side produces parses and fits the room it was given.
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/event_loop.hpp"
#include "devices/virtio/vsock/muxer.hpp"
#include "devices/virtio/vsock/packet.hpp"

namespace {
using vessel::virtio::vsock::kHeaderSize;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static vessel::EventLoop loop;  // never started: nothing is watched without a listener
  auto mux =
      std::make_shared<vessel::virtio::vsock::Muxer>(loop, 3, "/nonexistent/vessel-fuzz", [] {});
  std::vector<uint8_t> out(kHeaderSize + vessel::virtio::vsock::kMaxPayload);
  while (size >= 2 + kHeaderSize) {
    const size_t room = kHeaderSize + ((data[0] | (data[1] << 8)) % 8192);
    data += 2;
    size -= 2;
    const auto h = vessel::virtio::vsock::parse_header(data, size);
    const size_t payload = h ? std::min<size_t>(h->len, size - kHeaderSize) : 0;
    if (h && payload == h->len) mux->on_tx(*h, data + kHeaderSize);
    data += kHeaderSize + payload;
    size -= kHeaderSize + payload;
    for (int i = 0; i < 4 && mux->has_rx(); ++i) {
      const size_t n = mux->next_rx(out.data(), room);
      if (n == 0) break;
      if (n > room || !vessel::virtio::vsock::parse_header(out.data(), n)) __builtin_trap();
    }
    if (mux->connection_count() > vessel::virtio::vsock::kMaxConnections) __builtin_trap();
  }
  mux->shutdown();
  return 0;
}
