#include "vmm/seccomp.hpp"

#include <fmt/format.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vmm/seccomp_rules.hpp"

namespace vessel::seccomp {

namespace {

// System call numbers the SIGSYS handler can name (x86-64's run to about 460).
constexpr int kMaxNamed = 512;

// Filled by enable() before any filter exists: the handler may not allocate, so it reads names
// resolved beforehand. The strings libseccomp returns stay for the life of the process.
std::array<const char*, kMaxNamed> g_names{};
std::atomic<Mode> g_mode{Mode::kOff};
// In log mode each (role, call) is reported once: a guest must not be able to fill the log.
std::array<std::array<std::atomic<bool>, kMaxNamed>, kThreadRoleCount> g_reported{};
// The role the hook was last given on this thread (what the handler names), and whether the
// thread has its filter already: a supervisor that runs run_vm twice installs it once.
thread_local ThreadRole t_role = ThreadRole::kSupervisor;
thread_local bool t_filtered = false;
// VESSEL_TEST_FORBIDDEN_CALL's role, or -1.
int g_test_role = -1;
std::atomic<bool> g_test_done{false};

// Appends text to buf at *at, up to the end; async-signal-safe.
void put(char* buf, size_t size, size_t* at, const char* text) {
  while (*text != '\0' && *at + 1 < size) buf[(*at)++] = *text++;
}
void put_number(char* buf, size_t size, size_t* at, unsigned long n) {
  char digits[24];
  int k = 0;
  do {
    digits[k++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0 && k < 23);
  while (k > 0 && *at + 1 < size) buf[(*at)++] = digits[--k];
}

void on_sigsys(int, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  const int nr = info->si_syscall;
  const Mode mode = g_mode.load(std::memory_order_relaxed);
  const auto role = static_cast<size_t>(t_role);
  const bool known = nr >= 0 && nr < kMaxNamed;
  const bool first = !known || !g_reported[role][static_cast<size_t>(nr)].exchange(true);
  if (mode == Mode::kEnforce || first) {
    char line[200];
    size_t at = 0;
    put(line, sizeof line, &at, "vessel: seccomp: the ");
    put(line, sizeof line, &at, thread_role_name(t_role));
    put(line, sizeof line, &at, " thread made a forbidden system call: ");
    put(line, sizeof line, &at,
        known && g_names[static_cast<size_t>(nr)] != nullptr ? g_names[static_cast<size_t>(nr)]
                                                             : "?");
    put(line, sizeof line, &at, " (");
    put_number(line, sizeof line, &at, static_cast<unsigned long>(nr));
    put(line, sizeof line, &at,
        mode == Mode::kEnforce ? "); the VM process ends\n"
                               : "); it fails with EPERM (log mode)\n");
    // Nothing to do if stderr is gone: the exit status still says why.
    [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, line, at);
  }
  if (mode == Mode::kEnforce) _exit(kExitSeccomp);
  // The call was skipped; its result is what the thread finds in rax when the handler returns.
  auto* uc = static_cast<ucontext_t*>(context);
#if defined(__x86_64__)
  uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
  uc->uc_mcontext.regs[0] = static_cast<uint64_t>(-EPERM);
#elif defined(__riscv)
  uc->uc_mcontext.__gregs[REG_A0] = static_cast<unsigned long>(-EPERM);
#else
  _exit(kExitSeccomp);  // no way known here to give the call a result
#endif
  errno = saved_errno;
}

[[noreturn]] void die(const std::string& message) {
  const std::string line = fmt::format("vessel: seccomp: {}\n", message);
  [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, line.data(), line.size());
  _exit(kExitSeccomp);
}

// The test hook's forbidden call: chroot is in no list, and harmless where it is let through
// (the path does not exist).
void make_forbidden_call() {
  const long r = syscall(SYS_chroot, "/nonexistent-vessel-seccomp-test");
  const int err = errno;
  const std::string line =
      fmt::format("vessel: seccomp test hook: the {} thread's chroot returned {} ({})\n",
                  thread_role_name(t_role), r, r < 0 ? std::strerror(err) : "no error");
  [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, line.data(), line.size());
}

// Each role's filter as BPF, compiled once. libseccomp takes 0.3-0.8 ms to gather a role's
// rules and as long again to turn them into BPF, and a restore waited for that on its way to
// the guest's first instruction: the I/O thread's, the supervisor's and each hart's filter in
// turn (docs/snapshot.md). enable() starts a thread that compiles every role's while the
// machine is built. A thread whose role it has not reached yet builds and loads its filter
// through libseccomp itself, as every thread did before: it may already be under its parent's
// filter, which allows what libseccomp's loading does but not the memory file that export
// needs.
struct Programs {
  std::mutex mu;
  std::array<std::vector<sock_filter>, kThreadRoleCount> of_role;  // empty: not compiled (yet)
};
// Never destroyed: the compiling thread may still be at work when the process exits.
Programs& g_programs = *new Programs();

// The role's rules in a new libseccomp filter (nullptr and a message if they cannot be).
scmp_filter_ctx make_filter(ThreadRole role, std::string& error) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
  if (ctx == nullptr) {
    error = "libseccomp cannot make a filter";
    return nullptr;
  }
  // The filter is per thread: no TSYNC. no_new_privs was set by enable().
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (auto added = add_rules(ctx, role); !added) {
    seccomp_release(ctx);
    error = added.error().message;
    return nullptr;
  }
  return ctx;
}

// The role's filter as BPF (empty if it cannot be had: the role's thread then builds its own).
// libseccomp 2.5 exports BPF only to a descriptor: a memory file, read back.
std::vector<sock_filter> compile(ThreadRole role) {
  std::string error;
  scmp_filter_ctx ctx = make_filter(role, error);
  if (ctx == nullptr) return {};
  std::vector<sock_filter> code;
  if (const int fd = memfd_create("vessel-seccomp-bpf", MFD_CLOEXEC); fd >= 0) {
    const off_t size = seccomp_export_bpf(ctx, fd) == 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (size > 0 && size % static_cast<off_t>(sizeof(sock_filter)) == 0) {
      code.resize(static_cast<size_t>(size) / sizeof(sock_filter));
      if (pread(fd, code.data(), static_cast<size_t>(size), 0) != size) code.clear();
    }
    close(fd);
  }
  seccomp_release(ctx);
  return code;
}

// Installs the compiled program of the role if there is one; false if there is none yet.
bool install_compiled(ThreadRole role) {
  std::vector<sock_filter> code;
  {
    std::lock_guard<std::mutex> lock(g_programs.mu);
    code = g_programs.of_role[static_cast<size_t>(role)];
  }
  if (code.empty()) return false;
  // What seccomp_load does with this filter's attributes: seccomp(2) with no flags.
  sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    die(fmt::format("cannot install the {} filter: {}", thread_role_name(role),
                    std::strerror(errno)));
  }
  return true;
}

// The thread-role hook: the calling thread's filter, before it does anything else.
void install(ThreadRole role) {
  t_role = role;
  if (t_filtered) return;
  if (!install_compiled(role)) {
    std::string error;
    scmp_filter_ctx ctx = make_filter(role, error);
    if (ctx == nullptr) die(fmt::format("the {} filter: {}", thread_role_name(role), error));
    const int rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) {
      die(fmt::format("cannot install the {} filter: {}", thread_role_name(role),
                      std::strerror(-rc)));
    }
  }
  t_filtered = true;
  if (g_test_role == static_cast<int>(role) && !g_test_done.exchange(true)) make_forbidden_call();
}

}  // namespace

Result<Mode> parse_mode(std::string_view text) {
  if (text == "off") return Mode::kOff;
  if (text == "log") return Mode::kLog;
  if (text == "enforce" || text == "on") return Mode::kEnforce;
  return make_error(fmt::format("--seccomp '{}': must be enforce, log or off", text));
}

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::kOff: return "off";
    case Mode::kLog: return "log";
    case Mode::kEnforce: return "enforce";
  }
  return "?";
}

Mode default_mode() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return Mode::kOff;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
  return Mode::kOff;
#else
  return Mode::kEnforce;
#endif
#else
  return Mode::kEnforce;
#endif
}

Result<void> enable(Mode mode) {
  if (mode == Mode::kOff) return {};
  for (int nr = 0; nr < kMaxNamed; ++nr) {
    g_names[static_cast<size_t>(nr)] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  }
  if (const char* test = std::getenv(kTestHookEnv)) {
    for (int r = 0; r < kThreadRoleCount; ++r) {
      if (std::string_view(test) == thread_role_name(static_cast<ThreadRole>(r))) g_test_role = r;
    }
    if (g_test_role < 0)
      return make_error(fmt::format("{}={}: no such thread role", kTestHookEnv, test));
  }
  // Before any filter: a thread may install one only with no_new_privs (or CAP_SYS_ADMIN).
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return make_error(fmt::format("--seccomp: cannot set no_new_privs: {}", std::strerror(errno)));
  }
  struct sigaction sa {};
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSYS, &sa, nullptr) != 0) {
    return make_error(fmt::format("--seccomp: cannot handle SIGSYS: {}", std::strerror(errno)));
  }
  g_mode.store(mode, std::memory_order_relaxed);
  set_thread_role_hook(install);
  // Unfiltered, like every thread started before the first filter; it only compiles. The roles
  // a VM process needs first come first.
  std::thread([] {
    for (ThreadRole role :
         {ThreadRole::kIo, ThreadRole::kConsole, ThreadRole::kSupervisor, ThreadRole::kVcpu,
          ThreadRole::kApi, ThreadRole::kBlockWorker, ThreadRole::kGdb}) {
      std::vector<sock_filter> code = compile(role);
      std::lock_guard<std::mutex> lock(g_programs.mu);
      g_programs.of_role[static_cast<size_t>(role)] = std::move(code);
    }
  }).detach();
  return {};
}

}  // namespace vessel::seccomp
