#include "base/unix_listen.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vessel {

Result<void> check_unix_socket_path(const std::string& path) {
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
    return make_error(fmt::format("{}: not a usable Unix socket path (empty or over {} bytes)",
                                  path, sizeof(sockaddr_un::sun_path) - 1));
  }
  return {};
}

Result<int> listen_unix(const std::string& path, int backlog, int flags) {
  TRY_VOID(check_unix_socket_path(path));
  sockaddr_un addr{};
  // The temporary name; where it would not fit, the path itself (and the gap stays).
  std::string bound = fmt::format("{}.~{}", path, getpid());
  if (bound.size() >= sizeof(addr.sun_path)) bound = path;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, bound.c_str(), bound.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  if (fd < 0) return make_error(fmt::format("{}: socket: {}", path, errno_text()));
  if (bound != path) unlink(bound.c_str());  // left by a process of the same pid that died
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    close(fd);
    return make_error(fmt::format("{}: cannot bind: {}", path, errno_text(err)));
  }
  if (chmod(bound.c_str(), 0600) != 0 || ::listen(fd, backlog) != 0 ||
      (bound != path && rename(bound.c_str(), path.c_str()) != 0)) {
    const int err = errno;
    close(fd);
    unlink(bound.c_str());
    return make_error(fmt::format("{}: cannot listen: {}", path, errno_text(err)));
  }
  return fd;
}

bool unix_socket_live(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;  // cannot tell: not stale
  const bool live = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 ||
                    (errno != ECONNREFUSED && errno != ENOENT);
  close(fd);
  return live;
}

}  // namespace vessel
