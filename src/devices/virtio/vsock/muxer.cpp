#include "devices/virtio/vsock/muxer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "base/log.hpp"
#include "base/unix_listen.hpp"

namespace vessel::virtio::vsock {

namespace {

constexpr uint32_t kConnEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return make_error(fmt::format("vsock: {}: a Unix socket path is 1 to {} bytes", path,
                                  sizeof addr.sun_path - 1));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// "CONNECT <port>" (the newline already cut off), as Firecracker's host side reads it.
std::optional<uint32_t> parse_connect(std::string_view line) {
  constexpr std::string_view kVerb = "CONNECT ";
  if (!line.starts_with(kVerb)) return std::nullopt;
  line.remove_prefix(kVerb.size());
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  uint32_t port = 0;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), port);
  if (ec != std::errc() || end != line.data() + line.size() || line.empty()) return std::nullopt;
  return port;
}

}  // namespace

Muxer::Muxer(EventLoop& loop, uint64_t guest_cid, std::string uds_path, std::function<void()> kick)
    : loop_(loop), guest_cid_(guest_cid), uds_path_(std::move(uds_path)), kick_(std::move(kick)) {}

Muxer::~Muxer() {
  for (auto& [k, c] : conns_) ::close(c.fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

Result<void> Muxer::listen() {
  TRY_VOID(unix_address(uds_path_));  // a path a socket can have
  struct stat st {};
  if (lstat(uds_path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return make_error(fmt::format("vsock: {}: exists and is not a socket", uds_path_));
    }
    ::unlink(uds_path_.c_str());  // a stale socket of an earlier run
  }
  auto fd = listen_unix(uds_path_, 16, SOCK_NONBLOCK);
  if (!fd.ok()) return make_error("vsock: " + fd.error().message);
  listen_fd_ = *fd;
  std::weak_ptr<Muxer> weak = weak_from_this();
  return loop_.add_fd(listen_fd_, EPOLLIN, [weak](uint32_t) {
    if (auto self = weak.lock()) self->on_listener();
  });
}

Result<void> Muxer::watch(int fd, Key k) {
  std::weak_ptr<Muxer> weak = weak_from_this();
  return loop_.add_fd(fd, kConnEvents, [weak, k](uint32_t events) {
    if (auto self = weak.lock()) self->on_conn_event(k, events);
  });
}

uint32_t Muxer::free_host_port() {
  for (;;) {
    const uint32_t port = next_host_port_++;
    if (next_host_port_ == 0) next_host_port_ = kFirstHostPort;
    const auto it = conns_.lower_bound(key(port, 0));
    if (it == conns_.end() || (it->first >> 32) != port) return port;
  }
}

void Muxer::on_listener() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a connection that went away
    if (conns_.size() >= kMaxConnections) {
      static LogLimiter full;
      log_limited(full, LogLevel::kWarn, "vsock: {} connections already: one more refused",
                  kMaxConnections);
      ::close(fd);
      continue;
    }
    // Its guest port is not known until the CONNECT line: the key's is 0 meanwhile (a guest
    // port is never 0 on a connection... and host ports are unique anyway).
    const uint32_t host_port = free_host_port();
    Conn c;
    c.fd = fd;
    c.state = State::kReadingConnect;
    c.host_port = host_port;
    const Key k = key(host_port, 0);
    conns_.emplace(k, std::move(c));
    if (!watch(fd, k)) close_conn(k, false);
  }
}

void Muxer::on_conn_event(Key k, uint32_t events) {
  auto it = conns_.find(k);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  if (c.state == State::kReadingConnect) {
    read_connect_line(k, c);
    return;
  }
  if ((events & EPOLLOUT) != 0 && !c.to_host.empty()) flush_to_host(k, c);
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 &&
      c.state == State::kEstablished) {
    c.readable = true;
    kick_();
  }
}

void Muxer::read_connect_line(Key k, Conn& c) {
  char buf[kMaxConnectLine];
  // Peek first: what follows the line is the stream's, read once the guest accepted.
  const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) return close_conn(k, false);
  const auto* nl = static_cast<const char*>(std::memchr(buf, '\n', static_cast<size_t>(n)));
  if (nl == nullptr) {
    if (static_cast<size_t>(n) == sizeof buf) close_conn(k, false);  // no line: not a client
    return;
  }
  const size_t line_len = static_cast<size_t>(nl - buf) + 1;
  if (::recv(c.fd, buf, line_len, 0) != static_cast<ssize_t>(line_len)) return close_conn(k, false);
  const std::optional<uint32_t> port = parse_connect(std::string_view(buf, line_len - 1));
  if (!port) return close_conn(k, false);
  // Rekeyed under its guest port; the guest is asked with a REQUEST.
  Conn moved = std::move(c);
  conns_.erase(k);
  loop_.remove_fd(moved.fd);
  moved.guest_port = *port;
  moved.state = State::kConnecting;
  const Key nk = key(moved.host_port, *port);
  const int fd = moved.fd;
  conns_.emplace(nk, std::move(moved));
  if (!watch(fd, nk)) return close_conn(nk, false);
  queue_control(Op::kRequest, conns_.at(nk).host_port, *port);
}

Header Muxer::header_for(Op op, uint32_t host_port, uint32_t guest_port) const {
  Header h;
  h.src_cid = kHostCid;
  h.dst_cid = guest_cid_;
  h.src_port = host_port;
  h.dst_port = guest_port;
  h.op = op;
  h.buf_alloc = kBufAlloc;
  return h;
}

void Muxer::queue_control(Op op, uint32_t host_port, uint32_t guest_port, uint32_t flags) {
  if (control_.size() >= kMaxControl) {
    ++counters_.dropped_packets;
    return;
  }
  Header h = header_for(op, host_port, guest_port);
  h.flags = flags;
  if (op == Op::kRst) ++counters_.resets_sent;
  control_.push_back(h);
  kick_();
}

void Muxer::close_conn(Key k, bool send_rst) {
  auto it = conns_.find(k);
  if (it == conns_.end()) return;
  if (send_rst && it->second.state != State::kReadingConnect) {
    queue_control(Op::kRst, it->second.host_port, it->second.guest_port);
  }
  loop_.remove_fd(it->second.fd);
  ::close(it->second.fd);
  conns_.erase(it);
}

uint32_t Muxer::peer_credit(const Conn& c) const {
  const uint32_t in_flight = c.tx_cnt - c.peer_fwd_cnt;  // wraps as the spec's counters do
  return in_flight >= c.peer_buf_alloc ? 0 : c.peer_buf_alloc - in_flight;
}

void Muxer::on_tx(const Header& h, const uint8_t* payload) {
  // Only the guest's own address, to the host: anything else is dropped (the spec's rule).
  if (h.src_cid != guest_cid_ || h.dst_cid != kHostCid) {
    ++counters_.dropped_packets;
    return;
  }
  const Key k = key(h.dst_port, h.src_port);
  auto it = conns_.find(k);
  if (h.type != kTypeStream) {
    if (h.op != Op::kRst) queue_control(Op::kRst, h.dst_port, h.src_port);
    return;
  }
  if (h.op == Op::kRequest) {
    if (it != conns_.end()) return close_conn(k, true);  // a second request: reset both
    return guest_request(h);
  }
  if (it == conns_.end()) {
    // Nothing here: a reset answers anything but a reset.
    if (h.op != Op::kRst) queue_control(Op::kRst, h.dst_port, h.src_port);
    return;
  }
  Conn& c = it->second;
  c.peer_buf_alloc = h.buf_alloc;
  c.peer_fwd_cnt = h.fwd_cnt;
  if (c.readable && peer_credit(c) > 0) kick_();  // more credit: data may flow again
  switch (h.op) {
    case Op::kResponse:
      if (c.state != State::kConnecting) return close_conn(k, true);
      {
        const std::string ok = fmt::format("OK {}\n", c.host_port);
        if (::send(c.fd, ok.data(), ok.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(ok.size())) {
          return close_conn(k, true);
        }
      }
      c.state = State::kEstablished;
      c.readable = true;  // anything the program sent after its CONNECT line
      kick_();
      return;
    case Op::kRst: return close_conn(k, false);
    case Op::kShutdown:
      if ((h.flags & kShutdownSend) != 0) c.guest_done_sending = true;
      if ((h.flags & (kShutdownSend | kShutdownRecv)) == (kShutdownSend | kShutdownRecv)) {
        // The guest closed: what it sent reaches the host if it can now, then a reset ends it.
        flush_to_host(k, c);
        return close_conn(k, true);
      }
      if (c.guest_done_sending && c.to_host.empty()) ::shutdown(c.fd, SHUT_WR);
      return;
    case Op::kRw:
      if (c.state != State::kEstablished) return close_conn(k, true);
      return guest_data(k, c, h, payload);
    case Op::kCreditRequest:
      c.credit_update = true;
      kick_();
      return;
    case Op::kCreditUpdate:
    case Op::kRequest:
    case Op::kInvalid: return;
  }
}

void Muxer::guest_request(const Header& h) {
  if (conns_.size() >= kMaxConnections) return queue_control(Op::kRst, h.dst_port, h.src_port);
  const std::string path = fmt::format("{}_{}", uds_path_, h.dst_port);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  auto addr = unix_address(path);
  if (fd < 0 || !addr ||
      ::connect(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
    // Nobody listens there (or its backlog is full): the guest's connect is refused.
    if (fd >= 0) ::close(fd);
    return queue_control(Op::kRst, h.dst_port, h.src_port);
  }
  Conn c;
  c.fd = fd;
  c.host_port = h.dst_port;
  c.guest_port = h.src_port;
  c.peer_buf_alloc = h.buf_alloc;
  c.peer_fwd_cnt = h.fwd_cnt;
  const Key k = key(c.host_port, c.guest_port);
  conns_.emplace(k, std::move(c));
  ++counters_.connections;
  if (!watch(fd, k)) return close_conn(k, true);
  queue_control(Op::kResponse, h.dst_port, h.src_port);
}

void Muxer::guest_data(Key k, Conn& c, const Header& h, const uint8_t* payload) {
  if (c.guest_done_sending) return close_conn(k, true);
  // The guest may send what the credit we gave allows: more is a broken (or hostile) driver.
  if (c.to_host.size() + h.len > kBufAlloc) {
    static LogLimiter overrun;
    log_limited(overrun, LogLevel::kWarn,
                "vsock: the guest sent beyond its credit on port {}: connection reset",
                c.host_port);
    return close_conn(k, true);
  }
  c.to_host.insert(c.to_host.end(), payload, payload + h.len);
  c.rx_cnt += h.len;
  counters_.tx_bytes += h.len;
  flush_to_host(k, c);
}

void Muxer::flush_to_host(Key k, Conn& c) {
  size_t done = 0;
  while (done < c.to_host.size()) {
    const ssize_t n = ::send(c.fd, c.to_host.data() + done, c.to_host.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;     // EPOLLOUT brings us back
    if (n <= 0) return close_conn(k, true);  // the program went away
    done += static_cast<size_t>(n);
  }
  if (done == 0) return;
  c.to_host.erase(c.to_host.begin(), c.to_host.begin() + static_cast<ptrdiff_t>(done));
  c.fwd_cnt += static_cast<uint32_t>(done);
  // The guest counts on the room we last told it of: tell it of the room made once it
  // believes less than half is left (every packet to it carries fwd_cnt anyway).
  if (c.rx_cnt - c.advertised_fwd >= kBufAlloc / 2 && c.fwd_cnt != c.advertised_fwd) {
    c.credit_update = true;
    kick_();
  }
  if (c.guest_done_sending && c.to_host.empty()) ::shutdown(c.fd, SHUT_WR);
}

bool Muxer::has_rx() const {
  if (!control_.empty()) return true;
  return std::any_of(conns_.begin(), conns_.end(), [this](const auto& kv) {
    const Conn& c = kv.second;
    return c.credit_update ||
           (c.state == State::kEstablished && c.readable && !c.host_eof && peer_credit(c) > 0);
  });
}

size_t Muxer::read_for_guest(Conn& c, uint8_t* out, size_t room) {
  const size_t want = std::min<size_t>({room, peer_credit(c), kMaxPayload});
  for (;;) {
    const ssize_t n = ::recv(c.fd, out, want, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      c.readable = false;
      return 0;
    }
    if (n <= 0) {  // the program is done sending (or gone): the guest reads an end of stream
      c.host_eof = true;
      c.readable = false;
      queue_control(Op::kShutdown, c.host_port, c.guest_port, kShutdownSend);
      return 0;
    }
    return static_cast<size_t>(n);
  }
}

size_t Muxer::next_rx(uint8_t* out, size_t room) {
  if (room < kHeaderSize) return 0;
  if (!control_.empty()) {
    Header h = control_.front();
    control_.pop_front();
    if (auto it = conns_.find(key(h.src_port, h.dst_port)); it != conns_.end()) {
      h.fwd_cnt = it->second.fwd_cnt;
      it->second.advertised_fwd = it->second.fwd_cnt;
    }
    write_header(h, out);
    return kHeaderSize;
  }
  // Round robin from the connection after the last one served, so that one busy stream does
  // not starve the others.
  auto it = conns_.upper_bound(last_served_);
  for (size_t visited = 0; visited < conns_.size(); ++visited, ++it) {
    if (it == conns_.end()) it = conns_.begin();
    const Key k = it->first;
    Conn& c = it->second;
    size_t n = 0;
    if (c.state == State::kEstablished && c.readable && !c.host_eof && peer_credit(c) > 0) {
      n = read_for_guest(c, out + kHeaderSize, room - kHeaderSize);
    }
    if (n == 0 && !c.credit_update) continue;
    Header h = header_for(n > 0 ? Op::kRw : Op::kCreditUpdate, c.host_port, c.guest_port);
    h.len = static_cast<uint32_t>(n);
    h.fwd_cnt = c.fwd_cnt;
    c.advertised_fwd = c.fwd_cnt;
    c.credit_update = false;
    c.tx_cnt += static_cast<uint32_t>(n);
    counters_.rx_bytes += n;
    last_served_ = k;
    write_header(h, out);
    return kHeaderSize + n;
  }
  // A read found the end of a stream: its SHUTDOWN is queued now.
  if (!control_.empty()) return next_rx(out, room);
  return 0;
}

void Muxer::reset() {
  while (!conns_.empty()) close_conn(conns_.begin()->first, false);
  control_.clear();
}

void Muxer::shutdown() {
  reset();
  if (listen_fd_ >= 0) {
    loop_.remove_fd(listen_fd_);
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

}  // namespace vessel::virtio::vsock
