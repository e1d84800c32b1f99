#include "host/console_client.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "host/terminal.hpp"

namespace vessel {

namespace {

// Typed bytes the socket has not taken yet; past this the terminal stops reading its input.
constexpr size_t kSendLimit = 64 * 1024;

Result<int> connect_to(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return make_error(fmt::format("{}: not a usable Unix socket path (empty or too long)", path));
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(fmt::format("{}: socket: {}", path, std::strerror(errno)));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    close(fd);
    const char* hint = err == ECONNREFUSED ? " (nothing listens there: the VM has ended?)" : "";
    return make_error(fmt::format("{}: cannot connect: {}{}", path, std::strerror(err), hint));
  }
  // Non-blocking from here: the relay below waits in poll, never in send or recv.
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

void say(int fd, const std::string& line) {
  Terminal::write_all(fd, reinterpret_cast<const uint8_t*>(line.data()), line.size());
}

// What the terminal's input thread hands to the relay loop.
struct Outbox {
  std::mutex mu;
  std::vector<uint8_t> bytes;
  bool quit = false;
  int wake_fd = -1;

  void wake() const {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd, &one, sizeof one);
  }
};

}  // namespace

Result<AttachEnd> attach_console(const AttachOptions& options) {
  const std::string& name = options.name.empty() ? options.path : options.name;
  const int sock = TRY(connect_to(options.path));
  Outbox box;
  box.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (box.wake_fd < 0) {
    close(sock);
    return make_error(fmt::format("{}: eventfd: {}", name, std::strerror(errno)));
  }
  Terminal terminal(options.in_fd, options.out_fd, options.err_fd);
  terminal.set_quit_label("detach (the VM keeps running)");
  // Before raw mode, where "\n" alone would not return the carriage.
  say(options.err_fd, fmt::format("vessel: attached to {}; Ctrl-A x detaches\n", name));
  auto started = terminal.start(
      [&box](const uint8_t* data, size_t len) {
        {
          std::lock_guard<std::mutex> lock(box.mu);
          box.bytes.insert(box.bytes.end(), data, data + len);
        }
        box.wake();
      },
      [&box] {
        {
          std::lock_guard<std::mutex> lock(box.mu);
          box.quit = true;
        }
        box.wake();
      },
      [&box] {
        std::lock_guard<std::mutex> lock(box.mu);
        return box.bytes.size() < kSendLimit;
      });
  if (!started) {
    close(box.wake_fd);
    close(sock);
    return make_error(fmt::format("{}: {}", name, started.error().message));
  }

  AttachEnd end = AttachEnd::kClosed;
  std::vector<uint8_t> sending;
  uint8_t buf[16 * 1024];
  for (bool running = true; running;) {
    {
      std::lock_guard<std::mutex> lock(box.mu);
      sending.insert(sending.end(), box.bytes.begin(), box.bytes.end());
      box.bytes.clear();
      if (box.quit) {
        end = AttachEnd::kDetached;
        running = false;
      }
    }
    // Whatever was typed before Ctrl-A x still goes (as far as the socket takes it now).
    while (!sending.empty()) {
      const ssize_t n = send(sock, sending.data(), sending.size(), MSG_NOSIGNAL);
      if (n > 0) {
        sending.erase(sending.begin(), sending.begin() + n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        if (n < 0 && errno != EAGAIN) running = false;  // closed: the read below says so
        break;
      }
    }
    if (!running) break;
    pollfd fds[2] = {{sock, static_cast<short>(POLLIN | (sending.empty() ? 0 : POLLOUT)), 0},
                     {box.wake_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) {
      uint64_t count;
      [[maybe_unused]] const ssize_t n = ::read(box.wake_fd, &count, sizeof count);
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = recv(sock, buf, sizeof buf, 0);
      if (n > 0) {
        if (!Terminal::write_all(options.out_fd, buf, static_cast<size_t>(n))) break;
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        break;
      }
    }
  }
  terminal.stop();
  close(box.wake_fd);
  close(sock);
  // On a terminal the guest may have left the cursor mid-line.
  const char* start = isatty(options.err_fd) == 1 ? "\n" : "";
  say(options.err_fd, end == AttachEnd::kDetached
                          ? fmt::format("{}vessel: detached from {}\n", start, name)
                          : fmt::format("{}vessel: {}: the console closed\n", start, name));
  return end;
}

}  // namespace vessel
