// The memory file: guest RAM byte for byte, so that a restore can map it. Pages of zeros are
// left as holes, and so are pages the host never gave the guest (anonymous RAM the guest
// never touched), which mincore tells without touching them.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "vmm/snapshot/snapshot_codec.hpp"

namespace vessel::snapshot {

namespace {

constexpr size_t kPage = 4096;

bool is_zero(const uint8_t* p) {
  uint64_t any = 0;
  for (size_t i = 0; i < kPage; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, sizeof v);
    any |= v;
  }
  return any == 0;
}

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

Result<void> write_pages(int fd, const MappedMemory& ram) {
  const size_t pages = ram.size() / kPage;
  // Anonymous RAM: a page the host has not backed was never written and reads as zeros. A
  // file-backed one (a restored guest) reads the file there, so every page is looked at.
  std::vector<unsigned char> resident;
  if (!ram.file_backed()) {
    resident.resize(pages);
    if (mincore(ram.data(), ram.size(), resident.data()) != 0) resident.clear();
  }
  size_t run_start = 0, run_len = 0;
  for (size_t i = 0; i <= pages; ++i) {
    const bool data = i < pages && (resident.empty() || (resident[i] & 1) != 0) &&
                      !is_zero(ram.data() + i * kPage);
    if (data) {
      if (run_len == 0) run_start = i;
      ++run_len;
      continue;
    }
    if (run_len != 0) {
      TRY_VOID(write_at(fd, ram.data() + run_start * kPage, run_len * kPage, run_start * kPage));
      run_len = 0;
    }
  }
  return {};
}

}  // namespace

Result<void> write_memory(const MappedMemory& ram, const std::string& tmp_path) {
  const int fd = open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(fmt::format("{}: cannot create: {}", tmp_path, std::strerror(errno)));
  }
  Result<void> written;
  if (ftruncate(fd, static_cast<off_t>(ram.size())) != 0) {
    written = make_error(std::strerror(errno));
  } else {
    written = write_pages(fd, ram);
  }
  close(fd);
  if (!written) {
    unlink(tmp_path.c_str());
    return make_error(fmt::format("{}: cannot write: {}", tmp_path, written.error().message));
  }
  return {};
}

}  // namespace vessel::snapshot
