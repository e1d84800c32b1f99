/* What vm.c needs of a C library (the -v environment brings its own). */
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dest, const void *src, size_t n) {
  if ((((uintptr_t)dest | (uintptr_t)src | n) & (sizeof(uintptr_t) - 1)) == 0) {
    uintptr_t *d = dest;
    const uintptr_t *s = src;
    for (size_t i = 0; i < n / sizeof(uintptr_t); i++) d[i] = s[i];
  } else {
    char *d = dest;
    const char *s = src;
    for (size_t i = 0; i < n; i++) d[i] = s[i];
  }
  return dest;
}

void *memset(void *dest, int c, size_t n) {
  unsigned char *d = dest;
  for (size_t i = 0; i < n; i++) d[i] = (unsigned char)c;
  return dest;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] - y[i];
  return 0;
}
