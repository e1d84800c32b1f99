#include "base/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "base/thread_role.hpp"

namespace vessel {
namespace {

LogLevel g_level = LogLevel::kWarn;

// Serialises lines (each is one write, but rotation must not run between two threads' checks)
// and guards the --log-file state.
std::mutex g_write_mu;
LogFileSpec g_file;  // path empty: no --log-file

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere else to report it
    s.remove_prefix(static_cast<size_t>(n));
  }
}

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};

// Only regular files count: a terminal on both stdout and stderr is not a log to share.
std::optional<FileId> file_id(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

bool stdout_shares_stderr() {
  const auto out = file_id(STDOUT_FILENO);
  return out && out == file_id(STDERR_FILENO);
}

// Points stderr at a fresh PATH (and stdout, when `with_stdout`).
Result<void> open_onto_stderr(const std::string& path, bool with_stdout) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  const bool ok = dup2(fd, STDERR_FILENO) >= 0 && (!with_stdout || dup2(fd, STDOUT_FILENO) >= 0);
  const int err = errno;
  close(fd);
  if (!ok) return make_error(fmt::format("{}: dup2: {}", path, std::strerror(err)));
  return {};
}

// With g_write_mu held. PATH at half the size or more becomes PATH.1 and a new PATH begins;
// stdout moves with stderr only if it was writing to the same file (a daemon's child).
void rotate_if_full() {
  if (g_file.path.empty()) return;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0 || static_cast<uint64_t>(st.st_size) < g_file.size / 2) {
    return;
  }
  const bool with_stdout = stdout_shares_stderr();
  const std::string older = g_file.path + ".1";
  if (rename(g_file.path.c_str(), older.c_str()) != 0 ||
      !open_onto_stderr(g_file.path, with_stdout)) {
    // Left as it is: better a log that grows than one that takes the diagnostics with it.
    // Forgetting the file keeps this from being retried (and failing) on every line.
    g_file.path.clear();
  }
}

}  // namespace

LogLevel log_level() { return g_level; }
void set_log_level(LogLevel level) { g_level = level; }

LogLimiter::LogLimiter(uint64_t burst, std::chrono::nanoseconds interval)
    : burst_(burst), interval_(interval), tokens_(burst) {}

LogLimiter::Verdict LogLimiter::admit(std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!started_) {
    started_ = true;
    refill_at_ = now + interval_;
  }
  if (now >= refill_at_) {
    // Every interval that has passed brings a token, up to the burst.
    const uint64_t periods = static_cast<uint64_t>((now - refill_at_) / interval_) + 1;
    tokens_ = std::min(burst_, tokens_ + std::min(periods, burst_));
    refill_at_ += interval_ * static_cast<int64_t>(periods);
  }
  if (tokens_ == 0) {
    ++suppressed_;
    return {};
  }
  --tokens_;
  Verdict v{true, suppressed_};
  suppressed_ = 0;
  return v;
}

void write_stderr_line(std::string_view line) {
  std::string whole(line);
  if (whole.empty() || whole.back() != '\n') whole += '\n';
  std::lock_guard<std::mutex> lock(g_write_mu);
  write_all(STDERR_FILENO, whole);
  // A thread whose filter forbids files leaves it to the supervisor's next look (within a
  // second; every message a guest can cause is rate-limited meanwhile).
  if (thread_may_open_files()) rotate_if_full();
}

void rotate_log_file_if_full() {
  std::lock_guard<std::mutex> lock(g_write_mu);
  rotate_if_full();
}

void write_log_line(LogLevel level, std::string_view text) {
  static constexpr const char* kPrefix[] = {"error", "warn", "info", "debug"};
  write_stderr_line(fmt::format("vessel: {}: {}", kPrefix[static_cast<int>(level)], text));
}

Result<void> redirect_log_file(const LogFileSpec& spec) {
  if (spec.size < kLogFileMinSize || spec.size > kLogFileMaxSize) {
    return make_error(fmt::format("--log-file size {}: must be between 4K and 1G", spec.size));
  }
  for (const std::string& path : {spec.path, spec.path + ".1"}) {
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      return make_error(fmt::format("--log-file {}: not a regular file", path));
    }
  }
  std::lock_guard<std::mutex> lock(g_write_mu);
  // stdout follows only when it already shares stderr's file (vessel daemon gives both its
  // vmm.log): a terminal's stdout carries the guest console and stays where it is.
  const bool with_stdout = stdout_shares_stderr();
  if (auto r = open_onto_stderr(spec.path, with_stdout); !r) {
    return make_error("--log-file " + r.error().message);
  }
  g_file = spec;
  rotate_if_full();  // an earlier run may have left it full
  return {};
}

}  // namespace vessel
