// `vessel run --jail DIR`: the VM process in a cage of its own, as Firecracker's jailer makes
// one (docs/security.md). Before any thread starts, the process forks: the parent stays
// outside and waits; the child is PID 1 of new PID, mount, IPC and UTS namespaces (and a new
// network namespace unless the VM uses user networking or a tap, which need the host's), in a
// cgroup with the VM's CPU and memory limits, pivot_root'ed into a tmpfs holding only the files
// its options name (bind-mounted, read-only unless the VM writes them), running as an
// unprivileged uid and gid with no capabilities and no_new_privs. Files the per-VM API names
// later (a logger's or metrics' output, a vsock socket, a snapshot) must lie in an
// --api-allow-dir directory: those are bound whole, at their host paths.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "vmm/vm.hpp"

namespace vessel::jail {

struct JailOptions {
  std::string dir;              // --jail DIR: where the jail's root is mounted
  std::optional<uid_t> uid;     // --jail-uid; none: the first free one from kFirstUid
  std::optional<gid_t> gid;     // --jail-gid; none: the uid's number
  std::string cgroup = "auto";  // --jail-cgroup: auto (v2, else v1), v2, v1
  // Files named by `vessel run`'s own options beyond the VM's (--api-sock, --log-file, ...).
  std::vector<std::string> created;       // made or replaced by the VM: their directory is bound
  std::vector<std::string> allowed_dirs;  // --api-allow-dir: bound whole, writable
};

inline constexpr uid_t kFirstUid = 900000;

// A path the jail makes visible, at the same absolute path inside.
struct Bind {
  std::string path;  // absolute
  bool writable = false;
  bool directory = false;
};

struct Plan {
  JailOptions options;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<Bind> binds;
  std::string cwd;  // recreated inside, so that relative paths still lead where they did
  bool new_net = true;
  uint64_t memory_limit = 0;  // bytes
  unsigned cpus = 1;
};

// Checks everything that can be checked before anything changes: root, the directory, the
// uid and gid, the cgroup controllers, the files. Errors are one line naming the option.
Result<Plan> plan(const VmOptions& vm, const JailOptions& options);

// Forks. In the parent (outside), waits for the jailed child and returns its exit status,
// having forwarded SIGTERM, SIGINT and SIGHUP to it and removed its cgroup. In the child,
// returns nullopt once it is jailed: it goes on to run the VM. A failure before the fork is an
// error; one in the child ends it with status 2 and one line.
Result<std::optional<int>> enter(const Plan& plan);

// The cgroup (jail_cgroup.cpp): the limits, made before the fork, joined by the child.
struct Cgroup {
  std::vector<std::string> dirs;  // one (v2) or one per controller (v1)
};
Result<void> check_cgroup(const std::string& which);
Result<Cgroup> make_cgroup(const std::string& which, const std::string& name, uint64_t memory,
                           unsigned cpus);
Result<void> join_cgroup(const Cgroup& cgroup, pid_t pid);
void remove_cgroup(const Cgroup& cgroup);

// `b` at `target` through an idmapped mount (jail_idmap.cpp) that shows its owner as the jail's
// uid and gid; false where the file system cannot (or the jail's uid owns it already).
Result<bool> bind_idmapped(const Bind& b, const std::string& target, uid_t jail_uid,
                           gid_t jail_gid);

// The test hook (env VESSEL_TEST_JAIL_ESCAPE=1): once jailed, the process tries to reach host
// files (/etc/shadow, /etc/passwd, /root, the host's /proc/1/root) and prints one line each.
inline constexpr const char* kEscapeHookEnv = "VESSEL_TEST_JAIL_ESCAPE";

}  // namespace vessel::jail
