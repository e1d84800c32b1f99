// Each thread role's system calls, found by booting the Debian guest with every device under
// `--seccomp=log` and strace -f (docs/security.md says how to redo it). A call missing here ends
// the VM with a line naming it, so the lists lean to what the C library may do on a rare path
// (an allocation that maps memory, a thread's exit) as well as what Vessel calls itself.
#include "vmm/seccomp_rules.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <span>
#include <vector>

namespace vessel::seccomp {

namespace {

using Names = std::span<const char* const>;

// Every thread: memory, locks, time, signals' return, its own end, and messages on stderr.
constexpr const char* kEveryThread[] = {
    "futex",         "exit",           "exit_group",
    "rt_sigreturn",  "rt_sigprocmask", "restart_syscall",
    "sched_yield",   "nanosleep",      "clock_nanosleep",
    "clock_gettime", "gettimeofday",   "gettid",
    "getpid",        "getrandom",      "set_robust_list",
    "rseq",          "munmap",         "madvise",
    "brk",           "mremap",         "sched_getaffinity",
    "write",         "close",
};
// Reading and writing descriptors the thread was handed (eventfds, sockets, files).
constexpr const char* kDescriptorIo[] = {
    "read",    "readv",    "writev", "pread64", "pwrite64",   "preadv", "pwritev",
    "preadv2", "pwritev2", "lseek",  "fstat",   "newfstatat", "fcntl",
};
// Waiting for descriptors: epoll (the event loops), poll (the terminal, the GDB stub).
constexpr const char* kWaiting[] = {
    "epoll_wait", "epoll_pwait", "epoll_pwait2",    "epoll_ctl",
    "poll",       "ppoll",       "timerfd_settime", "timerfd_gettime",
};
// A disk's data reaching the host file; flock: a --snapshot write-back holds its image
// exclusively while it writes.
constexpr const char* kDiskIo[] = {
    "fsync", "fdatasync", "fallocate", "ftruncate", "io_uring_enter", "flock",
};
// Connections already made or accepted.
constexpr const char* kStreams[] = {
    "accept",   "accept4",    "recvfrom",   "recvmsg",     "sendto",      "sendmsg",
    "shutdown", "getsockopt", "setsockopt", "getsockname", "getpeername",
};
// User networking: the guest's connections become the VM process's sockets (slirp).
constexpr const char* kNatSockets[] = {"connect", "bind", "listen", "sendmmsg", "recvmmsg"};
// Files by name: the console's log ring, and what the API's clients name (checked first by
// HostFilePolicy, docs/security.md).
constexpr const char* kFilesByName[] = {
    "openat",    "rename",     "renameat",  "renameat2",  "unlink", "unlinkat",
    "statfs",    "fstatfs",    "readlink",  "readlinkat", "getcwd", "access",
    "faccessat", "faccessat2", "statx",     "stat",       "lstat",  "getdents64",
    "fsync",     "fdatasync",  "ftruncate", "dup2",
};
// Statistics (--stats, SIGUSR1, the API's): guest RAM resident, the process's usage.
constexpr const char* kStatistics[] = {"mincore", "getrusage"};
// Only the supervisor, which builds the machines (again on a reboot) and tears them down.
constexpr const char* kBuildMachine[] = {
    "memfd_create",
    "io_uring_setup",
    "io_uring_register",
    "epoll_create1",
    "eventfd2",
    "timerfd_create",
    "pipe2",
    "dup",
    "dup3",
    "uname",
    "getrusage",
    "prlimit64",
    "sysinfo",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "sched_setaffinity",
    "wait4",
    "set_tid_address",
    "flock",
    "dup2",
    // A rebuilt machine's Unix sockets (a virtio console's) are made 0600 before they listen.
    "chmod",
    "fchmodat",
};

class Rules {
 public:
  explicit Rules(scmp_filter_ctx ctx) : ctx_(ctx) {}

  Result<void> allow(Names names) {
    for (const char* name : names) TRY_VOID(allow_if(name, {}));
    return {};
  }
  // The call when every comparison holds (rules for one call are alternatives).
  Result<void> allow_if(const char* name, std::initializer_list<scmp_arg_cmp> args) {
    return add(SCMP_ACT_ALLOW, name, args);
  }
  Result<void> fail_with(int err, const char* name) { return add(SCMP_ACT_ERRNO(err), name, {}); }

 private:
  Result<void> add(uint32_t action, const char* name, std::initializer_list<scmp_arg_cmp> args) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return make_error(fmt::format("unknown system call '{}'", name));
    // A call libseccomp knows but this architecture lacks (open, stat, poll on riscv64, whose
    // C library uses openat, statx, ppoll): a negative pseudo-number, nothing to allow.
    if (nr < 0) return {};
    const std::vector<scmp_arg_cmp> cmp(args);
    const int rc = seccomp_rule_add_array(ctx_, action, nr, static_cast<unsigned>(cmp.size()),
                                          cmp.empty() ? nullptr : cmp.data());
    // -EEXIST: the same rule from two of the lists a role combines.
    if (rc != 0 && rc != -EEXIST)
      return make_error(fmt::format("{}: {}", name, std::strerror(-rc)));
    return {};
  }
  scmp_filter_ctx ctx_;
};

// Memory without PROT_EXEC: only the supervisor maps code (the translator's arenas, built
// with the machine), so a thread taken over cannot make its own.
Result<void> allow_data_memory(Rules& r) {
  for (const char* name : {"mmap", "mprotect"}) {
    TRY_VOID(r.allow_if(name, {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}));
  }
  return {};
}

// Signals: raise() and abort() (to this process only), and handlers for anything but SIGSYS,
// whose handler reports forbidden calls and must stay. (The comparisons that ignore datum_b
// still give it, 0: clang warns of a struct left partly initialised.)
Result<void> allow_own_signals(Rules& r) {
  const auto self = static_cast<scmp_datum_t>(getpid());
  TRY_VOID(r.allow_if("tgkill", {SCMP_A0(SCMP_CMP_EQ, self, 0)}));
  TRY_VOID(r.allow_if("kill", {SCMP_A0(SCMP_CMP_EQ, self, 0)}));
  TRY_VOID(r.allow_if("rt_sigaction", {SCMP_A0(SCMP_CMP_NE, SIGSYS, 0)}));
  return {};
}

Result<void> allow_ioctls(Rules& r, std::span<const unsigned long> requests) {
  for (unsigned long req : requests) {
    TRY_VOID(r.allow_if("ioctl", {SCMP_A1(SCMP_CMP_EQ, static_cast<scmp_datum_t>(req), 0)}));
  }
  return {};
}

// Sockets of the families Vessel uses (AF_UNIX for its own sockets, AF_INET/6 for user
// networking); never raw or netlink ones.
Result<void> allow_socket_families(Rules& r) {
  for (int family : {AF_UNIX, AF_INET, AF_INET6}) {
    TRY_VOID(r.allow_if("socket", {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family), 0)}));
  }
  return {};
}

constexpr unsigned long kIsATerminal[] = {TCGETS};
constexpr unsigned long kTerminalIoctls[] = {TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ};
// Non-blocking sockets, and how much a socket holds (slirp).
constexpr unsigned long kSocketIoctls[] = {FIONBIO, FIONREAD};
// A block device's size, when one is a disk (checked at configuration, opened at build).
constexpr unsigned long kBlockDeviceIoctls[] = {BLKGETSIZE64};
// A tap device is opened again on a reboot.
constexpr unsigned long kTapIoctls[] = {TUNSETIFF};
// --accel kvm: the VM and its vCPUs are made (at start and on a reboot) by the supervisor.
constexpr unsigned long kKvmSetupIoctls[] = {
    KVM_GET_API_VERSION,    KVM_CHECK_EXTENSION, KVM_CREATE_VM,
    KVM_GET_VCPU_MMAP_SIZE, KVM_CREATE_VCPU,     KVM_SET_USER_MEMORY_REGION,
    KVM_GET_ONE_REG,        KVM_SET_ONE_REG,     KVM_SET_MP_STATE,
};
// A vCPU thread runs its vCPU; its interrupt forwarder raises and lowers its external
// interrupt.
constexpr unsigned long kKvmRunIoctls[] = {KVM_RUN, KVM_INTERRUPT};

Result<void> add_supervisor(Rules& r) {
  TRY_VOID(r.allow(kDescriptorIo));
  TRY_VOID(r.allow(kWaiting));
  TRY_VOID(r.allow(kDiskIo));
  TRY_VOID(r.allow(kStreams));
  TRY_VOID(r.allow(kNatSockets));
  TRY_VOID(r.allow(kFilesByName));
  TRY_VOID(r.allow(kBuildMachine));
  TRY_VOID(r.allow(kStatistics));
  TRY_VOID(allow_socket_families(r));
  // Code, for a rebooted machine's translator arenas.
  TRY_VOID(r.allow(std::initializer_list<const char*>{"mmap", "mprotect"}));
  // Threads, never processes: a fork would leave the filters' reach no less, but nothing in a
  // VM process forks. clone3's flags sit behind a pointer a filter cannot read: ENOSYS makes
  // the C library fall back to clone, whose flags it can.
  TRY_VOID(r.allow_if("clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)}));
  TRY_VOID(r.fail_with(ENOSYS, "clone3"));
  TRY_VOID(allow_ioctls(r, kSocketIoctls));
  TRY_VOID(allow_ioctls(r, kTapIoctls));
  TRY_VOID(allow_ioctls(r, kBlockDeviceIoctls));
  TRY_VOID(allow_ioctls(r, kTerminalIoctls));
  TRY_VOID(allow_ioctls(r, kKvmSetupIoctls));
  TRY_VOID(allow_ioctls(r, kKvmRunIoctls));  // the vCPU threads' filters stack on this one
  // seccomp and prctl for the filters of the threads it starts, which stack on its own (and
  // which name themselves first).
  TRY_VOID(r.allow(std::initializer_list<const char*>{"seccomp"}));
  for (int option : {PR_SET_NAME, PR_GET_NAME, PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS,
                     PR_SET_SECCOMP, PR_GET_SECCOMP}) {
    TRY_VOID(r.allow_if("prctl", {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(option), 0)}));
  }
  return {};
}

}  // namespace

Result<void> add_rules(scmp_filter_ctx ctx, ThreadRole role) {
  Rules r(ctx);
  TRY_VOID(r.allow(kEveryThread));
  TRY_VOID(allow_own_signals(r));
  if (role == ThreadRole::kSupervisor) return add_supervisor(r);
  TRY_VOID(allow_data_memory(r));
  switch (role) {
    case ThreadRole::kSupervisor: break;
    case ThreadRole::kVcpu:
      // Guest RAM and MMIO are memory; a device a hart writes to posts work to the I/O
      // thread (futex) or kicks an eventfd (write); a notification to the backend may do
      // host I/O at once (virtio-console's socket, say).
      TRY_VOID(r.allow(kDescriptorIo));
      TRY_VOID(r.allow(std::initializer_list<const char*>{"io_uring_enter"}));
      TRY_VOID(allow_ioctls(r, kIsATerminal));  // a trap loop's report starts a line on a tty
      TRY_VOID(allow_ioctls(r, kKvmRunIoctls));
      break;
    case ThreadRole::kIo:
      TRY_VOID(r.allow(kDescriptorIo));
      TRY_VOID(r.allow(kWaiting));
      TRY_VOID(r.allow(kDiskIo));
      TRY_VOID(r.allow(kStreams));
      TRY_VOID(r.allow(kNatSockets));
      TRY_VOID(allow_socket_families(r));
      TRY_VOID(allow_ioctls(r, kSocketIoctls));
      // Reading by name, never writing or creating: libslirp reads /etc/resolv.conf when the
      // guest's first DNS query reaches 10.0.2.3 (and stats it for changes after), and an NBD
      // disk reconnecting to a host name resolves it (/etc/hosts, nsswitch.conf).
      TRY_VOID(r.allow_if("openat", {SCMP_A2(SCMP_CMP_MASKED_EQ,
                                             O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY)}));
      break;
    case ThreadRole::kBlockWorker:
      TRY_VOID(r.allow(kDescriptorIo));
      TRY_VOID(r.allow(kDiskIo));
      break;
    case ThreadRole::kConsole:
      TRY_VOID(r.allow(kDescriptorIo));
      TRY_VOID(r.allow(kWaiting));
      TRY_VOID(r.allow(kStreams));
      TRY_VOID(r.allow(kFilesByName));  // the log ring's rotation
      TRY_VOID(allow_ioctls(r, kTerminalIoctls));
      TRY_VOID(allow_ioctls(r, kSocketIoctls));
      break;
    case ThreadRole::kApi:
      // PUT /vessel/migrate connects to its destination.
      TRY_VOID(allow_socket_families(r));
      TRY_VOID(r.allow(std::initializer_list<const char*>{"connect"}));
      TRY_VOID(r.allow(kStatistics));
      TRY_VOID(r.allow(kDescriptorIo));
      TRY_VOID(r.allow(kWaiting));
      TRY_VOID(r.allow(kStreams));
      TRY_VOID(r.allow(kFilesByName));
      TRY_VOID(allow_ioctls(r, kSocketIoctls));
      TRY_VOID(allow_ioctls(r, kBlockDeviceIoctls));
      break;
    case ThreadRole::kGdb:
      TRY_VOID(r.allow(kDescriptorIo));
      TRY_VOID(r.allow(kWaiting));
      TRY_VOID(r.allow(kStreams));
      TRY_VOID(allow_ioctls(r, kSocketIoctls));
      break;
  }
  if (role != ThreadRole::kConsole && role != ThreadRole::kApi && role != ThreadRole::kIo) {
    // These threads open nothing by name, but the C library's malloc reads
    // /proc/sys/vm/overcommit_memory the first time it gives a thread's heap back, and does
    // without it when the open fails: a refusal, not a kill.
    TRY_VOID(r.fail_with(EACCES, "openat"));
  }
  return {};
}

}  // namespace vessel::seccomp
