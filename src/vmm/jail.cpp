#include "vmm/jail.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "host/block/block_backend.hpp"
#include "host/block/nbd.hpp"

namespace vessel::jail {

namespace {

namespace fs = std::filesystem;

// Vessel's own memory beyond the guest's RAM: the translator's arenas are counted apart.
constexpr uint64_t kOverheadBytes = 256ULL << 20;

// A process (other than this one) that runs as `uid`, or 0.
pid_t process_with_uid(uid_t uid) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  pid_t found = 0;
  while (dirent* e = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0 || pid == getpid()) continue;
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    for (std::string line; std::getline(status, line);) {
      unsigned r = 0, eff = 0, s = 0;
      if (std::sscanf(line.c_str(), "Uid: %u %u %u", &r, &eff, &s) == 3) {
        if (r == uid || eff == uid || s == uid) found = pid;
        break;
      }
    }
    if (found != 0) break;
  }
  closedir(proc);
  return found;
}

Result<void> check_ids(Plan& p) {
  if (p.options.uid) {
    p.uid = *p.options.uid;
    if (p.uid == 0) return make_error("--jail-uid 0: the jail's uid must not be root's");
    if (const pid_t pid = process_with_uid(p.uid)) {
      return make_error(fmt::format("--jail-uid {}: uid already in use (process {})", p.uid, pid));
    }
  } else {
    // Unique while this process lives: no other VM can derive it at the same time.
    p.uid = kFirstUid + static_cast<uid_t>(getpid());
    if (const pid_t pid = process_with_uid(p.uid)) {
      return make_error(
          fmt::format("--jail: the derived uid {} is already in use (process {}); give --jail-uid",
                      p.uid, pid));
    }
  }
  p.gid = p.options.gid.value_or(static_cast<gid_t>(p.uid));
  if (p.gid == 0) return make_error("--jail-gid 0: the jail's gid must not be root's");
  return {};
}

Result<void> check_dir(const std::string& dir) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0)
    return make_error(fmt::format("--jail {}: {}", dir, errno_text()));
  if (!S_ISDIR(st.st_mode)) return make_error(fmt::format("--jail {}: not a directory", dir));
  struct statvfs vfs {};
  if (access(dir.c_str(), W_OK) != 0 ||
      (statvfs(dir.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY))) {
    return make_error(fmt::format("--jail {}: not writable", dir));
  }
  return {};
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

void add_file(Plan& p, const std::string& path, bool writable) {
  if (path.empty() || access(path.c_str(), F_OK) != 0) return;  // the VM's own error says it
  p.binds.push_back({absolute(path), writable, false});
}
// A file the VM creates or replaces (a socket, a log ring, a status file written beside itself):
// its directory.
void add_created(Plan& p, const std::string& path) {
  if (path.empty()) return;
  p.binds.push_back({fs::path(absolute(path)).parent_path().string(), true, true});
}

Result<void> add_vm_files(Plan& p, const VmOptions& vm) {
  const VirtConfig& m = vm.machine;
  for (const auto& f : {m.kernel, m.initrd, m.firmware}) {
    if (f) add_file(p, *f, false);
  }
  for (const block::DiskSpec& disk : m.disks) {
    if (block::is_nbd_uri(disk.path)) {
      TRY_VOID(block::preload_nbd());  // the jail's root has no /usr/lib
      // The server is the host's: over TCP in its network, over a Unix socket in a directory.
      const size_t socket = disk.path.find("socket=");
      if (socket == std::string::npos) {
        p.new_net = false;
      } else {
        add_created(p, disk.path.substr(socket + 7, disk.path.find('&', socket) - socket - 7));
      }
      continue;
    }
    // A snapshot=on disk's base is written back on request (unless read-only); its temporary
    // overlay is made, and unlinked at once, in the overlay directory.
    add_file(p, disk.path, !disk.read_only && disk.overlay.empty());
    if (disk.snapshot) add_created(p, block::snapshot_overlay_dir() + "/overlay");
    if (!disk.overlay.empty()) {
      if (access(disk.overlay.c_str(), F_OK) == 0) {
        add_file(p, disk.overlay, true);
      } else {
        add_created(p, disk.overlay);
      }
    }
  }
  bool user_net = false, tap = false;
  for (const NetSpec& net : m.nets) {
    p.new_net = false;  // slirp's sockets and a tap both live in the host's network
    tap = tap || net.kind == NetSpec::Kind::kTap;
    user_net = user_net || net.kind == NetSpec::Kind::kUser;
  }
  // Each file once: a second bind would land on the first, read-only, mount.
  if (tap) add_file(p, "/dev/net/tun", true);
  // libslirp forwards the guest's DNS queries to the host's resolver, read from here.
  if (user_net) add_file(p, "/etc/resolv.conf", false);
  auto unix_path = [](const std::optional<std::string>& spec) {
    return spec && spec->starts_with("unix:") ? spec->substr(5) : std::string();
  };
  add_created(p, m.virtio_console_socket.value_or(""));
  add_created(p, unix_path(vm.gdb));
  if (vm.gdb && vm.gdb->starts_with("tcp:")) p.new_net = false;  // the debugger is the host's
  if (vm.console.socket) add_created(p, *vm.console.socket);
  // The vsock listener, and the <uds_path>_<port> sockets of the guest's connections beside it.
  if (m.vsock) add_created(p, m.vsock->uds_path);
  if (vm.console.log)
    add_created(p, TRY(parse_log_ring_option("--console-log", *vm.console.log)).path);
  for (const std::string& f : p.options.created) add_created(p, f);
  for (const std::string& d : p.options.allowed_dirs) p.binds.push_back({absolute(d), true, true});
  add_file(p, "/dev/null", true);
  return {};
}

// Directories first; a path inside a bound directory is visible already and is not bound again
// (that would put a mount point, an empty file, into the host's directory).
void settle_binds(Plan& p) {
  std::stable_sort(p.binds.begin(), p.binds.end(), [](const Bind& a, const Bind& b) {
    return a.directory != b.directory ? a.directory : a.path < b.path;
  });
  std::vector<Bind> kept;
  for (const Bind& b : p.binds) {
    const bool covered = std::any_of(kept.begin(), kept.end(), [&](const Bind& k) {
      return k.directory && (b.path == k.path || b.path.starts_with(k.path + "/"));
    });
    if (!covered) kept.push_back(b);
  }
  p.binds = std::move(kept);
}

}  // namespace

Result<Plan> plan(const VmOptions& vm, const JailOptions& options) {
  Plan p;
  p.options = options;
  if (geteuid() != 0) {
    return make_error(
        "--jail: needs root (namespaces, mounts and the change of uid); without "
        "--jail, run as the user the VM should have");
  }
  TRY_VOID(check_dir(options.dir));
  TRY_VOID(check_ids(p));
  TRY_VOID(check_cgroup(options.cgroup));
  TRY_VOID(add_vm_files(p, vm));
  settle_binds(p);
  char cwd[PATH_MAX];
  p.cwd = getcwd(cwd, sizeof cwd) != nullptr ? cwd : "/";
  const VirtConfig& m = vm.machine;
  p.cpus = m.num_harts;
  p.memory_limit = m.ram_size + kOverheadBytes +
                   (m.engine == rv::Engine::kJit ? m.jit_cache_bytes * m.num_harts : 0);
  return p;
}

}  // namespace vessel::jail
