#include "daemon/migration_relay.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <thread>

#include "base/log.hpp"
#include "vmm/migration/channel.hpp"

namespace vessel::daemon {

namespace {

constexpr auto kAcceptWait = std::chrono::minutes(1);
// The incoming VM listens once its process has parsed its options: a few ms.
constexpr int kConnectTries = 200;
constexpr auto kConnectPause = std::chrono::milliseconds(25);

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Both directions until each has ended (its reader saw EOF) or either side fails.
void pump(int a, int b) {
  std::array<uint8_t, 256 * 1024> buf{};
  bool open[2] = {true, true};  // a->b, b->a
  while (open[0] || open[1]) {
    pollfd fds[2] = {{a, static_cast<short>(open[0] ? POLLIN : 0), 0},
                     {b, static_cast<short>(open[1] ? POLLIN : 0), 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (!open[i] || fds[i].revents == 0) continue;
      const int from = i == 0 ? a : b, to = i == 0 ? b : a;
      const ssize_t n = recv(from, buf.data(), buf.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;  // a reset or a dead peer: both sides are closed by the caller
      if (n == 0) {
        shutdown(to, SHUT_WR);
        open[i] = false;
        continue;
      }
      if (!write_all(to, buf.data(), static_cast<size_t>(n))) return;
    }
  }
}

}  // namespace

Result<uint16_t> start_migration_relay(const std::string& unix_path) {
  const migration::Address at = TRY(migration::parse_address("tcp:127.0.0.1:0"));
  auto listener = TRY(migration::Listener::listen(at));
  const uint16_t port = listener.port();
  std::thread([listener = std::move(listener), unix_path]() mutable {
    auto source =
        listener.accept(std::chrono::duration_cast<std::chrono::milliseconds>(kAcceptWait));
    if (!source) {
      log(LogLevel::kWarn, "migration relay: {}", source.error().message);
      return;
    }
    const migration::Address vm{true, {}, 0, unix_path, "unix:" + unix_path};
    for (int i = 0; i < kConnectTries; ++i) {
      if (auto dest = migration::Channel::connect(vm)) {
        pump(source->fd(), dest->fd());
        return;
      }
      std::this_thread::sleep_for(kConnectPause);
    }
    log(LogLevel::kWarn, "migration relay: the incoming VM never listened on {}", unix_path);
  }).detach();
  return port;
}

}  // namespace vessel::daemon
