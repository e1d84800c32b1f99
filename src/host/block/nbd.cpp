#include "host/block/nbd.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <map>
#include <unordered_map>

#include "base/log.hpp"
#include "host/block/libnbd_loader.hpp"

namespace vessel::block {

namespace {

using Clock = std::chrono::steady_clock;

// libnbd's functions. open_nbd loads the library before it makes the first handle, and every
// other call here is on a handle, so the table is there (a failed load never gets this far).
const LibNbd& lib() { return **load_libnbd(); }

struct HandleCloser {
  void operator()(nbd_handle* h) const { lib().nbd_close(h); }
};
using Handle = std::unique_ptr<nbd_handle, HandleCloser>;

// NBD requests carry a 32-bit length; servers also announce their own maximum.
constexpr uint64_t kMaxCommand = 32u << 20;
constexpr uint64_t kMaxRangeCommand = 1u << 30;  // trim and write-zeroes
constexpr auto kWatchdogTick = std::chrono::milliseconds(250);
constexpr auto kReconnectFirst = std::chrono::milliseconds(250);
constexpr auto kReconnectMax = std::chrono::seconds(5);

std::string nbd_error_text() {
  const char* text = lib().nbd_get_error();
  return text != nullptr ? text : "the server closed the connection";
}

// An errno libnbd reports as the result of a command, as the guest should see it.
int guest_errno(int err) {
  switch (err) {
    case ENOSPC:
    case EROFS:
    case EINVAL:
    case EIO: return -err;
    default: return -EIO;
  }
}

const uint8_t* zero_buffer() {
  static const auto* zeros = new uint8_t[kMaxCommand]();
  return zeros;
}

}  // namespace

class NbdBackend final : public BlockBackend {
 public:
  struct Caps {
    bool flush = false, trim = false, zero = false;
  };

  NbdBackend(Handle h, const NbdSettings& s, uint64_t size, bool read_only, uint32_t granularity,
             uint64_t max_command, Caps caps)
      : h_(std::move(h)),
        settings_(s),
        size_(size),
        read_only_(read_only),
        granularity_(granularity),
        max_command_(max_command),
        caps_(caps) {}
  ~NbdBackend() override { close_handle(); }

  uint64_t size() const override { return size_; }
  bool read_only() const override { return read_only_; }
  uint32_t discard_granularity() const override { return granularity_; }
  std::string describe() const override {
    return settings_.uri + (read_only_ ? " (nbd, read-only)" : " (nbd)");
  }
  Result<void> attach(EventLoop& loop) override;
  void detach() override;

  void read(uint64_t offset, std::vector<iovec> iov, Completion done) override {
    submit({Kind::kRead, offset, iov_bytes(iov), std::move(iov), false, std::move(done)});
  }
  void write(uint64_t offset, std::vector<iovec> iov, Completion done) override {
    submit({Kind::kWrite, offset, iov_bytes(iov), std::move(iov), false, std::move(done)});
  }
  void flush(Completion done) override { submit({Kind::kFlush, 0, 0, {}, false, std::move(done)}); }
  void discard(uint64_t offset, uint64_t len, Completion done) override {
    submit({Kind::kTrim, offset, len, {}, false, std::move(done)});
  }
  void write_zeroes(uint64_t offset, uint64_t len, bool may_unmap, Completion done) override {
    submit({Kind::kZero, offset, len, {}, may_unmap, std::move(done)});
  }
  void drain() override;
  size_t in_flight() const override { return active_.size() + queued_.size(); }

 private:
  enum class Kind : uint8_t { kRead, kWrite, kFlush, kTrim, kZero };
  enum class Link : uint8_t { kReady, kConnecting, kDown };
  struct Request {
    Kind kind;
    uint64_t offset, len;
    std::vector<iovec> iov;
    bool may_unmap;
    Completion done;
    Clock::time_point deadline{};
    unsigned pending = 0;  // NBD commands issued and not yet answered
    int error = 0;
  };
  // One NBD command's completion context: which request it belongs to.
  struct Command {
    NbdBackend* self;
    uint64_t request;
  };

  static int on_command(void* user_data, int* error);
  static uint64_t iov_bytes(const std::vector<iovec>& iov) {
    uint64_t n = 0;
    for (const iovec& v : iov) n += v.iov_len;
    return n;
  }

  void submit(Request r);
  void issue(Request r);
  void issue_commands(uint64_t id, Request& r);
  void command_done(Command* cmd, int error);
  void finish(uint64_t id);
  void settle();
  void on_fd(uint32_t events);
  void connection_lost(const std::string& why);
  void close_handle();
  void reconnect();
  void schedule_reconnect();
  void connected();
  void watchdog();
  void watch_fd();

  Handle h_;
  NbdSettings settings_;
  uint64_t size_;
  bool read_only_;
  uint32_t granularity_;
  uint64_t max_command_;
  Caps caps_;

  EventLoop* loop_ = nullptr;
  Link link_ = Link::kReady;
  int watched_fd_ = -1;
  uint32_t watched_events_ = 0;
  EventLoop::TimerId watchdog_ = 0, reconnect_timer_ = 0;
  std::chrono::milliseconds backoff_ = kReconnectFirst;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Request> active_;
  std::deque<Request> queued_;
  std::unordered_map<Command*, std::unique_ptr<Command>> commands_;
  std::vector<std::pair<Completion, int>> finished_;
  bool settling_ = false;
};

Result<void> NbdBackend::attach(EventLoop& loop) {
  loop_ = &loop;
  watch_fd();
  watchdog_ = loop_->add_timer(kWatchdogTick, [this] { watchdog(); });
  return {};
}

void NbdBackend::detach() {
  if (loop_ == nullptr) return;
  if (watched_fd_ >= 0) loop_->remove_fd(watched_fd_);
  watched_fd_ = -1;
  loop_->cancel_timer(watchdog_);
  if (reconnect_timer_ != 0) loop_->cancel_timer(reconnect_timer_);
  reconnect_timer_ = 0;
  loop_ = nullptr;
}

// Keeps the epoll registration in step with the handle's fd and what libnbd waits for.
void NbdBackend::watch_fd() {
  if (loop_ == nullptr) return;
  const int fd = h_ ? lib().nbd_aio_get_fd(h_.get()) : -1;
  if (fd != watched_fd_ && watched_fd_ >= 0) {
    loop_->remove_fd(watched_fd_);
    watched_fd_ = -1;
  }
  if (fd < 0) return;
  const unsigned dir = lib().nbd_aio_get_direction(h_.get());
  const uint32_t events = ((dir & LIBNBD_AIO_DIRECTION_READ) ? EPOLLIN : 0u) |
                          ((dir & LIBNBD_AIO_DIRECTION_WRITE) ? EPOLLOUT : 0u);
  if (fd != watched_fd_) {
    if (auto r = loop_->add_fd(fd, events, [this](uint32_t ev) { on_fd(ev); }); !r) {
      connection_lost(r.error().message);
      return;
    }
    watched_fd_ = fd;
  } else if (events != watched_events_) {
    (void)loop_->modify_fd(fd, events);
  }
  watched_events_ = events;
}

void NbdBackend::submit(Request r) {
  const bool ranged = r.kind != Kind::kFlush;
  if (ranged && (r.offset > size_ || r.len > size_ - r.offset)) return r.done(-EINVAL);
  if (r.kind != Kind::kRead && read_only_) return r.done(r.kind == Kind::kFlush ? 0 : -EROFS);
  if (ranged && r.len == 0) return r.done(0);
  // While the server is gone the guest hears so at once, as from a disk that has failed;
  // requests made while a reconnection is under way wait for it, up to the timeout.
  if (link_ == Link::kDown) return r.done(-EIO);
  r.deadline = Clock::now() + settings_.timeout;
  if (link_ == Link::kConnecting) {
    queued_.push_back(std::move(r));
    return;
  }
  issue(std::move(r));
  settle();
}

void NbdBackend::issue(Request r) {
  const uint64_t id = next_id_++;
  Request& slot = active_.emplace(id, std::move(r)).first->second;
  // One extra count while the commands are issued: libnbd may find the connection dead while
  // starting a later command and retire the earlier ones at once, which would otherwise
  // finish (and free) the request under issue_commands().
  ++slot.pending;
  issue_commands(id, slot);
  if (--slot.pending == 0) finish(id);
}

// Splits a request into NBD commands (one per guest buffer, at most max_command_ bytes each).
void NbdBackend::issue_commands(uint64_t id, Request& r) {
  uint64_t offset = r.offset;
  auto each_chunk = [&](uint64_t len, uint64_t limit, auto&& fn) {
    for (uint64_t done = 0; done < len;) {
      const uint64_t n = std::min(limit, len - done);
      fn(done, n, offset);
      done += n;
      offset += n;
    }
  };
  auto cb = [](Command* c) { return nbd_completion_callback{&NbdBackend::on_command, c, nullptr}; };
  auto run = [&](auto&& start) {
    auto cmd = std::make_unique<Command>(Command{this, id});
    Command* raw = cmd.get();
    commands_.emplace(raw, std::move(cmd));
    ++r.pending;
    // A refused command whose callback already ran (the connection died while it was being
    // issued) has been counted off by command_done().
    if (start(cb(raw)) < 0 && commands_.erase(raw) != 0) {
      --r.pending;
      // Refused before reaching the server (most often: the connection has died).
      if (r.error == 0) r.error = -EIO;
    }
  };
  nbd_handle* h = h_.get();
  switch (r.kind) {
    case Kind::kRead:
    case Kind::kWrite:
      for (const iovec& v : r.iov) {
        auto* base = static_cast<uint8_t*>(v.iov_base);
        each_chunk(v.iov_len, max_command_, [&](uint64_t at, uint64_t n, uint64_t off) {
          run([&](nbd_completion_callback c) {
            return r.kind == Kind::kRead ? lib().nbd_aio_pread(h, base + at, n, off, c, 0)
                                         : lib().nbd_aio_pwrite(h, base + at, n, off, c, 0);
          });
        });
      }
      break;
    case Kind::kFlush:
      if (caps_.flush) run([&](nbd_completion_callback c) { return lib().nbd_aio_flush(h, c, 0); });
      break;
    case Kind::kTrim:  // advisory: a server that cannot trim keeps the data
      if (!caps_.trim) break;
      each_chunk(r.len, kMaxRangeCommand, [&](uint64_t, uint64_t n, uint64_t off) {
        run([&](nbd_completion_callback c) { return lib().nbd_aio_trim(h, n, off, c, 0); });
      });
      break;
    case Kind::kZero:
      each_chunk(r.len, caps_.zero ? kMaxRangeCommand : max_command_,
                 [&](uint64_t, uint64_t n, uint64_t off) {
                   run([&](nbd_completion_callback c) {
                     if (!caps_.zero) return lib().nbd_aio_pwrite(h, zero_buffer(), n, off, c, 0);
                     const uint32_t flags = r.may_unmap ? 0 : LIBNBD_CMD_FLAG_NO_HOLE;
                     return lib().nbd_aio_zero(h, n, off, c, flags);
                   });
                 });
      break;
  }
}

int NbdBackend::on_command(void* user_data, int* error) {
  auto* cmd = static_cast<Command*>(user_data);
  cmd->self->command_done(cmd, *error);
  return 1;  // retire the command
}

// Runs inside libnbd: only records the outcome. Completions run later, from settle().
void NbdBackend::command_done(Command* cmd, int error) {
  const uint64_t id = cmd->request;
  commands_.erase(cmd);
  auto it = active_.find(id);
  if (it == active_.end()) return;
  Request& r = it->second;
  if (error != 0 && r.error == 0) r.error = guest_errno(error);
  if (--r.pending == 0) finish(id);
}

void NbdBackend::finish(uint64_t id) {
  auto it = active_.find(id);
  if (it == active_.end()) return;
  finished_.emplace_back(std::move(it->second.done), it->second.error);
  active_.erase(it);
}

// After every call into libnbd: follow the connection's state, then run completions, which
// may submit more requests (the guard keeps that from recursing).
void NbdBackend::settle() {
  if (h_ && (lib().nbd_aio_is_dead(h_.get()) != 0 || lib().nbd_aio_is_closed(h_.get()) != 0)) {
    connection_lost(nbd_error_text());
  }
  if (h_) watch_fd();
  if (settling_) return;
  settling_ = true;
  while (!finished_.empty()) {
    auto batch = std::move(finished_);
    finished_.clear();
    for (auto& [done, error] : batch) done(error);
  }
  settling_ = false;
}

void NbdBackend::on_fd(uint32_t events) {
  if (!h_) return;
  nbd_handle* h = h_.get();
  if ((events & EPOLLOUT) != 0) lib().nbd_aio_notify_write(h);
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) lib().nbd_aio_notify_read(h);
  if (link_ == Link::kConnecting && lib().nbd_aio_is_ready(h) != 0) connected();
  settle();
}

void NbdBackend::close_handle() {
  if (loop_ != nullptr && watched_fd_ >= 0) loop_->remove_fd(watched_fd_);
  watched_fd_ = -1;
  h_.reset();  // libnbd runs no callbacks from here on
  commands_.clear();
}

// Fails everything in flight or waiting with EIO and starts reconnecting.
void NbdBackend::connection_lost(const std::string& why) {
  static LogLimiter lost, retry;
  if (link_ == Link::kConnecting) {
    log_limited(retry, LogLevel::kDebug, "{}: NBD reconnection failed ({}); retrying in {} ms",
                settings_.uri, why, backoff_.count());
  } else {
    log_limited(lost, LogLevel::kWarn, "{}: NBD connection lost ({}); reconnecting", settings_.uri,
                why);
  }
  close_handle();
  link_ = Link::kDown;
  for (auto& [id, r] : active_) finished_.emplace_back(std::move(r.done), -EIO);
  active_.clear();
  for (Request& r : queued_) finished_.emplace_back(std::move(r.done), -EIO);
  queued_.clear();
  schedule_reconnect();
}

void NbdBackend::schedule_reconnect() {
  if (loop_ == nullptr || reconnect_timer_ != 0) return;
  reconnect_timer_ = loop_->add_timer(backoff_, [this] {
    reconnect_timer_ = 0;
    reconnect();
    settle();
  });
  backoff_ = std::min<std::chrono::milliseconds>(backoff_ * 2, kReconnectMax);
}

void NbdBackend::reconnect() {
  Handle h(lib().nbd_create());
  if (!h || lib().nbd_aio_connect_uri(h.get(), settings_.uri.c_str()) != 0) {
    schedule_reconnect();
    return;
  }
  h_ = std::move(h);
  link_ = Link::kConnecting;
  if (lib().nbd_aio_is_ready(h_.get()) != 0) connected();
}

// A new connection is only used if it serves the same disk.
void NbdBackend::connected() {
  nbd_handle* h = h_.get();
  const int64_t size = lib().nbd_get_size(h);
  if (size < 0 || static_cast<uint64_t>(size) != size_ ||
      (!read_only_ && lib().nbd_is_read_only(h))) {
    connection_lost(fmt::format("the export changed: {} bytes{}, was {}", size,
                                lib().nbd_is_read_only(h) ? " read-only" : "", size_));
    return;
  }
  static LogLimiter limiter;
  log_limited(limiter, LogLevel::kInfo, "{}: NBD connection restored", settings_.uri);
  link_ = Link::kReady;
  backoff_ = kReconnectFirst;
  std::deque<Request> waiting = std::move(queued_);
  queued_.clear();
  for (Request& r : waiting) issue(std::move(r));
}

// A stalled server is treated as a lost one, so a guest's request never waits forever.
void NbdBackend::watchdog() {
  const Clock::time_point now = Clock::now();
  bool stalled = false;
  for (const auto& [id, r] : active_) stalled = stalled || now >= r.deadline;
  if (stalled) {
    connection_lost(fmt::format("no reply within {} ms", settings_.timeout.count()));
  } else {
    while (!queued_.empty() && now >= queued_.front().deadline) {
      finished_.emplace_back(std::move(queued_.front().done), -EIO);
      queued_.pop_front();
    }
  }
  settle();
  if (loop_ != nullptr) watchdog_ = loop_->add_timer(kWatchdogTick, [this] { watchdog(); });
}

void NbdBackend::drain() {
  while (in_flight() != 0 || !finished_.empty()) {
    if (h_ && link_ != Link::kDown) {
      pollfd p{lib().nbd_aio_get_fd(h_.get()), 0, 0};
      const unsigned dir = lib().nbd_aio_get_direction(h_.get());
      p.events = static_cast<short>(((dir & LIBNBD_AIO_DIRECTION_READ) ? POLLIN : 0) |
                                    ((dir & LIBNBD_AIO_DIRECTION_WRITE) ? POLLOUT : 0));
      if (p.fd >= 0 && ::poll(&p, 1, static_cast<int>(kWatchdogTick.count())) > 0) {
        on_fd((p.revents & POLLIN ? EPOLLIN : 0u) | (p.revents & POLLOUT ? EPOLLOUT : 0u) |
              (p.revents & (POLLHUP | POLLERR) ? EPOLLHUP : 0u));
        continue;
      }
    }
    const Clock::time_point now = Clock::now();
    bool overdue = link_ == Link::kDown;
    for (const auto& [id, r] : active_) overdue = overdue || now >= r.deadline;
    for (const Request& r : queued_) overdue = overdue || now >= r.deadline;
    if (overdue) connection_lost("requests outstanding past the timeout while draining");
    settle();
  }
}

Result<void> preload_nbd() {
  TRY(load_libnbd());
  return {};
}

Result<std::unique_ptr<BlockBackend>> open_nbd(const NbdSettings& settings) {
  const std::string& uri = settings.uri;
  TRY(load_libnbd());
  Handle h(lib().nbd_create());
  if (!h) return make_error(fmt::format("{}: {}", uri, nbd_error_text()));
  if (lib().nbd_connect_uri(h.get(), uri.c_str()) != 0) {
    return make_error(fmt::format("{}: cannot connect: {}", uri, nbd_error_text()));
  }
  const int64_t size = lib().nbd_get_size(h.get());
  if (size <= 0) return make_error(fmt::format("{}: the export is empty", uri));
  if (static_cast<uint64_t>(size) % kSectorSize != 0) {
    return make_error(
        fmt::format("{}: size {} bytes is not a multiple of {}", uri, size, kSectorSize));
  }
  const bool server_ro = lib().nbd_is_read_only(h.get()) > 0;
  if (server_ro && !settings.read_only) {
    return make_error(fmt::format("{}: the server exports it read-only; add ,readonly", uri));
  }
  const int64_t preferred = lib().nbd_get_block_size(h.get(), LIBNBD_SIZE_PREFERRED);
  const int64_t maximum = lib().nbd_get_block_size(h.get(), LIBNBD_SIZE_MAXIMUM);
  const uint32_t granularity = preferred >= static_cast<int64_t>(kSectorSize) &&
                                       preferred <= (1 << 20) && preferred % kSectorSize == 0
                                   ? static_cast<uint32_t>(preferred)
                                   : 4096;
  const uint64_t max_command = maximum >= static_cast<int64_t>(kSectorSize)
                                   ? std::min<uint64_t>(static_cast<uint64_t>(maximum), kMaxCommand)
                                   : kMaxCommand;
  const NbdBackend::Caps caps{lib().nbd_can_flush(h.get()) > 0, lib().nbd_can_trim(h.get()) > 0,
                              lib().nbd_can_zero(h.get()) > 0};
  return std::unique_ptr<BlockBackend>(
      std::make_unique<NbdBackend>(std::move(h), settings, static_cast<uint64_t>(size),
                                   settings.read_only, granularity, max_command, caps));
}

}  // namespace vessel::block
