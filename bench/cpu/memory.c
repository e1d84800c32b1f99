// Memory-bound loops over buffers larger than the host's L2 and most L3s:
//   stream  one pass over two 64 MiB arrays: a[i] = 3 * b[i] + 1 and a sum of b (64 MiB read,
//           64 MiB written per unit; the op is one MiB moved)
//   chase   2M dependent loads through a 128 MiB array of 32-bit indices that link every
//           element into one cycle in scattered order (next = (A * i + C) mod 2^25, a
//           full-period LCG), so each load waits for the one before: memory latency, and in
//           an emulator its software TLB (32768 guest pages)
#include <stddef.h>
#include <stdlib.h>

#include "cpubench.h"

enum { kStreamWords = 8 << 20, kChaseBits = 25, kChaseHops = 2 << 20 };

static uint64_t* a;
static uint64_t* b;
static uint32_t* next;

static void stream_setup(const char* self) {
  (void)self;
  a = malloc(kStreamWords * sizeof *a);
  b = malloc(kStreamWords * sizeof *b);
  if (!a || !b) bench_fail("stream: no memory for 2 x 64 MiB");
  for (size_t i = 0; i < kStreamWords; ++i) {
    a[i] = 0;
    b[i] = i * 0x9e3779b97f4a7c15ULL;
  }
}

static uint64_t stream_unit(void) {
  uint64_t sum = 0;
  for (size_t i = 0; i < kStreamWords; ++i) {
    const uint64_t v = b[i];
    sum += v;
    a[i] = 3 * v + 1;
  }
  return mix(mix(sum, a[kStreamWords / 3]), a[kStreamWords - 1]);
}

static void stream_teardown(void) {
  free(a);
  free(b);
}

const struct bench bench_stream = {"stream", "MiB", 128, stream_setup, stream_unit,
                                   stream_teardown};

static void chase_setup(const char* self) {
  (void)self;
  const size_t n = (size_t)1 << kChaseBits;
  next = malloc(n * sizeof *next);
  if (!next) bench_fail("chase: no memory for 128 MiB");
  for (size_t i = 0; i < n; ++i) next[i] = (uint32_t)((i * 0x5deece66dULL + 11) & (n - 1));
}

static uint64_t chase_unit(void) {
  uint32_t at = 0;
  uint64_t sum = 0;
  for (int k = 0; k < kChaseHops; ++k) {
    at = next[at];
    sum += at;
  }
  return mix(sum, at);
}

static void chase_teardown(void) { free(next); }

const struct bench bench_chase = {"chase", "load", kChaseHops, chase_setup, chase_unit,
                                  chase_teardown};
