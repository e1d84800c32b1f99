#include "host/console_server.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "base/log.hpp"
#include "base/thread_role.hpp"
#include "base/unix_listen.hpp"

namespace vessel {

namespace {

// While the receiver does not want input, look again this often (as the terminal does).
constexpr auto kResumePoll = std::chrono::milliseconds(10);
constexpr size_t kReadChunk = 4096;

bool hung_up_now(int fd) {
  pollfd p{fd, 0, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

// A path that fits in a Unix socket address (sun_path, with its terminating zero).
Result<void> check_socket_path(const std::string& path) {
  if (path.empty()) return make_error("'': an empty path");
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return make_error(fmt::format("{}: too long for a Unix socket path ({} bytes, at most {})",
                                  path, path.size(), sizeof(sockaddr_un::sun_path) - 1));
  }
  return {};
}

}  // namespace

Result<void> ConsoleServer::check_path(const std::string& path) {
  TRY_VOID(check_socket_path(path));
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) {
    return make_error(fmt::format("{}: directory {}: {}", path, dir.string(), errno_text(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return make_error(fmt::format("{}: {} is not a directory", path, dir.string()));
  }
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return make_error(
          fmt::format("{}: exists and is not a socket; refusing to replace it", path));
    }
    if (unix_socket_live(path)) {
      return make_error(fmt::format(
          "{}: another program (a running VM?) listens there; refusing to replace it", path));
    }
  }
  return {};
}

Result<std::unique_ptr<ConsoleServer>> ConsoleServer::listen(const std::string& path, InputFn input,
                                                             ReadyFn ready, Limits limits) {
  TRY_VOID(check_path(path));
  unlink(path.c_str());  // a stale socket from a run that ended without removing it
  const int fd = TRY(listen_unix(path, static_cast<int>(limits.max_clients) + 1, SOCK_NONBLOCK));
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    const int err = errno;
    close(fd);
    unlink(path.c_str());
    return make_error(fmt::format("{}: cannot listen: {}", path, errno_text(err)));
  }
  std::unique_ptr<ConsoleServer> server(new ConsoleServer(
      path, fd, st.st_dev, st.st_ino, std::move(input), std::move(ready), limits));
  TRY_VOID(server->loop_.start("vessel-console", ThreadRole::kConsole));
  ConsoleServer* raw = server.get();
  TRY_VOID(server->loop_.add_fd(fd, EPOLLIN, [raw](uint32_t) { raw->on_accept(); }));
  return server;
}

ConsoleServer::ConsoleServer(std::string path, int listen_fd, dev_t dev, ino_t ino, InputFn input,
                             ReadyFn ready, Limits limits)
    : path_(std::move(path)),
      listen_fd_(listen_fd),
      dev_(dev),
      ino_(ino),
      input_(std::move(input)),
      ready_(std::move(ready)),
      limits_(limits) {}

ConsoleServer::~ConsoleServer() {
  loop_.post([this] {
    loop_.remove_fd(listen_fd_);
    if (resume_timer_ != 0) loop_.cancel_timer(resume_timer_);
    // The guest's last words (a panic, "reboot: Power down") reach whoever can take them now.
    flush_output();
    for (auto& [fd, c] : clients_) {
      if (!c.hung_up) send_queued(c);
    }
    while (!clients_.empty()) drop(clients_.begin()->first);
  });
  loop_.drain();
  loop_.stop();
  close(listen_fd_);
  // Only our own socket: someone may have replaced it meanwhile.
  struct stat st {};
  if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    unlink(path_.c_str());
  }
}

uint64_t ConsoleServer::dropped_output() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_output_;
}

void ConsoleServer::write(const uint8_t* data, size_t len) {
  // Nobody watching: nothing to keep (a client sees output from when it connects).
  if (len == 0 || viewers_.load(std::memory_order_acquire) == 0) return;
  bool post = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t room = limits_.pending - std::min(limits_.pending, pending_.size());
    const size_t take = std::min(room, len);
    pending_.insert(pending_.end(), data, data + take);
    dropped_output_ += len - take;
    if (take > 0 && !flush_posted_) flush_posted_ = post = true;
  }
  if (post) loop_.post([this] { flush_output(); });
}

void ConsoleServer::sync() {
  loop_.post([this] {
    on_accept();
    flush_output();
  });
  loop_.drain();
}

void ConsoleServer::on_accept() {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: no more; anything else (EMFILE, ...): the next event retries
    }
    if (clients_.size() >= limits_.max_clients) {
      // The socket buffer of a fresh connection is empty: the line fits without waiting.
      const std::string line = fmt::format(
          "vessel: console {}: {} viewers are connected already, the most it serves\r\n", path_,
          limits_.max_clients);
      [[maybe_unused]] const ssize_t n = send(fd, line.data(), line.size(), MSG_NOSIGNAL);
      close(fd);
      refused_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    Client& c = clients_[fd];
    c.fd = fd;
    c.events = reading_ ? static_cast<uint32_t>(EPOLLIN) : 0u;
    if (!loop_.add_fd(fd, c.events, [this, fd](uint32_t ev) { on_client(fd, ev); })) {
      clients_.erase(fd);
      close(fd);
      continue;
    }
    count_viewers();
  }
}

void ConsoleServer::on_client(int fd, uint32_t events) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Client& c = it->second;
  if ((events & EPOLLOUT) != 0 && !send_queued(c)) {
    drop(fd);
    return;
  }
  // A hang-up reported for an fd number that was closed and reused within one epoll round
  // belongs to the old connection: the socket itself is asked.
  const bool gone = (events & (EPOLLHUP | EPOLLERR)) != 0 && hung_up_now(fd);
  if ((events & EPOLLIN) != 0 || (gone && !c.input_eof)) {
    switch (read_input(c)) {
      case ReadEnd::kAgain:
        if (gone) {  // cannot happen on Linux; were it to, epoll would report it forever
          drop(fd);
          return;
        }
        break;
      case ReadEnd::kPaused:
        if (gone) {
          // Its last input waits until the receiver wants more; meanwhile epoll would report
          // the hang-up again and again, so it leaves epoll.
          loop_.remove_fd(fd);
          c.hung_up = true;
          count_viewers();
          return;
        }
        break;
      case ReadEnd::kEof:
        if (gone) {
          drop(fd);
          return;
        }
        c.input_eof = true;  // shut its sending side only: it still wants output
        break;
      case ReadEnd::kError: drop(fd); return;
    }
  } else if (gone) {
    drop(fd);
    return;
  }
  update_events(c);
}

ConsoleServer::ReadEnd ConsoleServer::read_input(Client& c) {
  uint8_t buf[kReadChunk];
  for (;;) {
    // Asked before every read: each read adds at most one chunk beyond the receiver's limit.
    if (ready_ && !ready_()) {
      pause_input();
      return ReadEnd::kPaused;
    }
    const ssize_t n = read(c.fd, buf, sizeof buf);
    if (n > 0) {
      if (input_) input_(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return ReadEnd::kEof;
    if (errno == EINTR) continue;
    return errno == EAGAIN ? ReadEnd::kAgain : ReadEnd::kError;
  }
}

bool ConsoleServer::send_queued(Client& c) {
  while (c.queued() > 0) {
    const ssize_t n = send(c.fd, c.out.data() + c.out_head, c.queued(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out_head += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    return false;  // EPIPE, ECONNRESET: gone
  }
  if (c.queued() == 0) {
    c.out.clear();
    c.out_head = 0;
  } else if (c.out_head > c.out.size() / 2) {
    c.out.erase(c.out.begin(), c.out.begin() + static_cast<ptrdiff_t>(c.out_head));
    c.out_head = 0;
  }
  return true;
}

void ConsoleServer::flush_output() {
  std::vector<uint8_t> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(pending_);
    flush_posted_ = false;
  }
  if (batch.empty()) return;
  std::vector<int> gone, behind;
  for (auto& [fd, c] : clients_) {
    if (c.hung_up) continue;
    c.out.insert(c.out.end(), batch.begin(), batch.end());
    if (!send_queued(c)) {
      gone.push_back(fd);
    } else if (c.queued() > limits_.client_buffer) {
      behind.push_back(fd);
    } else {
      update_events(c);
    }
  }
  for (int fd : behind) {
    overflowed_.fetch_add(1, std::memory_order_relaxed);
    // The guest's output does it to a viewer that reconnects and stops reading, in a loop.
    static LogLimiter limiter;
    log_limited(limiter, LogLevel::kWarn,
                "console {}: a viewer fell more than {} bytes behind; disconnected it", path_,
                limits_.client_buffer);
    drop(fd);
  }
  for (int fd : gone) drop(fd);
}

void ConsoleServer::update_events(Client& c) {
  if (c.hung_up) return;
  const uint32_t in = reading_ && !c.input_eof ? static_cast<uint32_t>(EPOLLIN) : 0u;
  const uint32_t want = in | (c.queued() > 0 ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  if (want == c.events) return;
  if (loop_.modify_fd(c.fd, want)) c.events = want;
}

void ConsoleServer::pause_input() {
  if (!reading_) return;
  reading_ = false;
  for (auto& [fd, c] : clients_) update_events(c);
  resume_timer_ = loop_.add_timer(kResumePoll, [this] { on_resume_timer(); });
}

void ConsoleServer::on_resume_timer() {
  resume_timer_ = 0;
  if (ready_ && !ready_()) {
    resume_timer_ = loop_.add_timer(kResumePoll, [this] { on_resume_timer(); });
    return;
  }
  reading_ = true;
  // Clients that left while input was paused: deliver what they sent before going.
  std::vector<int> done;
  for (auto& [fd, c] : clients_) {
    if (!c.hung_up) continue;
    const ReadEnd end = read_input(c);
    if (end == ReadEnd::kPaused) break;  // not ready again; the timer is back
    done.push_back(fd);
  }
  for (int fd : done) drop(fd);
  for (auto& [fd, c] : clients_) update_events(c);
}

void ConsoleServer::drop(int fd) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  if (!it->second.hung_up) loop_.remove_fd(fd);
  close(fd);
  clients_.erase(it);
  count_viewers();
}

void ConsoleServer::count_viewers() {
  const size_t n = static_cast<size_t>(std::count_if(
      clients_.begin(), clients_.end(), [](const auto& e) { return !e.second.hung_up; }));
  viewers_.store(n, std::memory_order_release);
}

}  // namespace vessel
