#include "host/net/tap_backend.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/log.hpp"

namespace vessel {

struct TapBackend::Impl : std::enable_shared_from_this<Impl> {
  // Frames read per wake-up before yielding to the rest of the loop (epoll is level-triggered,
  // so what is left wakes us again).
  static constexpr int kFramesPerWake = 64;

  Impl(EventLoop& l, int f, std::string name) : loop(l), fd(f), ifname(std::move(name)) {}
  ~Impl() {
    if (fd >= 0) ::close(fd);
  }

  EventLoop& loop;
  int fd;
  std::string ifname;
  Receiver receiver;
  bool watching = false;
  bool paused = false;
  bool torn_down = false;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(kMaxFrameSize);

  void readable() {
    for (int i = 0; i < kFramesPerWake && !paused && !torn_down; ++i) {
      const ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) {
          static LogLimiter limiter;
          log_limited(limiter, LogLevel::kDebug, "tap {}: read: {}", ifname, std::strerror(errno));
        }
        return;
      }
      if (n == 0) return;
      const auto len = static_cast<size_t>(n);
      if (len >= kMinFrameSize && receiver) receiver(std::span<const uint8_t>(buffer.data(), len));
    }
  }

  void teardown() {
    if (torn_down) return;
    torn_down = true;
    if (watching) loop.remove_fd(fd);
    watching = false;
    receiver = nullptr;
  }
};

Result<std::unique_ptr<TapBackend>> TapBackend::open(const std::string& ifname, EventLoop& loop) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
    return make_error(
        fmt::format("tap {}: interface name must be 1-{} characters", ifname, IFNAMSIZ - 1));
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return make_error(
        fmt::format("tap {}: cannot open /dev/net/tun: {}", ifname, std::strerror(errno)));
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    const int err = errno;
    ::close(fd);
    return make_error(fmt::format("tap {}: TUNSETIFF: {}{}", ifname, std::strerror(err),
                                  err == EPERM ? " (needs CAP_NET_ADMIN, or a persistent tap "
                                                 "owned by this user)"
                                               : ""));
  }
  auto impl =
      std::make_shared<Impl>(loop, fd, std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ)));
  return std::unique_ptr<TapBackend>(new TapBackend(loop, std::move(impl)));
}

TapBackend::TapBackend(EventLoop& loop, std::shared_ptr<Impl> impl)
    : loop_(loop), impl_(std::move(impl)) {}

TapBackend::~TapBackend() {
  if (!started_ || loop_.on_loop_thread()) {
    impl_->teardown();
    return;
  }
  loop_.post([impl = impl_] { impl->teardown(); });
  loop_.drain();
}

const std::string& TapBackend::ifname() const { return impl_->ifname; }

void TapBackend::start(Receiver receiver) {
  started_ = true;
  loop_.post([impl = impl_, rx = std::move(receiver)]() mutable {
    if (impl->torn_down) return;
    impl->receiver = std::move(rx);
    auto added = impl->loop.add_fd(impl->fd, impl->paused ? 0U : uint32_t{EPOLLIN},
                                   [weak = std::weak_ptr<Impl>(impl)](uint32_t) {
                                     if (auto self = weak.lock()) self->readable();
                                   });
    if (!added.ok()) {
      log(LogLevel::kError, "tap {}: {}", impl->ifname, added.error().message);
      return;
    }
    impl->watching = true;
  });
}

void TapBackend::send(std::span<const uint8_t> frame) {
  if (impl_->torn_down || frame.size() < kMinFrameSize || frame.size() > kMaxFrameSize) return;
  ssize_t n;
  do { n = ::write(impl_->fd, frame.data(), frame.size()); } while (n < 0 && errno == EINTR);
  // EAGAIN (the interface's queue is full) or EIO (it is down): dropped, as on a wire.
  if (n < 0 && errno != EAGAIN && errno != EIO) {
    static LogLimiter limiter;  // once per guest frame otherwise
    log_limited(limiter, LogLevel::kDebug, "tap {}: write: {}", impl_->ifname,
                std::strerror(errno));
  }
}

void TapBackend::set_receive_paused(bool paused) {
  if (impl_->paused == paused) return;
  impl_->paused = paused;
  if (impl_->watching && !impl_->torn_down) {
    (void)impl_->loop.modify_fd(impl_->fd, paused ? 0U : uint32_t{EPOLLIN});
  }
}

}  // namespace vessel
