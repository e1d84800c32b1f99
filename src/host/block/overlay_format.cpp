// The overlay file format: header encoding and checks, the base identity, and creating a new
// overlay atomically (temporary name, then rename).
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/bits.hpp"
#include "host/block/overlay.hpp"

namespace vessel::block::overlay {

uint64_t fnv1a(uint64_t hash, const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < len; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

namespace {

constexpr uint64_t kSampleEdge = 1 << 20;    // first and last MiB
constexpr uint64_t kSampleChunk = 64 << 10;  // and 16 chunks of 64 KiB spread in between
constexpr unsigned kSampleCount = 16;

Result<void> pread_all(int fd, uint8_t* buf, uint64_t len, uint64_t offset,
                       const std::string& path) {
  while (len != 0) {
    const ssize_t n = pread(fd, buf, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(fmt::format("{}: read failed: {}", path, errno_text(errno)));
    }
    if (n == 0) return make_error(fmt::format("{}: unexpected end of file", path));
    buf += n;
    len -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return {};
}

Result<void> pwrite_all(int fd, const uint8_t* buf, uint64_t len, uint64_t offset,
                        const std::string& path) {
  while (len != 0) {
    const ssize_t n = pwrite(fd, buf, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(fmt::format("{}: write failed: {}", path, errno_text(errno)));
    }
    buf += n;
    len -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return {};
}

Result<uint64_t> hash_range(int fd, uint64_t offset, uint64_t len, uint64_t hash,
                            const std::string& path) {
  std::vector<uint8_t> buf(std::min<uint64_t>(len, kSampleEdge));
  while (len != 0) {
    const uint64_t n = std::min<uint64_t>(len, buf.size());
    TRY_VOID(pread_all(fd, buf.data(), n, offset, path));
    hash = fnv1a(hash, buf.data(), n);
    offset += n;
    len -= n;
  }
  return hash;
}

std::string corrupt(const std::string& path, const std::string& what) {
  return fmt::format("{}: overlay header is corrupt ({})", path, what);
}

}  // namespace

Result<BaseIdentity> identify_base(int fd, const std::string& path, uint64_t size) {
  BaseIdentity id;
  id.size = size;
  struct stat st {};
  if (fstat(fd, &st) == 0) {
    id.mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ULL +
                  static_cast<uint64_t>(st.st_mtim.tv_nsec);
    id.dev = st.st_dev;
    id.ino = st.st_ino;
  }
  if (char* real = realpath(path.c_str(), nullptr); real != nullptr) {
    id.path = real;
    std::free(real);
  } else {
    id.path = path;
  }
  uint8_t size_le[8];
  store_le<uint64_t>(size_le, size);
  uint64_t hash = fnv1a(kFnvOffset, size_le, sizeof size_le);
  if (size <= 2 * kSampleEdge + kSampleCount * kSampleChunk) {
    hash = TRY(hash_range(fd, 0, size, hash, path));
  } else {
    hash = TRY(hash_range(fd, 0, kSampleEdge, hash, path));
    for (unsigned k = 1; k <= kSampleCount; ++k) {
      const uint64_t at = align_down(size / (kSampleCount + 1) * k, kSectorSize);
      hash = TRY(hash_range(fd, at, kSampleChunk, hash, path));
    }
    hash = TRY(hash_range(fd, size - kSampleEdge, kSampleEdge, hash, path));
  }
  id.hash = hash;
  return id;
}

Header Header::for_base(const BaseIdentity& base, uint32_t cluster_bits) {
  Header h;
  h.cluster_bits = cluster_bits;
  h.virtual_size = base.size;
  h.table_offset = kHeaderSize;
  h.table_entries = (base.size + h.cluster_size() - 1) >> cluster_bits;
  h.data_offset = align_up(h.table_offset + h.table_entries * 8, h.cluster_size());
  h.base = base;
  return h;
}

std::vector<uint8_t> Header::encode() const {
  std::vector<uint8_t> buf(kHeaderSize, 0);
  uint8_t* p = buf.data();
  std::memcpy(p + kFieldMagic, kMagic, sizeof kMagic);
  store_le<uint32_t>(p + kFieldVersion, kVersion);
  store_le<uint32_t>(p + kFieldClusterBits, cluster_bits);
  store_le<uint64_t>(p + kFieldVirtualSize, virtual_size);
  store_le<uint64_t>(p + kFieldTableOffset, table_offset);
  store_le<uint64_t>(p + kFieldTableEntries, table_entries);
  store_le<uint64_t>(p + kFieldDataOffset, data_offset);
  store_le<uint64_t>(p + kFieldBaseSize, base.size);
  store_le<uint64_t>(p + kFieldBaseHash, base.hash);
  store_le<uint64_t>(p + kFieldBaseMtime, base.mtime_ns);
  store_le<uint64_t>(p + kFieldBaseDev, base.dev);
  store_le<uint64_t>(p + kFieldBaseIno, base.ino);
  const size_t path_len = std::min<size_t>(base.path.size(), kMaxBasePath);
  store_le<uint32_t>(p + kFieldBasePathLen, static_cast<uint32_t>(path_len));
  store_le<uint32_t>(p + kFieldFlags, 0);
  std::memcpy(p + kFieldBasePath, base.path.data(), path_len);
  store_le<uint64_t>(p + kFieldHeaderHash, fnv1a(kFnvOffset, p, kHeaderSize));
  return buf;
}

Result<Header> Header::decode(const uint8_t* buf, uint64_t len, const std::string& path) {
  if (len < kHeaderSize) return make_error(path + ": not a vessel overlay (file too short)");
  if (std::memcmp(buf + kFieldMagic, kMagic, sizeof kMagic) != 0) {
    return make_error(path + ": not a vessel overlay (bad magic)");
  }
  const auto version = load_le<uint32_t>(buf + kFieldVersion);
  if (version != kVersion) {
    return make_error(
        fmt::format("{}: overlay version {} is not supported (only {})", path, version, kVersion));
  }
  std::vector<uint8_t> copy(buf, buf + kHeaderSize);
  store_le<uint64_t>(copy.data() + kFieldHeaderHash, 0);
  if (fnv1a(kFnvOffset, copy.data(), kHeaderSize) != load_le<uint64_t>(buf + kFieldHeaderHash)) {
    return make_error(corrupt(path, "checksum mismatch"));
  }
  const auto flags = load_le<uint32_t>(buf + kFieldFlags);
  if (flags != 0) {
    return make_error(fmt::format("{}: overlay uses unknown flags {:#x}", path, flags));
  }
  Header h;
  h.cluster_bits = load_le<uint32_t>(buf + kFieldClusterBits);
  h.virtual_size = load_le<uint64_t>(buf + kFieldVirtualSize);
  h.table_offset = load_le<uint64_t>(buf + kFieldTableOffset);
  h.table_entries = load_le<uint64_t>(buf + kFieldTableEntries);
  h.data_offset = load_le<uint64_t>(buf + kFieldDataOffset);
  h.base.size = load_le<uint64_t>(buf + kFieldBaseSize);
  h.base.hash = load_le<uint64_t>(buf + kFieldBaseHash);
  h.base.mtime_ns = load_le<uint64_t>(buf + kFieldBaseMtime);
  h.base.dev = load_le<uint64_t>(buf + kFieldBaseDev);
  h.base.ino = load_le<uint64_t>(buf + kFieldBaseIno);
  const auto path_len = load_le<uint32_t>(buf + kFieldBasePathLen);

  if (h.cluster_bits < kMinClusterBits || h.cluster_bits > kMaxClusterBits) {
    return make_error(corrupt(path, fmt::format("cluster size 2^{}", h.cluster_bits)));
  }
  if (h.virtual_size == 0 || h.virtual_size % kSectorSize != 0 || h.virtual_size != h.base.size) {
    return make_error(corrupt(path, fmt::format("virtual size {}", h.virtual_size)));
  }
  const uint64_t cs = h.cluster_size();
  if (h.table_entries != h.virtual_size / cs + (h.virtual_size % cs != 0 ? 1 : 0) ||
      h.table_entries > kMaxTableEntries) {
    return make_error(corrupt(path, fmt::format("{} table entries", h.table_entries)));
  }
  if (h.table_offset < kHeaderSize || h.table_offset % kSectorSize != 0 ||
      h.table_offset > (uint64_t{1} << 40)) {
    return make_error(corrupt(path, fmt::format("table offset {}", h.table_offset)));
  }
  if (h.data_offset % cs != 0 || h.data_offset < h.table_offset + h.table_entries * 8 ||
      h.data_offset > (uint64_t{1} << 41)) {
    return make_error(corrupt(path, fmt::format("data offset {}", h.data_offset)));
  }
  if (path_len > kMaxBasePath) return make_error(corrupt(path, "base path length"));
  h.base.path.assign(reinterpret_cast<const char*>(buf + kFieldBasePath), path_len);
  return h;
}

Result<void> create(const std::string& path, const BaseIdentity& base, uint32_t cluster_bits) {
  const Header h = Header::for_base(base, cluster_bits);
  if (h.table_entries > kMaxTableEntries) {
    return make_error(fmt::format("{}: base is too large for an overlay ({} bytes, at most {})",
                                  path, base.size, kMaxTableEntries << cluster_bits));
  }
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";

  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    return make_error(fmt::format("{}: cannot create overlay: {}", path, errno_text(errno)));
  }
  UniqueFd file(fd);
  auto fail = [&](std::string message) -> Result<void> {
    file.reset();
    unlink(tmp.c_str());
    return make_error(std::move(message));
  };
  const std::vector<uint8_t> header = h.encode();
  if (auto r = pwrite_all(fd, header.data(), header.size(), 0, path); !r) {
    return fail(r.error().message);
  }
  // The table starts all-unallocated: a sparse run of zeros up to the first data cluster.
  if (ftruncate(fd, static_cast<off_t>(h.data_offset)) != 0 || fsync(fd) != 0) {
    return fail(fmt::format("{}: cannot create overlay: {}", path, errno_text(errno)));
  }
  file.reset();
  if (renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err == EINVAL || err == ENOSYS) {
      // A file system without RENAME_NOREPLACE: link() refuses to replace too.
      err = link(tmp.c_str(), path.c_str()) == 0 ? 0 : errno;
      unlink(tmp.c_str());
    }
    if (err != 0) {
      unlink(tmp.c_str());
      return make_error(fmt::format("{}: cannot create overlay: {}", path, errno_text(err)));
    }
  }
  // The new name must survive a crash too.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return {};
}

}  // namespace vessel::block::overlay
