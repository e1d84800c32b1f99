// The kernel's side: system calls and process creation.
//   syscall   1000 getppid() calls per unit, through syscall() so that no library wrapper can
//             answer without entering the kernel: the cost of a trap into the kernel and back
//             (an ecall from U-mode, handled by the guest kernel in S-mode)
//   forkexec  fork(), execve() of noop (a static program beside this one that exits with 42)
//             and waitpid(): page-table copies, copy-on-write faults, an ELF load, exit
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpubench.h"

enum { kCalls = 1000 };

static long parent;

static void syscall_setup(const char* self) {
  (void)self;
  parent = syscall(SYS_getppid);
}

// Counts the calls that answered what the first one did: kCalls, whatever the parent is.
static uint64_t syscall_unit(void) {
  uint64_t same = 0;
  for (int i = 0; i < kCalls; ++i) same += syscall(SYS_getppid) == parent;
  return same;
}

const struct bench bench_syscall = {"syscall", "call", kCalls, syscall_setup, syscall_unit, NULL};

static char noop[4096];

static void forkexec_setup(const char* self) {
  const char* slash = strrchr(self, '/');
  const int dir = slash ? (int)(slash - self) : 1;
  snprintf(noop, sizeof noop, "%.*s/noop", dir, slash ? self : ".");
  if (access(noop, X_OK) != 0) bench_fail("forkexec: no executable noop beside cpubench");
}

// 1 when the child ran noop to its exit status 42.
static uint64_t forkexec_unit(void) {
  const pid_t pid = fork();
  if (pid < 0) return 0;
  if (pid == 0) {
    char* const argv[] = {noop, NULL};
    char* const envp[] = {NULL};
    execve(noop, argv, envp);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 42;
}

const struct bench bench_forkexec = {"forkexec", "spawn", 1, forkexec_setup, forkexec_unit, NULL};
