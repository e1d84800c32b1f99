// Where PUT /logger and PUT /metrics send their lines: a file or named pipe the client created
// (Firecracker opens it, never creates it), appended to without blocking. A reader that falls
// behind on a pipe costs lines, never a stalled API: a line that does not fit is dropped whole
// and counted, as Firecracker's "missed" metrics count them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace vessel::api {

class LineSink {
 public:
  LineSink() = default;
  ~LineSink();
  LineSink(const LineSink&) = delete;
  LineSink& operator=(const LineSink&) = delete;

  // Opens `path` (already checked by HostFilePolicy) for appending; an error names `field`.
  Result<void> open(std::string_view field, const std::string& path);
  bool is_open() const { return fd_ >= 0; }
  // Writes `line` and a newline in one write; false (and counted) when it could not.
  bool write_line(std::string_view line);
  uint64_t missed() const { return missed_; }

 private:
  int fd_ = -1;
  uint64_t missed_ = 0;
};

}  // namespace vessel::api
