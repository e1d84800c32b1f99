#include "host/console_log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "base/log.hpp"
#include "base/thread_role.hpp"

namespace vessel {

namespace {

std::string older(const std::string& path) { return path + ".1"; }

// Writes all of it; returns how much was written before an error.
size_t write_fully(int fd, const uint8_t* data, size_t len) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n = ::write(fd, data + done, len - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  return done;
}

// Replaces the file at `path` (open as `in`, which this closes) with the header and then its
// bytes from `from` on, through a temporary file and a rename: a crash midway leaves the old
// file as it was. `failure` says what could not be done, in the error.
Result<void> rewrite_with_header(int in, const std::string& path, off_t from,
                                 const std::string& failure) {
  const std::string tmp = path + ".tmp";
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    const std::string why = errno_text();
    close(in);
    return make_error(fmt::format("{}: {}", tmp, why));
  }
  const std::string_view header = kConsoleLogHeader;
  bool ok = write_fully(out, reinterpret_cast<const uint8_t*>(header.data()), header.size()) ==
            header.size();
  uint8_t buf[64 * 1024];
  while (ok) {
    const ssize_t n = pread(in, buf, sizeof buf, from);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    if (write_fully(out, buf, static_cast<size_t>(n)) != static_cast<size_t>(n)) {
      ok = false;
      break;
    }
    from += n;
  }
  close(in);
  if (close(out) != 0 || !ok || rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    unlink(tmp.c_str());
    return make_error(fmt::format("{}: {}: {}", path, failure, why));
  }
  return {};
}

// Keeps the header and only the newest bytes after it, `keep` bytes in all, of the ring file at
// `path` (a size larger than this run's left by an earlier run). Nothing there is fine.
Result<void> keep_tail(const std::string& path, uint64_t keep) {
  const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    if (errno == ENOENT) return {};
    return make_error(fmt::format("{}: {}", path, errno_text()));
  }
  struct stat st {};
  if (fstat(in, &st) != 0 || static_cast<uint64_t>(st.st_size) <= keep) {
    close(in);
    return {};
  }
  // keep >= 2K (half the smallest size) is more than the header.
  const uint64_t header = std::string_view(kConsoleLogHeader).size();
  const auto from = static_cast<off_t>(static_cast<uint64_t>(st.st_size) - (keep - header));
  return rewrite_with_header(in, path, from, fmt::format("cannot trim to {} bytes", keep));
}

// Whether the file begins with the header, read at offset 0 whatever fd's position.
bool has_header(int fd) {
  const std::string_view header = kConsoleLogHeader;
  char buf[64];
  static_assert(sizeof kConsoleLogHeader - 1 <= sizeof buf);
  const ssize_t n = pread(fd, buf, header.size(), 0);
  return n == static_cast<ssize_t>(header.size()) && header == std::string_view(buf, header.size());
}

Result<void> check_writable_file(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return make_error(fmt::format("{}: {}", path, errno_text()));
  }
  if (!S_ISREG(st.st_mode)) return make_error(fmt::format("{}: not a regular file", path));
  if (access(path.c_str(), W_OK) != 0) {
    return make_error(fmt::format("{}: not writable: {}", path, errno_text()));
  }
  // The ring trims and renames its files: a file that is not one of them (a typo, the wrong
  // variable) would be destroyed. Empty is fine: there is nothing to lose.
  if (st.st_size == 0) return {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(fmt::format("{}: {}", path, errno_text()));
  const bool ours = has_header(fd);
  close(fd);
  if (!ours) {
    return make_error(
        fmt::format("{}: exists and is not a Vessel console log; refusing to overwrite it", path));
  }
  return {};
}

// A new or empty ring file starts with the header.
Result<void> start_file(int fd, const std::string& path, uint64_t& used) {
  if (used != 0) return {};
  const std::string_view header = kConsoleLogHeader;
  const size_t done =
      write_fully(fd, reinterpret_cast<const uint8_t*>(header.data()), header.size());
  used = done;
  if (done != header.size()) {
    return make_error(fmt::format("{}: cannot write: {}", path, errno_text()));
  }
  return {};
}

}  // namespace

LogRing::LogRing(std::string path, uint64_t size) : path_(std::move(path)), half_(size / 2) {}

LogRing::~LogRing() {
  if (fd_ >= 0) close(fd_);
}

Result<void> LogRing::open_current() {
  TRY_VOID(keep_tail(older(path_), half_));
  TRY_VOID(keep_tail(path_, half_));
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return make_error(fmt::format("{}: cannot open: {}", path_, errno_text()));
  struct stat st {};
  if (fstat(fd_, &st) != 0) return make_error(fmt::format("{}: {}", path_, errno_text()));
  used_ = static_cast<uint64_t>(st.st_size);
  return start_file(fd_, path_, used_);
}

Result<void> LogRing::rotate() {
  // Renamed first, then a new PATH: a reader opening PATH, then PATH.1, sees either the old
  // pair or (the same file under both names) a rotation it can retry.
  if (rename(path_.c_str(), older(path_).c_str()) != 0) {
    return make_error(
        fmt::format("{}: cannot rotate to {}: {}", path_, older(path_), errno_text()));
  }
  close(fd_);
  used_ = 0;
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return make_error(fmt::format("{}: cannot open: {}", path_, errno_text()));
  return start_file(fd_, path_, used_);
}

Result<void> LogRing::append(const uint8_t* data, size_t len) {
  if (fd_ < 0) TRY_VOID(open_current());
  while (len > 0) {
    if (used_ >= half_) TRY_VOID(rotate());
    const size_t n = static_cast<size_t>(std::min<uint64_t>(len, half_ - used_));
    const size_t done = write_fully(fd_, data, n);
    used_ += done;
    if (done != n) return make_error(fmt::format("{}: cannot write: {}", path_, errno_text()));
    data += n;
    len -= n;
  }
  return {};
}

Result<void> ConsoleLog::check(const std::string& path, uint64_t size) {
  if (size < kMinSize) return make_error(fmt::format("size {} is too small (at least 4K)", size));
  if (size > kMaxSize) return make_error(fmt::format("size {} is too large (at most 1G)", size));
  if (path.empty()) return make_error("'': an empty path");
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) {
    return make_error(fmt::format("{}: directory {}: {}", path, dir.string(), errno_text()));
  }
  if (!S_ISDIR(st.st_mode)) {
    return make_error(fmt::format("{}: {} is not a directory", path, dir.string()));
  }
  // Rotation renames within the directory.
  if (access(dir.c_str(), W_OK) != 0) {
    return make_error(fmt::format("{}: directory {} is not writable", path, dir.string()));
  }
  TRY_VOID(check_writable_file(path));
  TRY_VOID(check_writable_file(older(path)));
  return {};
}

Result<std::unique_ptr<ConsoleLog>> ConsoleLog::open(const std::string& path, uint64_t size) {
  TRY_VOID(check(path, size));
  std::unique_ptr<ConsoleLog> log(new ConsoleLog(path, size));
  ConsoleLog* raw = log.get();
  log->thread_ = std::thread([raw] {
    pthread_setname_np(pthread_self(), "vessel-log");
    enter_thread_role(ThreadRole::kConsole);
    raw->writer();
  });
  return log;
}

ConsoleLog::ConsoleLog(const std::string& path, uint64_t size) : ring_(path, size), path_(path) {}

ConsoleLog::~ConsoleLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ConsoleLog::write(const uint8_t* data, size_t len) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_empty = pending_.empty();
    const size_t take = std::min(len, kPendingLimit - std::min(kPendingLimit, pending_.size()));
    pending_.insert(pending_.end(), data, data + take);
    accepted_ += take;
    dropped_ += len - take;
  }
  if (was_empty) wake_.notify_one();
}

void ConsoleLog::create() {
  std::unique_lock<std::mutex> lock(mu_);
  create_requested_ = true;
  const uint64_t after = passes_;
  wake_.notify_one();
  done_.wait(lock, [&] { return passes_ > after && !create_requested_; });
}

void ConsoleLog::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = accepted_;
  ++flush_waiters_;
  wake_.notify_one();
  done_.wait(lock, [&] { return written_ >= target; });
  --flush_waiters_;
}

uint64_t ConsoleLog::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

void ConsoleLog::writer() {
  std::vector<uint8_t> batch;
  bool warned = false;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return !pending_.empty() || stopping_ || create_requested_; });
    if (pending_.empty() && !create_requested_) return;  // stopping, and everything is written
    const bool creating = create_requested_;
    batch.swap(pending_);
    lock.unlock();
    // Appending nothing opens (and so creates) PATH.
    auto r = ring_.append(batch.data(), batch.size());
    if (!r && !warned) {
      log(LogLevel::kWarn, "console log: {} (output that cannot be written is dropped)",
          r.error().message);
      warned = true;
    }
    lock.lock();
    if (!r) dropped_ += batch.size();
    written_ += batch.size();
    if (creating) create_requested_ = false;
    ++passes_;
    batch.clear();
    done_.notify_all();
    wake_.wait_for(lock, kBatchDelay, [&] {
      return stopping_ || flush_waiters_ > 0 || create_requested_ ||
             pending_.size() >= kPendingLimit / 4;
    });
  }
}

Result<void> adopt_console_log(const std::string& path) {
  for (const std::string& file : {path + ".1", path}) {
    const int in = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) {
      if (errno == ENOENT) continue;
      return make_error(fmt::format("{}: {}", file, errno_text()));
    }
    struct stat st {};
    const bool adopt =
        fstat(in, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && !has_header(in);
    if (!adopt) {
      close(in);
      continue;
    }
    TRY_VOID(rewrite_with_header(in, file, 0, "cannot add the console log header"));
  }
  return {};
}

Result<void> print_console_log(const std::string& path, int out_fd) {
  // PATH first, then PATH.1: when both name the same file a rotation happened in between, and
  // the pair is read again. (The other order could miss the bytes that rotation moved.)
  int cur = -1, old = -1;
  for (int attempt = 0;; ++attempt) {
    cur = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (cur < 0 && errno != ENOENT) return make_error(fmt::format("{}: {}", path, errno_text()));
    old = ::open(older(path).c_str(), O_RDONLY | O_CLOEXEC);
    if (old < 0 && errno != ENOENT) {
      const std::string why = errno_text();
      if (cur >= 0) close(cur);
      return make_error(fmt::format("{}: {}", older(path), why));
    }
    struct stat a {
    }, b{};
    const bool same = cur >= 0 && old >= 0 && fstat(cur, &a) == 0 && fstat(old, &b) == 0 &&
                      a.st_dev == b.st_dev && a.st_ino == b.st_ino;
    if (!same || attempt == 10) break;
    close(cur);
    close(old);
  }
  if (cur < 0 && old < 0) {
    return make_error(fmt::format("{}: no console log there (nor {})", path, older(path)));
  }
  bool ok = true;
  for (int fd : {old, cur}) {
    if (fd < 0) continue;
    if (has_header(fd)) lseek(fd, static_cast<off_t>(sizeof kConsoleLogHeader - 1), SEEK_SET);
    uint8_t buf[64 * 1024];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ok = ok && n == 0;
        break;
      }
      if (write_fully(out_fd, buf, static_cast<size_t>(n)) != static_cast<size_t>(n)) {
        ok = false;
        break;
      }
    }
    close(fd);
  }
  if (!ok) return make_error(fmt::format("{}: cannot read or print: {}", path, errno_text()));
  return {};
}

}  // namespace vessel
