// CRCs: CRC-32 (IEEE, reflected, one table lookup per byte) over a 64 KiB buffer and CRC-16
// (CCITT, bit by bit: eight shifts and conditional xors per byte) over 8 KiB of it. Shifts,
// xors and table loads with a serial dependency through the CRC.
#include <stddef.h>

#include "cpubench.h"

enum { kBytes = 64 * 1024, kCrc16Bytes = 8 * 1024 };

static uint8_t data[kBytes];
static uint32_t table[256];

static void setup(const char* self) {
  (void)self;
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  uint64_t s = 0xc0ffee0123456789ULL;
  for (size_t i = 0; i < kBytes; ++i) data[i] = (uint8_t)rng_next(&s);
}

static uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

static uint16_t crc16(const uint8_t* p, size_t n) {
  uint16_t c = 0xffff;
  for (size_t i = 0; i < n; ++i) {
    c ^= (uint16_t)(p[i] << 8);
    for (int k = 0; k < 8; ++k) c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
  }
  return c;
}

static uint64_t unit(void) {
  return mix(crc32(data, kBytes), crc16(data, kCrc16Bytes));
}

const struct bench bench_crc = {"crc", "iter", 1, setup, unit, NULL};
