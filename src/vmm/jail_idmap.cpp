// Writable files in the jail through idmapped mounts: a disk image the operator owns (root's,
// under the daemon) must be writable by the jail's unprivileged uid without its owner or mode
// changing on the host. The bind mount of it is idmapped so that its owner appears, inside the
// jail only, as the jail's uid (and group as its gid); what the VM creates there (a socket, a
// log) is its owner's on the host. File systems without idmapped mounts get a plain bind, and
// then the file's own permissions decide.
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "vmm/jail.hpp"

namespace vessel::jail {

namespace {

bool write_map(const std::string& path, const std::string& line) {
  std::ofstream f(path);
  f << line;
  f.flush();
  return static_cast<bool>(f);
}

// A user namespace whose ids `uid` and `gid` are the jail's on the outside: an idmapped mount
// from it shows files of `uid` as the jail's. Its fd, or -1.
int user_namespace(uid_t uid, gid_t gid, uid_t jail_uid, gid_t jail_gid) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return -1;
  const pid_t helper = fork();
  if (helper < 0) return -1;
  if (helper == 0) {
    // Only holds the namespace open until the parent has its fd.
    char byte = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
    [[maybe_unused]] const ssize_t n = write(ready[1], &byte, 1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char byte = 'n';
  int fd = -1;
  if (read(ready[0], &byte, 1) == 1 && byte == 'y' &&
      write_map(fmt::format("/proc/{}/uid_map", helper), fmt::format("{} {} 1\n", uid, jail_uid)) &&
      write_map(fmt::format("/proc/{}/gid_map", helper), fmt::format("{} {} 1\n", gid, jail_gid))) {
    fd = open(fmt::format("/proc/{}/ns/user", helper).c_str(), O_RDONLY | O_CLOEXEC);
  }
  close(ready[0]);
  kill(helper, SIGKILL);
  waitpid(helper, nullptr, 0);
  return fd;
}

}  // namespace

Result<bool> bind_idmapped(const Bind& b, const std::string& target, uid_t jail_uid,
                           gid_t jail_gid) {
  struct stat st {};
  if (stat(b.path.c_str(), &st) != 0 || st.st_uid == jail_uid) return false;
  const int userns = user_namespace(st.st_uid, st.st_gid, jail_uid, jail_gid);
  if (userns < 0) return false;
  const int tree = static_cast<int>(
      syscall(SYS_open_tree, AT_FDCWD, b.path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (tree < 0) {
    close(userns);
    return false;
  }
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  attr.userns_fd = static_cast<uint64_t>(userns);
  const bool mapped = syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0;
  close(userns);
  if (!mapped) {  // not on this file system: the plain bind it is
    close(tree);
    return false;
  }
  const long moved =
      syscall(SYS_move_mount, tree, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH);
  const int err = errno;
  close(tree);
  if (moved != 0) {
    return make_error(fmt::format("--jail: idmapped mount of {}: {}", b.path, std::strerror(err)));
  }
  return true;
}

}  // namespace vessel::jail
