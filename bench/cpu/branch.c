// Branch-heavy code: quicksort of 4096 random 32-bit numbers (each comparison goes either way
// at random, so a branch predictor guesses half of them wrong), then 4096 binary searches of
// random keys in the sorted array, half of them absent (an unpredictable branch per level).
#include <stddef.h>
#include <string.h>

#include "cpubench.h"

enum { kN = 4096 };

static uint32_t source[kN], work[kN], probes[kN];

static void setup(const char* self) {
  (void)self;
  uint64_t s = 0x5eed5eed5eed5eedULL;
  for (int i = 0; i < kN; ++i) source[i] = (uint32_t)rng_next(&s) & 0x7fffffffu;
  for (int i = 0; i < kN; ++i) {
    probes[i] = (i & 1) ? source[rng_next(&s) % kN] : ((uint32_t)rng_next(&s) | 0x80000000u) >> 1;
  }
}

static void insertion(uint32_t* a, ptrdiff_t n) {
  for (ptrdiff_t i = 1; i < n; ++i) {
    const uint32_t v = a[i];
    ptrdiff_t j = i - 1;
    while (j >= 0 && a[j] > v) {
      a[j + 1] = a[j];
      --j;
    }
    a[j + 1] = v;
  }
}

// Hoare partitioning around the median of three; small parts left to insertion sort.
static void quicksort(uint32_t* a, ptrdiff_t n) {
  while (n > 16) {
    const uint32_t x = a[0], y = a[n / 2], z = a[n - 1];
    const uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    ptrdiff_t i = -1, j = n;
    for (;;) {
      do ++i; while (a[i] < pivot);
      do --j; while (a[j] > pivot);
      if (i >= j) break;
      const uint32_t t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    // Recurse into the smaller part, loop on the larger.
    if (j + 1 < n - j - 1) {
      quicksort(a, j + 1);
      a += j + 1;
      n -= j + 1;
    } else {
      quicksort(a + j + 1, n - j - 1);
      n = j + 1;
    }
  }
  insertion(a, n);
}

static ptrdiff_t search(const uint32_t* a, ptrdiff_t n, uint32_t key) {
  ptrdiff_t lo = 0, hi = n - 1;
  while (lo <= hi) {
    const ptrdiff_t mid = lo + (hi - lo) / 2;
    if (a[mid] == key) return mid;
    if (a[mid] < key) {
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return -1;
}

static uint64_t unit(void) {
  memcpy(work, source, sizeof work);
  quicksort(work, kN);
  uint64_t h = 0;
  for (int i = 1; i < kN; ++i) {
    if (work[i - 1] > work[i]) return 0;  // not sorted: a checksum no unit otherwise gives
  }
  for (int i = 0; i < kN; i += 64) h = mix(h, work[i]);
  uint32_t found = 0;
  for (int i = 0; i < kN; ++i) {
    const ptrdiff_t at = search(work, kN, probes[i]);
    found += at >= 0;
    h += (uint64_t)at;
  }
  return mix(h, found);
}

const struct bench bench_sort = {"sort", "iter", 1, setup, unit, NULL};
