// A syscall-heavy loop for the Debian guest's userspace: N getppid() calls (argv[1], default
// 1000000). getppid is about the cheapest system call there is, so the figure is the cost of
// the trap into the kernel and back: an ecall from U-mode, delegated to S-mode in every
// configuration, so neither the firmware nor the SBI is on this path. bench/full-vs-para
// builds it static and runs it through the guest's vessel.run= hook; it prints one line:
//   vessel-syscall-bench: n=N ns=TOTAL user_rdtime=1|0 end
// user_rdtime says whether U-mode may read the time CSR (scounteren.TM), which the vDSO's
// clock_gettime needs; the loop is timed through the clock_gettime system call instead, so
// the figure does not depend on it.
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf rdtime_trap;

static void on_sigill(int sig) {
  (void)sig;
  siglongjmp(rdtime_trap, 1);
}

static int user_rdtime_works(void) {
  struct sigaction action = {0};
  action.sa_handler = on_sigill;
  sigaction(SIGILL, &action, NULL);
  if (sigsetjmp(rdtime_trap, 1)) return 0;
  unsigned long ticks;
  __asm__ volatile("rdtime %0" : "=r"(ticks));
  (void)ticks;
  return 1;
}

static long long now_ns(void) {
  struct timespec t;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char** argv) {
  const long n = argc > 1 ? atol(argv[1]) : 1000000;
  if (n <= 0) {
    fprintf(stderr, "getppid_loop: count '%s' is not a positive number\n", argv[1]);
    return 2;
  }
  const long long t0 = now_ns();
  long sum = 0;
  // Through syscall(), so that no library wrapper can answer without entering the kernel.
  for (long i = 0; i < n; ++i) sum += syscall(SYS_getppid);
  const long long t1 = now_ns();
  printf("vessel-syscall-bench: n=%ld ns=%lld ppid_sum=%ld user_rdtime=%d end\n", n, t1 - t0, sum,
         user_rdtime_works());
  return 0;
}
