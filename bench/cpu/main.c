// bench/cpu.py's driver, in the guest and natively: cpubench SECONDS [NAME...] runs each named
// benchmark (all of them by default) for SECONDS of wall time after one untimed warm-up unit,
// and prints one line per benchmark:
//   vessel-cpu-bench: name=NAME op=OP ops=N units=U ns=T checksum=0xC end
// T is the monotonic clock (clock_gettime, the vDSO in the guest) over the U timed units, which
// did N ops. A unit whose checksum differs from the warm-up's is reported instead, as
//   vessel-cpu-bench: name=NAME error=WHAT end
// and the last line is "vessel-cpu-bench: done".
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpubench.h"

static const struct bench* const benches[] = {
    &bench_list,  &bench_matrix, &bench_state,  &bench_crc,     &bench_nbody,    &bench_dgemm,
    &bench_sort,  &bench_stream, &bench_chase,  &bench_syscall, &bench_forkexec,
};
enum { kBenches = sizeof(benches) / sizeof(benches[0]) };

void bench_fail(const char* what) {
  printf("vessel-cpu-bench: fatal: %s\n", what);
  fflush(stdout);
  exit(1);
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

// Returns 0 when every unit agreed with the warm-up.
static int run(const struct bench* b, const char* self, double seconds) {
  b->setup(self);
  const uint64_t expected = b->unit();  // warm-up: caches, page faults, translation
  const int64_t budget = (int64_t)(seconds * 1e9);
  uint64_t units = 0;
  const int64_t start = now_ns();
  int64_t end = start;
  do {
    const uint64_t got = b->unit();
    ++units;
    if (got != expected) {
      printf("vessel-cpu-bench: name=%s error=unit %llu returned checksum 0x%016llx, the warm-up "
             "0x%016llx end\n",
             b->name, (unsigned long long)units, (unsigned long long)got,
             (unsigned long long)expected);
      fflush(stdout);
      if (b->teardown) b->teardown();
      return 1;
    }
    end = now_ns();
  } while (end - start < budget);
  if (b->teardown) b->teardown();
  printf("vessel-cpu-bench: name=%s op=%s ops=%llu units=%llu ns=%lld checksum=0x%016llx end\n",
         b->name, b->op, (unsigned long long)(units * b->ops_per_unit), (unsigned long long)units,
         (long long)(end - start), (unsigned long long)expected);
  fflush(stdout);
  return 0;
}

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  if (!(seconds > 0 && seconds < 3600)) {
    fprintf(stderr, "cpubench: SECONDS '%s' is not between 0 and 3600\n", argv[1]);
    return 2;
  }
  for (int i = 2; i < argc; ++i) {
    int known = 0;
    for (int k = 0; k < kBenches; ++k) known |= strcmp(argv[i], benches[k]->name) == 0;
    if (!known) {
      fprintf(stderr, "cpubench: no benchmark named '%s'\n", argv[i]);
      return 2;
    }
  }
  printf("vessel-cpu-bench: begin seconds=%g\n", seconds);
  fflush(stdout);
  int failed = 0;
  for (int k = 0; k < kBenches; ++k) {
    int wanted = argc <= 2;
    for (int i = 2; i < argc; ++i) wanted |= strcmp(argv[i], benches[k]->name) == 0;
    if (wanted) failed |= run(benches[k], argv[0], seconds);
  }
  printf("vessel-cpu-bench: done\n");
  return failed;
}
