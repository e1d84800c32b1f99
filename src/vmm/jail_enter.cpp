// Entering the jail a Plan describes: the fork, the namespaces, the mounts, the new root and
// the unprivileged ids. Everything here runs before the VM's first thread.
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "vmm/jail.hpp"

namespace vessel::jail {

namespace {

namespace fs = std::filesystem;

std::atomic<pid_t> g_child{0};

void forward_signal(int sig) {
  if (const pid_t child = g_child.load()) kill(child, sig);
}

// As the default action would, for PID 1 of a namespace, which the kernel spares signals it
// has no handler for (the API's own handlers replace these).
void end_on_signal(int sig) { _exit(128 + sig); }

Result<void> sys(int rc, const std::string& what) {
  if (rc != 0) return make_error(fmt::format("--jail: {}: {}", what, std::strerror(errno)));
  return {};
}

Result<void> make_dirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return make_error(fmt::format("--jail: cannot create {}: {}", path, ec.message()));
  return {};
}

// `b` at the same path under `root`, read-only unless writable, never setuid, devices only for
// the files under /dev it names.
Result<void> bind(const Plan& p, const std::string& root, const Bind& b) {
  const std::string target = root + b.path;
  TRY_VOID(make_dirs(b.directory ? target : fs::path(target).parent_path().string()));
  if (!b.directory) {
    const int fd = open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      return make_error(fmt::format("--jail: cannot create {}: {}", target, std::strerror(errno)));
    close(fd);
  }
  // Written by the VM: its owner on the host appears as the jail's uid inside.
  if (b.writable && !b.path.starts_with("/dev/") && TRY(bind_idmapped(b, target, p.uid, p.gid))) {
    return {};
  }
  TRY_VOID(sys(mount(b.path.c_str(), target.c_str(), nullptr, MS_BIND, nullptr), "bind " + b.path));
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID;
  if (!b.writable) flags |= MS_RDONLY;
  if (!b.path.starts_with("/dev/")) flags |= MS_NODEV;
  return sys(mount(nullptr, target.c_str(), nullptr, flags, nullptr), "remount " + b.path);
}

// The new root: a tmpfs with the binds, /proc of the new PID namespace, and the old cwd.
Result<void> build_root(const Plan& p, const std::string& root) {
  TRY_VOID(sys(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), "make / private"));
  // This PID namespace's /proc, for the idmaps' helpers (their pids are this namespace's).
  TRY_VOID(sys(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
               "mount /proc"));
  TRY_VOID(make_dirs(root));
  TRY_VOID(
      sys(mount("vessel-jail", root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m"),
          "tmpfs on " + root));
  for (const Bind& b : p.binds) TRY_VOID(bind(p, root, b));
  TRY_VOID(make_dirs(root + "/proc"));
  TRY_VOID(sys(
      mount("proc", (root + "/proc").c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
      "mount /proc"));
  TRY_VOID(make_dirs(root + p.cwd));
  TRY_VOID(make_dirs(root + "/.old"));
  TRY_VOID(sys(static_cast<int>(syscall(SYS_pivot_root, root.c_str(), (root + "/.old").c_str())),
               "pivot_root"));
  TRY_VOID(sys(chdir("/"), "chdir /"));
  TRY_VOID(sys(umount2("/.old", MNT_DETACH), "unmount the old root"));
  rmdir("/.old");
  // Nothing more is made in the root itself: sockets and logs go into bound directories.
  TRY_VOID(sys(mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                     nullptr),
               "make the root read-only"));
  return sys(chdir(p.cwd.c_str()), "chdir " + p.cwd);
}

// No capability left in any set, no way to gain one, the jail's ids only.
Result<void> drop_privileges(const Plan& p) {
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  TRY_VOID(
      sys(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities"));
  TRY_VOID(sys(setgroups(0, nullptr), "setgroups"));
  TRY_VOID(sys(setresgid(p.gid, p.gid, p.gid), fmt::format("setresgid {}", p.gid)));
  TRY_VOID(sys(setresuid(p.uid, p.uid, p.uid), fmt::format("setresuid {}", p.uid)));
  TRY_VOID(sys(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs"));
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  TRY_VOID(sys(static_cast<int>(syscall(SYS_capget, &header, data)), "capget"));
  for (const auto& d : data) {
    if (d.effective != 0 || d.permitted != 0 || d.inheritable != 0) {
      return make_error("--jail: capabilities remain after the change of uid");
    }
  }
  return {};
}

void escape_hook() {
  for (const char* path : {"/etc/shadow", "/etc/passwd", "/root", "/../etc/shadow",
                           "/proc/1/root/etc/shadow", "/home"}) {
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    const std::string line =
        fd >= 0 ? fmt::format("vessel: jail test hook: open {}: opened (escaped)\n", path)
                : fmt::format("vessel: jail test hook: open {}: {}\n", path, std::strerror(errno));
    if (fd >= 0) close(fd);
    [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, line.data(), line.size());
  }
}

void child(const Plan& p, int go, const std::string& root) {
  char byte = 0;
  // The parent puts this process in the cgroup first.
  if (read(go, &byte, 1) != 1) _exit(2);
  int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
  if (p.new_net) flags |= CLONE_NEWNET;
  auto jailed = sys(unshare(flags), "unshare");
  if (jailed) jailed = sys(sethostname("vessel", 6), "sethostname");
  if (jailed) jailed = build_root(p, root);
  if (jailed) jailed = drop_privileges(p);
  if (!jailed) {
    fmt::print(stderr, "vessel: {}\n", jailed.error().message);
    _exit(2);
  }
  // Only now: a change of uid clears it. The parent holds its end of `go` open for its whole
  // life, so end of file there says it died before this was set.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  fcntl(go, F_SETFL, O_NONBLOCK);
  if (read(go, &byte, 1) == 0) _exit(2);
  close(go);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) signal(sig, end_on_signal);
  if (std::getenv(kEscapeHookEnv) != nullptr) escape_hook();
}

int wait_for(pid_t child) {
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) signal(sig, forward_signal);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 2;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 2;
}

}  // namespace

Result<std::optional<int>> enter(const Plan& p) {
  const std::string name = fmt::format("vessel-{}", getpid());
  const Cgroup cgroup = TRY(make_cgroup(p.options.cgroup, name, p.memory_limit, p.cpus));
  const std::string root = p.options.dir + "/" + name;
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0 || unshare(CLONE_NEWPID) != 0) {
    remove_cgroup(cgroup);
    return make_error(
        fmt::format("--jail: cannot make the PID namespace: {}", std::strerror(errno)));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    remove_cgroup(cgroup);
    return make_error(fmt::format("--jail: fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    close(go[1]);
    child(p, go[0], root);
    return std::optional<int>{};
  }
  close(go[0]);
  g_child = pid;
  auto joined = join_cgroup(cgroup, pid);
  // Without the byte the child ends at once; with it, go[1] stays open while this process
  // lives, for the child's check that its parent did not die before it set PDEATHSIG.
  const bool told = joined && write(go[1], "g", 1) == 1;
  if (!told) close(go[1]);
  const int status = told ? wait_for(pid) : (waitpid(pid, nullptr, 0), 2);
  if (told) close(go[1]);
  remove_cgroup(cgroup);
  rmdir(root.c_str());
  if (!joined) return joined.take_error();
  return std::optional<int>{status};
}

}  // namespace vessel::jail
