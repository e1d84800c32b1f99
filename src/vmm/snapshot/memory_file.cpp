// The memory file: guest RAM byte for byte, so that a restore can map it. Pages of zeros are
// left as holes, and so are pages the host never gave the guest (anonymous RAM the guest
// never touched), which mincore tells without touching them. A Diff's memory file holds only
// the pages written since the snapshot before, and apply_diff layers it onto that one's.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "vmm/snapshot/snapshot_codec.hpp"

namespace vessel::snapshot {

namespace {

constexpr size_t kPage = 4096;

Result<void> write_at(int fd, const uint8_t* data, size_t len, uint64_t offset) {
  while (len > 0) {
    const ssize_t n = pwrite(fd, data, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(std::strerror(n < 0 ? errno : EIO));
    data += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return {};
}

Result<uint64_t> write_pages(int fd, const MappedMemory& ram) {
  const size_t pages = ram.size() / kPage;
  // Anonymous RAM: a page the host has not backed was never written and reads as zeros. A
  // file-backed one (a restored guest) reads the file there, so every page is looked at.
  std::vector<unsigned char> resident;
  if (!ram.file_backed()) {
    resident.resize(pages);
    if (mincore(ram.data(), ram.size(), resident.data()) != 0) resident.clear();
  }
  uint64_t written = 0;
  size_t run_start = 0, run_len = 0;
  for (size_t i = 0; i <= pages; ++i) {
    const bool data = i < pages && (resident.empty() || (resident[i] & 1) != 0) &&
                      !is_zero_page(ram.data() + i * kPage);
    if (data) {
      if (run_len == 0) run_start = i;
      ++run_len;
      continue;
    }
    if (run_len != 0) {
      TRY_VOID(write_at(fd, ram.data() + run_start * kPage, run_len * kPage, run_start * kPage));
      written += run_len;
      run_len = 0;
    }
  }
  return written;
}

// PATH.tmp of the RAM's size with what `fill` writes into it; removed again on a failure.
template <typename Fill>
Result<uint64_t> write_file(const MappedMemory& ram, const std::string& tmp_path, Fill&& fill) {
  const int fd = open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(fmt::format("{}: cannot create: {}", tmp_path, std::strerror(errno)));
  }
  Result<uint64_t> written = uint64_t{0};
  if (ftruncate(fd, static_cast<off_t>(ram.size())) != 0) {
    written = make_error(std::strerror(errno));
  } else {
    written = fill(fd);
  }
  close(fd);
  if (!written) {
    unlink(tmp_path.c_str());
    return make_error(fmt::format("{}: cannot write: {}", tmp_path, written.error().message));
  }
  return written;
}

}  // namespace

bool is_zero_page(const uint8_t* p) {
  uint64_t any = 0;
  for (size_t i = 0; i < kPage; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, sizeof v);
    any |= v;
  }
  return any == 0;
}

Result<uint64_t> write_memory(const MappedMemory& ram, const std::string& tmp_path) {
  return write_file(ram, tmp_path, [&](int fd) { return write_pages(fd, ram); });
}

Result<uint64_t> write_memory_diff(const MappedMemory& ram, const DirtyPages& dirty,
                                   const std::string& tmp_path) {
  return write_file(ram, tmp_path, [&](int fd) -> Result<uint64_t> {
    uint64_t written = 0;
    Result<void> ok;
    dirty.for_each_run([&](uint64_t first, uint64_t n) {
      if (!ok || first * kPage >= ram.size()) return;
      n = std::min<uint64_t>(n, ram.size() / kPage - first);
      ok = write_at(fd, ram.data() + first * kPage, n * kPage, first * kPage);
      written += n;
    });
    TRY_VOID(ok);
    return written;
  });
}

Result<void> apply_diff(const std::string& base_path, const std::string& diff_path) {
  const int diff = open(diff_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (diff < 0) return make_error(fmt::format("{}: {}", diff_path, std::strerror(errno)));
  const int base = open(base_path.c_str(), O_WRONLY | O_CLOEXEC);
  if (base < 0) {
    const int e = errno;
    close(diff);
    return make_error(fmt::format("{}: {}", base_path, std::strerror(e)));
  }
  auto done = [&](Result<void> r) {
    close(diff);
    close(base);
    return r;
  };
  struct stat sd {
  }, sb{};
  if (fstat(diff, &sd) != 0 || fstat(base, &sb) != 0 || !S_ISREG(sd.st_mode) ||
      !S_ISREG(sb.st_mode) || sd.st_size != sb.st_size) {
    return done(
        make_error(fmt::format("{}: not a regular file of the size of {}", diff_path, base_path)));
  }
  // The diff's data ranges (SEEK_DATA/SEEK_HOLE), each copied to the same offset.
  std::vector<uint8_t> buf(1 << 20);
  off_t at = 0;
  for (;;) {
    const off_t data = lseek(diff, at, SEEK_DATA);
    if (data < 0) break;  // ENXIO: no data past `at`
    const off_t hole = lseek(diff, data, SEEK_HOLE);
    if (hole < 0) return done(make_error(fmt::format("{}: {}", diff_path, std::strerror(errno))));
    for (off_t pos = data; pos < hole;) {
      const size_t n =
          static_cast<size_t>(std::min<off_t>(hole - pos, static_cast<off_t>(buf.size())));
      const ssize_t got = pread(diff, buf.data(), n, pos);
      if (got <= 0) {
        return done(make_error(
            fmt::format("{}: cannot read: {}", diff_path, std::strerror(got < 0 ? errno : EIO))));
      }
      if (auto w = write_at(base, buf.data(), static_cast<size_t>(got), static_cast<uint64_t>(pos));
          !w) {
        return done(make_error(fmt::format("{}: cannot write: {}", base_path, w.error().message)));
      }
      pos += got;
    }
    at = hole;
  }
  if (fsync(base) != 0) {
    return done(make_error(fmt::format("{}: cannot sync: {}", base_path, std::strerror(errno))));
  }
  return done({});
}

}  // namespace vessel::snapshot
