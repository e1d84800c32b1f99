// --disk option parsing and opening a disk with the checks people need to hear about before
// the guest starts: missing or unwritable files, sizes, locks, overlays of another base.
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "base/log.hpp"
#include "base/option_fields.hpp"
#include "host/block/block_backend.hpp"
#include "host/block/image_format.hpp"
#include "host/block/io_engine.hpp"
#include "host/block/nbd.hpp"
#include "host/block/overlay.hpp"
#include "host/block/raw_file.hpp"

namespace vessel::block {

namespace {

std::string sys_error() { return std::strerror(errno); }

// A VM killed a moment ago can hold its lock a little longer: the kernel closes the files of
// a dead process's io_uring in deferred work. So a held lock is tried again for a while
// before the disk is called in use.
constexpr auto kLockPatience = std::chrono::seconds(3);

Result<void> lock(int fd, bool exclusive, const std::string& path) {
  const auto give_up = std::chrono::steady_clock::now() + kLockPatience;
  while (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      return make_error(fmt::format("{}: cannot lock: {}", path, sys_error()));
    }
    if (std::chrono::steady_clock::now() >= give_up) {
      return make_error(path + ": in use by another process (locked)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {};
}

Result<void> parse_timeout(const std::string& value, DiskSpec& spec) {
  unsigned seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds == 0 || seconds > 3600) {
    return make_error(
        fmt::format("--disk: timeout '{}' is not a number of seconds from 1 to 3600", value));
  }
  spec.timeout_seconds = seconds;
  return {};
}

bool permission_error(int err) {
  return err == EACCES || err == EPERM || err == EROFS || err == ETXTBSY;
}

// --snapshot: an overlay in TMPDIR (else /var/tmp, as QEMU), unlinked once open, so that
// nothing is left behind however the VM ends.
Result<std::unique_ptr<BlockBackend>> open_snapshot_overlay(UniqueFd base, const std::string& path,
                                                            uint64_t size,
                                                            std::unique_ptr<IoEngine> engine) {
  const overlay::BaseIdentity base_id = TRY(overlay::identify_base(base.get(), path, size));
  std::string dir = snapshot_overlay_dir() + "/vessel-snapshot-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    return make_error(fmt::format("{}: cannot make its snapshot=on overlay in {}: {}", path,
                                  dir.substr(0, dir.rfind('/')), sys_error()));
  }
  const std::string ovl_path = dir + "/overlay";
  auto made = overlay::create(ovl_path, base_id);
  UniqueFd ovl(made ? ::open(ovl_path.c_str(), O_RDWR | O_CLOEXEC) : -1);
  const int open_errno = errno;
  unlink(ovl_path.c_str());
  rmdir(dir.c_str());
  if (!made) return make_error(made.error().message);
  if (!ovl.valid()) return make_error(fmt::format("{}: {}", ovl_path, std::strerror(open_errno)));
  return overlay::open(std::move(base), base_id, std::move(ovl), ovl_path, false, std::move(engine),
                       /*temporary=*/true);
}

}  // namespace

std::string snapshot_overlay_dir() {
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/var/tmp";
}

Result<void> check_disk_spec(const DiskSpec& spec) {
  if (spec.path.empty()) return make_error("empty path");
  if (is_nbd_uri(spec.path)) {
    if (!spec.overlay.empty() || spec.format_stated) {
      return make_error(fmt::format(
          "{} is for image files; an NBD export is already the disk's bytes (serve a qcow2 with "
          "qemu-nbd -f qcow2)",
          spec.overlay.empty() ? "format=" : "overlay="));
    }
    if (spec.snapshot) return make_error("snapshot=on is for image files, not an NBD export");
  }
  if (spec.timeout_seconds == 0 || spec.timeout_seconds > kMaxDiskTimeoutSeconds) {
    return make_error(fmt::format("timeout {} is not a number of seconds from 1 to {}",
                                  spec.timeout_seconds, kMaxDiskTimeoutSeconds));
  }
  if (spec.snapshot && !spec.overlay.empty()) {
    return make_error("snapshot=on makes its own temporary overlay; drop overlay=");
  }
  if (!spec.overlay.empty() && spec.overlay == spec.path) {
    return make_error("the overlay cannot be the disk image itself");
  }
  return {};
}

Result<DiskSpec> parse_disk_option(const std::string& text) {
  const std::vector<std::string> fields = split_option_fields(text);
  DiskSpec spec;
  spec.path = fields[0];
  if (spec.path.empty())
    return make_error(
        "--disk: empty path (--disk PATH[,readonly][,overlay=FILE][,format=raw][,snapshot=on])");
  const bool nbd = is_nbd_uri(spec.path);
  bool seen_readonly = false, seen_overlay = false, seen_format = false, seen_timeout = false;
  for (size_t i = 1; i < fields.size(); ++i) {
    const std::string& f = fields[i];
    const size_t eq = f.find('=');
    const std::string key = f.substr(0, eq);
    if (f.empty()) return make_error("--disk: empty option after ','");
    if (key == "readonly") {
      if (eq != std::string::npos) return make_error("--disk: readonly takes no value");
      if (seen_readonly) return make_error("--disk: readonly given twice");
      seen_readonly = true;
      spec.read_only = true;
    } else if (key == "overlay") {
      if (seen_overlay) return make_error("--disk: overlay given twice");
      seen_overlay = true;
      if (eq == std::string::npos || eq + 1 == f.size()) {
        return make_error("--disk: overlay needs a file name (overlay=FILE)");
      }
      spec.overlay = f.substr(eq + 1);
    } else if (key == "format") {
      if (seen_format) return make_error("--disk: format given twice");
      seen_format = true;
      const std::string value = eq == std::string::npos ? "" : f.substr(eq + 1);
      if (value != "raw") {
        return make_error(fmt::format(
            "--disk: format '{}' is not one Vessel reads (only raw; qemu-img convert -O raw "
            "makes one)",
            value));
      }
      spec.format_stated = true;
    } else if (key == "snapshot" && !nbd) {
      if (f != "snapshot=on") return make_error("--disk: snapshot takes only 'on' (snapshot=on)");
      spec.snapshot = true;
    } else if (key == "timeout" && nbd) {
      if (seen_timeout) return make_error("--disk: timeout given twice");
      seen_timeout = true;
      TRY_VOID(parse_timeout(eq == std::string::npos ? "" : f.substr(eq + 1), spec));
    } else {
      return make_error(fmt::format(
          "--disk: unknown option '{}' (known: {})", key,
          nbd ? "readonly, timeout=SECONDS" : "readonly, overlay=FILE, format=raw, snapshot=on"));
    }
  }
  if (auto ok = check_disk_spec(spec); !ok) return make_error("--disk: " + ok.error().message);
  return spec;
}

Result<std::unique_ptr<BlockBackend>> open_disk(const DiskSpec& spec, const OpenOptions& options) {
  const std::string& path = spec.path;
  TRY_VOID(check_disk_spec(spec));
  if (is_nbd_uri(path)) {
    return open_nbd(NbdSettings{path, spec.read_only, std::chrono::seconds(spec.timeout_seconds)});
  }
  const bool writable = !spec.read_only && spec.overlay.empty() && !spec.snapshot;
  // A --snapshot disk's base is opened for writing where it can be, for a later write-back;
  // it is locked shared like any overlay's base until then.
  const bool write_back = spec.snapshot && !spec.read_only;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return make_error(fmt::format("{}: {}", path, sys_error()));
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return make_error(path + ": not a regular file or block device");
  }
  UniqueFd fd(::open(path.c_str(), (writable || write_back ? O_RDWR : O_RDONLY) | O_CLOEXEC));
  if (!fd.valid() && write_back && permission_error(errno)) {
    log(LogLevel::kWarn, "{}: read-only to Vessel, so --snapshot cannot write it back", path);
    fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  }
  if (!fd.valid()) {
    if (writable && permission_error(errno)) {
      return make_error(
          fmt::format("{}: not writable ({}); add ,readonly or ,overlay=FILE", path, sys_error()));
    }
    return make_error(fmt::format("{}: {}", path, sys_error()));
  }
  if (fstat(fd.get(), &st) != 0) return make_error(fmt::format("{}: {}", path, sys_error()));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode) && ioctl(fd.get(), BLKGETSIZE64, &size) != 0) {
    return make_error(fmt::format("{}: cannot get the device size: {}", path, sys_error()));
  }
  // Before the size checks: a qcow2 of an odd size is better called a qcow2.
  if (!spec.format_stated) TRY_VOID(check_raw_image(fd.get(), path, "format=raw"));
  if (size == 0) return make_error(path + ": disk image is empty");
  if (size % kSectorSize != 0) {
    return make_error(
        fmt::format("{}: size {} bytes is not a multiple of {}", path, size, kSectorSize));
  }
  TRY_VOID(lock(fd.get(), writable, path));
  // The engine before any overlay is created: if it fails, nothing has been made.
  std::unique_ptr<IoEngine> engine = TRY(make_engine(options));

  if (write_back) return open_snapshot_overlay(std::move(fd), path, size, std::move(engine));
  if (spec.overlay.empty()) {
    const auto blksize = static_cast<uint64_t>(st.st_blksize);
    const uint32_t granularity = S_ISBLK(st.st_mode) || blksize < kSectorSize ||
                                         blksize > (1 << 20) || blksize % kSectorSize != 0
                                     ? 4096
                                     : static_cast<uint32_t>(blksize);
    return std::unique_ptr<BlockBackend>(std::make_unique<RawFileBackend>(
        std::move(fd), path, size, spec.read_only, granularity, std::move(engine)));
  }

  const std::string& ovl_path = spec.overlay;
  const overlay::BaseIdentity base_id = TRY(overlay::identify_base(fd.get(), path, size));
  const int ovl_flags = (spec.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  UniqueFd ovl(::open(ovl_path.c_str(), ovl_flags));
  if (!ovl.valid()) {
    if (errno != ENOENT) {
      if (!spec.read_only && permission_error(errno)) {
        return make_error(fmt::format("{}: overlay not writable ({})", ovl_path, sys_error()));
      }
      return make_error(fmt::format("{}: {}", ovl_path, sys_error()));
    }
    if (spec.read_only) {
      return make_error(ovl_path + ": no such overlay (a read-only disk does not create one)");
    }
    TRY_VOID(overlay::create(ovl_path, base_id));
    ovl = UniqueFd(::open(ovl_path.c_str(), ovl_flags));
    if (!ovl.valid()) return make_error(fmt::format("{}: {}", ovl_path, sys_error()));
    log(LogLevel::kInfo, "created overlay {} over {}", ovl_path, path);
  }
  struct stat ost {};
  if (fstat(ovl.get(), &ost) != 0) return make_error(fmt::format("{}: {}", ovl_path, sys_error()));
  if (!S_ISREG(ost.st_mode)) return make_error(ovl_path + ": overlay is not a regular file");
  if (ost.st_dev == st.st_dev && ost.st_ino == st.st_ino) {
    return make_error(ovl_path + ": the overlay is the disk image itself");
  }
  TRY_VOID(lock(ovl.get(), !spec.read_only, ovl_path));
  return overlay::open(std::move(fd), base_id, std::move(ovl), ovl_path, spec.read_only,
                       std::move(engine));
}

}  // namespace vessel::block
