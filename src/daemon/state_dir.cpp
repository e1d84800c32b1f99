#include "daemon/state_dir.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "base/random.hpp"

namespace vessel::daemon {

namespace {

constexpr std::string_view kCreating = ".creating-";
constexpr std::string_view kRemoving = ".removing-";

}  // namespace

void crash_point(std::string_view step, std::chrono::milliseconds after) {
  const char* at = std::getenv("VESSEL_DAEMON_CRASH_AT");
  if (at == nullptr || step != at) return;
  std::this_thread::sleep_for(after);
  raise(SIGKILL);
}

Result<void> create_vm_dir(const std::string& vms, const std::string& name,
                           std::string_view config_json) {
  const std::string dir = vms + "/" + name;
  const std::string staging = vms + "/" + std::string(kCreating) + name;
  std::error_code ec;
  std::filesystem::remove_all(staging, ec);  // a leftover of an earlier attempt
  if (mkdir(staging.c_str(), 0700) != 0) {
    return make_error(fmt::format("{}: cannot create: {}", staging, errno_text()));
  }
  auto undo = [&](Error e) -> Result<void> {
    std::filesystem::remove_all(staging, ec);
    return Result<void>(std::move(e));
  };
  if (auto w = write_file_atomically(staging + "/config.json", config_json); !w) {
    return undo(w.take_error());
  }
  crash_point("create");
  // renameat2(RENAME_NOREPLACE): a VM that appeared meanwhile is not replaced.
  if (renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, dir.c_str(), RENAME_NOREPLACE) != 0) {
    return undo(Error{fmt::format("{}: cannot create: {}", dir, errno_text())});
  }
  return fsync_directory(vms);
}

Result<void> remove_vm_dir(const std::string& vms, const std::string& name) {
  const std::string dir = vms + "/" + name;
  const std::string doomed = vms + "/" + std::string(kRemoving) + name;
  std::error_code ec;
  std::filesystem::remove_all(doomed, ec);
  if (rename(dir.c_str(), doomed.c_str()) != 0) {
    return make_error(fmt::format("{}: cannot remove: {}", dir, errno_text()));
  }
  (void)fsync_directory(vms);
  crash_point("remove");
  std::filesystem::remove_all(doomed, ec);
  if (ec) return make_error(fmt::format("{}: cannot remove: {}", doomed, ec.message()));
  return {};
}

std::vector<std::string> clean_interrupted(const std::string& vms) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(vms, ec)) {
    const std::string file = entry.path().filename().string();
    const bool creating = file.starts_with(kCreating);
    if (!creating && !file.starts_with(kRemoving)) continue;
    const std::string name = file.substr(creating ? kCreating.size() : kRemoving.size());
    std::error_code rm;
    std::filesystem::remove_all(entry.path(), rm);
    found.push_back(fmt::format(
        "VM '{}': {} was interrupted (a daemon ended midway); {} {}", name,
        creating ? "its creation" : "its removal",
        rm ? "could not remove the leftover " + entry.path().string() + ": " + rm.message()
           : "removed the leftover",
        creating ? "(the VM was never created)" : "(the VM is gone)"));
  }
  return found;
}

Result<std::string> resolve_state_dir(const std::string& option) {
  std::string dir = option;
  if (dir.empty()) {
    if (const char* v = std::getenv("VESSEL_STATE_DIR"); v != nullptr && *v != '\0') {
      dir = v;
    } else if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && *x != '\0') {
      dir = std::string(x) + "/vessel";
    } else if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
      dir = std::string(h) + "/.local/state/vessel";
    } else {
      return make_error(
          "state dir: none given and neither VESSEL_STATE_DIR, XDG_STATE_HOME nor "
          "HOME is set (use --state-dir)");
    }
  }
  std::error_code ec;
  auto absolute = std::filesystem::absolute(dir, ec);
  if (ec) return make_error(fmt::format("state dir {}: {}", dir, ec.message()));
  std::string out = absolute.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Result<StateLock> StateLock::acquire(const std::string& dir) {
  const std::string path = dir + "/daemon.lock";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(fmt::format("{}: cannot open: {}", path, errno_text()));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char pid[32] = {};
    const ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
    close(fd);
    if (err != EWOULDBLOCK) {
      return make_error(fmt::format("{}: cannot lock: {}", path, std::strerror(err)));
    }
    std::string holder(pid, n > 0 ? static_cast<size_t>(n) : 0);
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
    return make_error(fmt::format("{}: another vessel daemon{} is using this state dir", dir,
                                  holder.empty() ? "" : fmt::format(" (pid {})", holder)));
  }
  const std::string pid = fmt::format("{}\n", getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // Only the message of a second daemon loses the pid; the lock itself holds.
  }
  return StateLock(fd);
}

StateLock::~StateLock() {
  if (fd_ >= 0) close(fd_);
}

Result<std::string> load_or_create_token(const std::string& dir) {
  const std::string path = dir + "/token";
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0) {
      return make_error(
          fmt::format("{}: readable by others (mode {:o}); chmod 600 it", path, st.st_mode & 0777));
    }
    std::string token = TRY(read_small_file(path, 1024));
    while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
    if (token.size() < 16) return make_error(fmt::format("{}: shorter than 16 characters", path));
    return token;
  }
  auto random = random_hex(16);
  if (!random) return make_error(fmt::format("{}: a token: {}", path, random.error().message));
  const std::string token = std::move(*random);
  TRY_VOID(write_file_atomically(path, token + "\n", 0600));
  return token;
}

}  // namespace vessel::daemon
