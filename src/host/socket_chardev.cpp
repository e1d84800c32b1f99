#include "host/socket_chardev.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/unix_listen.hpp"

namespace vessel {

Result<std::unique_ptr<SocketChardev>> SocketChardev::listen(const std::string& path,
                                                             EventLoop& loop) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return make_error(fmt::format("{}: not a usable Unix socket path (empty or too long)", path));
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return make_error(
          fmt::format("{}: exists and is not a socket; refusing to replace it", path));
    }
    unlink(path.c_str());  // a stale socket from an earlier run
  }
  const int fd = TRY(listen_unix(path, 1, SOCK_NONBLOCK));
  std::unique_ptr<SocketChardev> dev(new SocketChardev(path, fd, loop));
  SocketChardev* raw = dev.get();
  TRY_VOID(loop.add_fd(fd, EPOLLIN, [raw](uint32_t) { raw->on_accept(); }));
  return dev;
}

SocketChardev::SocketChardev(std::string path, int listen_fd, EventLoop& loop)
    : path_(std::move(path)), listen_fd_(listen_fd), loop_(loop) {}

SocketChardev::~SocketChardev() {
  loop_.remove_fd(listen_fd_);
  // Client state belongs to the loop thread: close it there, then wait for that to happen.
  loop_.post([this] { drop_client(); });
  loop_.drain();
  close(listen_fd_);
  unlink(path_.c_str());
}

void SocketChardev::set_input(InputFn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  input_ = std::move(fn);
}

void SocketChardev::on_accept() {
  const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return;
  if (client_fd_ >= 0) {  // one client at a time: a newcomer replaces the old one
    drop_client();
  }
  client_fd_ = fd;
  if (!loop_.add_fd(fd, EPOLLIN | EPOLLRDHUP, [this](uint32_t ev) { on_client(ev); })) {
    close(fd);
    client_fd_ = -1;
  }
}

void SocketChardev::on_client(uint32_t events) {
  uint8_t buf[4096];
  for (;;) {
    const ssize_t n = read(client_fd_, buf, sizeof buf);
    if (n > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      if (input_) input_(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      drop_client();
      return;
    }
    if (errno == EAGAIN) break;
  }
  if (events & (EPOLLHUP | EPOLLERR)) drop_client();
}

void SocketChardev::drop_client() {
  if (client_fd_ < 0) return;
  loop_.remove_fd(client_fd_);
  close(client_fd_);
  client_fd_ = -1;
}

void SocketChardev::write(const uint8_t* data, size_t len) {
  std::vector<uint8_t> bytes(data, data + len);
  loop_.post([this, bytes = std::move(bytes)] {
    size_t off = 0;
    while (client_fd_ >= 0 && off < bytes.size()) {
      const ssize_t n = send(client_fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        // A client that does not read (EAGAIN) or went away loses what it did not take.
        if (n < 0 && errno != EAGAIN) drop_client();
        break;
      }
    }
  });
}

}  // namespace vessel
