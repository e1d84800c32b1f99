#include "api/firecracker/line_sink.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vessel::api {

LineSink::~LineSink() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> LineSink::open(std::string_view field, const std::string& path) {
  // O_NONBLOCK: a FIFO without a reader fails here (ENXIO) instead of hanging the API, and a
  // full one fails a write instead of blocking it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return make_error(fmt::format("{}: {}: {}", field, path, std::strerror(errno)));
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return {};
}

bool LineSink::write_line(std::string_view line) {
  if (fd_ < 0) return false;
  std::string text(line);
  text += '\n';
  ssize_t n;
  do { n = ::write(fd_, text.data(), text.size()); } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(text.size())) {
    ++missed_;
    return false;
  }
  return true;
}

}  // namespace vessel::api
