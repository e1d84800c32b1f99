#include "vmm/migration/channel.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace vessel::migration {

namespace {

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sa.sun_path) {
    return make_error(fmt::format("unix:{}: not a usable socket path", path));
  }
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  return sa;
}

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

std::string link_error(const std::string& peer, const char* doing, int err) {
  if (err == EAGAIN || err == EWOULDBLOCK) {
    return fmt::format("the link to {} timed out while {} (no progress in {} s)", peer, doing,
                       std::chrono::duration_cast<std::chrono::seconds>(kLinkTimeout).count());
  }
  return fmt::format("the link to {} failed while {}: {}", peer, doing, std::strerror(err));
}

}  // namespace

Result<Address> parse_address(const std::string& text) {
  Address a;
  a.text = text;
  if (text.starts_with("unix:")) {
    a.unix_socket = true;
    a.path = text.substr(5);
    TRY_VOID(unix_address(a.path));
    return a;
  }
  std::string rest = text.starts_with("tcp:") ? text.substr(4) : text;
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return make_error(fmt::format("'{}': not tcp:HOST:PORT, HOST:PORT or unix:PATH", text));
  }
  a.host = rest.substr(0, colon);
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') {
    a.host = a.host.substr(1, a.host.size() - 2);
  }
  const std::string port = rest.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return make_error(fmt::format("'{}': the port '{}' is not a number up to 65535", text, port));
  }
  a.port = static_cast<uint16_t>(value);
  return a;
}

Result<Channel> Channel::connect(const Address& to) {
  if (to.unix_socket) {
    const sockaddr_un sa = TRY(unix_address(to.path));
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return make_error(fmt::format("{}: socket: {}", to.text, std::strerror(errno)));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      const int e = errno;
      close(fd);
      return make_error(fmt::format("cannot connect to {}: {}", to.text, std::strerror(e)));
    }
    return Channel(fd, to.text);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(to.port);
  if (const int rc = getaddrinfo(to.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return make_error(fmt::format("cannot resolve {}: {}", to.text, gai_strerror(rc)));
  }
  int err = ECONNREFUSED;
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0)
    return make_error(fmt::format("cannot connect to {}: {}", to.text, std::strerror(err)));
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return Channel(fd, to.text);
}

Channel::Channel(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {
  set_timeout(kLinkTimeout);
}

Channel::~Channel() {
  if (fd_ >= 0) close(fd_);
}

Channel::Channel(Channel&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      peer_(std::move(other.peer_)),
      sent_(other.sent_),
      received_(other.received_) {}

Channel& Channel::operator=(Channel&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    peer_ = std::move(other.peer_);
    sent_ = other.sent_;
    received_ = other.received_;
  }
  return *this;
}

void Channel::set_timeout(std::chrono::milliseconds timeout) { set_timeouts(fd_, timeout); }

Result<void> Channel::write_all(std::span<const uint8_t> data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(link_error(peer_, "sending", n < 0 ? errno : EPIPE));
    data = data.subspan(static_cast<size_t>(n));
    sent_ += static_cast<uint64_t>(n);
  }
  return {};
}

Result<void> Channel::read_all(std::span<uint8_t> data) {
  while (!data.empty()) {
    const ssize_t n = ::recv(fd_, data.data(), data.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return make_error(fmt::format("{} closed the connection", peer_));
    if (n < 0) return make_error(link_error(peer_, "receiving", errno));
    data = data.subspan(static_cast<size_t>(n));
    received_ += static_cast<uint64_t>(n);
  }
  return {};
}

bool Channel::readable() const {
  pollfd p{fd_, POLLIN, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

void Channel::close_gently(std::chrono::milliseconds linger) {
  if (fd_ < 0) return;
  shutdown(fd_, SHUT_WR);
  const auto until = std::chrono::steady_clock::now() + linger;
  std::array<uint8_t, 64 * 1024> sink{};
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd_, sink.data(), sink.size(), 0);
    if (n <= 0 && !(n < 0 && errno == EINTR)) break;
  }
  close(fd_);
  fd_ = -1;
}

Result<void> Channel::send_preamble() {
  const auto p = encode_preamble();
  return write_all(p);
}

Result<void> Channel::receive_preamble() {
  std::array<uint8_t, kPreambleBytes> p{};
  TRY_VOID(read_all(p));
  return check_preamble(p);
}

Result<void> Channel::send(FrameType type, std::initializer_list<std::span<const uint8_t>> parts) {
  const auto header = encode_frame_header(type, parts);
  TRY_VOID(write_all(header));
  for (auto part : parts) TRY_VOID(write_all(part));
  return {};
}

Result<Frame> Channel::receive() {
  std::array<uint8_t, kFrameHeaderBytes> h{};
  TRY_VOID(read_all(h));
  Frame f;
  f.header = TRY(decode_frame_header(h));
  f.payload.resize(f.header.length);
  TRY_VOID(read_all(f.payload));
  TRY_VOID(check_payload(f.header, f.payload));
  return f;
}

Result<Listener> Listener::listen(const Address& at) {
  Listener l;
  l.text_ = at.text;
  if (at.unix_socket) {
    const sockaddr_un sa = TRY(unix_address(at.path));
    l.fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l.fd_ < 0) return make_error(fmt::format("{}: socket: {}", at.text, std::strerror(errno)));
    unlink(at.path.c_str());  // a stale socket of an earlier run
    if (bind(l.fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(l.fd_, 1) != 0) {
      return make_error(fmt::format("cannot listen on {}: {}", at.text, std::strerror(errno)));
    }
    l.unix_path_ = at.path;
    return l;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(at.port);
  if (const int rc = getaddrinfo(at.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return make_error(fmt::format("cannot resolve {}: {}", at.text, gai_strerror(rc)));
  }
  int err = EADDRNOTAVAIL;
  for (addrinfo* ai = found; ai != nullptr && l.fd_ < 0; ai = ai->ai_next) {
    l.fd_ = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (l.fd_ < 0) continue;
    const int one = 1;
    setsockopt(l.fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(l.fd_, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(l.fd_, 1) != 0) {
      err = errno;
      close(l.fd_);
      l.fd_ = -1;
    }
  }
  freeaddrinfo(found);
  if (l.fd_ < 0) {
    return make_error(fmt::format("cannot listen on {}: {}", at.text, std::strerror(err)));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  if (getsockname(l.fd_, reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
    l.port_ =
        ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                                          : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  }
  return l;
}

Listener::~Listener() {
  if (fd_ >= 0) close(fd_);
  if (!unix_path_.empty()) unlink(unix_path_.c_str());
}

Listener::Listener(Listener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      port_(other.port_),
      unix_path_(std::exchange(other.unix_path_, {})),
      text_(std::move(other.text_)) {}

Listener& Listener::operator=(Listener&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    if (!unix_path_.empty()) unlink(unix_path_.c_str());
    fd_ = std::exchange(other.fd_, -1);
    port_ = other.port_;
    unix_path_ = std::exchange(other.unix_path_, {});
    text_ = std::move(other.text_);
  }
  return *this;
}

Result<Channel> Listener::accept(std::chrono::milliseconds timeout) {
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, timeout.count() > 0 ? static_cast<int>(timeout.count()) : -1);
    if (ready < 0 && errno == EINTR) return make_error(fmt::format("{}: interrupted", text_));
    if (ready == 0) return make_error(fmt::format("{}: no source connected in time", text_));
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on unix
      return Channel(fd, "the source");
    }
    if (errno != EINTR && errno != ECONNABORTED) {
      return make_error(fmt::format("{}: accept: {}", text_, std::strerror(errno)));
    }
  }
}

}  // namespace vessel::migration
