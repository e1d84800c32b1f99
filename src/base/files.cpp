#include "base/files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vessel {

namespace {

Result<void> write_all(int fd, std::string_view text, const std::string& path) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(fmt::format("{}: cannot write: {}", path, errno_text()));
    text.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace

Result<void> fsync_directory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(fmt::format("{}: cannot open: {}", dir, errno_text()));
  const bool ok = fsync(fd) == 0;
  const std::string why = errno_text();
  close(fd);
  if (!ok) return make_error(fmt::format("{}: cannot sync: {}", dir, why));
  return {};
}

Result<void> write_file_atomically(const std::string& path, std::string_view text, mode_t mode) {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return make_error(fmt::format("{}: cannot create: {}", tmp, errno_text()));
  auto fail = [&](Error e) {
    close(fd);
    unlink(tmp.c_str());
    return e;
  };
  if (auto r = write_all(fd, text, path); !r) return fail(r.take_error());
  if (fsync(fd) != 0)
    return fail(make_error(fmt::format("{}: cannot sync: {}", path, errno_text())));
  if (close(fd) != 0) {
    unlink(tmp.c_str());
    return make_error(fmt::format("{}: cannot write: {}", path, errno_text()));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    unlink(tmp.c_str());
    return make_error(fmt::format("{}: cannot rename into place: {}", path, why));
  }
  // The rename is durable only once the directory is.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return fsync_directory(dir.empty() ? "." : dir);
}

Result<std::string> read_small_file(const std::string& path, size_t max) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(fmt::format("{}: {}", path, errno_text()));
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = errno_text();
      close(fd);
      return make_error(fmt::format("{}: cannot read: {}", path, why));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max) {
      close(fd);
      return make_error(fmt::format("{}: larger than {} bytes", path, max));
    }
  }
  close(fd);
  return out;
}

}  // namespace vessel
