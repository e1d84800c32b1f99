// The host side of virtio-vsock, with Firecracker's Unix-socket convention:
// - host-initiated: a program connects to `uds_path` and writes "CONNECT <port>\n"; the guest
//   is asked for a connection to that port, and when it accepts, the program reads
//   "OK <host port>\n" and then the stream;
// - guest-initiated: a guest connection to host (CID 2) port P becomes a connection to the
//   Unix socket `<uds_path>_<P>`, which a host program listens on.
// Streams flow with the spec's credit: each side says how much it can buffer (buf_alloc) and
// how much it has consumed (fwd_cnt), and sends no more than the other can hold.
//
// A guest cannot grow the host's memory through it: at most kMaxConnections connections
// (pending CONNECT lines included), each buffering at most kBufAlloc bytes of guest data that
// the host program has not read yet (a guest that sends beyond the credit it was given gets
// its connection reset), at most kMaxControl control packets waiting for rx buffers (beyond,
// resets for connections that do not exist are dropped), and data from the host is read only
// when the guest has an rx buffer and credit for it. Everything runs on the VM's I/O thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "devices/virtio/vsock/packet.hpp"

namespace vessel::virtio::vsock {

inline constexpr size_t kMaxConnections = 64;
inline constexpr uint32_t kBufAlloc = 64 * 1024;
inline constexpr size_t kMaxControl = 256;
// "CONNECT 4294967295\n" fits.
inline constexpr size_t kMaxConnectLine = 32;
// Host ports of host-initiated connections start here (as Firecracker's do).
inline constexpr uint32_t kFirstHostPort = 1U << 30;

class Muxer : public std::enable_shared_from_this<Muxer> {
 public:
  struct Counters {
    uint64_t connections = 0, resets_sent = 0, dropped_packets = 0;
    uint64_t tx_bytes = 0, rx_bytes = 0;  // guest to host, host to guest
  };

  // `kick` asks for a turn of the device's queue service (any thread).
  Muxer(EventLoop& loop, uint64_t guest_cid, std::string uds_path, std::function<void()> kick);
  ~Muxer();
  Muxer(const Muxer&) = delete;
  Muxer& operator=(const Muxer&) = delete;

  // Listens on uds_path (a stale socket there is replaced; anything else is an error).
  Result<void> listen();

  // Loop thread: a packet the guest sent on tx (its header checked by parse_header, `payload`
  // holding h.len bytes).
  void on_tx(const Header& h, const uint8_t* payload);
  // Loop thread: whether there may be a packet for the guest.
  bool has_rx() const;
  // Loop thread: the next packet for the guest in `out` (header and payload, at most `room`
  // bytes, room >= kHeaderSize); 0 when there is none after all.
  size_t next_rx(uint8_t* out, size_t room);
  // Loop thread: every connection closed (device reset); the listener stays.
  void reset();
  // Loop thread: everything closed, the listener too (before the device goes away).
  void shutdown();

  size_t connection_count() const { return conns_.size(); }
  const Counters& counters() const { return counters_; }

 private:
  enum class State { kReadingConnect, kConnecting, kEstablished };
  struct Conn {
    int fd = -1;
    State state = State::kEstablished;
    uint32_t host_port = 0, guest_port = 0;
    std::string connect_line;      // kReadingConnect
    std::vector<uint8_t> to_host;  // guest data the host program has not read yet
    uint32_t rx_cnt = 0, fwd_cnt = 0, advertised_fwd = 0;       // guest-to-host counts
    uint32_t tx_cnt = 0, peer_buf_alloc = 0, peer_fwd_cnt = 0;  // host-to-guest counts
    bool readable = false, host_eof = false, guest_done_sending = false;
    bool credit_update = false;  // a CREDIT_UPDATE is owed to the guest
  };
  using Key = uint64_t;  // host_port << 32 | guest_port
  static Key key(uint32_t host_port, uint32_t guest_port) {
    return (uint64_t{host_port} << 32) | guest_port;
  }

  void on_listener();
  void on_conn_event(Key k, uint32_t events);
  void read_connect_line(Key k, Conn& c);
  void guest_request(const Header& h);
  void guest_data(Key k, Conn& c, const Header& h, const uint8_t* payload);
  void flush_to_host(Key k, Conn& c);
  void close_conn(Key k, bool send_rst);
  // A control packet for the guest (dropped beyond kMaxControl).
  void queue_control(Op op, uint32_t host_port, uint32_t guest_port, uint32_t flags = 0);
  Header header_for(Op op, uint32_t host_port, uint32_t guest_port) const;
  uint32_t peer_credit(const Conn& c) const;
  size_t read_for_guest(Conn& c, uint8_t* out, size_t room);
  uint32_t free_host_port();
  Result<void> watch(int fd, Key k);

  EventLoop& loop_;
  const uint64_t guest_cid_;
  const std::string uds_path_;
  std::function<void()> kick_;
  int listen_fd_ = -1;
  std::map<Key, Conn> conns_;
  std::deque<Header> control_;
  uint32_t next_host_port_ = kFirstHostPort;
  Key last_served_ = 0;  // next_rx's round robin
  Counters counters_;
};

}  // namespace vessel::virtio::vsock
