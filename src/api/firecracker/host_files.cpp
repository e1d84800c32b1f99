#include "api/firecracker/host_files.hpp"

#include <fmt/format.h>

#include <limits.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <filesystem>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "api/firecracker/vm_resources.hpp"

namespace vessel::api {

namespace {

// The kernel's own file systems, wherever they are mounted: their "files" are the kernel's
// and the processes' state (/proc/self/mem), not images.
constexpr unsigned long kPseudoFileSystems[] = {
    PROC_SUPER_MAGIC,   SYSFS_MAGIC,         DEBUGFS_MAGIC, TRACEFS_MAGIC,      SECURITYFS_MAGIC,
    CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, BPF_FS_MAGIC,  DEVPTS_SUPER_MAGIC, EFIVARFS_MAGIC,
    PSTOREFS_MAGIC,     SELINUX_MAGIC,       SMACK_MAGIC,   BINFMTFS_MAGIC,
};
constexpr unsigned long kConfigFsMagic = 0x62656570;  // not in every linux/magic.h

// `dir` itself or anything below it (both resolved, without a trailing '/').
bool inside(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  return path.starts_with(dir) && (path.size() == dir.size() || path[dir.size()] == '/');
}

// The longest of `dirs` that holds `path` (0 when none does).
size_t deepest_holder(std::string_view path, const std::vector<std::string>& dirs) {
  size_t best = 0;
  for (const std::string& d : dirs) {
    if (inside(path, d)) best = std::max(best, d.size());
  }
  return best;
}

Result<std::string> resolve_dir(const std::string& dir, std::string_view option) {
  char resolved[PATH_MAX];
  if (dir.empty()) return make_error(fmt::format("{}: empty directory", option));
  if (realpath(dir.c_str(), resolved) == nullptr) {
    return make_error(fmt::format("{} {}: {}", option, dir, std::strerror(errno)));
  }
  struct stat st {};
  if (stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_error(fmt::format("{} {}: not a directory", option, dir));
  }
  return std::string(resolved);
}

bool pseudo_file_system(const std::string& path) {
  struct statfs fs {};
  if (statfs(path.c_str(), &fs) != 0) return false;  // the stat that follows says why
  const auto type = static_cast<unsigned long>(fs.f_type);
  return type == kConfigFsMagic ||
         std::find(std::begin(kPseudoFileSystems), std::end(kPseudoFileSystems), type) !=
             std::end(kPseudoFileSystems);
}

// A path as a client gave it: not empty, not too long, no control characters.
Result<void> check_text(std::string_view field, const std::string& path) {
  if (path.empty()) return make_error(fmt::format("{}: empty path", field));
  if (path.size() > kMaxPath) {
    return make_error(fmt::format("{}: path longer than {} bytes", field, kMaxPath));
  }
  if (has_control_char(path)) {
    return make_error(fmt::format("{}: the path contains a control character", field));
  }
  return {};
}

Result<void> refuse_pseudo(std::string_view field, const std::string& where,
                           const std::string& resolved) {
  if (pseudo_file_system(resolved)) {
    return make_error(fmt::format(
        "{}: {}: a file of the kernel's (/proc, /sys and the like), which a client may not name",
        field, where));
  }
  return {};
}

}  // namespace

Result<HostFilePolicy> HostFilePolicy::confined_to(const std::vector<std::string>& dirs,
                                                   std::string_view option) {
  HostFilePolicy policy;
  policy.confined_ = true;
  for (const std::string& dir : dirs) {
    std::string resolved = TRY(resolve_dir(dir, option));
    if (std::find(policy.allowed_.begin(), policy.allowed_.end(), resolved) ==
        policy.allowed_.end()) {
      policy.allowed_.push_back(std::move(resolved));
    }
  }
  return policy;
}

Result<void> HostFilePolicy::protect(const std::string& dir) {
  protected_.push_back(TRY(resolve_dir(dir, "protected directory")));
  return {};
}

Result<std::string> HostFilePolicy::check(std::string_view field, const std::string& path,
                                          HostFileUse use, bool writable) const {
  TRY_VOID(check_text(field, path));
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) {
    return make_error(fmt::format("{}: {}: {}", field, path, missing(errno)));
  }
  const std::string resolved = buf;
  const std::string where = resolved == path ? path : fmt::format("{} ({})", path, resolved);
  TRY_VOID(refuse_pseudo(field, where, resolved));
  struct stat st {};
  if (stat(resolved.c_str(), &st) != 0) {
    return make_error(fmt::format("{}: {}: {}", field, where, std::strerror(errno)));
  }
  const bool disk = use == HostFileUse::kDisk;
  const bool output = use == HostFileUse::kOutput;
  if (!S_ISREG(st.st_mode) && !(disk && S_ISBLK(st.st_mode)) && !(output && S_ISFIFO(st.st_mode))) {
    return make_error(fmt::format("{}: {}: not a regular file{}", field, where,
                                  disk     ? " or block device"
                                  : output ? " or named pipe"
                                           : ""));
  }
  if (inside(resolved, "/dev") && !S_ISBLK(st.st_mode)) {
    return make_error(fmt::format(
        "{}: {}: under /dev, where a client may name only a disk's block device", field, where));
  }
  TRY_VOID(check_place(field, where, resolved));
  const int mode = output ? W_OK : writable ? R_OK | W_OK : R_OK;
  if (access(resolved.c_str(), mode) != 0) {
    return make_error(
        fmt::format("{}: {}: {}{}", field, where, std::strerror(errno),
                    writable && !output ? " (a read-only drive needs only reading)" : ""));
  }
  return resolved;
}

Result<std::string> HostFilePolicy::check_new_socket(std::string_view field,
                                                     const std::string& path) const {
  // sun_path holds 108 bytes, and Vessel adds "_<port>" for the guest's connections.
  if (path.empty() || path.size() > 96 || has_control_char(path)) {
    return make_error(
        fmt::format("{}: a socket path is 1 to 96 bytes without control characters", field));
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  char buf[PATH_MAX];
  if (name.empty() || name == "." || name == ".." || realpath(dir.c_str(), buf) == nullptr) {
    return make_error(fmt::format("{}: {}: no such directory for the socket{}", field, path,
                                  missing_hint_.empty() ? "" : " (" + missing_hint_ + ")"));
  }
  const std::string resolved = std::string(buf) + (std::string_view(buf) == "/" ? "" : "/") + name;
  if (pseudo_file_system(buf)) {
    return make_error(fmt::format("{}: {}: inside the kernel's file systems", field, path));
  }
  TRY_VOID(check_place(field, path, resolved));
  struct stat st {};
  if (lstat(resolved.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
    return make_error(fmt::format("{}: {}: exists and is not a socket", field, path));
  }
  return resolved;
}

Result<std::string> HostFilePolicy::check_new(std::string_view field,
                                              const std::string& path) const {
  TRY_VOID(check_text(field, path));
  const std::filesystem::path named(path);
  const std::string name = named.filename().string();
  if (name.empty() || name == "." || name == "..") {
    return make_error(fmt::format("{}: {}: names a directory, not a file", field, path));
  }
  const std::string parent = named.has_parent_path() ? named.parent_path().string() : ".";
  char buf[PATH_MAX];
  if (realpath(parent.c_str(), buf) == nullptr) {
    return make_error(fmt::format("{}: {}: {}", field, parent, missing(errno)));
  }
  const std::string resolved = std::string(buf) + (std::string_view(buf) == "/" ? "" : "/") + name;
  const std::string where = resolved == path ? path : fmt::format("{} ({})", path, resolved);
  TRY_VOID(refuse_pseudo(field, where, resolved));
  struct stat st {};
  if (lstat(resolved.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return make_error(fmt::format("{}: {}: exists and is not a regular file", field, where));
  }
  TRY_VOID(check_place(field, where, resolved));
  if (access(buf, W_OK) != 0) {
    return make_error(fmt::format("{}: {}: {}", field, buf, std::strerror(errno)));
  }
  return resolved;
}

std::string HostFilePolicy::missing(int err) const {
  std::string text = std::strerror(err);
  if (err == ENOENT && !missing_hint_.empty()) text += " (" + missing_hint_ + ")";
  return text;
}

Result<void> HostFilePolicy::check_place(std::string_view field, const std::string& where,
                                         const std::string& resolved) const {
  const size_t allowed = deepest_holder(resolved, allowed_);
  if (confined_ && allowed == 0) {
    std::string dirs;
    for (const std::string& d : allowed_) dirs += (dirs.empty() ? "" : ", ") + d;
    return make_error(fmt::format("{}: {}: outside the directories a client may use ({})", field,
                                  where, dirs.empty() ? "none" : dirs));
  }
  for (const std::string& d : protected_) {
    if (inside(resolved, d) && allowed <= d.size()) {
      return make_error(
          fmt::format("{}: {}: inside {}, whose files are not a client's to use", field, where, d));
    }
  }
  return {};
}

}  // namespace vessel::api
