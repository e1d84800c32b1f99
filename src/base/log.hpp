// Diagnostics go to stderr so that the guest console (stdout) stays clean.
//
// A guest is hostile: a message it can cause (a device register written wrongly, a request
// that fails) goes through log_limited with a LogLimiter of its own, or a guest looping on
// one mistake fills the host's disk through stderr.
#pragma once

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace vessel {

enum class LogLevel { kError, kWarn, kInfo, kDebug };
LogLevel log_level();
void set_log_level(LogLevel level);

// One message site's budget, a token bucket: a burst of kBurst messages, then one per
// kInterval. What it holds back is counted and reported with the next message it lets through.
class LogLimiter {
 public:
  static constexpr uint64_t kBurst = 10;
  static constexpr std::chrono::nanoseconds kInterval = std::chrono::seconds(1);

  struct Verdict {
    bool print = false;
    uint64_t suppressed = 0;  // held back since the last message printed (when print)
  };

  explicit LogLimiter(uint64_t burst = kBurst, std::chrono::nanoseconds interval = kInterval);
  // Any thread.
  Verdict admit(std::chrono::steady_clock::time_point now);

 private:
  std::mutex mu_;
  const uint64_t burst_;
  const std::chrono::nanoseconds interval_;
  uint64_t tokens_;
  bool started_ = false;
  std::chrono::steady_clock::time_point refill_at_{};  // when the next token comes
  uint64_t suppressed_ = 0;
};

// Writes "vessel: LEVEL: TEXT\n" to stderr as one write, then rotates --log-file if it is full.
void write_log_line(LogLevel level, std::string_view text);
// The same for a line that is already whole (the --stats JSON, the trap-loop report).
void write_stderr_line(std::string_view line);
// Rotates --log-file if it is full: what a thread that may not open files left to do.
void rotate_log_file_if_full();

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (level > log_level()) return;
  write_log_line(level, fmt::format(format, std::forward<Args>(args)...));
}

// log() for a message a guest can cause: `limiter` is that message site's own (a function
// static), so one guest loop cannot print more than LogLimiter allows.
template <typename... Args>
void log_limited(LogLimiter& limiter, LogLevel level, fmt::format_string<Args...> format,
                 Args&&... args) {
  if (level > log_level()) return;  // a message nobody sees spends nothing
  const LogLimiter::Verdict v = limiter.admit(std::chrono::steady_clock::now());
  if (!v.print) return;
  std::string text = fmt::format(format, std::forward<Args>(args)...);
  if (v.suppressed != 0) text += fmt::format(" (suppressed {} similar messages)", v.suppressed);
  write_log_line(level, text);
}

// --log-file PATH[,size=N]: stderr (and stdout, when it is the same file) goes to PATH, which
// is renamed PATH.1 when it reaches half of `size`, so the two never hold much more than it.
// For a supervisor (vessel daemon) that cannot rotate a file its child holds open.
struct LogFileSpec {
  std::string path;
  uint64_t size = 0;
};
constexpr uint64_t kLogFileDefaultSize = 1 << 20;
constexpr uint64_t kLogFileMinSize = 4 << 10;
constexpr uint64_t kLogFileMaxSize = 1ULL << 30;
Result<void> redirect_log_file(const LogFileSpec& spec);

}  // namespace vessel
