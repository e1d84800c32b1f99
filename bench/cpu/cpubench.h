// bench/cpu.py's guest programs: each benchmark is one work unit that the driver (main.c) runs
// again and again for a fixed wall time, so a slow engine just does fewer units. A unit always
// does the same work on the same input and returns a checksum of its result: every unit of a
// run must return the same one, and cpu.py compares it across the engines, QEMU and the native
// build (the same source built for x86-64), which catches a miscompiled or misexecuted guest.
// Nothing here may depend on char signedness, floating-point contraction or libm, which differ
// between riscv64 and x86-64 (cpu.py builds with -ffp-contract=off).
#pragma once

#include <stdint.h>

struct bench {
  const char* name;
  const char* op;                   // what one op is, for "ns per op"
  uint64_t ops_per_unit;            // ops in one unit
  void (*setup)(const char* self);  // untimed; self is argv[0] (forkexec finds noop beside it)
  uint64_t (*unit)(void);           // one unit of work; returns its checksum
  void (*teardown)(void);           // untimed; may be NULL
};

// One line each in main.c's table, defined in the files named after them.
extern const struct bench bench_list, bench_matrix, bench_state, bench_crc, bench_nbody,
    bench_dgemm, bench_sort, bench_stream, bench_chase, bench_syscall, bench_forkexec;

// A 64-bit xorshift generator: the same sequence on every host.
static inline uint64_t rng_next(uint64_t* s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

// FNV-1a style folding of a value into a checksum.
static inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v;
  h *= 0x100000001b3ULL;
  h ^= h >> 29;
  return h;
}

// A fatal setup problem (out of memory, no noop program): said on one line, exit status 1.
void bench_fail(const char* what);
