#include "daemon/console_bridge.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace vessel::daemon {

namespace {

// Keyboard input the VM has not taken yet. A person types far less; past this the viewer is
// cut off rather than have its input dropped without a word.
constexpr size_t kInputLimit = 1 << 20;

// Lives on the event loop: every member is touched on the loop thread only.
class Bridge : public std::enable_shared_from_this<Bridge> {
 public:
  Bridge(EventLoop& loop, int fd, std::shared_ptr<http::WebSocket> ws)
      : loop_(loop), fd_(fd), ws_(std::move(ws)) {}
  ~Bridge() {
    if (fd_ >= 0) close(fd_);
  }

  Result<void> start() {
    std::weak_ptr<Bridge> weak = shared_from_this();
    return loop_.add_fd(fd_, EPOLLIN, [weak](uint32_t events) {
      if (auto self = weak.lock()) self->on_ready(events);
    });
  }

  // From the WebSocket (a server thread).
  void input(std::span<const uint8_t> bytes) {
    loop_.post(
        [self = shared_from_this(), data = std::vector<uint8_t>(bytes.begin(), bytes.end())] {
          if (self->fd_ < 0) return;
          if (self->pending_.size() + data.size() > kInputLimit) return self->end();
          self->pending_.insert(self->pending_.end(), data.begin(), data.end());
          self->flush();
        });
  }
  void closed() {
    loop_.post([self = shared_from_this()] { self->end(); });
  }

 private:
  void on_ready(uint32_t events) {
    if (events & EPOLLOUT) flush();
    if (fd_ < 0) return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      uint8_t buf[16 * 1024];
      const ssize_t n = read(fd_, buf, sizeof buf);
      if (n > 0) {
        ws_->send(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        end();  // the VM ended, or refused another viewer
      }
    }
  }

  void flush() {
    while (!pending_.empty()) {
      const ssize_t n = send(fd_, pending_.data(), pending_.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) return end();
      pending_.erase(pending_.begin(), pending_.begin() + n);
    }
    const bool want_out = !pending_.empty();
    if (want_out != watching_out_) {
      watching_out_ = want_out;
      if (!loop_.modify_fd(fd_, EPOLLIN | (want_out ? EPOLLOUT : 0u))) end();
    }
  }

  void end() {
    if (fd_ < 0) return;
    loop_.remove_fd(fd_);
    close(fd_);
    fd_ = -1;
    ws_->close();
  }

  EventLoop& loop_;
  int fd_;
  std::shared_ptr<http::WebSocket> ws_;
  std::vector<uint8_t> pending_;
  bool watching_out_ = false;
};

}  // namespace

Result<http::WebSocketCallbacks> bridge_console(EventLoop& loop, const std::string& socket_path,
                                                std::shared_ptr<http::WebSocket> ws) {
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof addr.sun_path) {
    return make_error(fmt::format("{}: path too long for a Unix socket", socket_path));
  }
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return make_error(fmt::format("console: socket: {}", strerror(errno)));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  // A local connect completes at once or fails (a full backlog is EAGAIN: say so).
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string why = strerror(errno);
    close(fd);
    return make_error(fmt::format("{}: cannot connect: {}", socket_path, why));
  }
  auto bridge = std::make_shared<Bridge>(loop, fd, std::move(ws));
  TRY_VOID(bridge->start());
  http::WebSocketCallbacks callbacks;
  callbacks.on_message = [bridge](std::span<const uint8_t> bytes) { bridge->input(bytes); };
  callbacks.on_close = [bridge] { bridge->closed(); };
  return callbacks;
}

}  // namespace vessel::daemon
