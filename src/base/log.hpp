// Diagnostics go to stderr so that the guest console (stdout) stays clean.
#pragma once

#include <fmt/core.h>

#include <cstdio>

namespace vessel {

enum class LogLevel { kError, kWarn, kInfo, kDebug };
LogLevel log_level();
void set_log_level(LogLevel level);

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (level > log_level()) return;
  static constexpr const char* kPrefix[] = {"error", "warn", "info", "debug"};
  fmt::print(stderr, "vessel: {}: {}\n", kPrefix[static_cast<int>(level)],
             fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace vessel
