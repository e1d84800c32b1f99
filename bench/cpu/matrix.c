// Integer matrices, as CoreMark's matrix kernel: a 64x64 32-bit multiply, then the product
// added to a constant, multiplied by one, and a bit field of each element summed. Regular
// loops of multiplies and adds over 48 KiB of data.
#include <stddef.h>

#include "cpubench.h"

enum { kN = 64 };

static uint32_t a[kN][kN], b[kN][kN], c[kN][kN];

static void setup(const char* self) {
  (void)self;
  uint64_t s = 0x0ddba11cafef00dULL;
  for (int i = 0; i < kN; ++i) {
    for (int j = 0; j < kN; ++j) {
      a[i][j] = (uint32_t)rng_next(&s) & 0xffff;
      b[i][j] = (uint32_t)rng_next(&s) & 0xffff;
    }
  }
}

static uint64_t unit(void) {
  for (int i = 0; i < kN; ++i) {
    for (int j = 0; j < kN; ++j) c[i][j] = 0;
    for (int k = 0; k < kN; ++k) {
      const uint32_t x = a[i][k];
      for (int j = 0; j < kN; ++j) c[i][j] += x * b[k][j];
    }
  }
  uint64_t h = 0;
  for (int i = 0; i < kN; ++i) {
    uint32_t bits = 0;
    for (int j = 0; j < kN; ++j) {
      const uint32_t v = (c[i][j] + 0x1234u) * 7u;
      bits += (v >> 5) & 0x7f;
      h = mix(h, v);
    }
    h = mix(h, bits);
  }
  return h;
}

const struct bench bench_matrix = {"matrix", "iter", 1, setup, unit, NULL};
